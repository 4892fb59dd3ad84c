# Sourced by the suites that run node:test files (tests/http.sh, tests/directus.sh,
# tests/graphql.sh, tests/hostile.sh); not a suite itself.
#
# fresh_database DB: drops and creates DB on the test cluster. prepare_database DB: the last
# step of a suite's set-up, before its server starts. server_url URL: the URL the server under
# test connects with. tests/citus.sh runs the same suites on a Citus cluster through the
# environment: PG_INBOX_TEST_CREATEDB (a command that creates DB on every node instead),
# PG_INBOX_TEST_PREPARE (a command that distributes it) and PG_INBOX_TEST_SERVER_OPTIONS
# (settings for the server's sessions only, not for the tests' own checks).
fresh_database() {
  if [[ -n ${PG_INBOX_TEST_CREATEDB:-} ]]; then
    $PG_INBOX_TEST_CREATEDB "$1" >/dev/null
    return
  fi
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -d postgres \
    -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
}
prepare_database() {
  [[ -z ${PG_INBOX_TEST_PREPARE:-} ]] || $PG_INBOX_TEST_PREPARE "$1" >/dev/null
}
server_url() {
  if [[ -z ${PG_INBOX_TEST_SERVER_OPTIONS:-} ]]; then
    echo "$1"
  else
    echo "$1?options=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' -- "$PG_INBOX_TEST_SERVER_OPTIONS")"
  fi
}
#
# run_node_suites FILE...: runs each node:test file in turn (never two at once: some stop
# PostgreSQL), prints each file's counts and, for a file with failures, its TAP output, and adds
# the counts to the caller's $passed and $failed. A file that ends without a summary counts as
# one failure.
run_node_suites() {
  local suite out p f t s
  for suite in "$@"; do
    out=$(node --test --test-reporter=tap "$suite" 2>&1)
    p=$(grep -oP '^# pass \K[0-9]+' <<<"$out" | tail -1)
    f=$(grep -oP '^# fail \K[0-9]+' <<<"$out" | tail -1)
    t=$(grep -oP '^# todo \K[0-9]+' <<<"$out" | tail -1)
    s=$(grep -oP '^# skipped \K[0-9]+' <<<"$out" | tail -1)
    if [[ -z $p || -z $f ]]; then
      echo "$out"
      echo "$suite: no test summary"
      failed=$((failed + 1))
      continue
    fi
    ((f > 0)) && echo "$out" | grep -vE '^\s*(# Subtest|ok )' | head -200
    ((${t:-0} > 0)) && echo "$out" | grep -E '# TODO' | sed 's/^ */todo: /'
    echo "$suite: $p passed, $f failed${t:+, $t todo}${s:+, $s skipped}"
    passed=$((passed + p))
    failed=$((failed + f))
  done
}
