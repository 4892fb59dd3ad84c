# The HTTP steps, sourced by bench/steps.sh: each REST route through the server under wrk,
# against pgbench calling the route's SQL function at the same concurrency (the most the server
# can approach, since every request is one call of that function). Then the server's peak RSS,
# and the server under attack (issue 13): /healthz and the list with idle and slowloris
# connections held against the same without them, and the memory after parallel header floods.
# shellcheck shell=bash

SERVER_BIN=$ROOT/server/pg_inbox_server

http_ready() {
  [[ -x $SERVER_BIN ]] || {
    skip http "the REST server (server/pg_inbox_server) is not built"
    return 1
  }
  local f
  for f in 'inbox.create_token(text,text[],text,timestamptz)' 'inbox.rest_list(text,jsonb)' \
    'inbox.rest_unread_count(text,jsonb)' 'inbox.rest_mark_read(text,text,jsonb)' \
    'inbox.rest_create(text,jsonb,text,jsonb)'; do
    has_function "$f" || {
      skip http "$f is not installed"
      return 1
    }
  done
}

# Tokens for user1..userN and one notification of each by its id (bench.items), once per run:
# the GraphQL step at the SQL level and the HTTP steps share them.
token_fixtures() {
  if [[ $(bval "SELECT count(*) FROM bench.tokens") == 0 ]]; then
    bsql -c "INSERT INTO bench.tokens
             SELECT g, 'user' || g, inbox.create_token('user' || g,
                    ARRAY['notifications:read', 'notifications:write', 'notifications:send'])
               FROM pg_catalog.generate_series(1, $BENCH_TOKENS) g" \
      -c "INSERT INTO bench.items
          SELECT row_number() OVER (ORDER BY t.n), t.token, x.id
            FROM bench.tokens t
            JOIN LATERAL (SELECT n.id FROM inbox.notifications n
                           WHERE n.user_id = t.user_id AND n.deleted_at IS NULL
                           ORDER BY bench.h(n.id, 97, 1000000007), n.id LIMIT 1) x ON true" \
      -c "ANALYZE bench.tokens" -c "ANALYZE bench.items"
  fi
  ITEMS=$(bval "SELECT count(*) FROM bench.items")
}

# The tokens, the PUT targets, and the Lua data file for wrk.
http_fixtures() {
  token_fixtures
  bsql -c "INSERT INTO bench.http_targets
        SELECT row_number() OVER (ORDER BY bench.h(n.id, 98, 1000000007), n.id), t.token, inbox.public_id(n.id)
          FROM inbox.notifications n JOIN bench.tokens t USING (user_id)
         WHERE n.read_at IS NULL AND n.deleted_at IS NULL" \
    -c "ANALYZE bench.http_targets"
  HTTP_TARGETS=$(bval "SELECT count(*) FROM bench.http_targets")
  mkdir -p "$WORK/wrk"
  export BENCH_WRK_DIR=$BENCH/wrk BENCH_WRK_DATA=$WORK/wrk/data.lua
  # Tokens and ids are [0-9a-z_] only, so a JSON string is a valid Lua string.
  bval "SELECT 'return {' || pg_catalog.chr(10)
         || 'tokens = {' || (SELECT pg_catalog.string_agg(pg_catalog.format('{%s, %s}', pg_catalog.to_json(token), pg_catalog.to_json(user_id)), ', ' ORDER BY n) FROM bench.tokens) || '},' || pg_catalog.chr(10)
         || 'targets = {' || (SELECT pg_catalog.string_agg(pg_catalog.format('{%s, %s}', pg_catalog.to_json(token), pg_catalog.to_json(public_id)), ', ' ORDER BY ord) FROM bench.http_targets WHERE ord <= $HTTP_TARGETS / 2) || '},' || pg_catalog.chr(10)
         || 'items = {' || (SELECT pg_catalog.string_agg(pg_catalog.format('{%s, %s}', pg_catalog.to_json(token), id), ', ' ORDER BY n) FROM bench.items) || '},' || pg_catalog.chr(10)
         || 'create_fields = ' || pg_catalog.to_json((SELECT fields FROM bench.http_body)) || pg_catalog.chr(10) || '}'" \
    >"$BENCH_WRK_DATA"
}

server_start() {
  mkdir -p "$WORK/server"
  local url="postgresql://$PGUSER@$PGHOST:$PGPORT/$BENCH_DB"
  # shellcheck disable=SC2086 # BENCH_SERVER_ARGS is a list of options
  "$SERVER_BIN" --database-url "$url" --port "$BENCH_SERVER_PORT" ${BENCH_SERVER_ARGS:-} \
    >"$WORK/server/log" 2>&1 &
  SERVER_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    if curl -fs "http://127.0.0.1:$BENCH_SERVER_PORT/readyz" >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  return 1
}

server_stop() {
  [[ -n ${SERVER_PID:-} ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

http_steps() {
  http_ready || return 0
  http_fixtures
  say "starting the server on port $BENCH_SERVER_PORT"
  if ! server_start; then
    skip http "the server did not become ready: $(tail -1 "$WORK/server/log")"
    server_stop
    return 0
  fi
  local base="http://127.0.0.1:$BENCH_SERVER_PORT" half=$((HTTP_TARGETS / 2)) c
  if has_function 'inbox.list(text,jsonb)'; then
    warm_up list.lua "$base/api/notifications?limit=20"
    for c in $BENCH_HTTP_CONNS; do
      wrkrun http_list ours "$c" list.lua "$base/api/notifications?limit=20"
      pgb http_list baseline "$c" http_list.sql -D tokens="$BENCH_TOKENS"
    done
  else
    skip http_list "inbox.list(text, jsonb), behind GET /api/notifications, is not installed yet"
  fi
  warm_up unread_count.lua "$base/api/notifications/unread-count"
  for c in $BENCH_HTTP_CONNS; do
    wrkrun http_unread_count ours "$c" unread_count.lua "$base/api/notifications/unread-count"
    pgb http_unread_count baseline "$c" http_unread_count.sql -D tokens="$BENCH_TOKENS"
  done
  graphql_http_steps "$base"
  mastodon_http_steps "$base"
  # (Warmed up through another route: a warm-up of this one would read the targets it measures.)
  warm_up unread_count.lua "$base/api/notifications/unread-count"
  for c in $BENCH_HTTP_CONNS; do
    wrkrun http_mark_read ours "$c" mark_read.lua "$base/api/notifications"
    pgb http_mark_read baseline "$c" http_mark_read.sql -D lo=$((half + 1)) -D hi="$HTTP_TARGETS"
  done
  warm_up create.lua "$base/api/notifications"
  for c in $BENCH_HTTP_CONNS; do
    wrkrun http_create ours "$c" create.lua "$base/api/notifications"
    pgb http_create baseline "$c" http_create.sql -D tokens="$BENCH_TOKENS"
  done
  local hwm
  hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status")
  record kind=rss step=server_rss side=ours vmhwm_kib="$hwm" \
    server_args="--threads/--pool-size defaults ${BENCH_SERVER_ARGS:-}"
  attack_steps "$base"
  server_stop
}

# The same loads with $BENCH_HOLD_IDLE idle and $BENCH_HOLD_SLOW slowloris connections held
# (bench/hostile.py hold; "ours") and without them ("baseline"), one after the other on the
# same server: the target is the held side within 1.2x of the other. Then
# $BENCH_FLOODS parallel header floods of $BENCH_FLOOD_MIB MiB each and the server's memory.
attack_steps() { # base-url
  local base=$1 held_s=$((BENCH_WRK_T + 3)) c=$BENCH_ATTACK_CONNS side holder
  warm_up healthz.lua "$base/healthz"
  for side in baseline ours; do
    holder=
    if [[ $side == ours ]]; then
      python3 "$BENCH/hostile.py" hold "$BENCH_SERVER_PORT" "$BENCH_HOLD_IDLE" "$BENCH_HOLD_SLOW" \
        $((2 * held_s + 2)) >"$WORK/server/hold.json" 2>&1 &
      holder=$!
      sleep 2  # every connection opened and the first slow bytes sent
    fi
    wrkrun attack_healthz "$side" "$c" healthz.lua "$base/healthz"
    wrkrun attack_list "$side" "$c" list.lua "$base/api/notifications?limit=20"
    [[ -n $holder ]] && wait "$holder"
  done
  record kind=note step=attack_hold side=ours held="$(cat "$WORK/server/hold.json")"
  python3 "$BENCH/hostile.py" flood "$BENCH_SERVER_PORT" "$BENCH_FLOODS" "$BENCH_FLOOD_MIB" \
    >"$WORK/server/flood.json" 2>&1
  sleep 1
  local rss hwm
  rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status")
  hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status")
  record kind=rss step=flood_rss side=ours vmrss_kib="$rss" vmhwm_kib="$hwm" \
    floods="$BENCH_FLOODS" flood_mib="$BENCH_FLOOD_MIB" answers="$(cat "$WORK/server/flood.json")"
}

# GraphQL (POST /graphql/system) against the Directus REST route that reads the same rows, both
# through the server under the same wrk load: the list query against GET /notifications?limit=20,
# notifications_by_id against GET /notifications/:id.
graphql_http_steps() { # base URL
  local base=$1
  has_function 'inbox.graphql(text,jsonb,text,text,text)' && has_function 'inbox.directus_read(text,jsonb)' || {
    skip http_graphql "inbox.graphql or inbox.directus_read is not installed"
    return 0
  }
  wrk_pair http_graphql_list graphql_list.lua "$base/graphql/system" directus_list.lua "$base/notifications?limit=20"
  wrk_pair http_graphql_by_id graphql_by_id.lua "$base/graphql/system" directus_get.lua "$base/notifications"
}

# Mastodon's lists (issue 16) through the server against pgbench calling the same SQL function:
# GET /api/v1/notifications?limit=40 and GET /api/v2/notifications?limit=40 (accounts expanded
# through the relation step_mastodon defines).
mastodon_http_steps() { # base URL
  local base=$1 c
  has_function 'inbox.mastodon_groups(text,jsonb,text)' || {
    skip http_mastodon_list "inbox.mastodon_notifications is not installed"
    skip http_mastodon_groups "inbox.mastodon_groups is not installed"
    return 0
  }
  warm_up mastodon_list.lua "$base/api/v1/notifications?limit=40"
  for c in $BENCH_HTTP_CONNS; do
    wrkrun http_mastodon_list ours "$c" mastodon_list.lua "$base/api/v1/notifications?limit=40"
    pgb http_mastodon_list baseline "$c" http_mastodon_list.sql -D tokens="$BENCH_TOKENS"
  done
  warm_up mastodon_groups.lua "$base/api/v2/notifications?limit=40"
  for c in $BENCH_HTTP_CONNS; do
    wrkrun http_mastodon_groups ours "$c" mastodon_groups.lua "$base/api/v2/notifications?limit=40"
    pgb http_mastodon_groups baseline "$c" http_mastodon_groups.sql -D tokens="$BENCH_TOKENS"
  done
}

# Both sides through the server under the same wrk load, each warmed up first, at every HTTP
# concurrency: wrk_pair STEP OURS-LUA OURS-URL BASELINE-LUA BASELINE-URL.
wrk_pair() {
  local step=$1 c
  warm_up "$2" "$3"
  warm_up "$4" "$5"
  for c in $BENCH_HTTP_CONNS; do
    wrkrun "$step" ours "$c" "$2" "$3"
    wrkrun "$step" baseline "$c" "$4" "$5"
  done
}
