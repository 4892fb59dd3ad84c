#!/usr/bin/env bash
# Delivery (issue 15), measured in its own database, each figure against its baseline in the
# same run (make bench runs it after the other steps; `make bench-delivery` alone). A create
# writes its change-feed events and nothing more; the server's workers expand committed events
# into deliveries (inbox.expand_deliveries, at each claim):
#   - a fan-out of BENCH_FANOUT recipients with a webhook and e-mail configured against nothing
#     configured (what the create pays for delivery: the in_app preference probe), and the
#     expansion of its events into a webhook call and an e-mail each (as the workers run it, 1,000
#     events a call), also in a session whose plans were made while the inbox was empty and whose
#     statistics say so (a plan that scans the table per event would show here);
#   - one create, pgbench for BENCH_T seconds: nothing configured against a webhook and an e-mail
#     for each, with no delivery worker running (what a create pays in its transaction;
#     BENCH_REPEAT interleaved rounds, each side first in turn, the median ratio), then
#     with a server's workers running, expanding and sending them to a local receiver and SMTP
#     server (what the machine pays); the same pairs over HTTP (one server, wrk, one connection);
#   - deliveries per second with one server process (its default workers: two webhook threads,
#     one e-mail thread; --delivery-poll-ms 20): BENCH_HOOKS webhook
#     calls to a local receiver (Node, answers 200) and BENCH_MAILS e-mails to a local SMTP
#     server (aiosmtpd), from the server's start on the committed creates (their expansion
#     included) to the moment the last one is delivered; BENCH_REPEAT rounds each (the median,
#     and every round), with the CPU seconds per
#     1,000 deliveries of the server, of its delivery worker's PostgreSQL backend and of the
#     receiver or SMTP server (to tell which of them bounds the rate).
#   - the same with an SMTP server that answers each end of data after BENCH_SMTP_DELAY_MS
#     (BENCH_SLOW_MAILS e-mails), and the webhook rate while those e-mails go out;
#   - the latency from a create's commit to its webhook call at a receiver (p50 / p99, the
#     server's default poll interval; bench/delivery_latency.mjs), against that interval.
#   - steady: the workers' CPU per e-mail (their backends', the server's) and their statements per
#     e-mail while pgbench creates BENCH_STEADY_RATE/s (default 400) with e-mail on for BENCH_T s.
# BENCH_DELIVERY_ROWS picks the rows (default "fanout create rates slow latency"; slow needs rates;
# steady only when named);
# BENCH_DELIVERY_ARGS are extra server options for the rates (e.g. "--delivery-workers 2"),
# BENCH_SERVER_BIN another server binary to measure (default server/pg_inbox_server).
# Without PGHOST/PGPORT it starts its own cluster (BENCH_DELIVERY_PORT, default 55482). Prints a
# Markdown table and writes it to $BENCH_RESULTS/delivery.md when BENCH_RESULTS is set.
set -euo pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
: "${BENCH_FANOUT:=10000}" "${BENCH_T:=5}" "${BENCH_HOOKS:=5000}" "${BENCH_MAILS:=2000}" "${BENCH_REPEAT:=3}"
: "${BENCH_DELIVERY_ROWS:=fanout create rates slow latency}" "${BENCH_DELIVERY_ARGS:=}"
: "${BENCH_SLOW_MAILS:=300}" "${BENCH_SMTP_DELAY_MS:=20}"
row() { [[ " $BENCH_DELIVERY_ROWS " == *" $1 "* ]]; }
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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
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
# Moves the expander's cursor past every event so far and empties the outbox.
# SQL that expands every event committed so far, as the workers do: 1,000 events a call.
expand_all="SELECT sum(inbox.expand_deliveries(1000)) FROM generate_series(1, $((BENCH_FANOUT / 1000 + 10)))"
catch_up() {
  q "$expand_all" >/dev/null
  q "DELETE FROM inbox.deliveries" >/dev/null
}
rows=()
if row fanout; then
  # The expansion of a committed fan-out (the expander reads committed events only: the
  # fan-out is a statement of its own), timed as the workers run it, in a session with a webhook
  # and e-mail configured; then the outbox emptied. $1: SQL the session runs first.
  expand_ms() {
    psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" <<SQL
SET pg_inbox.email_column = 'email';
$1
SELECT inbox.fan_out_count(ARRAY(SELECT id FROM public.users ORDER BY id), '$template') \g /dev/null
SELECT pg_catalog.clock_timestamp() AS t0 \gset
$expand_all \g /dev/null
SELECT round(extract(epoch FROM pg_catalog.clock_timestamp() - :'t0') * 1000);
SQL
    q "DELETE FROM inbox.deliveries" >/dev/null
  }
  # First, into an inbox whose statistics say it is empty (VACUUM ANALYZE of the empty table),
  # in a session whose expansions of ten single creates made its plans then: a plan that
  # scanned the table for each event would make it quadratic.
  say "expanding a fan-out of $BENCH_FANOUT in a session whose plans say the inbox is empty, a webhook and e-mail each"
  q "VACUUM ANALYZE inbox.notifications"
  hook=$(q "SELECT inbox.create_webhook('http://127.0.0.1:9/hook', '{notification.created}')->>'id'")
  catch_up
  stale=$(expand_ms "$(for i in $(seq 10); do echo "SELECT inbox.create('u$i', '$template') \g /dev/null"; echo "SELECT inbox.expand_deliveries() \g /dev/null"; done)")
  say "fan-out of $BENCH_FANOUT: nothing configured, a webhook and e-mail configured, and its expansion"
  expand=$(for _ in $(seq "$BENCH_REPEAT"); do expand_ms ""; done | sort -n | sed -n "$(((BENCH_REPEAT + 1) / 2))p")
  q "SELECT inbox.delete_webhook('$hook')" >/dev/null
  catch_up
  configure="SET pg_inbox.email_column = 'email'; SELECT inbox.create_webhook('http://127.0.0.1:9/hook', '{notification.created}') \g /dev/null"
  none=$(fan_out_ms "")
  configured=$(fan_out_ms "$configure")
  rows+=("| fan-out of $BENCH_FANOUT, a webhook and e-mail configured (ms) | $configured | $none (nothing configured) | $(ratio "$none" "$configured") |"
    "| expanding a committed fan-out's $BENCH_FANOUT events: a webhook call and an e-mail queued for each (ms) | $expand | $none (the fan-out) | $(ratio "$none" "$expand") |"
    "| the same expansion, plans made while the inbox was empty (ms) | $stale | $expand (statistics true) | $(ratio "$expand" "$stale") |")
fi

# A receiver (Node, answers 200) and an SMTP server (aiosmtpd, log only) on this machine.
receiver_port=$(free_port) smtp_port=$(free_port) server_port=$(free_port)
node -e "require('http').createServer((q,s)=>{q.resume();q.on('end',()=>{s.end('ok')})}).listen($receiver_port,'127.0.0.1')" &
receiver=$!
pids+=("$receiver")
# (SMTP_SINK_LOG_ONLY: a line per e-mail instead of two files, the sink's CPU a third.)
export SMTP_SINK_LOG_ONLY=1
/usr/bin/python3 "$ROOT/tests/delivery/smtp_sink.py" "$smtp_port" "$work/mail" >/dev/null &
sink=$!
pids+=("$sink")
# A server on $server_port with its delivery workers sending to them (more options after).
workers_start() {
  # shellcheck disable=SC2086 # BENCH_DELIVERY_ARGS is a list of options
  "${BENCH_SERVER_BIN:-$ROOT/server/pg_inbox_server}" --database-url "postgresql://$PGUSER@$PGHOST:$PGPORT/$db" --port "$server_port" \
    --smtp-url "smtp://127.0.0.1:${smtp_port}" --mail-from bench@example.org \
    --webhook-allow-private on $BENCH_DELIVERY_ARGS "$@" >"$work/server.log" 2>&1 &
  workers=$!
  until curl -fs "http://127.0.0.1:$server_port/healthz" >/dev/null 2>&1; do sleep 0.1; done
}
workers_stop() {
  kill "$workers"
  wait "$workers" 2>/dev/null || true
}

if row create; then
  say "one create for $BENCH_T s: nothing configured, then a webhook and an e-mail for each; no worker, then workers running"
  cat >"$work/create.sql" <<SQL
\set u random(1, $BENCH_FANOUT)
SELECT inbox.create('u' || :u, '$template');
SQL
  tps() { pgbench -n -T "$BENCH_T" -c 1 -f "$work/create.sql" "$@" "$db" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
  # The same pair over HTTP: POST /api/notifications through one server (--delivery-workers 0,
  # or with its workers), the settings of its connections from PGOPTIONS, wrk with one
  # connection for BENCH_T s.
  token=$(q "SELECT inbox.create_token('bench-sender', ARRAY['notifications:send'])")
  body="{\"userId\": \"u1\", ${template#\{}"
  cat >"$work/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$body]]
LUA
  http_rate() { # server options
    workers_start "$@"
    wrk -t1 -c1 -d"${BENCH_T}s" -s "$work/create.lua" "http://127.0.0.1:$server_port/api/notifications" >"$work/wrk.out"
    workers_stop
    # A rate of refusals is no rate.
    if grep -q 'Non-2xx' "$work/wrk.out"; then echo "failed: $(grep 'Non-2xx' "$work/wrk.out")"; return; fi
    sed -n 's/^Requests\/sec: *//p' "$work/wrk.out"
  }
  # pgbench while a server's workers run (they expand and send what the creates commit).
  tps_working() {
    workers_start
    tps
    workers_stop
  }
  catch_up
  http_plain=$(http_rate --delivery-workers 0)
  working_plain=$(tps_working)
  http_working_plain=$(http_rate)
  hook=$(q "SELECT inbox.create_webhook('http://127.0.0.1:$receiver_port/hook', '{notification.created}')->>'id'")
  # The goal's pair (what a create pays in its transaction, no worker running) in BENCH_REPEAT
  # interleaved rounds, each side first in turn, and the median of the rounds' ratios: one run of
  # each, one after the other, gave anything from 0.76x to 1.35x on a quiet machine. (A disabled
  # webhook configures nothing; the e-mail column is the session's setting.)
  create_plain=() create_delivery=() create_ratios=()
  for ((r = 1; r <= BENCH_REPEAT; r++)); do
    catch_up
    for side in $( ((r % 2)) && echo "plain delivery" || echo "delivery plain"); do
      if [[ $side == plain ]]; then
        q "UPDATE inbox.webhooks SET enabled = false" >/dev/null
        plain_tps=$(tps)
      else
        q "UPDATE inbox.webhooks SET enabled = true" >/dev/null
        delivery_tps=$(export PGOPTIONS="-c pg_inbox.email_column=email" && tps)
      fi
    done
    create_plain+=("$(printf '%.0f' "$plain_tps")")
    create_delivery+=("$(printf '%.0f' "$delivery_tps")")
    create_ratios+=("$(ratio "$delivery_tps" "$plain_tps")")
  done
  q "UPDATE inbox.webhooks SET enabled = true" >/dev/null
  create_ratio=$(printf '%s\n' "${create_ratios[@]}" | sort -n | sed -n "$(((BENCH_REPEAT + 1) / 2))p")
  export PGOPTIONS="-c pg_inbox.email_column=email"
  catch_up
  http_delivery=$(http_rate --delivery-workers 0)
  catch_up
  working_delivery=$(tps_working)
  http_working_delivery=$(http_rate)
  queued=$(q "SELECT count(*) FROM inbox.deliveries")
  unset PGOPTIONS
  q "SELECT inbox.delete_webhook('$hook')" >/dev/null
  catch_up
  joined() { local IFS=/; echo "$*"; }
  rows+=("| create one, an e-mail and a webhook for each, no delivery worker running (creates/s, $BENCH_REPEAT interleaved rounds; ratio: their median) | $(joined "${create_delivery[@]}") | $(joined "${create_plain[@]}") (nothing configured) | $create_ratio |"
    "| the same over HTTP, \`POST /api/notifications\`, 1 connection, \`--delivery-workers 0\` (creates/s) | $http_delivery | $http_plain (nothing configured) | $(ratio "$http_delivery" "$http_plain") |"
    "| create one, an e-mail and a webhook for each, a server's workers expanding and sending them (creates/s) | $working_delivery | $working_plain (nothing configured, workers idle) | $(ratio "$working_delivery" "$working_plain") |"
    "| the same over HTTP, that server's own workers ($queued deliveries queued in the runs) (creates/s) | $http_working_delivery | $http_working_plain (nothing configured) | $(ratio "$http_working_delivery" "$http_working_plain") |")
fi

if row rates; then
  # CPU seconds (user + system) a process has used so far.
  cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
  per_k() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.2f", (n > 0 ? s * 1000 / n : 0) }'; }
  # channel count peer-pid -> "deliveries/s server-cpu backend-cpu peer-cpu" (CPU s per 1,000),
  # from the server's start on a filled queue to the last delivered.
  drain() {
    local start end server backend delivered peer0 server_cpu backend_cpu
    peer0=$(cpu "$3")
    # shellcheck disable=SC2086 # BENCH_DELIVERY_ARGS is a list of options
    "${BENCH_SERVER_BIN:-$ROOT/server/pg_inbox_server}" --database-url "postgresql://$PGUSER@$PGHOST:$PGPORT/$db" --port "$server_port" \
      --delivery-poll-ms 20 --smtp-url "smtp://127.0.0.1:$smtp_port" --mail-from bench@example.org \
      --webhook-allow-private on $BENCH_DELIVERY_ARGS >"$work/server.log" 2>&1 &
    server=$!
    start=$(date +%s%N)
    # Until all of them are finished: the server expands the committed creates first.
    for ((i = 0; i < 2400; i++)); do
      [[ $(q "SELECT count(*) FROM inbox.deliveries WHERE channel = '$1' AND state <> 'pending'") -ge $2 ]] && break
      sleep 0.05
    done
    end=$(date +%s%N)
    server_cpu=$(cpu "$server")
    backend_cpu=0
    for backend in $(q "SELECT pid FROM pg_catalog.pg_stat_activity WHERE application_name = 'pg_inbox delivery'"); do
      backend_cpu=$(awk -v a="$backend_cpu" -v b="$(cpu "$backend")" 'BEGIN { print a + b }')
    done
    kill "$server"
    wait "$server" 2>/dev/null || true
    delivered=$(q "SELECT count(*) FROM inbox.deliveries WHERE channel = '$1' AND state = 'delivered'")
    q "DELETE FROM inbox.deliveries WHERE channel = '$1'" >/dev/null
    [[ $delivered == "$2" ]] || say "only $delivered of $2 $1 deliveries delivered"
    awk -v n="$delivered" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / ((b - a) / 1e9) }'
    echo " $(per_k "$server_cpu" "$delivered") $(per_k "$backend_cpu" "$delivered") $(per_k "$(awk -v a="$peer0" -v b="$(cpu "$3")" 'BEGIN { print b - a }')" "$delivered")"
  }
  # channel count peer-pid fill-SQL -> a table row: the median round, and every round.
  rounds() {
    local r out=() median
    for r in $(seq "$BENCH_REPEAT"); do
      q "$4" >/dev/null
      out+=("$(drain "$1" "$2" "$3")")
      say "  round $r: $(cut -d' ' -f1 <<<"${out[-1]}")/s (load $(cut -d' ' -f1 /proc/loadavg))"
    done
    median=$(printf '%s\n' "${out[@]}" | sort -n | sed -n "$(((BENCH_REPEAT + 1) / 2))p")
    read -r rate s b p <<<"$median"
    echo "$rate | $(printf '%s\n' "${out[@]}" | cut -d' ' -f1 | paste -sd/) (rounds) | CPU s per 1,000: server $s, its backend $b, peer $p |"
  }
  say "$BENCH_HOOKS webhook calls to a local receiver, $BENCH_REPEAT rounds"
  hook=$(q "SELECT inbox.create_webhook('http://127.0.0.1:$receiver_port/hook', '{notification.created}')->>'id'")
  hooks=$(rounds webhook "$BENCH_HOOKS" "$receiver" \
    "SELECT inbox.fan_out_count(ARRAY(SELECT id FROM public.users ORDER BY id LIMIT $BENCH_HOOKS), '$template')")
  q "SELECT inbox.delete_webhook('$hook')" >/dev/null
  say "$BENCH_MAILS e-mails to a local SMTP server, $BENCH_REPEAT rounds"
  mails=$(PGOPTIONS="-c pg_inbox.email_column=email" rounds email "$BENCH_MAILS" "$sink" \
    "SELECT inbox.fan_out_count(ARRAY(SELECT id FROM public.users ORDER BY id LIMIT $BENCH_MAILS), '$template')")
  rows+=("| webhook deliveries/s, one server (default workers), local receiver (Node) | $hooks"
    "| e-mails/s, one server (default workers), local SMTP server (aiosmtpd, log only) | $mails")

  if row slow; then
    # A slow SMTP server (it answers each end of data after BENCH_SMTP_DELAY_MS): libcurl 7.88
    # waits for that answer blocking the thread (curl#8555), so the e-mail rate is the e-mail
    # threads over the delay; and webhooks sent meanwhile must not wait on it. One round each.
    slow_port=$(free_port)
    SMTP_SINK_DELAY_MS=$BENCH_SMTP_DELAY_MS /usr/bin/python3 "$ROOT/tests/delivery/smtp_sink.py" "$slow_port" "$work/slow" >/dev/null &
    slow_sink=$!
    pids+=("$slow_sink")
    fill_mails="SELECT inbox.fan_out_count(ARRAY(SELECT id FROM public.users ORDER BY id LIMIT $BENCH_SLOW_MAILS), '$template')"
    say "$BENCH_SLOW_MAILS e-mails to an SMTP server that answers each end of data after $BENCH_SMTP_DELAY_MS ms"
    PGOPTIONS="-c pg_inbox.email_column=email" q "$fill_mails" >/dev/null
    slow_mails=$(PGOPTIONS="-c pg_inbox.email_column=email" smtp_port=$slow_port drain email "$BENCH_SLOW_MAILS" "$slow_sink")
    q "DELETE FROM inbox.deliveries" >/dev/null
    say "$BENCH_HOOKS webhook calls while $BENCH_SLOW_MAILS e-mails go to that SMTP server"
    # (Both expanded here, the e-mails first, so that they are due first and the creates of
    # each get only their own channel.)
    PGOPTIONS="-c pg_inbox.email_column=email" q "$fill_mails" >/dev/null
    PGOPTIONS="-c pg_inbox.email_column=email" q "$expand_all" >/dev/null
    hook=$(q "SELECT inbox.create_webhook('http://127.0.0.1:$receiver_port/hook', '{notification.created}')->>'id'")
    q "SELECT inbox.fan_out_count(ARRAY(SELECT id FROM public.users ORDER BY id LIMIT $BENCH_HOOKS), '$template')" >/dev/null
    q "$expand_all" >/dev/null
    slow_hooks=$(PGOPTIONS="-c pg_inbox.email_column=email" smtp_port=$slow_port drain webhook "$BENCH_HOOKS" "$receiver")
    q "SELECT inbox.delete_webhook('$hook')" >/dev/null
    q "DELETE FROM inbox.deliveries" >/dev/null
    rows+=("| e-mails/s to an SMTP server answering each end of data after $BENCH_SMTP_DELAY_MS ms (1 round) | ${slow_mails%% *} | | |"
      "| webhook deliveries/s while $BENCH_SLOW_MAILS e-mails go to that SMTP server (1 round) | ${slow_hooks%% *} | ${hooks%% *} (no e-mail) | $(ratio "${slow_hooks%% *}" "${hooks%% *}") |")
  fi
fi

if row steady; then
  # What the workers cost per e-mail at a steady create rate (issue 15's 300-700 creates/s with
  # e-mail on, where batches are small): pgbench creates BENCH_STEADY_RATE/s for BENCH_T s
  # (2 clients) while a server with its default workers (poll 200 ms) expands, claims, sends and
  # reports them; BENCH_REPEAT rounds. CPU ms per e-mail of the workers' PostgreSQL backends and
  # of the server, and the workers' statements per e-mail (claims, reports: track_functions).
  : "${BENCH_STEADY_RATE:=400}"
  cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
  backends_cpu() {
    local sum=0 b
    for b in $(q "SELECT pid FROM pg_catalog.pg_stat_activity WHERE application_name = 'pg_inbox delivery'"); do
      sum=$(awk -v a="$sum" -v b="$(cpu "$b")" 'BEGIN { print a + b }')
    done
    echo "$sum"
  }
  calls() { q "SELECT pg_catalog.pg_stat_clear_snapshot(); SELECT coalesce(sum(calls), 0) FROM pg_catalog.pg_stat_user_functions WHERE schemaname = 'inbox' AND funcname = '$1'" | tail -1; }
  cat >"$work/steady.sql" <<SQL
\set u random(1, $BENCH_FANOUT)
SELECT inbox.create('u' || :u, '$template');
SQL
  q "ALTER DATABASE $db SET track_functions = 'pl'" >/dev/null
  catch_up
  steady=()
  export PGOPTIONS="-c pg_inbox.email_column=email"
  say "the workers' CPU per e-mail at $BENCH_STEADY_RATE creates/s for $BENCH_T s, $BENCH_REPEAT rounds"
  for r in $(seq "$BENCH_REPEAT"); do
    q "DELETE FROM inbox.deliveries" >/dev/null
    workers_start
    sleep 1
    b0=$(backends_cpu) s0=$(cpu "$workers") c0=$(calls claim_deliveries) f0=$(calls finish_deliveries)
    pgbench -n -T "$BENCH_T" -c 2 -R "$BENCH_STEADY_RATE" -f "$work/steady.sql" "$db" >"$work/pgbench.out" 2>&1
    made=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.out")
    for ((i = 0; i < 400; i++)); do
      [[ $(q "SELECT count(*) FROM inbox.deliveries WHERE channel = 'email' AND state = 'delivered'") -ge ${made:-0} ]] && break
      sleep 0.05
    done
    sleep 1.2
    b1=$(backends_cpu) s1=$(cpu "$workers") c1=$(calls claim_deliveries) f1=$(calls finish_deliveries)
    n=$(q "SELECT count(*) FROM inbox.deliveries WHERE channel = 'email' AND state = 'delivered'")
    workers_stop
    rate=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.out" | head -1)
    steady+=("$(awk -v n="$n" -v b="$(awk -v a="$b0" -v b="$b1" 'BEGIN { print b - a }')" -v s="$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')" \
      -v c=$((c1 - c0)) -v f=$((f1 - f0)) -v r="$rate" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
      'BEGIN { printf "%.3f %.3f %.0f %d %d %d %s", b * 1000 / n, s * 1000 / n, r, n, c, f, l }')")
    say "  round $r: ${steady[-1]} (backends ms/e-mail, server ms/e-mail, creates/s, e-mails, claims, reports, load)"
  done
  unset PGOPTIONS
  catch_up
  rows+=("| the workers' CPU per e-mail at $BENCH_STEADY_RATE creates/s with e-mail on, backends / server (ms), rounds | $(printf '%s\n' "${steady[@]}" | awk '{ printf "%s%s / %s", (NR > 1 ? "; " : ""), $1, $2 }') | | |"
    "| the same: e-mails, claims, reports (calls of inbox.claim_deliveries, inbox.finish_deliveries), load, rounds | $(printf '%s\n' "${steady[@]}" | awk '{ printf "%s%d, %d, %d, %s", (NR > 1 ? "; " : ""), $4, $5, $6, $7 }') | | |")
fi

if row latency; then
  # From a create's commit (its answer) to its webhook call, with the server's default poll
  # interval: the expansion runs in the claim, so it must add no more than one interval.
  say "the latency from commit to the receiver, ${BENCH_LATENCY_N:-300} creates over HTTP, one every 20 ms"
  catch_up
  latency_port=$(free_port)
  hook=$(q "SELECT inbox.create_webhook('http://127.0.0.1:$latency_port/hook', '{notification.created}')->>'id'")
  token=$(q "SELECT inbox.create_token('bench-latency', ARRAY['notifications:send'])")
  workers_start
  read -r p50 p99 max arrived sent < <(BASE="http://127.0.0.1:$server_port" TOKEN=$token RECEIVER_PORT=$latency_port \
    LATENCY_N=${BENCH_LATENCY_N:-300} node "$BENCH/delivery_latency.mjs")
  workers_stop
  q "SELECT inbox.delete_webhook('$hook')" >/dev/null
  catch_up
  rows+=("| latency from a create's commit to its webhook call, p50 / p99 / max ($arrived of $sent arrived) (ms) | $p50 / $p99 / $max | 200 (the poll interval) | $(ratio "$p99" 200) |")
fi

table=$(
  echo "| delivery ($(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)) | ours | baseline | ratio |"
  echo "|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
)
echo "$table"
[[ -z ${BENCH_RESULTS:-} ]] || echo "$table" >"$BENCH_RESULTS/delivery.md"
