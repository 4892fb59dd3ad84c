#!/usr/bin/env bash
# pg_inbox on a Citus cluster (issue 17): a coordinator and two workers on 127.0.0.1
# (scripts/citus.sh), each database distributed with inbox.distribute(), and on it
#   - the SQL API (tests/citus/api.sql), with citus.multi_task_query_log_level = error: a call
#     that touches more than one shard fails, except the few that read every user by design;
#   - the REST suite (tests/http.sh) and the Directus suite (tests/directus.sh) against the
#     coordinator, the server's sessions with citus.multi_task_query_log_level = error and the
#     workers' too (delegated calls and triggers run there);
#   - concurrent aggregating creates through all three nodes, creates through a worker, a node
#     added to a running cluster, undistribute and DROP EXTENSION.
# Citus comes from an installed citus.so, or is built from ../shared/vendor (scripts/citus.sh
# install). When it can be neither found nor built, the suite says why and counts as skipped.
# Ports: PG_INBOX_CITUS_PORT and the two after it; by default PGPORT + 10, moved 30000 down
# when that falls in Linux's ephemeral range (32768-60999), where the run's own outgoing
# connections can hold the port when the cluster starts mid-run. Ends with
# "N passed, N failed" (or "skipped: why").
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
: "${PGPORT:?PGPORT (make test sets it)}" "${PG_BIN:?PG_BIN (make test sets it)}"
export ROOT PG_BIN
base=${PG_INBOX_CITUS_PORT:-$((PGPORT + 10))}
if [[ -z ${PG_INBOX_CITUS_PORT:-} ]] && ((base >= 32768)); then
  base=$((base - 30000))
fi
prefix=${PG_INBOX_TEST_CLUSTER:-test}-citus
export PG_INBOX_CITUS_SHARDS=${PG_INBOX_CITUS_SHARDS:-8}
work=$(mktemp -d)
passed=0
failed=0

log=$work/install.log
"$ROOT/scripts/citus.sh" install 2>"$log"
status=$?
if ((status == 3)); then
  echo "skipped: Citus can be neither found nor built: $(grep -v '^\s*$' "$log" | grep -v '==>' | head -3 | tr '\n' ' ')"
  rm -rf "$work"
  exit 0
elif ((status != 0)); then
  cat "$log"
  echo "0 passed, 1 failed"
  exit 1
fi

cleanup() {
  "$ROOT/scripts/citus.sh" stop "$prefix" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

check() { # ok? name [detail]
  if [[ $1 == 0 ]]; then
    passed=$((passed + 1))
    echo "ok - $2"
  else
    failed=$((failed + 1))
    echo "not ok - $2"
    [[ -n ${3:-} ]] && sed 's/^/    /' <<<"$3" | head -40
  fi
}
tally() { # name output-ending-in-"N passed, N failed"
  local line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$2" | tail -1)
  if [[ -z $line ]]; then
    check 1 "$1 ran to the end" "$(tail -20 <<<"$2")"
    return
  fi
  read -r p _ f _ <<<"$line"
  passed=$((passed + p))
  failed=$((failed + f))
  echo "$1: $p passed, $f failed"
}
url() { # node [db]
  local u
  u=$("$ROOT/scripts/cluster.sh" url "$prefix-$1")
  echo "${u%/*}/${2:-postgres}"
}
sql() { # node db sql...
  local node=$1 db=$2
  shift 2
  PGOPTIONS='-c client_min_messages=warning' psql -X -qtA -v ON_ERROR_STOP=1 -d "$(url "$node" "$db")" "$@"
}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
say "starting a Citus cluster: $prefix-coordinator on $base, two workers on $((base + 1)) and $((base + 2))"
"$ROOT/scripts/citus.sh" start "$prefix" "$base" || {
  echo "0 passed, 1 failed"
  exit 1
}
createdb() { "$ROOT/scripts/citus.sh" createdb "$prefix" "$1"; }
distributed_db() { # db: a database of the cluster with pg_inbox distributed
  createdb "$1" && sql coordinator "$1" -c 'CREATE EXTENSION pg_inbox' \
    && "$ROOT/tests/citus/prepare.sh" "$prefix" "$1"
}

# --- the SQL API ---------------------------------------------------------------------------
say "the SQL API"
db=pg_inbox_citus_api
if distributed_db $db >"$work/setup.log" 2>&1; then
  check 0 "inbox.distribute() distributes a database of the cluster"
  out=$(PGOPTIONS='-c client_min_messages=error' psql -X -q -At -d "$(url coordinator $db)" -f "$ROOT/tests/citus/api.sql" 2>&1)
  # Every line is "ok - ..."; anything else (not ok, an error) is a failure.
  bad=$(grep -vE '^(ok - |$)' <<<"$out")
  grep -E '^ok - ' <<<"$out"
  passed=$((passed + $(grep -cE '^ok - ' <<<"$out")))
  if [[ -n $bad ]]; then
    failed=$((failed + $(wc -l <<<"$bad")))
    echo "$bad"
  fi
  tables=$(sql coordinator $db -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'inbox.%'")
  # Every table inbox._citus_tables() lists (11 before the change feed, the Mastodon markers and the delivery tables).
  listed=$(sql coordinator $db -c "SELECT count(*) FROM inbox._citus_tables()")
  check $([[ $tables == "$listed" && $listed -ge 17 ]]; echo $?) \
    "Citus manages the $listed tables of pg_inbox (pg_dist_partition: $tables)"
else
  check 1 "inbox.distribute() distributes a database of the cluster" "$(cat "$work/setup.log")"
fi

# Creates through a worker: ids of its own range, none colliding with the coordinator's, and
# the rows readable through the coordinator.
say "creates through a worker"
for i in 1 2 3; do
  sql worker1 $db -c "BEGIN" -c "SELECT inbox.create('w-user$i', '{\"title\": \"through worker1\"}')" -c "COMMIT" >/dev/null
  sql worker2 $db -c "SELECT inbox.create('w-user$i', '{\"title\": \"through worker2\"}')" >/dev/null
  sql coordinator $db -c "BEGIN" -c "SELECT inbox.create('w-user$i', '{\"title\": \"through the coordinator\"}')" -c "COMMIT" >/dev/null
done
ids=$(sql coordinator $db -c "SET citus.multi_task_query_log_level = off" \
  -c "SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE title = 'through worker1' AND id >> 48 = 1)
        FROM inbox.notifications WHERE user_id LIKE 'w-user%'")
check $([[ $ids == "9|9|3" ]]; echo $?) "creates through a worker, through the other (delegated) and through the coordinator get distinct ids, a worker's from its range (count|distinct|in range: $ids)"
page=$(sql coordinator $db -c "SELECT string_agg(e->>'title', ',' ORDER BY e->>'title') FROM jsonb_array_elements(inbox.list('w-user2', '{}')->'data') AS e")
check $([[ $page == "through the coordinator,through worker1,through worker2" ]]; echo $?) "the coordinator lists what the workers created ($page)"

# Concurrent aggregating creates for one user and group through all three nodes, each in a
# transaction block (so not delegated: the create runs on the node it came through). The lock
# they take turns on must hold across nodes: one notification, every actor once.
say "concurrent aggregation through three nodes"
sql coordinator $db -c "SELECT inbox.register_type('liked', 'x', aggregate => true)" >/dev/null
pids=()
for node in coordinator worker1 worker2; do
  for i in 1 2 3 4 5 6; do
    psql -X -qtA -d "$(url $node $db)" -c "BEGIN" \
      -c "SELECT inbox.create('hot', jsonb_build_object('type', 'liked', 'groupKey', 'post:1', 'actorId', '$node-$i'))" \
      -c "SELECT pg_sleep(0.05)" -c "COMMIT" >/dev/null 2>>"$work/concurrent.log" &
    pids+=($!)
  done
done
wait "${pids[@]}"
agg=$(sql coordinator $db -c "SELECT count(*), max(actor_count), (SELECT count(*) FROM inbox.notification_actors WHERE user_id = 'hot') FROM inbox.notifications WHERE user_id = 'hot'")
check $([[ $agg == "1|18|18" && ! -s $work/concurrent.log ]]; echo $?) \
  "18 concurrent aggregating creates through three nodes: one notification, 18 actors (rows|actors|actor rows: $agg)" \
  "$(cat "$work/concurrent.log")"
unread=$(sql coordinator $db -c "SELECT inbox.unread_count('hot')")
check $([[ $unread == 1 ]]; echo $?) "and the unread counter says 1 ($unread)"

# --- undistribute and DROP EXTENSION ------------------------------------------------------------
say "undistribute"
# Every row in the API shape, with its user's marks joined (on Citus a statement over the shards
# may not look them up for each row, as inbox.to_json does: issue 19).
shapes="SELECT count(*), sum(hashtext(inbox._to_json(ROW(n.*)::inbox.notifications, r.read_marks, s.seen)::text))
  FROM inbox.notifications n
  LEFT JOIN inbox.marks r ON r.user_id = n.user_id AND r.workspace_key = ''
  LEFT JOIN (SELECT m.user_id, jsonb_object_agg(m.workspace_key, m.seen_before) AS seen FROM inbox.marks m
              WHERE m.seen_before IS NOT NULL GROUP BY m.user_id) s ON s.user_id = n.user_id"
before=$(sql coordinator $db -c "SET citus.multi_task_query_log_level = off" -c "$shapes")
tokens=$(sql coordinator $db -c "SELECT count(*) FROM inbox.tokens")
feed=(-c "SELECT count(*), sum(hashtext(user_id || ':' || id || ':' || event)) FROM inbox.events"
      -c "SELECT sum(last_event_id) FROM inbox.user_counters")
feed_before=$(sql coordinator $db -c "SET citus.multi_task_query_log_level = off" "${feed[@]}" 2>&1 | tr '\n' ' ')
out=$(sql coordinator $db -c "SELECT inbox.undistribute()" 2>&1)
check $? "inbox.undistribute()" "$out"
after=$(sql coordinator $db -c "$shapes")
check $([[ $before == "$after" ]]; echo $?) "every notification is back on the coordinator as it was ($after)"
check $([[ $tokens == "$(sql coordinator $db -c "SELECT count(*) FROM inbox.tokens")" ]]; echo $?) "and every token ($tokens)"
feed_after=$(sql coordinator $db "${feed[@]}" 2>&1 | tr '\n' ' ')
check $([[ $feed_before == "$feed_after" ]]; echo $?) "and the change feed: every event, every user's last event id (before: $feed_before; after: $feed_after)"
left=$(sql coordinator $db -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'inbox.%'")
shards=$(sql worker1 $db -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'inbox'::regnamespace AND relname ~ '_[0-9]+$'")
check $([[ $left == 0 && $shards == 0 ]]; echo $?) "Citus forgets the tables and the shards are gone (tables: $left, shards on a worker: $shards)"
# (A user whose notifications are all gone keeps a counter row of zeros: it holds the position of
# the user's change feed.)
exact=$(sql coordinator $db -c "SELECT count(*) FROM (SELECT user_id, active, unread, deleted FROM inbox.user_counters c WHERE (active, unread, deleted) <> (0, 0, 0) OR EXISTS (SELECT FROM inbox.notifications n WHERE n.user_id = c.user_id) EXCEPT SELECT user_id, count(*) FILTER (WHERE deleted_at IS NULL), count(*) FILTER (WHERE deleted_at IS NULL AND read_at IS NULL), count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM inbox.notifications GROUP BY user_id) AS d")
check $([[ $exact == 0 ]]; echo $?) "the counters are rebuilt exact ($exact differ)"
single=$(sql coordinator $db -c "SELECT inbox.create('single', '{\"title\": \"after\"}')->>'title'" -c "SELECT inbox.unread_count('single')" 2>&1 | tr '\n' ' ')
check $([[ $single == "after 1 " ]]; echo $?) "the API works on the coordinator alone ($single)"
out=$(sql coordinator $db -c "SELECT inbox.distribute()" -c "SELECT inbox.unread_count('hot')" 2>&1)
check $([[ $out == *$'\n'1 ]]; echo $?) "inbox.distribute() again, after undistribute" "$out"
out=$(sql coordinator $db -c "SELECT inbox.undistribute()" -c "DROP EXTENSION pg_inbox CASCADE" 2>&1)
shards=$(sql worker1 $db -c "SELECT count(*) FROM pg_class WHERE relnamespace::regnamespace::text = 'inbox'" 2>&1)
check $([[ $shards == 0 ]]; echo $?) "undistribute, then DROP EXTENSION pg_inbox leaves nothing on the workers ($shards relations)" "$out"

# --- a node added to a running cluster ------------------------------------------------------
say "adding a node"
db=pg_inbox_citus_add
createdb $db >/dev/null 2>&1
w2port=$(url worker2 | sed 's/.*:\([0-9]*\)\/.*/\1/')
out=$(sql coordinator $db -c "SELECT citus_remove_node('127.0.0.1', $w2port)" -c "CREATE EXTENSION pg_inbox" \
  -c "SELECT inbox.distribute(4)" -c "SELECT inbox.create('u' || i, '{\"title\": \"before\"}') FROM generate_series(1, 20) AS i" \
  -c "SELECT citus_add_node('127.0.0.1', $w2port)" -c "SELECT inbox.after_add_node()" \
  -c "SELECT rebalance_table_shards(shard_transfer_mode => 'block_writes')" 2>&1)
check $? "citus_add_node, inbox.after_add_node() and a rebalance" "$out"
moved=$(sql coordinator $db -c "SELECT count(DISTINCT nodeport) FROM pg_dist_shard JOIN pg_dist_placement USING (shardid) JOIN pg_dist_node USING (groupid) WHERE logicalrelid = 'inbox.notifications'::regclass")
check $([[ $moved == 2 ]]; echo $?) "the shards are on both workers ($moved nodes)"
out=$(sql worker2 $db -c "SELECT count(*) FROM (SELECT inbox.create('u' || i, '{\"title\": \"after\"}') FROM generate_series(1, 20) AS i) AS c" \
  -c "SET citus.multi_task_query_log_level = off" \
  -c "SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE id >> 48 = (SELECT groupid FROM pg_dist_local_group)) FROM inbox.notifications" 2>&1 | tail -1)
check $([[ $out == "40|40|20" ]]; echo $?) "creates through the new node get ids of its own range (rows|distinct|in range: $out)"

# --- delivery on the cluster (issue 15) ------------------------------------------------------------
# The outbox is distributed with the notifications; a server's delivery workers against the
# coordinator claim and report shard by shard (tests/citus/delivery.mjs). E-mail on, through a
# recipient relation to a reference table; the settings on every node (a create runs where the
# user's shard is).
say "delivery: e-mail and a webhook from a distributed outbox"
db=pg_inbox_citus_delivery
if createdb $db >"$work/delivery.log" 2>&1 && sql coordinator $db >>"$work/delivery.log" 2>&1 \
  -c "CREATE EXTENSION pg_inbox" -c "CREATE TABLE public.users (id text PRIMARY KEY, email text)" \
  -c "INSERT INTO public.users VALUES ('citus-mail-user', 'citus-mail-user@example.org')" \
  -c "SELECT inbox.define_relation('recipient', 'userId', 'public.users', 'id')" \
  && "$ROOT/tests/citus/prepare.sh" "$prefix" $db >>"$work/delivery.log" 2>&1; then
  for node in coordinator worker1 worker2; do
    sql $node $db -c "SET citus.enable_ddl_propagation = off" \
      -c "ALTER DATABASE $db SET pg_inbox.email_column = 'email'" \
      -c "ALTER DATABASE $db SET pg_inbox.webhook_allow_private = on" >>"$work/delivery.log" 2>&1
  done
  (cd "$ROOT/tests" && [[ -d node_modules/standardwebhooks ]] || npm ci --silent >/dev/null 2>&1)
  out=$(ROOT=$ROOT DATABASE_URL=$(url coordinator $db) PYTHON=/usr/bin/python3 node "$ROOT/tests/citus/delivery.mjs" 2>&1)
  grep -E '^(not )?ok - |^    ' <<<"$out"
  tally "tests/citus/delivery.mjs" "$out"
else
  check 1 "a distributed database with e-mail on for the delivery suite" "$(cat "$work/delivery.log")"
fi

# --- the REST and Directus suites on a distributed database --------------------------------------
export PGHOST=127.0.0.1 PGPORT=$base PGUSER=postgres PG_INBOX_TEST_CLUSTER=$prefix-coordinator
export PG_INBOX_TEST_CREATEDB="$ROOT/scripts/citus.sh createdb $prefix"
export PG_INBOX_TEST_PREPARE="$ROOT/tests/citus/prepare.sh $prefix"
export PG_INBOX_TEST_SERVER_OPTIONS="-c citus.multi_task_query_log_level=error"
export PG_INBOX_TEST_ACTIVITY=citus_stat_activity
source "$ROOT/tests/node_suites.bash"
out=$(psql -X -qtA -d "$(server_url "$(url coordinator $db)")" -c "SELECT count(*) FROM inbox.notifications" 2>&1)
check $([[ $out == *"multi-task query about to be executed"* ]]; echo $?) \
  "the server's sessions refuse a statement that touches several shards" "$out"
say "the REST suite on Citus"
out=$("$ROOT/tests/http.sh" 2>&1)
tally "tests/http.sh on Citus" "$out"
grep -E '^not ok|failed' <<<"$out" | grep -v ' 0 failed' | head -40
say "the Directus suite on Citus"
out=$("$ROOT/tests/directus.sh" 2>&1)
tally "tests/directus.sh on Citus" "$out"
grep -E '^not ok|failed' <<<"$out" | grep -v ' 0 failed' | head -40

# How many statements ran on one shard (citus_stat_counters, every node).
share=$(for node in coordinator worker1 worker2; do
  for d in pg_inbox_citus_api pg_inbox_http pg_inbox_directus; do
    sql $node $d -c "SELECT query_execution_single_shard || ' ' || query_execution_multi_shard FROM citus_stat_counters WHERE name = current_database()" 2>/dev/null
  done
done | awk '{s += $1; m += $2} END {if (s + m) printf "%d single-shard, %d multi-shard (%.1f%% router)", s, m, 100 * s / (s + m)}')
echo "statements: $share"

echo "$passed passed, $failed failed"
((failed == 0))
