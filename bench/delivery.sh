#!/usr/bin/env bash
# Delivery (issue 15), measured in its own database, each figure against its baseline in the
# same run (make bench runs it after the other steps; `make bench-delivery` alone):
#   - a fan-out of BENCH_FANOUT recipients: the delivery trigger off (the feed alone) against on
#     with nothing configured (what every installation pays), and on with a webhook and e-mail
#     configured (every recipient gets both queued), also into an inbox whose statistics say it
#     is empty (a plan that scans the table per event would show here);
#   - one create, pgbench for BENCH_T seconds: nothing configured against a webhook and an e-mail
#     queued for each; the same pair over HTTP (one server, wrk, one connection);
#   - deliveries per second with one server process (--delivery-workers 1): BENCH_HOOKS webhook
#     calls to a local receiver (Node, answers 200) and BENCH_MAILS e-mails to a local SMTP
#     server (aiosmtpd), from the queue filled to the moment the last one is delivered.
# Without PGHOST/PGPORT it starts its own cluster (BENCH_DELIVERY_PORT, default 55482). Prints a
# Markdown table and writes it to $BENCH_RESULTS/delivery.md when BENCH_RESULTS is set.
set -euo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
: "${BENCH_FANOUT:=10000}" "${BENCH_T:=5}" "${BENCH_HOOKS:=5000}" "${BENCH_MAILS:=2000}" "${BENCH_REPEAT:=3}"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
own_cluster=
if [[ -z ${PGPORT:-} ]]; then
  PG_BIN=$(source "$ROOT/scripts/lib.sh" && private_pg_root)
  export PG_BIN
  PGPORT=${BENCH_DELIVERY_PORT:-55482}
  "$ROOT/scripts/cluster.sh" start bench_delivery "$PGPORT" --fresh >/dev/null
  own_cluster=1
fi
export PGHOST=${PGHOST:-127.0.0.1} PGPORT PGUSER=${PGUSER:-postgres}
db=pg_inbox_bench_delivery
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
  [[ -z $own_cluster ]] || "$ROOT/scripts/cluster.sh" stop bench_delivery >/dev/null 2>&1 || true
}
trap cleanup EXIT
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
CREATE EXTENSION pg_inbox;
CREATE TABLE public.users (id text PRIMARY KEY, email text);
INSERT INTO public.users SELECT 'u' || i, 'u' || i || '@example.org' FROM generate_series(1, $BENCH_FANOUT) i;
SELECT inbox.define_relation('recipient', 'userId', 'public.users', 'id');
ALTER DATABASE $db SET pg_inbox.webhook_allow_private = on;
SQL
template='{"type": "warning", "title": "Scheduled maintenance tonight", "body": "The service will be read-only from 22:00 to 22:30 UTC.", "data": {"url": "https://status.example.org/m/1"}}'
# The median of BENCH_REPEAT fan-outs (ms), each in its own transaction, rolled back after.
fan_out_ms() { # extra SQL before
  for _ in $(seq "$BENCH_REPEAT"); do
    psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" <<SQL
BEGIN;
$1
SELECT pg_catalog.clock_timestamp() AS t0 \gset
SELECT inbox.fan_out_count(ARRAY(SELECT id FROM public.users ORDER BY id), '$template') \g /dev/null
SELECT round(extract(epoch FROM pg_catalog.clock_timestamp() - :'t0') * 1000);
ROLLBACK;
SQL
  done | sort -n | sed -n "$(((BENCH_REPEAT + 1) / 2))p"
}
# A fan-out into an inbox whose statistics say it is empty (VACUUM ANALYZE of the empty table),
# in a session whose delivery trigger already ran for ten single creates (its plans made while
# the inbox was empty): a plan that scanned the table for each event would make it quadratic.
say "fan-out of $BENCH_FANOUT into an inbox whose statistics say empty, a webhook and e-mail queued"
q "VACUUM ANALYZE inbox.notifications"
stale=$(psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" <<SQL
BEGIN;
SET pg_inbox.email_column = 'email';
SELECT inbox.create_webhook('http://127.0.0.1:9/hook', '{notification.created}') \g /dev/null
SELECT count(inbox.create('u' || i, '$template')) FROM generate_series(1, 10) AS i \g /dev/null
SELECT pg_catalog.clock_timestamp() AS t0 \gset
SELECT inbox.fan_out_count(ARRAY(SELECT id FROM public.users ORDER BY id), '$template') \g /dev/null
SELECT round(extract(epoch FROM pg_catalog.clock_timestamp() - :'t0') * 1000);
ROLLBACK;
SQL
)
say "fan-out of $BENCH_FANOUT: delivery trigger off, on with nothing configured, on with a webhook and e-mail"
off=$(fan_out_ms "ALTER TABLE inbox.events DISABLE TRIGGER deliveries_after_insert;")
none=$(fan_out_ms "")
configured=$(fan_out_ms "SET pg_inbox.email_column = 'email'; SELECT inbox.create_webhook('http://127.0.0.1:9/hook', '{notification.created}') \g /dev/null")

say "one create for $BENCH_T s: nothing configured, then a webhook and an e-mail queued each"
cat >"$work/create.sql" <<SQL
\set u random(1, $BENCH_FANOUT)
SELECT inbox.create('u' || :u, '$template');
SQL
tps() { pgbench -n -T "$BENCH_T" -c 1 -f "$work/create.sql" "$@" "$db" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
# The same pair over HTTP: POST /api/notifications through one server (--delivery-workers 0,
# the settings of its connections from PGOPTIONS), wrk with one connection for BENCH_T s.
token=$(q "SELECT inbox.create_token('bench-sender', ARRAY['notifications:send'])")
body="{\"userId\": \"u1\", ${template#\{}"
cat >"$work/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$body]]
LUA
http_rate() {
  local port server
  port=$(free_port)
  "$ROOT/server/pg_inbox_server" --database-url "postgresql://$PGUSER@$PGHOST:$PGPORT/$db" --port "$port" \
    --delivery-workers 0 >"$work/http.log" 2>&1 &
  server=$!
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.1; done
  wrk -t1 -c1 -d"${BENCH_T}s" -s "$work/create.lua" "http://127.0.0.1:$port/api/notifications" >"$work/wrk.out"
  kill "$server"; wait "$server" 2>/dev/null || true
  # A rate of refusals is no rate.
  if grep -q 'Non-2xx' "$work/wrk.out"; then echo "failed: $(grep 'Non-2xx' "$work/wrk.out")"; return; fi
  sed -n 's/^Requests\/sec: *//p' "$work/wrk.out"
}
create_plain=$(tps)
http_plain=$(http_rate)
hook=$(q "SELECT inbox.create_webhook('http://127.0.0.1:9/hook', '{notification.created}')->>'id'")
create_delivery=$(PGOPTIONS="-c pg_inbox.email_column=email" tps)
http_delivery=$(PGOPTIONS="-c pg_inbox.email_column=email" http_rate)
q "SELECT inbox.delete_webhook('$hook')" >/dev/null
q "DELETE FROM inbox.deliveries" >/dev/null

# Deliveries per second: a receiver and an SMTP server on this machine, one server process.
receiver_port=$(free_port) smtp_port=$(free_port) server_port=$(free_port)
node -e "require('http').createServer((q,s)=>{q.resume();q.on('end',()=>{s.end('ok')})}).listen($receiver_port,'127.0.0.1')" &
pids+=($!)
/usr/bin/python3 "$ROOT/tests/delivery/smtp_sink.py" "$smtp_port" "$work/mail" >/dev/null &
pids+=($!)
drain() { # channel count -> deliveries per second, from the first claim to the last delivered
  local start
  "$ROOT/server/pg_inbox_server" --database-url "postgresql://$PGUSER@$PGHOST:$PGPORT/$db" --port "$server_port" \
    --delivery-workers 1 --delivery-poll-ms 20 --smtp-url "smtp://127.0.0.1:$smtp_port" --mail-from bench@example.org \
    --webhook-allow-private on >"$work/server.log" 2>&1 &
  local server=$!
  start=$(date +%s%N)
  while [[ $(q "SELECT count(*) FROM inbox.deliveries WHERE channel = '$1' AND state = 'pending'") != 0 ]]; do sleep 0.05; done
  local end
  end=$(date +%s%N)
  kill "$server"; wait "$server" 2>/dev/null || true
  local delivered
  delivered=$(q "SELECT count(*) FROM inbox.deliveries WHERE channel = '$1' AND state = 'delivered'")
  awk -v n="$delivered" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / ((b - a) / 1e9) }'
  [[ $delivered == "$2" ]] || echo " (only $delivered of $2 delivered)"
}
say "$BENCH_HOOKS webhook calls to a local receiver"
hook=$(q "SELECT inbox.create_webhook('http://127.0.0.1:$receiver_port/hook', '{notification.created}')->>'id'")
q "SELECT inbox.fan_out_count(ARRAY(SELECT id FROM public.users ORDER BY id LIMIT $BENCH_HOOKS), '$template')" >/dev/null
hooks_per_s=$(drain webhook "$BENCH_HOOKS")
q "SELECT inbox.delete_webhook('$hook')" >/dev/null
say "$BENCH_MAILS e-mails to a local SMTP server"
PGOPTIONS="-c pg_inbox.email_column=email" q "SELECT inbox.fan_out_count(ARRAY(SELECT id FROM public.users ORDER BY id LIMIT $BENCH_MAILS), '$template')" >/dev/null
mails_per_s=$(drain email "$BENCH_MAILS")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
table=$(cat <<MD
| delivery ($(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)) | ours | baseline | ratio |
|---|---|---|---|
| fan-out of $BENCH_FANOUT, delivery trigger on, nothing configured (ms) | $none | $off (trigger off) | $(ratio "$off" "$none") |
| fan-out of $BENCH_FANOUT, a webhook and e-mail queued for each (ms) | $configured | $none (nothing configured) | $(ratio "$none" "$configured") |
| the same into an inbox whose statistics say empty (ms) | $stale | $configured (statistics true) | $(ratio "$configured" "$stale") |
| create one with an e-mail and a webhook queued (creates/s) | $create_plain | $create_plain | $(ratio "$create_delivery" "$create_plain") |
| the same over HTTP, \`POST /api/notifications\`, 1 connection (creates/s) | $http_delivery | $http_plain (none queued) | $(ratio "$http_delivery" "$http_plain") |
| webhook deliveries/s, one server, local receiver | $hooks_per_s | | |
| e-mails/s, one server, local SMTP server (aiosmtpd) | $mails_per_s | | |
MD
)
table=${table/"| $create_plain | $create_plain |"/"| $create_delivery | $create_plain (none queued) |"}
echo "$table"
[[ -z ${BENCH_RESULTS:-} ]] || echo "$table" >"$BENCH_RESULTS/delivery.md"
