#!/usr/bin/env bash
# `make test`: the whole set-up, then every suite, then one closing line "N passed, N failed".
#
# Suites: the pg_regress suite (sql/, expected/), the isolation specs (specs/), then each
# executable tests/*.sh in name order. A suite script gets PGHOST, PGPORT, PGUSER, DATABASE_URL, ROOT
# and PG_BIN in its environment and ends its output with a line "N passed, N failed", or with
# "skipped: why" when what it needs is not there (tests/citus.sh without Citus): counted apart,
# never as passed.
#
# PG_INBOX_TEST_PORT and PG_INBOX_TEST_CLUSTER let two checkouts test side by side.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

port=${PG_INBOX_TEST_PORT:-55433}
cluster=${PG_INBOX_TEST_CLUSTER:-test}

"$ROOT/scripts/deps.sh"
say "building"
make -s -j"$(nproc)"
say "installing into a private copy of PostgreSQL"
PG_BIN=$(private_pg_root)
export PG_BIN
say "starting a fresh test cluster on port $port"
"$ROOT/scripts/cluster.sh" start "$cluster" "$port" --fresh
trap '"$ROOT/scripts/cluster.sh" stop "$cluster"' EXIT

export ROOT PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PG_INBOX_TEST_CLUSTER=$cluster
export DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"

passed=0
failed=0
skipped=0
results=()
count() { # suite-name passed failed
  passed=$((passed + $2))
  failed=$((failed + $3))
  results+=("$(printf '%-28s %4d passed, %d failed' "$1" "$2" "$3")")
}

# pg_regress (sql/, expected/) and the isolation specs (specs/, expected/), each run to the end.
run_pg_regress() { # name make-arguments...
  local name=$1 log line
  shift
  say "$name"
  log=$(mktemp)
  if make -s installcheck "$@" >"$log" 2>&1; then :; fi
  cat "$log"
  if line=$(grep -oE 'All [0-9]+ tests passed' "$log"); then
    read -r _ n _ <<<"$line"
    count "$name" "$n" 0
  elif line=$(grep -oE '[0-9]+ of [0-9]+ tests failed' "$log"); then
    read -r bad _ all _ <<<"$line"
    count "$name" $((all - bad)) "$bad"
    cat regression.diffs output_iso/regression.diffs 2>/dev/null || true
  else
    count "$name" 0 1
  fi
  rm -f "$log"
}
# Every C++ file as clang-format (.clang-format) writes it.
say "format"
if make -s format-check; then count format 1 0; else count format 0 1; fi

run_pg_regress pg_regress ISOLATION=
run_pg_regress isolation REGRESS=

for suite in "$ROOT"/tests/*.sh; do
  [[ -x $suite ]] || continue
  name=$(basename "$suite" .sh)
  say "suite $name"
  log=$(mktemp)
  if "$suite" 2>&1 | tee "$log"; then status=0; else status=$?; fi
  if line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1) && [[ -n $line ]]; then
    read -r p _ f _ <<<"$line"
    # A suite that crashed after counting still fails.
    ((status != 0 && f == 0)) && f=1
    count "$name" "$p" "$f"
  elif ((status == 0)) && line=$(grep -E '^skipped: ' "$log" | tail -1) && [[ -n $line ]]; then
    skipped=$((skipped + 1))
    results+=("$(printf '%-28s %s' "$name" "$line")")
  else
    count "$name" 0 1
  fi
  rm -f "$log"
done

echo
printf '%s\n' "${results[@]}"
echo "$passed passed, $failed failed$( ((skipped == 0)) || echo ", $skipped skipped")"
((failed == 0))
