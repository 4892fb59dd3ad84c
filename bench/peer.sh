#!/usr/bin/env bash
# `make bench-peer`: pg_inbox next to Directus, the real thing, on the same notifications in the
# same PostgreSQL cluster, under the same wrk loads, in one run.
#
#   1. installs Directus from the npm registry into bench/peer/ (git-ignored; ~500 MB). 11.3.5 is
#      the last 11.x release whose package accepts Node 20 (later ones require Node >= 22).
#   2. starts the benchmark cluster (bench/run.sh's, not wiped) and loads the data set of
#      `make bench` into a database of its own, then copies the same notifications into
#      Directus's directus_notifications in Directus's own database;
#   3. boots Directus (its e-mail through SMTP to a local SMTP server, tests/delivery/smtp_sink.py;
#      no user has e-mail notifications on yet, so nothing is sent) and pg_inbox's server;
#   4. runs wrk on GET /notifications?limit=20, GET /notifications/:id and POST /notifications
#      against both, at each concurrency, and records both servers' peak RSS;
#   5. e-mail on create (issue 15): every Directus user gets e-mail notifications (Directus sends
#      the e-mail from services/notifications.ts when a notification is created), and pg_inbox gets
#      the same addresses through its recipient relation, pg_inbox.email_column and a server with
#      delivery workers and --smtp-url, each to an SMTP server of its own (the same sink); then
#      POST /notifications again on both, and how many e-mails each sink received and how long
#      they took to arrive after the load ended;
#      pg_inbox's row is then run once more with e-mail on but no worker expanding or sending
#      (--delivery-workers 0: what the create path pays, apart from those), and the CPU
#      seconds its server, its SMTP server and the cluster used during each side's e-mail load
#      are recorded (kind=cpu: what competes with the creates for the cores);
#   6. writes bench/results/peer.jsonl and peer-meta.json and rewrites the results table.
#
# Settings as in bench/run.sh (BENCH_USERS, BENCH_WRK_T, BENCH_HTTP_CONNS, ...), plus
# BENCH_DIRECTUS_VERSION, BENCH_DIRECTUS_PORT, BENCH_PEER_STEPS (the routes of step 4, default
# "list get create") and BENCH_PEER_MAIL_ARGS (more server options for step 5, e.g.
# "--smtp-workers 2"; by default the server's delivery workers are its defaults) and
# BENCH_SERVER_BIN (another server binary).
source "$(dirname "$0")/lib.sh"

: "${BENCH_USERS:=10000}" "${BENCH_PER_USER:=100}" "${BENCH_HEAVY:=100000}"
: "${BENCH_READALL_ROWS:=10000}" "${BENCH_CHUNK:=100000}" "${BENCH_TOKENS:=1000}"
: "${BENCH_WRK_T:=5}" "${BENCH_HTTP_CONNS:=1 16 64}" "${BENCH_SQL_CLIENTS:=1 8}"
: "${BENCH_CLUSTER:=bench}" "${BENCH_PORT:=55480}" "${BENCH_SERVER_PORT:=18182}"
: "${BENCH_DIRECTUS_VERSION:=11.3.5}" "${BENCH_DIRECTUS_PORT:=18190}"
: "${BENCH_RESULTS:=$BENCH/results}"
BENCH_READALL_USERS=1
export BENCH_USERS BENCH_WRK_T

PEER=$BENCH/peer
WORK=${BENCH_WORK:-$BENCH/data/peer}
RECORDS=$WORK/records.jsonl
rm -rf "$WORK" && mkdir -p "$WORK" "$BENCH_RESULTS"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

source "$BENCH/steps.sh"
source "$BENCH/http.sh"
# BENCH_SERVER_BIN: another server binary to measure (as bench/delivery.sh's), e.g. a build of
# main next to this branch's in alternating runs.
SERVER_BIN=${BENCH_SERVER_BIN:-$SERVER_BIN}
DIRECTUS_PID=
SINK_PIDS=()
cleanup() {
  server_stop
  local p
  for p in "${SINK_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n $DIRECTUS_PID ]]; then
    kill "$DIRECTUS_PID" 2>/dev/null || true
    wait "$DIRECTUS_PID" 2>/dev/null || true
  fi
  "$ROOT/scripts/cluster.sh" stop "$BENCH_CLUSTER"
}
trap cleanup EXIT

# --- 1. Directus from the npm registry -------------------------------------------------------
PG_INBOX_BENCH=1 "$ROOT/scripts/deps.sh"
mkdir -p "$PEER" "$PEER/uploads" "$PEER/extensions"
installed=$(node -e "try { console.log(require('$PEER/node_modules/directus/package.json').version) } catch (e) {}")
if [[ $installed != "$BENCH_DIRECTUS_VERSION" ]]; then
  say "installing directus@$BENCH_DIRECTUS_VERSION from the npm registry into bench/peer (large)"
  printf '{"name": "pg-inbox-bench-peer", "private": true}\n' >"$PEER/package.json"
  (cd "$PEER" && npm install --no-audit --no-fund --loglevel=error --save-exact "directus@$BENCH_DIRECTUS_VERSION")
fi
build_and_install
/usr/bin/python3 -c 'import aiosmtpd' # scripts/deps.sh installs python3-aiosmtpd

# --- 2. the data set, twice ------------------------------------------------------------------
"$ROOT/scripts/cluster.sh" start "$BENCH_CLUSTER" "$BENCH_PORT"
export PGHOST=127.0.0.1 PGPORT=$BENCH_PORT PGUSER=postgres BENCH_DB=pg_inbox_peer
DIRECTUS_DB=directus_peer
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $BENCH_DB" -c "CREATE DATABASE $BENCH_DB" \
  -c "DROP DATABASE IF EXISTS $DIRECTUS_DB" -c "CREATE DATABASE $DIRECTUS_DB" >/dev/null
bsql -c "CREATE EXTENSION pg_inbox"
bsql -f "$BENCH/sql/setup.sql" >/dev/null
step_load

# An SMTP server for each side (the same sink), so each side's e-mails are counted apart.
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
# (SMTP_SINK_LOG_ONLY: one line per e-mail in mail-SIDE/received instead of two files and two
# renames, which cost the sink twice the CPU of the SMTP session: 1.1 ms against 0.3 ms of CPU
# per e-mail, taken from the cores both servers share.)
start_sink() { # side port
  SMTP_SINK_LOG_ONLY=1 /usr/bin/python3 "$ROOT/tests/delivery/smtp_sink.py" "$2" "$WORK/mail-$1" >"$WORK/smtp-$1.log" 2>&1 &
  SINK_PIDS+=($!)
}
DIRECTUS_SMTP_PORT=$(free_port)
OURS_SMTP_PORT=$(free_port)
start_sink directus "$DIRECTUS_SMTP_PORT"
start_sink ours "$OURS_SMTP_PORT"

DIRECTUS_ENV=(DB_CLIENT=pg DB_HOST="$PGHOST" DB_PORT="$PGPORT" DB_DATABASE="$DIRECTUS_DB" DB_USER="$PGUSER"
  SECRET=pg-inbox-bench-secret-0123456789abcdef ADMIN_EMAIL=admin@example.com
  ADMIN_PASSWORD=bench-admin-password HOST=127.0.0.1 PORT="$BENCH_DIRECTUS_PORT"
  PUBLIC_URL="http://127.0.0.1:$BENCH_DIRECTUS_PORT"
  EMAIL_TRANSPORT=smtp EMAIL_SMTP_HOST=127.0.0.1 EMAIL_SMTP_PORT="$DIRECTUS_SMTP_PORT" EMAIL_FROM=bench@example.com
  STORAGE_LOCAL_ROOT="$PEER/uploads" EXTENSIONS_PATH="$PEER/extensions"
  TELEMETRY=false LOG_LEVEL=warn NODE_ENV=production)
ADMIN_TOKEN=bench-admin-token
say "bootstrapping Directus $BENCH_DIRECTUS_VERSION in database $DIRECTUS_DB"
(cd "$PEER" && env "${DIRECTUS_ENV[@]}" node node_modules/directus/cli.js bootstrap) >"$WORK/directus-bootstrap.log" 2>&1
dsql() { psql -X -q -v ON_ERROR_STOP=1 -d "$DIRECTUS_DB" "$@"; }
dsql -v users="$BENCH_USERS" -v tokens="$BENCH_TOKENS" -v admin_email=admin@example.com \
  -v admin_token="$ADMIN_TOKEN" -f "$BENCH/sql/directus.sql"
say "copying the notifications into directus_notifications"
t0=$(ns_now)
bsql -c "\\copy (SELECT n.id, n.created_at, CASE WHEN n.archived_at IS NULL THEN 'inbox' ELSE 'archived' END,
                        pg_catalog.md5(n.user_id)::uuid, pg_catalog.md5(n.actor_id)::uuid, n.title, n.body,
                        n.collection, n.item
                   FROM inbox.notifications n
                  WHERE n.deleted_at IS NULL AND (n.user_id LIKE 'user%' OR n.user_id = 'heavy')
                  ORDER BY n.id) TO STDOUT" |
  dsql -c "\\copy directus_notifications (id, timestamp, status, recipient, sender, subject, message, collection, item) FROM STDIN"
# Directus ships no index on recipient: without one every user's list scans the table, and the
# comparison would measure a missing index instead of the server. Give it the index it needs.
dsql -c "SELECT pg_catalog.setval('directus_notifications_id_seq', (SELECT max(id) FROM directus_notifications))" \
  -c "CREATE INDEX directus_notifications_recipient_id ON directus_notifications (recipient, id)" \
  -c "VACUUM (ANALYZE)" >/dev/null
record kind=copy step=directus_copy rows="$(dsql -At -c 'SELECT count(*) FROM directus_notifications')" \
  seconds="$(secs_since "$t0")"

# --- 3. the two servers ----------------------------------------------------------------------
say "starting Directus on port $BENCH_DIRECTUS_PORT"
(cd "$PEER" && exec env "${DIRECTUS_ENV[@]}" node node_modules/directus/cli.js start) >"$WORK/directus.log" 2>&1 &
DIRECTUS_PID=$!
for ((i = 0; i < 300; i++)); do
  curl -fs "http://127.0.0.1:$BENCH_DIRECTUS_PORT/server/ping" >/dev/null 2>&1 && break
  kill -0 "$DIRECTUS_PID" 2>/dev/null || break
  sleep 0.2
done
directus_up=no
curl -fs "http://127.0.0.1:$BENCH_DIRECTUS_PORT/server/ping" >/dev/null 2>&1 && directus_up=yes

http_ready && http_fixtures || true
server_up=no
if [[ -x $SERVER_BIN ]] && server_start; then server_up=yes; fi

# The peer's fixtures: the same token users, their notification ids, Directus uuids.
export BENCH_WRK_DIR=$BENCH/wrk BENCH_WRK_DATA=$WORK/peer-data.lua
bval "SELECT 'return {' || pg_catalog.chr(10)
       || 'users = {' || pg_catalog.string_agg(pg_catalog.format('{%s, %s, %s, %s}',
              pg_catalog.to_json('dtok_' || t.user_id), pg_catalog.to_json(pg_catalog.md5(t.user_id)::uuid),
              pg_catalog.to_json(t.token), pg_catalog.to_json(t.user_id)), ', ' ORDER BY t.n) || '},' || pg_catalog.chr(10)
       || 'items = {' || (SELECT pg_catalog.string_agg(pg_catalog.format('{%s, %s, %s, %s}',
              pg_catalog.to_json('dtok_' || n.user_id), n.id, pg_catalog.to_json(t2.token), pg_catalog.to_json(inbox.public_id(n.id))), ', ')
            FROM (SELECT DISTINCT ON (x.user_id) x.user_id, x.id FROM inbox.notifications x JOIN bench.tokens y USING (user_id)
                   WHERE x.deleted_at IS NULL ORDER BY x.user_id, x.id DESC) n
            JOIN bench.tokens t2 USING (user_id)) || '},' || pg_catalog.chr(10)
       || 'admin_token = ' || pg_catalog.to_json('$ADMIN_TOKEN'::text) || pg_catalog.chr(10) || '}'
     FROM bench.tokens t" >"$BENCH_WRK_DATA" 2>/dev/null || : >"$BENCH_WRK_DATA"

# pg_inbox's Directus-compatible routes are there when an authenticated GET /notifications is
# routed (anything but 404).
ours_routes=no
if [[ $server_up == yes ]]; then
  token=$(bval "SELECT token FROM bench.tokens WHERE n = 1" 2>/dev/null || true)
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$BENCH_SERVER_PORT/notifications?limit=20")
  [[ $code == 200 ]] && ours_routes=yes
fi

# --- 4. the same wrk loads on both -----------------------------------------------------------
directus="http://127.0.0.1:$BENCH_DIRECTUS_PORT"
ours="http://127.0.0.1:$BENCH_SERVER_PORT"
for what in ${BENCH_PEER_STEPS:-list get create}; do
  step=peer_$what
  [[ $ours_routes == yes ]] && warm_up "peer_$what.lua" "$ours/notifications" ours
  [[ $directus_up == yes ]] && warm_up "peer_$what.lua" "$directus/notifications" directus
  for c in $BENCH_HTTP_CONNS; do
    if [[ $ours_routes == yes ]]; then
      BENCH_PEER_SIDE=ours wrkrun "$step" ours "$c" "peer_$what.lua" "$ours/notifications"
    elif [[ $c == "${BENCH_HTTP_CONNS%% *}" ]]; then
      skip "$step" "pg_inbox's Directus-compatible routes are not served yet (GET /notifications answered ${code:-no server})"
    fi
    if [[ $directus_up == yes ]]; then
      BENCH_PEER_SIDE=directus wrkrun "$step" baseline "$c" "peer_$what.lua" "$directus/notifications"
    elif [[ $c == "${BENCH_HTTP_CONNS%% *}" ]]; then
      skip "$step" "Directus did not start: $(tail -1 "$WORK/directus.log")"
    fi
  done
done
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
[[ $directus_up == yes ]] && record kind=rss step=directus_rss side=baseline vmhwm_kib="$(hwm "$DIRECTUS_PID")"
[[ $server_up == yes ]] && record kind=rss step=server_rss side=ours vmhwm_kib="$(hwm "$SERVER_PID")"

# --- 5. e-mail on create -----------------------------------------------------------------------
# Directus: e-mail notifications on for every bench user (services/notifications.ts sends when
# the recipient has an address and email_notifications; the send is not awaited).
# pg_inbox: the same addresses through the recipient relation, e-mail on for the database, and
# the server restarted (its sessions read pg_inbox.email_column) with its default delivery
# workers (one e-mail thread) sending to its SMTP server.
mails() { cat "$WORK/mail-$1/received" 2>/dev/null | wc -l; }
email_ready=no
if [[ $directus_up == yes ]]; then
  dsql -c "UPDATE directus_users SET email_notifications = true WHERE role = '6d2a5d3e-0b1c-4d7e-9a51-3b0c2f6e8a01'"
fi
if [[ $ours_routes == yes ]]; then
  bsql -c "CREATE TABLE public.users (id text PRIMARY KEY, email text NOT NULL)" \
    -c "INSERT INTO public.users SELECT 'user' || g, 'user' || g || '@example.com' FROM pg_catalog.generate_series(1, $BENCH_USERS) g
        UNION ALL SELECT 'heavy', 'heavy@example.com'" \
    -c "SELECT inbox.define_relation('recipient', 'userId', 'public.users', 'id')" \
    -c "ALTER DATABASE $BENCH_DB SET pg_inbox.email_column = 'email'" >/dev/null
  server_stop
  plain_args=${BENCH_SERVER_ARGS:-}
  mail_args="--smtp-url smtp://127.0.0.1:$OURS_SMTP_PORT --mail-from bench@example.com"
  BENCH_SERVER_ARGS="$plain_args $mail_args ${BENCH_PEER_MAIL_ARGS:-}"
  server_start && email_ready=yes
fi
# CPU seconds (user + system) used so far by a side's server, by its SMTP server and by the
# whole cluster (postmaster and every backend: both sides' databases are in it).
ticks() { awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }' "$@" 2>/dev/null || echo 0; }
# pg_inbox's delivery workers' own backends (application_name 'pg_inbox delivery') are also given
# apart (they are in the cluster's figure too).
cpu_now() { # side -> server sink cluster workers (clock ticks)
  local server sink postmaster workers
  if [[ $1 == ours ]]; then server=$SERVER_PID sink=${SINK_PIDS[1]}; else server=$DIRECTUS_PID sink=${SINK_PIDS[0]}; fi
  postmaster=$(head -1 "$(readlink -f "$ROOT/.pg/$BENCH_CLUSTER")/data/postmaster.pid")
  workers=$(bval "SELECT pg_catalog.string_agg('/proc/' || pid || '/stat', ' ') FROM pg_catalog.pg_stat_activity
                   WHERE application_name = 'pg_inbox delivery'" 2>/dev/null || true)
  # shellcheck disable=SC2046,SC2086 # lists of files
  echo "$(ticks "/proc/$server/stat") $(ticks "/proc/$sink/stat")" \
    "$(ticks "/proc/$postmaster/stat" $(pgrep -P "$postmaster" | sed 's|.*|/proc/&/stat|'))" \
    "$(if [[ -n $workers ]]; then ticks $workers; else echo 0; fi)"
}
cpu_record() { # wrk-side server0 sink0 cluster0 workers0 server1 sink1 cluster1 workers1
  local hz
  hz=$(getconf CLK_TCK)
  secs() { awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN { print (b - a) / hz }'; }
  record kind=cpu step=peer_create_email side="$1" seconds="$BENCH_WRK_T" conns="$BENCH_HTTP_CONNS" \
    server_s="$(secs "$2" "$6")" smtp_s="$(secs "$3" "$7")" cluster_s="$(secs "$4" "$8")" \
    delivery_backends_s="$(secs "$5" "$9")"
  say "CPU during $1's e-mail load: $(tail -1 "$RECORDS")"
}
# Each side's creates in the e-mail step: Directus's new directus_notifications rows, pg_inbox's
# new notifications (each gets one e-mail, queued by the workers' expander after its commit).
directus_before=$(dsql -At -c "SELECT coalesce(max(id), 0) FROM directus_notifications")
ours_before=$(bval "SELECT coalesce(max(id), 0) FROM inbox.notifications" 2>/dev/null || echo 0)
# Waits until every create of this side so far (warm-up included) has reached its SMTP server,
# at most BENCH_MAIL_WAIT s, and sets `creates` and `drain_s`. (Counted again each time:
# requests wrk left queued in the server still create after it ends.) Each load starts with
# the previous one's e-mails sent, on both sides: a load at 16 or 64 connections can leave
# e-mail queued behind pg_inbox's workers (Directus sends each as it creates), whose sending
# the next load would otherwise measure with its own creates.
drain() { # side
  local t0 last=-1 quiet=0 n i
  t0=$(ns_now)
  for ((i = 0; i < ${BENCH_MAIL_WAIT:-120} * 5; i++)); do
    if [[ $1 == ours ]]; then
      creates=$(bval "SELECT count(*) FROM inbox.notifications WHERE id > $ours_before")
    else
      creates=$(dsql -At -c "SELECT count(*) FROM directus_notifications WHERE id > $directus_before")
    fi
    n=$(mails "$1")
    ((n >= creates)) && break
    # Stop early when nothing arrived for 10 s (a sender that gave up).
    if ((n != last)); then last=$n quiet=0; else ((++quiet >= 50)) && break; fi
    sleep 0.2
  done
  drain_s=$(secs_since "$t0")
}
for side in ours directus; do
  if [[ $side == ours ]]; then
    up=$email_ready url=$ours/notifications wside=ours
  else
    up=$directus_up url=$directus/notifications wside=baseline
  fi
  if [[ $up != yes ]]; then
    skip peer_create_email "$side is not up"
    continue
  fi
  warm_up peer_create.lua "$url" "$side"
  drain "$side"
  say "$side: the warm-up's e-mails sent $drain_s s after it ended ($creates creates)"
  # The CPU of the loads and of sending their e-mails (the drains are inside).
  cpu_before=$(cpu_now "$side")
  for c in $BENCH_HTTP_CONNS; do
    BENCH_PEER_SIDE=$side wrkrun peer_create_email "$wside" "$c" peer_create.lua "$url"
    drain "$side"
  done
  # shellcheck disable=SC2086 # two lists of CPU seconds
  cpu_record "$wside" $cpu_before $(cpu_now "$side")
  # The e-mails of every create of this side reached its SMTP server (how many, and how long
  # after the last load the last one arrived).
  record kind=mail step=peer_create_email side="$wside" creates="$creates" mails="$(mails "$side")" \
    drain_s="$drain_s" smtp="aiosmtpd, log only"
done
# pg_inbox's e-mail row again with e-mail on but no delivery worker (nothing expands the feed
# into e-mails, nothing sends them): the create path's own cost of e-mail on, apart from the
# expansion and the sending. Those e-mails are never sent; the count above is done.
if [[ $email_ready == yes ]]; then
  server_stop
  BENCH_SERVER_ARGS="$plain_args $mail_args --delivery-workers 0"
  if server_start; then
    for c in $BENCH_HTTP_CONNS; do
      BENCH_PEER_SIDE=ours wrkrun peer_create_email_queued ours "$c" peer_create.lua "$ours/notifications"
    done
  fi
fi

# --- 6. results --------------------------------------------------------------------------------
cp "$RECORDS" "$BENCH_RESULTS/peer.jsonl"
cat >"$BENCH_RESULTS/peer-meta.json" <<JSON
{"started": "$started", "finished": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "commit": "$(git -C "$ROOT" rev-parse --short HEAD)", "directus": "$BENCH_DIRECTUS_VERSION",
 "node": "$(node -v)", "users": $BENCH_USERS, "tokens": $BENCH_TOKENS,
 "wrk_seconds": $BENCH_WRK_T, "http_connections": "$BENCH_HTTP_CONNS",
 "directus_index": "directus_notifications (recipient, id), added by the benchmark",
 "email": "peer_create_email: Directus users with email_notifications on; pg_inbox with pg_inbox.email_column, the server's default delivery workers (one e-mail thread) ${BENCH_PEER_MAIL_ARGS:-}; each to its own aiosmtpd (tests/delivery/smtp_sink.py, SMTP_SINK_LOG_ONLY); peer_create_email_queued: pg_inbox with e-mail on, --delivery-workers 0 (nothing expanded or sent)"}
JSON
python3 "$BENCH/report.py" --work "$BENCH/data/full" --out "$BENCH_RESULTS"
