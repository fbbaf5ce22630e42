#!/usr/bin/env bash
# Generate a piccolo auto migration against a scratch PostgreSQL database.
#   scripts/new_migration.sh "what changes, in words"     (or: make migration DESC="…")
# Piccolo's CLI only takes --desc=VALUE: a separate argument after --desc is read as a
# flag, which is how eight of the first migrations came to be described as "True".
set -euo pipefail
cd "$(dirname "$0")/.."
desc="${1:-}"
if [ -z "$desc" ]; then
  echo "usage: $0 \"what the migration changes\"  (make migration DESC=\"…\")" >&2
  exit 2
fi
exec 9>/tmp/clintech-migration.lock
flock 9
db="clintech_migration_$$"
psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db" >/dev/null
trap 'psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null' EXIT
PICCOLO_CONF=core.piccolo_conf DATABASE_URL="postgresql://postgres@127.0.0.1:5432/$db" \
  .venv/bin/piccolo migrations new clintech --auto "--desc=$desc"
