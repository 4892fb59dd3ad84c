#!/usr/bin/env bash
# Randomized GraphQL parser test. Builds the pure C++ parser (and validator) standalone with AddressSanitizer
# and UndefinedBehaviorSanitizer, feeds it thousands of mutated (mostly malformed) documents
# plus hostile ones (deep nesting, huge token counts), and checks it never crashes and agrees
# with graphql-js on each: same verdict, same message, same line and column. Then the same
# kind of documents go through inbox.graphql() in PostgreSQL, where each must come back as a
# GraphQL response (never an SQL error).
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT/tests"
[[ -d node_modules/graphql ]] || npm ci --silent >/dev/null 2>&1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
tally() { # output of a sub-test ending in "N passed, N failed"
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$1" | tail -1)
  if [[ -z $line ]]; then
    failed=$((failed + 1))
  else
    read -r p _ f _ <<<"$line"
    passed=$((passed + p))
    failed=$((failed + f))
  fi
}

if g++ -std=c++17 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
  -fno-sanitize-recover=all -I"$ROOT/extension/src" "$ROOT/tests/graphql/parse_check.cpp" \
  "$ROOT"/extension/src/graphql/{lexer,parser,print,schema,values,validate}.cpp \
  "$ROOT/extension/src/core/notification_fields.cpp" \
  -o "$work/parse_check" 2>"$work/build.log"; then
  out=$(ASAN_OPTIONS=detect_leaks=1 timeout 300 node graphql/fuzz_parser.mjs "$work/parse_check" 6000 "${GRAPHQL_FUZZ_SEED:-20261122}" 2>&1)
  echo "$out"
  tally "$out"
else
  cat "$work/build.log"
  failed=$((failed + 1))
fi

if [[ -n ${PGPORT:-} ]] && [[ -f graphql/fuzz_sql.mjs ]]; then
  out=$(timeout 300 node graphql/fuzz_sql.mjs 1500 "${GRAPHQL_FUZZ_SEED:-20261122}" 2>&1)
  echo "$out"
  tally "$out"
fi

echo "$passed passed, $failed failed"
((failed == 0))
