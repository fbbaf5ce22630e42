#!/usr/bin/env bash
# The whole suite, on SQLite and then on PostgreSQL (its own database per run).
set -uo pipefail
cd "$(dirname "$0")/.."
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
fi
status=0
echo "== SQLite =="
CLINTECH_TEST_DB=sqlite .venv/bin/pytest "$@" || status=$?
echo "== PostgreSQL =="
CLINTECH_TEST_DB=postgres .venv/bin/pytest "$@" || status=$?
exit $status
