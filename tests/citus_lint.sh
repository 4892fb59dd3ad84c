#!/usr/bin/env bash
# The Citus lint (issue 17), without Citus: tests/lint/citus_lint.py over the install script,
# the upgrade script and the SQL the C++ generates for a corpus of requests
# (tests/lint/generated_sql.cpp, built from the pure query layers), each of which must show none
# of the patterns that break pg_inbox on a Citus cluster. The lint itself is checked too: it must
# find every one of its patterns in the 0.1.0 script as released, and in a generated statement
# that passes a whole row. Ends with "N passed, N failed".
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
lint=$ROOT/tests/lint/citus_lint.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() { # ok? name [output]
  if [[ $1 == 0 ]]; then
    passed=$((passed + 1))
    echo "ok - $2"
  else
    failed=$((failed + 1))
    echo "not ok - $2"
    [[ -n ${3:-} ]] && sed 's/^/    /' <<<"$3"
  fi
}

# The install script as `make` builds it, and the upgrade script.
cat $(ls "$ROOT"/extension/sql/*.sql | LC_ALL=C sort) >"$work/install.sql"
out=$(python3 "$lint" sql "$work/install.sql" 2>&1)
check $? "the install script (extension/sql/*.sql) has none of the patterns Citus cannot run" "$out"
for script in "$ROOT"/extension/pg_inbox--*--*.sql; do
  out=$(python3 "$lint" sql "$script" 2>&1)
  check $? "$(basename "$script") has none of the patterns Citus cannot run" "$out"
done

# The SQL the C++ writes: the pure layers' objects from `make` when they are there.
objects=()
for dir in core query directus; do
  for src in "$ROOT"/extension/src/$dir/*.cpp; do
    if [[ -f ${src%.cpp}.o && ${src%.cpp}.o -nt $src ]]; then objects+=("${src%.cpp}.o"); else objects+=("$src"); fi
  done
done
if g++ -std=c++17 -O1 -Wall -Wextra -Werror -I"$ROOT/extension/src" "$ROOT/tests/lint/generated_sql.cpp" \
  "${objects[@]}" -o "$work/generated_sql" 2>"$work/build.log"; then
  "$work/generated_sql" <"$ROOT/tests/lint/corpus.jsonl" >"$work/generated.jsonl" 2>"$work/run.log"
  check $? "every request of tests/lint/corpus.jsonl compiles" "$(cat "$work/run.log")"
  statements=$(wc -l <"$work/generated.jsonl")
  out=$(python3 "$lint" generated "$work/generated.jsonl" 2>&1)
  check $? "the $statements statements the C++ generates for the corpus have none of the patterns" "$out"
else
  check 1 "tests/lint/generated_sql.cpp builds" "$(head -30 "$work/build.log")"
fi

# The lint finds what it looks for: every rule fires on 0.1.0 as released (issue 17's list).
released=$(python3 "$lint" sql "$ROOT/extension/released/pg_inbox--0.1.0.sql" 2>&1)
for rule in sql-function-parameters whole-row now-in-case case-value-when insert-values-subquery; do
  grep -q ": $rule: " <<<"$released"
  check $? "the lint finds $rule in the 0.1.0 script ($(grep -c ": $rule: " <<<"$released") places)"
done
echo '{"request": {"api": "example"}, "sql": "SELECT inbox.to_json(n) AS row FROM inbox.notifications n WHERE n.user_id = $1"}' \
  >"$work/bad.jsonl"
out=$(python3 "$lint" generated "$work/bad.jsonl" 2>&1)
[[ $out == *": whole-row: "* ]]
check $? "the lint finds a whole row passed in a generated statement"
echo '{"request": {"api": "list"}, "sql": "SELECT 1 FROM inbox.notifications n WHERE n.user_id = $1 AND n.updated_at < (SELECT mk.read_before FROM inbox.marks mk WHERE mk.user_id = n.user_id)"}' \
  >"$work/bad.jsonl"
out=$(python3 "$lint" generated "$work/bad.jsonl" 2>&1)
[[ $out == *": per-row-marks: "* ]]
check $? "the lint finds a statement of one user that reads inbox.marks"

echo "$passed passed, $failed failed"
((failed == 0))
