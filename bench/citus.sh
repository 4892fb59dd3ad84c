#!/usr/bin/env bash
# `make bench-citus` (issue 17): the per-user operations on a Citus cluster of three nodes (a
# coordinator and two workers, scripts/citus.sh) against one plain PostgreSQL, on this machine,
# with the same data: create one, the first page, the unread count (pgbench on the SQL API) and
# GET /api/notifications?limit=20 (wrk on the REST server, connected to the single node or to
# the coordinator). For each, requests/s on both and their ratio, and on Citus the share of
# distributed statements that ran on one shard (citus_stat_counters of every node: the router
# share, whose goal is 100% for per-user calls). Writes bench/results/citus.md and citus.json.
#
# Settings (environment): CITUS_BENCH_USERS (2000), CITUS_BENCH_PER_USER (50), CITUS_BENCH_TOKENS
# (500), CITUS_BENCH_T (seconds a run, 10), CITUS_BENCH_CLIENTS ("1 8"), CITUS_BENCH_CONNS (16),
# CITUS_BENCH_SHARDS (32), CITUS_BENCH_PORT (55490: the single node; the Citus nodes take the
# three after it), CITUS_BENCH_SERVER_PORT (18190).
source "$(dirname "$0")/../scripts/lib.sh"
cd "$ROOT"
BENCH=$ROOT/bench
: "${CITUS_BENCH_USERS:=2000}" "${CITUS_BENCH_PER_USER:=50}" "${CITUS_BENCH_TOKENS:=500}"
: "${CITUS_BENCH_T:=10}" "${CITUS_BENCH_CLIENTS:=1 8}" "${CITUS_BENCH_CONNS:=16}"
: "${CITUS_BENCH_SHARDS:=32}" "${CITUS_BENCH_PORT:=55490}" "${CITUS_BENCH_SERVER_PORT:=18190}"
single=citus-bench-single
prefix=citus-bench
db=pg_inbox_bench
work=$BENCH/data/citus
results=$BENCH/results
rm -rf "$work" && mkdir -p "$work" "$results"
records=$work/records.jsonl

PG_INBOX_BENCH=1 "$ROOT/scripts/deps.sh"
say "building"
make -s -j"$(nproc)"
say "installing into a private copy of PostgreSQL"
PG_BIN=$(private_pg_root)
export PG_BIN
"$ROOT/scripts/citus.sh" install || {
  echo "bench-citus: Citus can be neither found nor built (see above)" >&2
  exit 1
}

server_pid=
cleanup() {
  [[ -z $server_pid ]] || kill "$server_pid" 2>/dev/null
  "$ROOT/scripts/cluster.sh" stop "$single"
  "$ROOT/scripts/citus.sh" stop "$prefix"
}
trap cleanup EXIT

say "starting one PostgreSQL on $CITUS_BENCH_PORT and a Citus cluster on $((CITUS_BENCH_PORT + 1))-$((CITUS_BENCH_PORT + 3))"
for try in 1 2 3 4; do
  "$ROOT/scripts/cluster.sh" start "$single" "$CITUS_BENCH_PORT" --fresh && break
  ((try < 4)) || exit 1
  sleep 3
done
as_cluster_owner tee -a "$(private_dir)/$single/data/postgresql.auto.conf" >/dev/null <<'CONF'
shared_buffers = '256MB'
max_connections = 300
CONF
"$ROOT/scripts/cluster.sh" restart "$single"
PG_INBOX_CITUS_SHARDS=$CITUS_BENCH_SHARDS "$ROOT/scripts/citus.sh" start "$prefix" $((CITUS_BENCH_PORT + 1))
url() { local u; u=$("$ROOT/scripts/cluster.sh" url "$1"); echo "${u%/*}/${2:-$db}"; }
psql_() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# The same data on both: user1..userN with their notifications (a quarter read), and tokens.
load() { # url
  psql_ -d "$1" <<SQL
INSERT INTO inbox.notifications (user_id, type, title, body, data, actor_id, created_at, read_at)
SELECT 'user' || u, 'mention', 'Notification ' || i || ' of user ' || u, 'A body of some length for the list.',
       jsonb_build_object('n', i), 'user' || ((u * 7 + i) % $CITUS_BENCH_USERS + 1),
       now() - (i || ' minutes')::interval, CASE WHEN i % 4 = 0 THEN now() END
  FROM generate_series(1, $CITUS_BENCH_USERS) AS u, generate_series(1, $CITUS_BENCH_PER_USER) AS i;
CREATE SCHEMA bench;
CREATE TABLE bench.tokens AS
SELECT g AS n, 'user' || g AS user_id,
       inbox.create_token('user' || g, ARRAY['notifications:read', 'notifications:write', 'notifications:send']) AS token
  FROM generate_series(1, $CITUS_BENCH_TOKENS) AS g;
SQL
}
say "loading $((CITUS_BENCH_USERS * CITUS_BENCH_PER_USER)) notifications of $CITUS_BENCH_USERS users into both"
psql_ -d "$(url "$single" postgres)" -c "CREATE DATABASE $db"
psql_ -d "$(url "$single")" -c "CREATE EXTENSION pg_inbox"
load "$(url "$single")"
"$ROOT/scripts/citus.sh" createdb "$prefix" "$db"
coordinator=$(url "$prefix-coordinator")
psql_ -d "$coordinator" -c "CREATE EXTENSION pg_inbox"
load "$coordinator"
psql_ -d "$coordinator" -c "SELECT inbox.distribute($CITUS_BENCH_SHARDS)" -c "SELECT create_reference_table('bench.tokens')"
for u in "$(url "$single")" "$coordinator"; do psql_ -d "$u" -c "VACUUM ANALYZE"; done

# Router share: citus_stat_counters of every node, reset before a run and read after it.
counters_reset() {
  for node in coordinator worker1 worker2; do
    psql_ -d "$(url "$prefix-$node")" -c "SELECT citus_stat_counters_reset(oid) FROM pg_database WHERE datname = current_database()" >/dev/null
  done
}
counters() { # -> "single multi"
  for node in coordinator worker1 worker2; do
    psql -X -qtA -d "$(url "$prefix-$node")" -c "SELECT query_execution_single_shard || ' ' || query_execution_multi_shard
                                                    FROM citus_stat_counters WHERE name = current_database()"
  done | awk '{s += $1; m += $2} END {print s + 0, m + 0}'
}
record() { # op side clients rps [single multi]
  printf '{"op": "%s", "side": "%s", "clients": %s, "rps": %s, "single_shard": %s, "multi_shard": %s, "load": "%s"}\n' \
    "$1" "$2" "$3" "$4" "${5:-null}" "${6:-null}" "$(cut -d' ' -f1 /proc/loadavg)" >>"$records"
}

# pgbench on the SQL API: one statement a transaction, prepared, CITUS_BENCH_T seconds.
pgb() { # op script-text clients url -> tps
  local script=$work/$1.sql
  printf '%s\n' "$2" >"$script"
  pgbench -n -M prepared -T "$CITUS_BENCH_T" -c "$3" -j "$3" -D users="$CITUS_BENCH_USERS" -f "$script" "$4" 2>&1 \
    | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
declare -A ops=(
  [create_one]="\\set u random(1, :users)
SELECT inbox.create('user' || :u, '{\"type\": \"mention\", \"title\": \"Sofia mentioned you\", \"actorId\": \"user7\"}');"
  [first_page]="\\set u random(1, :users)
SELECT inbox.list('user' || :u, '{\"limit\": 20}');"
  [unread_count]="\\set u random(1, :users)
SELECT inbox.unread_count('user' || :u);"
)
for op in first_page unread_count create_one; do
  for c in $CITUS_BENCH_CLIENTS; do
    say "$op, $c clients: one node"
    record "$op" single "$c" "$(pgb "$op" "${ops[$op]}" "$c" "$(url "$single")")"
    say "$op, $c clients: Citus"
    counters_reset
    tps=$(pgb "$op" "${ops[$op]}" "$c" "$coordinator")
    record "$op" citus "$c" "$tps" $(counters)
  done
done

# wrk on GET /api/notifications?limit=20, the server on each side in turn.
export BENCH_WRK_DIR=$BENCH/wrk BENCH_WRK_DATA=$work/data.lua
psql -X -qtA -d "$(url "$single")" -c "SELECT 'return { tokens = {' || string_agg(format('{%s, %s}', to_json(token), to_json(user_id)), ', ' ORDER BY n) || '}, targets = {}, create_fields = {} }' FROM bench.tokens" >"$BENCH_WRK_DATA.single"
psql -X -qtA -d "$coordinator" -c "SELECT 'return { tokens = {' || string_agg(format('{%s, %s}', to_json(token), to_json(user_id)), ', ' ORDER BY n) || '}, targets = {}, create_fields = {} }' FROM bench.tokens" >"$BENCH_WRK_DATA.citus"
for side in single citus; do
  target=$( [[ $side == single ]] && url "$single" || echo "$coordinator")
  cp "$BENCH_WRK_DATA.$side" "$BENCH_WRK_DATA"
  "$ROOT/server/pg_inbox_server" --database-url "$target" --port "$CITUS_BENCH_SERVER_PORT" >"$work/server.$side.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$CITUS_BENCH_SERVER_PORT/readyz" >/dev/null && break; sleep 0.1; done
  wrk -t2 -c16 -d2s -s "$BENCH/wrk/list.lua" "http://127.0.0.1:$CITUS_BENCH_SERVER_PORT/api/notifications?limit=20" >/dev/null 2>&1
  for c in $CITUS_BENCH_CONNS; do
    say "GET /api/notifications?limit=20, $c connections: $side"
    [[ $side == citus ]] && counters_reset
    rps=$(wrk -t2 -c"$c" -d"${CITUS_BENCH_T}s" -s "$BENCH/wrk/list.lua" "http://127.0.0.1:$CITUS_BENCH_SERVER_PORT/api/notifications?limit=20" \
      | sed -n 's/^BENCH_JSON .*"rps": \([0-9.]*\).*/\1/p')
    if [[ $side == citus ]]; then record http_list citus "$c" "$rps" $(counters); else record http_list single "$c" "$rps"; fi
  done
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null
  server_pid=
done

# The report.
python3 - "$records" "$results" "$CITUS_BENCH_USERS" "$CITUS_BENCH_PER_USER" "$CITUS_BENCH_SHARDS" "$CITUS_BENCH_T" <<'PY'
import json, sys, subprocess, datetime
records = [json.loads(l) for l in open(sys.argv[1])]
out, users, per_user, shards, seconds = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
names = {"create_one": "create one (`inbox.create`)", "first_page": "first page (`inbox.list`, limit 20)",
         "unread_count": "unread count (`inbox.unread_count`)", "http_list": "`GET /api/notifications?limit=20`"}
rows = []
for op in ["create_one", "first_page", "unread_count", "http_list"]:
    for c in sorted({r["clients"] for r in records if r["op"] == op}):
        s = next(r for r in records if r["op"] == op and r["side"] == "single" and r["clients"] == c)
        t = next(r for r in records if r["op"] == op and r["side"] == "citus" and r["clients"] == c)
        total = (t["single_shard"] or 0) + (t["multi_shard"] or 0)
        share = 100.0 * t["single_shard"] / total if total else None
        rows.append({"op": op, "clients": c, "single_rps": s["rps"], "citus_rps": t["rps"],
                     "ratio": t["rps"] / s["rps"] if s["rps"] else None,
                     "single_shard": t["single_shard"], "multi_shard": t["multi_shard"], "router_share": share,
                     "load": [s["load"], t["load"]]})
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
json.dump({"when": now, "commit": commit, "rows": rows}, open(out + "/citus.json", "w"), indent=2)
with open(out + "/citus.md", "w") as f:
    f.write(f"# pg_inbox on Citus: three nodes against one ({now}, {commit})\n\n")
    f.write(f"{users} users x {per_user} notifications, {shards} shards; a coordinator and two workers "
            f"and the single node all on this machine; {seconds} s a run (pgbench, wrk).\n\n")
    f.write("| operation | clients | one node (req/s) | 3 nodes (req/s) | ratio | statements on one shard | load (1 / 3 nodes) |\n|---|---|---|---|---|---|---|\n")
    for r in rows:
        share = "-" if r["router_share"] is None else f'{r["router_share"]:.1f}% ({r["single_shard"]} of {r["single_shard"] + r["multi_shard"]})'
        f.write(f'| {names[r["op"]]} | {r["clients"]} | {r["single_rps"]:.0f} | {r["citus_rps"]:.0f} | {r["ratio"]:.2f} | {share} | {r["load"][0]} / {r["load"][1]} |\n')
    f.write("\nstatements on one shard: citus_stat_counters of the three nodes (the delegation on the coordinator "
            "and each statement on the worker count once each); load: the 1-minute load average when each side's run "
            "began (two cores, shared with other work).\n")
print(open(out + "/citus.md").read())
PY
