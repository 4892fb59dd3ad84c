#!/usr/bin/env bash
# Randomized test of the query engine (tests/engine/random.sql): generated filters and orders
# compared with plain SQL reference queries, paged forward and backward, and forward again
# while rows are inserted between pages. Seeded, so a failure reproduces:
#   ENGINE_RANDOM_SEED=0.42 ENGINE_RANDOM_CASES=200 tests/engine_random.sh
# Needs PGHOST, PGPORT, PGUSER (set by `make test`). Ends with "N passed, N failed".
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
seed=${ENGINE_RANDOM_SEED:-0.42}
cases=${ENGINE_RANDOM_CASES:-200}
db=pg_inbox_engine_random

psql_() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_ -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1

out=$(psql_ -d "$db" -v seed="$seed" -v cases="$cases" -f "$ROOT/tests/engine/random.sql" 2>&1) || {
  echo "$out"
  echo "0 passed, 1 failed"
  exit 1
}
echo "seed $seed"
echo "$out"
psql_ -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -1)
[[ -n $line ]] || { echo "0 passed, 1 failed"; exit 1; }
read -r _ _ failed _ <<<"$line"
((failed == 0))
