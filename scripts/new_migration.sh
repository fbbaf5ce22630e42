#!/usr/bin/env bash
# Generate a piccolo auto migration against a scratch PostgreSQL database.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 9>/tmp/clintech-migration.lock
flock 9
db="clintech_migration_$$"
psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db" >/dev/null
trap 'psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null' EXIT
PICCOLO_CONF=core.piccolo_conf DATABASE_URL="postgresql://postgres@127.0.0.1:5432/$db" \
  .venv/bin/piccolo migrations new clintech --auto --desc "${1:-schema change}"
