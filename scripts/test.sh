#!/usr/bin/env bash
# Static checks (ruff, bandit), then the whole suite on SQLite, then on PostgreSQL when it is reachable
# (required when CI=true). pip-audit needs the internet: docs/security.md says how to run it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"

echo "=== ruff ==="
"$BIN/ruff" check .
echo "=== bandit (high severity) ==="
"$BIN/bandit" -q -r operator_app tenants ledger billing -lll

echo "=== pytest on SQLite ==="
TEST_DB=sqlite "$BIN/pytest" "$@"

if "$BIN/python" -c 'import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=5).close()' "$PG_URL" 2>/dev/null; then
  echo "=== pytest on PostgreSQL ==="
  TEST_DB=postgresql TEST_DATABASE_URL="$PG_URL" "$BIN/pytest" "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL at $PG_URL is unreachable; CI requires it." >&2
  exit 1
else
  echo "PostgreSQL at $PG_URL is unreachable: the PostgreSQL run was skipped (it is required when CI=true)." >&2
fi
