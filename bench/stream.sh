#!/usr/bin/env bash
# make bench-stream (and the end of make bench): the realtime streams of issue 14 on one server
# process, against a baseline measured in the same run.
#   1. 10,000 SSE subscribers held at once: the server's RSS, database transactions per second
#      with them idle against none (the one poller's work must not grow), and
#      GET /api/notifications?limit=20 requests/s (wrk) with them against without (a ratio).
#   2. Commit-to-client latency p50/p99 with 1,000 subscribers at 100 and 1,000 creates/s
#      (pgbench -R, random users among the subscribed).
# A private cluster `.pg/bench_stream` on port BENCH_STREAM_PORT (55482), the server on 18182.
# Writes bench/results/stream.md. BENCH_STREAMS, BENCH_STREAM_T change the size and durations.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
: "${BENCH_STREAM_PORT:=55482}" "${BENCH_STREAM_SERVER_PORT:=18182}" "${BENCH_STREAMS:=10000}"
: "${BENCH_STREAM_SUBSCRIBERS:=1000}" "${BENCH_STREAM_T:=10}"
# (PG_BIN given: use that install, e.g. while make test uses the private root.)
PG_BIN=${PG_BIN:-$(private_pg_root)}
export PG_BIN PGHOST=127.0.0.1 PGPORT=$BENCH_STREAM_PORT PGUSER=postgres
cluster=bench_stream
"$ROOT/scripts/cluster.sh" start "$cluster" "$PGPORT" --fresh
work=$(mktemp -d)
server_pid=
clients_pid=
cleanup() {
  [[ -n $clients_pid ]] && kill "$clients_pid" 2>/dev/null || true
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
  "$ROOT/scripts/cluster.sh" stop "$cluster" || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" || true
(( $(ulimit -n) > BENCH_STREAMS + 1000 )) || say "warning: ulimit -n $(ulimit -n) is below $BENCH_STREAMS streams"

db=bench_stream
psql -X -q -d postgres -c "CREATE DATABASE $db" -c "ALTER SYSTEM SET max_connections = 200" >/dev/null
psql -X -q -d $db -c 'CREATE EXTENSION pg_inbox' >/dev/null
psql -X -qtA -d $db -c "SELECT inbox.create_token('u' || i, ARRAY['notifications:read']) FROM pg_catalog.generate_series(1, $BENCH_STREAMS) i" >"$work/tokens"
psql -X -q -d $db -c "SELECT inbox.create('u' || (i % 100 + 1), jsonb_build_object('type', 't', 'title', 'seed ' || i)) FROM pg_catalog.generate_series(1, 2000) i" >/dev/null
reader=$(psql -X -qtA -d $db -c "SELECT inbox.create_token('u1', ARRAY['notifications:read'])")
"$ROOT/server/pg_inbox_server" --database-url "postgresql://postgres@127.0.0.1:$PGPORT/$db" \
  --port "$BENCH_STREAM_SERVER_PORT" --max-connections $((BENCH_STREAMS + 2000)) \
  --max-streams $((BENCH_STREAMS + 100)) >"$work/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$BENCH_STREAM_SERVER_PORT"
for _ in $(seq 100); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done

xacts() { psql -X -qtA -d $db -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$db'"; }
rate() { # transactions/s of the database over BENCH_STREAM_T seconds
  local a b
  a=$(xacts); sleep "$BENCH_STREAM_T"; b=$(xacts)
  awk -v a="$a" -v b="$b" -v t="$BENCH_STREAM_T" 'BEGIN { printf "%.1f", (b - a - 2) / t }'
}
list_rps() {
  if ! command -v wrk >/dev/null; then echo "n/a"; return; fi
  wrk -t2 -c16 -d"${BENCH_STREAM_T}s" -H "Authorization: Bearer $reader" "$base/api/notifications?limit=20" |
    awk '/Requests\/sec/ { print $2 }'
}
rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }

say "baseline: no subscribers"
rss0=$(rss_mib)
q0=$(rate)
l0=$(list_rps)

say "$BENCH_STREAMS subscribers"
coproc CLIENTS { node "$ROOT/bench/stream/clients.mjs" "$base" "$work/tokens" "$BENCH_STREAMS" 3600; }
clients_pid=$CLIENTS_PID
read -r opened <&"${CLIENTS[0]}"
opened=$(node -e 'console.log(JSON.parse(process.argv[1]).open)' "$opened")
rss1=$(rss_mib)
q1=$(rate)
l1=$(list_rps)
rss1b=$(rss_mib)
echo exit >&"${CLIENTS[1]}"
wait "$clients_pid" 2>/dev/null || true
clients_pid=

say "latency with $BENCH_STREAM_SUBSCRIBERS subscribers"
cat >"$work/create.sql" <<SQL
\set u random(1, $BENCH_STREAM_SUBSCRIBERS)
SELECT inbox.create('u' || :u::text, '{"type": "bench", "title": "latency"}'::jsonb);
SQL
coproc CLIENTS { node "$ROOT/bench/stream/clients.mjs" "$base" "$work/tokens" "$BENCH_STREAM_SUBSCRIBERS" 3600; }
clients_pid=$CLIENTS_PID
read -r opened_small <&"${CLIENTS[0]}"
opened_small=$(node -e 'console.log(JSON.parse(process.argv[1]).open)' "$opened_small")
latency=()
for r in 100 1000; do
  echo measure >&"${CLIENTS[1]}"
  "$PG_BIN/pgbench" -n -M prepared -c 4 -j 2 -R "$r" -T "$BENCH_STREAM_T" -f "$work/create.sql" "$db" >"$work/pgbench.$r" 2>&1 || true
  sleep 1
  echo report >&"${CLIENTS[1]}"
  read -r line <&"${CLIENTS[0]}"
  latency+=("$r:$line")
done
echo exit >&"${CLIENTS[1]}"

out="$ROOT/bench/results/stream.md"
mkdir -p "$(dirname "$out")"
{
  echo "# Realtime streams (bench/stream.sh, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
  echo
  echo "| measure | with subscribers | baseline (none) | ratio | goal |"
  echo "|---|---|---|---|---|"
  echo "| streams held (of $BENCH_STREAMS) | $opened | – | – | – |"
  echo "| server RSS MiB | $rss1 (after the list load: $rss1b) | $rss0 | – | < 256 |"
  echo "| database transactions/s, subscribers idle | $q1 | $q0 | $(awk -v a="$q1" -v b="$q0" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') | 1.0 |"
  echo "| GET /api/notifications?limit=20 req/s (wrk -c16) | $l1 | $l0 | $(awk -v a="$l1" -v b="$l0" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') | ≥ 0.9 |"
  echo
  echo "Commit-to-client latency, $BENCH_STREAM_SUBSCRIBERS subscribers ($opened_small open), ms (receipt - createdAt; createdAt is the creating transaction's start):"
  echo
  echo "| creates/s | received | p50 | p99 | goal p99 |"
  echo "|---|---|---|---|---|"
  for l in "${latency[@]}"; do
    r=${l%%:*}
    j=${l#*:}
    node -e 'const j = JSON.parse(process.argv[2]); console.log(`| ${process.argv[1]} | ${j.received} | ${j.p50} | ${j.p99} | < 100 |`)' "$r" "$j"
  done
} >"$out"
cat "$out"
