# Shared by bench/run.sh and bench/peer.sh: how a measurement is taken and recorded.
# shellcheck shell=bash
#
# Every measurement appends one JSON object to $RECORDS (a JSON-lines file); bench/report.py
# turns them into the results table and plots. A step whose dependency is missing records
# {"kind": "skip", "why": ...}; a step that fails records {"kind": "error", ...}. Nothing is
# ever estimated or carried over from another run.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PG_BIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
export PATH=$PG_BIN:$PATH

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# psql on the benchmark database: quiet, stop on the first error, no psqlrc.
bsql() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$BENCH_DB" "$@"; }
# One value from a query.
bval() { bsql -At -c "$1"; }

# make && make install, unless BENCH_NO_BUILD=1 (measure what is installed).
build_and_install() {
  [[ ${BENCH_NO_BUILD:-} == 1 ]] && return 0
  say "building and installing pg_inbox"
  make -C "$ROOT" -s -j2
  make -C "$ROOT" -s install >/dev/null
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# record kind=... step=... key=value...: one JSON object. A value that parses as a number is
# written as a number; "-" is null.
record() {
  python3 - "$@" >>"$RECORDS" <<'PY'
import json, sys
obj = {}
for arg in sys.argv[1:]:
    key, _, value = arg.partition("=")
    if value == "-":
        obj[key] = None
        continue
    try:
        obj[key] = int(value)
    except ValueError:
        try:
            obj[key] = float(value)
        except ValueError:
            obj[key] = value
print(json.dumps(obj, ensure_ascii=False))
PY
}

skip() { # step why
  say "skipped $1: $2"
  record kind=skip step="$1" why="$2"
}

# Is this SQL function (regprocedure text) installed in the benchmark database?
has_function() { [[ $(bval "SELECT pg_catalog.to_regprocedure('$1') IS NOT NULL") == t ]]; }

# Latency percentiles (ms) from pgbench per-transaction logs: field 3 is the latency in µs.
log_percentiles() { # files... -> "p50 p99"
  awk '$3 ~ /^[0-9]+$/ { print $3 }' "$@" | sort -n | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) { print "- -"; exit }
      printf "%.3f %.3f\n", v[int(0.50 * (NR - 1)) + 1] / 1000, v[int(0.99 * (NR - 1)) + 1] / 1000
    }'
}

# pgb STEP SIDE CLIENTS SCRIPT [pgbench options...]: one pgbench run of a custom script at a
# fixed duration ($BENCH_T seconds, or $PGB_T when set), prepared statements, no vacuum.
# Records tps, mean latency and p50/p99 from the per-transaction log; PGB_EXTRA adds key=value
# words to the record.
pgb() {
  local step=$1 side=$2 clients=$3 script=$4
  shift 4
  local duration=${PGB_T:-$BENCH_T}
  local dir=$WORK/pgbench/$step.$side.c$clients
  rm -rf "$dir" && mkdir -p "$dir"
  local threads=$((clients < 2 ? 1 : 2))
  local load
  load=$(loadavg)
  say "pgbench $step ($side) clients=$clients ${duration}s"
  if pgbench -n -M prepared -c "$clients" -j "$threads" -T "$duration" \
    -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" \
    -l --log-prefix="$dir/log" -f "$BENCH/pgbench/$script" \
    -D users="$BENCH_USERS" "$@" "$BENCH_DB" >"$dir/out" 2>&1; then
    local tps lat n failed p50 p99
    tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$dir/out" | tail -1)
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$dir/out")
    n=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$dir/out")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$dir/out")
    read -r p50 p99 < <(log_percentiles "$dir"/log*)
    if [[ -z $tps || -z $n || $n == 0 ]]; then
      record kind=error step="$step" side="$side" clients="$clients" tool=pgbench \
        why="no transactions completed: $(tail -1 "$dir/out")"
      return 0
    fi
    record kind=pgbench step="$step" side="$side" clients="$clients" duration_s="$duration" \
      tps="$tps" lat_ms="${lat:--}" p50_ms="$p50" p99_ms="$p99" transactions="$n" \
      failed="${failed:-0}" loadavg="$load" script="$script" ${PGB_EXTRA:-}
  else
    local why
    why=$(grep -m1 -E 'ERROR|FATAL|error|aborted' "$dir/out" || tail -1 "$dir/out")
    say "pgbench $step ($side) failed: $why"
    record kind=error step="$step" side="$side" clients="$clients" tool=pgbench why="$why"
  fi
  rm -f "$dir"/log*
}

# An unrecorded wrk run before a route's measurements: the server's pooled connections have
# prepared their statements and compiled their PL/pgSQL, as in a server that has been up for a
# while (pgbench opens fresh connections every run and pays that within its own run). Node
# (Directus) compiles its hot paths. warm_up LUA URL [side], BENCH_WARMUP_T seconds.
warm_up() {
  BENCH_PEER_SIDE=${3:-} wrk -t2 -c16 -d"${BENCH_WARMUP_T:-2}s" -s "$BENCH/wrk/$1" "$2" >/dev/null 2>&1 || true
}

# wrkrun STEP SIDE CONNECTIONS LUA URL: one wrk run at a fixed duration ($BENCH_WRK_T s).
# The Lua script prints one line "BENCH_JSON {...}" from done() with the exact percentiles.
wrkrun() {
  local step=$1 side=$2 conns=$3 lua=$4 url=$5
  local dir=$WORK/wrk/$step.$side.c$conns
  mkdir -p "$dir"
  local threads=$((conns < 2 ? 1 : 2))
  local load
  load=$(loadavg)
  say "wrk $step ($side) connections=$conns ${BENCH_WRK_T}s"
  if wrk -t"$threads" -c"$conns" -d"${BENCH_WRK_T}s" --timeout 30s --latency \
    -s "$BENCH/wrk/$lua" "$url" >"$dir/out" 2>&1; then
    local json
    json=$(sed -n 's/^BENCH_JSON //p' "$dir/out" | tail -1)
    if [[ -z $json ]]; then
      record kind=error step="$step" side="$side" clients="$conns" tool=wrk why="$(tail -1 "$dir/out")"
      return 0
    fi
    python3 - "$json" "$step" "$side" "$conns" "$BENCH_WRK_T" "$load" "$lua" >>"$RECORDS" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
r.update(kind="wrk", step=sys.argv[2], side=sys.argv[3], clients=int(sys.argv[4]),
         duration_s=float(sys.argv[5]), loadavg=sys.argv[6], script=sys.argv[7])
print(json.dumps(r))
PY
    local bad
    bad=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r["non2xx"] + r["socket_errors"])' "$json")
    ((bad == 0)) || say "wrk $step ($side): $bad failed requests (see $dir/out)"
  else
    record kind=error step="$step" side="$side" clients="$conns" tool=wrk why="$(tail -1 "$dir/out")"
  fi
}
