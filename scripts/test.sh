#!/usr/bin/env bash
# The whole suite on SQLite and on PostgreSQL. The two halves run at the same time (each its
# own process, temporary directory and database, so they share nothing but the machine);
# each half's output goes to its own log and is printed whole, one after the other, with a
# summary line per half. The exit status is 0 only when both halves pass.
#   CLINTECH_TEST_SERIAL=1 scripts/test.sh   runs them one after the other instead.
# Each half spreads its test modules over CLINTECH_TEST_WORKERS pytest-xdist workers (default
# 2; 0 runs a half in one process). A module stays whole on one worker (--dist loadfile):
# it shares its own database copy and module fixtures; each worker has its own databases.
# Two halves of two workers keep the machine's 2 cores busy while a test waits (Chromium,
# a server, a subprocess, the database), where one process per half left them idle.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
fi
# Let Python keep compiled modules and pytest its rewritten test modules (__pycache__, ignored
# by git), whatever the shell says: a second run then collects in a third of the CPU
# (PYTHONDONTWRITEBYTECODE=1 made every worker and every `clintech` subprocess compile again).
export PYTHONDONTWRITEBYTECODE=
logs="$(mktemp -d "${TMPDIR:-/tmp}/clintech-test-XXXXXX")"
trap 'rm -rf "$logs"' EXIT

workers=${CLINTECH_TEST_WORKERS:-2}
# A venv installed before pytest-xdist joined [test] (make setup not re-run): one process per half.
.venv/bin/python -c 'import xdist' 2>/dev/null || workers=0
dist=()
[ "$workers" != "0" ] && dist=(-n "$workers" --dist loadfile)

half() {  # half NAME DB ARGS…: one half, its output in $logs/NAME.log, its status in $logs/NAME.rc
  local name=$1 db=$2; shift 2
  local start=$SECONDS
  CLINTECH_TEST_DB=$db .venv/bin/pytest "${dist[@]}" "$@" >"$logs/$name.log" 2>&1
  echo $? >"$logs/$name.rc"
  echo $((SECONDS - start)) >"$logs/$name.secs"
}

if [ "${CLINTECH_TEST_SERIAL:-0}" = "1" ]; then
  half sqlite sqlite "$@"
  half postgres postgres "$@"
else
  half sqlite sqlite "$@" &
  sqlite_pid=$!
  half postgres postgres "$@" &
  postgres_pid=$!
  trap 'kill $sqlite_pid $postgres_pid 2>/dev/null; rm -rf "$logs"' INT TERM
  wait $sqlite_pid $postgres_pid
fi

status=0
for name in sqlite postgres; do
  title=$([ "$name" = sqlite ] && echo "SQLite" || echo "PostgreSQL")
  echo "== $title =="
  cat "$logs/$name.log"
  rc=$(cat "$logs/$name.rc" 2>/dev/null || echo 1)
  [ "$rc" = "0" ] || status=1
done
echo "== summary =="
for name in sqlite postgres; do
  title=$([ "$name" = sqlite ] && echo "SQLite" || echo "PostgreSQL")
  rc=$(cat "$logs/$name.rc" 2>/dev/null || echo 1)
  printf '%-11s %s (%ss): %s\n' "$title" "$([ "$rc" = 0 ] && echo passed || echo FAILED)" \
    "$(cat "$logs/$name.secs" 2>/dev/null || echo ?)" "$(grep -E '(passed|failed|error)' "$logs/$name.log" | tail -1)"
done
exit $status
