#!/usr/bin/env bash
# The benchmark: `make bench` (bench/run.sh full) and `make bench-smoke` (bench/run.sh smoke).
#
# Loads a fixed data set into a private cluster, then measures each operation next to its
# baseline in the same run (pgbench at the SQL level, wrk at the HTTP level) and writes
# results/latest.md, results/latest.json and the plots. Each measurement is one small step;
# a step whose dependency is not there yet is recorded as skipped, never estimated.
#
# Every setting can be overridden from the environment (BENCH_T=10 make bench):
#   BENCH_USERS, BENCH_PER_USER, BENCH_HEAVY   regular users, rows each, rows of the heavy user
#   BENCH_READALL_ROWS                         unread rows of each read-all fixture user
#   BENCH_BIG_READALL, BENCH_PRUNE_ROWS        the lifecycle step: unread rows of the large
#   BENCH_UNSEEN                               read-all, expired rows to prune, unseen rows
#   BENCH_UPDATE_TIMEOUT                       seconds the hand-written UPDATE of the large
#                                              read-all may take (then a lower bound)
#   BENCH_STEPS                                only these steps after the load ("lifecycle")
#   BENCH_TOKENS                               users with a bearer token (user1..userN) for HTTP
#   BENCH_T, BENCH_DEPTH_T, BENCH_WRK_T        seconds per pgbench run, per depth point, per wrk run
#   BENCH_WARMUP_T                             seconds of unrecorded wrk before each route
#   BENCH_SQL_CLIENTS, BENCH_HTTP_CONNS        concurrency levels ("1 8", "1 16 64")
#   BENCH_HOLD_IDLE, BENCH_HOLD_SLOW           idle and slowloris connections held under attack
#   BENCH_ATTACK_CONNS                         wrk connections of the under-attack runs
#   BENCH_FLOODS, BENCH_FLOOD_MIB              parallel header floods, and their size
#   BENCH_DEPTHS, BENCH_DEEP                   page depths of the depth curve; the "deep" page
#   BENCH_CLUSTER, BENCH_PORT, BENCH_SERVER_PORT   the private cluster and the server's port
#   BENCH_SHARED_BUFFERS                       the private cluster's shared_buffers (full: 4GB)
#   BENCH_EXTERNAL_PG=1                        use the running server in PGHOST/PGPORT instead
#                                              (tests/bench_smoke.sh under `make test`)
#   BENCH_NO_BUILD=1                           measure the extension and server as installed
#   BENCH_RESULTS, BENCH_WORK                  where the results go; the raw records and logs
source "$(dirname "$0")/lib.sh"

mode=${1:-full}
case $mode in
  full)
    : "${BENCH_USERS:=10000}" "${BENCH_PER_USER:=100}" "${BENCH_HEAVY:=100000}"
    : "${BENCH_READALL_ROWS:=10000}" "${BENCH_CHUNK:=100000}" "${BENCH_TOKENS:=1000}"
    : "${BENCH_BIG_READALL:=100000}" "${BENCH_PRUNE_ROWS:=1000000}" "${BENCH_UNSEEN:=50}" "${BENCH_UPDATE_TIMEOUT:=120}"
    : "${BENCH_T:=5}" "${BENCH_DEPTH_T:=2}" "${BENCH_WRK_T:=5}" "${BENCH_WARMUP_T:=2}"
    : "${BENCH_SQL_CLIENTS:=1 8}" "${BENCH_HTTP_CONNS:=1 16 64}"
    : "${BENCH_HOLD_IDLE:=1000}" "${BENCH_HOLD_SLOW:=200}" "${BENCH_ATTACK_CONNS:=16}"
    : "${BENCH_FLOODS:=10}" "${BENCH_FLOOD_MIB:=15}"
    : "${BENCH_DEPTHS:=0 1000 10000 25000 50000 90000}" "${BENCH_DEEP:=50000}"
    : "${BENCH_CLUSTER:=bench}" "${BENCH_PORT:=55480}" "${BENCH_SERVER_PORT:=18180}" "${BENCH_SHARED_BUFFERS:=4GB}"
    : "${BENCH_RESULTS:=$BENCH/results}"
    ;;
  smoke)
    : "${BENCH_USERS:=20}" "${BENCH_PER_USER:=100}" "${BENCH_HEAVY:=500}"
    : "${BENCH_READALL_ROWS:=100}" "${BENCH_CHUNK:=1000}" "${BENCH_TOKENS:=10}"
    : "${BENCH_BIG_READALL:=1000}" "${BENCH_PRUNE_ROWS:=2000}" "${BENCH_UNSEEN:=50}" "${BENCH_UPDATE_TIMEOUT:=60}"
    : "${BENCH_T:=1}" "${BENCH_DEPTH_T:=1}" "${BENCH_WRK_T:=1}" "${BENCH_WARMUP_T:=1}"
    : "${BENCH_SQL_CLIENTS:=1 2}" "${BENCH_HTTP_CONNS:=1 4}"
    : "${BENCH_HOLD_IDLE:=20}" "${BENCH_HOLD_SLOW:=10}" "${BENCH_ATTACK_CONNS:=4}"
    : "${BENCH_FLOODS:=2}" "${BENCH_FLOOD_MIB:=1}"
    : "${BENCH_DEPTHS:=0 200 400}" "${BENCH_DEEP:=400}"
    : "${BENCH_CLUSTER:=bench_smoke}" "${BENCH_PORT:=55481}" "${BENCH_SERVER_PORT:=18181}" "${BENCH_SHARED_BUFFERS:=128MB}"
    : "${BENCH_RESULTS:=$BENCH/data/smoke}"
    ;;
  *)
    echo "usage: bench/run.sh full|smoke" >&2
    exit 2
    ;;
esac
: "${BENCH_BATCH:=100}"
# One read-all fixture user per client of the busiest SQL level.
BENCH_READALL_USERS=$(tr ' ' '\n' <<<"$BENCH_SQL_CLIENTS" | sort -n | tail -1)
export BENCH_USERS BENCH_T BENCH_WRK_T BENCH_WARMUP_T BENCH_HOLD_IDLE BENCH_HOLD_SLOW BENCH_ATTACK_CONNS \
  BENCH_FLOODS BENCH_FLOOD_MIB

WORK=${BENCH_WORK:-$BENCH/data/$mode}
RECORDS=$WORK/records.jsonl
rm -rf "$WORK/pgbench" "$WORK/wrk" "$WORK/server"
rm -f "$WORK"/*.jsonl "$WORK"/*.dat
mkdir -p "$WORK" "$BENCH_RESULTS"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

source "$BENCH/steps.sh"
source "$BENCH/http.sh"
cleanup() {
  server_stop
  [[ ${BENCH_EXTERNAL_PG:-} == 1 ]] || "$ROOT/scripts/cluster.sh" stop "$BENCH_CLUSTER"
}
trap cleanup EXIT

# --- set-up ----------------------------------------------------------------------------------
if [[ ${BENCH_EXTERNAL_PG:-} == 1 ]]; then
  : "${PGHOST:?}" "${PGPORT:?}" "${PGUSER:=postgres}"
  BENCH_DB=pg_inbox_bench_$mode
else
  PG_INBOX_BENCH=1 "$ROOT/scripts/deps.sh"
  build_and_install
  say "starting a fresh cluster '$BENCH_CLUSTER' on port $BENCH_PORT"
  "$ROOT/scripts/cluster.sh" start "$BENCH_CLUSTER" "$BENCH_PORT" --fresh
  PGHOST=127.0.0.1 PGPORT=$BENCH_PORT PGUSER=postgres
  BENCH_DB=pg_inbox_bench
  # Sized as a production server for this data set would be: shared_buffers holds the table
  # and its indexes (1.6 GB after the load; scripts/cluster.sh's 512 MB would make every
  # write a read from the OS cache), and no checkpoint starts in the middle of a measurement
  # because the load filled the WAL.
  psql -X -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres \
    -c "ALTER SYSTEM SET shared_buffers = '$BENCH_SHARED_BUFFERS'" \
    -c "ALTER SYSTEM SET max_wal_size = '8GB'" -c "ALTER SYSTEM SET checkpoint_timeout = '30min'" >/dev/null
  "$ROOT/scripts/cluster.sh" restart "$BENCH_CLUSTER"
fi
export PGHOST PGPORT PGUSER BENCH_DB
for tool in pgbench wrk gnuplot python3; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool is missing (PG_INBOX_BENCH=1 scripts/deps.sh installs wrk and gnuplot;" \
      "pgbench comes with postgresql-15, python3 with Debian)" >&2
    exit 1
  }
done
psql -X -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres \
  -c "DROP DATABASE IF EXISTS $BENCH_DB" -c "CREATE DATABASE $BENCH_DB" >/dev/null
bsql -c "CREATE EXTENSION pg_inbox"
bsql -f "$BENCH/sql/setup.sql"


# --- the steps, reads before writes so that every read sees the data set as loaded ---------
# BENCH_STEPS="lifecycle feed" runs only those (after the load); unset: every step.
run_step() {
  [[ -z ${BENCH_STEPS:-} || " $BENCH_STEPS " == *" $1 "* ]] || return 0
  "step_$1"
}
step_load
run_step list_first_page
run_step keyset_deep
run_step depth_curve
run_step filtered_list
run_step groups
run_step mastodon
run_step unread_count
run_step graphql
run_step http
run_step mark_read
run_step read_all
run_step create_one
run_step batch
run_step fan_out
run_step feed
run_step lifecycle
# Delivery (issue 15): its own database on the same cluster; its table goes to
# $BENCH_RESULTS/delivery.md (bench/delivery.sh).
mkdir -p "$BENCH_RESULTS"
step_delivery() {
  if [[ $mode == smoke ]]; then : "${BENCH_FANOUT:=200}" "${BENCH_HOOKS:=100}" "${BENCH_MAILS:=50}" "${BENCH_SLOW_MAILS:=20}"; fi
  PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER BENCH_RESULTS=$BENCH_RESULTS BENCH_T=$BENCH_T \
    BENCH_FANOUT=${BENCH_FANOUT:-10000} BENCH_HOOKS=${BENCH_HOOKS:-5000} BENCH_MAILS=${BENCH_MAILS:-2000} \
    BENCH_SLOW_MAILS=${BENCH_SLOW_MAILS:-300} \
    "$BENCH/delivery.sh" || say "bench/delivery.sh failed"
}
run_step delivery

# --- the results -----------------------------------------------------------------------------
python3 - "$WORK/meta.json" <<PY
import json, os, platform, subprocess, sys
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return ""
cpu = sh("sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1")
mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", \$2 / 1048576}' /proc/meminfo")
meta = {
    "mode": "$mode",
    "started": "$started",
    "finished": sh("date -u +%Y-%m-%dT%H:%M:%SZ"),
    "commit": sh("git -C '$ROOT' rev-parse --short HEAD"),
    "dirty": sh("git -C '$ROOT' status --porcelain --untracked-files=no | wc -l") != "0",
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "memory": mem,
                "kernel": platform.release(), "os": sh(". /etc/os-release && echo \$PRETTY_NAME"),
                "postgresql": sh("psql -X -At -h $PGHOST -p $PGPORT -U $PGUSER -d postgres -c 'SHOW server_version'"),
                "shared_buffers": sh("psql -X -At -h $PGHOST -p $PGPORT -U $PGUSER -d postgres -c 'SHOW shared_buffers'"),
                "pgbench": sh("pgbench --version"), "wrk": sh("wrk -v 2>&1 | head -1")},
    "settings": {
        "users": $BENCH_USERS, "per_user": $BENCH_PER_USER, "heavy": $BENCH_HEAVY,
        "readall_rows": $BENCH_READALL_ROWS, "big_readall": $BENCH_BIG_READALL,
        "prune_rows": $BENCH_PRUNE_ROWS, "unseen": $BENCH_UNSEEN, "batch": $BENCH_BATCH, "deep": $BENCH_DEEP,
        "pgbench_seconds": $BENCH_T, "depth_seconds": $BENCH_DEPTH_T, "wrk_seconds": $BENCH_WRK_T,
        "sql_clients": "$BENCH_SQL_CLIENTS", "http_connections": "$BENCH_HTTP_CONNS",
        "hold_idle": $BENCH_HOLD_IDLE, "hold_slow": $BENCH_HOLD_SLOW,
        "attack_connections": $BENCH_ATTACK_CONNS, "floods": $BENCH_FLOODS,
        "flood_mib": $BENCH_FLOOD_MIB},
}
json.dump(meta, open(sys.argv[1], "w"), indent=2)
PY
say "writing the results to $BENCH_RESULTS"
python3 "$BENCH/report.py" --work "$WORK" --out "$BENCH_RESULTS"
