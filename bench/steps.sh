# The benchmark's steps, one function each, sourced by bench/run.sh after its set-up.
# shellcheck shell=bash
#
# A step measures "ours" (pg_inbox's API) and its "baseline" (what a user would write by hand,
# or the limit the server can approach) back to back, at each concurrency level, and records
# both; bench/report.py pairs them. Baselines return the same JSON as ours (inbox.to_json), so
# a ratio measures the API's own work, not a difference in output.

ns_now() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(ns_now)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }

# Both sides of a step at every SQL concurrency level: pgb_pair STEP SCRIPT-STEM [options...].
pgb_pair() {
  local step=$1 stem=$2 c
  shift 2
  for c in $BENCH_SQL_CLIENTS; do
    pgb "$step" ours "$c" "$stem.ours.sql" "$@"
    pgb "$step" baseline "$c" "$stem.baseline.sql" "$@"
  done
}

# --- 1. the data set ---------------------------------------------------------------------------
step_load() {
  local regular=$((BENCH_USERS * BENCH_PER_USER))
  local total=$((regular + BENCH_HEAVY)) lo hi t0 load
  bsql -c "INSERT INTO bench.shape VALUES ($BENCH_USERS, $regular, $BENCH_HEAVY)"
  say "generating $total notifications ($BENCH_USERS users x $BENCH_PER_USER, heavy user $BENCH_HEAVY)"
  t0=$(ns_now)
  bval "SELECT bench.generate_rows(1, $total)" >/dev/null
  local generate_s
  generate_s=$(secs_since "$t0")
  say "loading them into inbox.notifications, $BENCH_CHUNK rows per INSERT"
  load=$(loadavg)
  t0=$(ns_now)
  for ((lo = 1; lo <= total; lo += BENCH_CHUNK)); do
    hi=$((lo + BENCH_CHUNK - 1))
    ((hi > total)) && hi=$total
    bval "SELECT bench.load_rows($lo, $hi)" >/dev/null
  done
  local load_s
  load_s=$(secs_since "$t0")
  bsql -c "TRUNCATE bench.staged"
  t0=$(ns_now)
  bsql -c "VACUUM (ANALYZE) inbox.notifications" -c "VACUUM (ANALYZE) inbox.user_counters" \
    -c "VACUUM (ANALYZE) inbox.workspace_counters"
  local vacuum_s
  vacuum_s=$(secs_since "$t0")
  local sizes
  sizes=$(bval "SELECT pg_catalog.pg_table_size('inbox.notifications') || ' '
                    || pg_catalog.pg_indexes_size('inbox.notifications') || ' '
                    || (SELECT count(*) FROM inbox.notifications)")
  local table_b index_b rows
  read -r table_b index_b rows <<<"$sizes"
  # The counters the load maintained must equal the rows, or every later figure is suspect.
  local counters_ok
  counters_ok=$(bval "SELECT bool_and(c.unread = r.unread AND c.active = r.active)
                        FROM inbox.user_counters c
                        JOIN (SELECT user_id, count(*) FILTER (WHERE deleted_at IS NULL) AS active,
                                     count(*) FILTER (WHERE deleted_at IS NULL AND read_at IS NULL) AS unread
                                FROM inbox.notifications GROUP BY user_id) r USING (user_id)")
  local heavy_unread heavy_active
  heavy_unread=$(bval "SELECT inbox.unread_count('heavy')")
  heavy_active=$(bval "SELECT active FROM inbox.user_counters WHERE user_id = 'heavy'")
  record kind=load step=load rows="$rows" seconds="$load_s" \
    rows_per_s="$(awk -v r="$rows" -v s="$load_s" 'BEGIN { printf "%.0f", r / s }')" \
    generate_s="$generate_s" vacuum_analyze_s="$vacuum_s" table_bytes="$table_b" index_bytes="$index_b" \
    table_mib_per_million="$(awk -v b="$table_b" -v r="$rows" 'BEGIN { printf "%.1f", b / 1048576 / (r / 1e6) }')" \
    index_mib_per_million="$(awk -v b="$index_b" -v r="$rows" 'BEGIN { printf "%.1f", b / 1048576 / (r / 1e6) }')" \
    counters_exact="$counters_ok" heavy_active="$heavy_active" heavy_unread="$heavy_unread" \
    chunk="$BENCH_CHUNK" loadavg="$load"

  # Fixtures of the later steps (not part of the load figures above).
  # Mark-read targets come from the users without a token: the HTTP steps change the others.
  say "fixtures: $BENCH_READALL_USERS read-all users x $BENCH_READALL_ROWS unread, mark-read targets"
  bval "SELECT bench.load_readall($BENCH_READALL_USERS, $BENCH_READALL_ROWS)" >/dev/null
  bval "SELECT bench.load_actors()" >/dev/null
  bsql -c "INSERT INTO bench.users SELECT 'user' || g FROM pg_catalog.generate_series(1, $BENCH_USERS) g" \
    -c "INSERT INTO bench.unread_targets
        SELECT row_number() OVER (ORDER BY bench.h(n.id, 99, 1000000007), n.id), n.user_id, n.id, inbox.public_id(n.id)
          FROM inbox.notifications n
         WHERE n.user_id LIKE 'user%' AND n.read_at IS NULL AND n.deleted_at IS NULL
           AND pg_catalog.substr(n.user_id, 5)::int > $BENCH_TOKENS" \
    -c "VACUUM (ANALYZE)" -c "CHECKPOINT"
  TARGETS=$(bval "SELECT count(*) FROM bench.unread_targets")
}

# --- 2. lists -------------------------------------------------------------------------------------
need_list() {
  has_function 'inbox.list(text,jsonb)' && return 0
  skip "$1" "inbox.list(text, jsonb) is not installed yet (the query engine, extension/sql/30_engine.sql)"
  return 1
}

# The statement of a pgbench script with its variables replaced: script_sql FILE name=value...
script_sql() {
  local sql kv
  sql=$(grep -v -e '^\\set' -e '^--' "$BENCH/pgbench/$1" | tr '\n' ' ' | sed 's/;[[:space:]]*$//')
  shift
  for kv in "$@"; do sql=${sql//:${kv%%=*}/${kv#*=}}; done
  printf '%s' "$sql"
}

# Ours and the baseline must return the same rows, or the ratio compares different work:
# same_page STEP OURS-SCRIPT BASELINE-SCRIPT name=value... (records an error when they differ).
# SAME_PATH is what must be equal: the ids of the page by default.
same_page() {
  local step=$1 ours base same path=${SAME_PATH:-\$.data[*].id}
  ours=$(script_sql "$2" "${@:4}")
  base=$(script_sql "$3" "${@:4}")
  same=$(bval "SELECT pg_catalog.jsonb_path_query_array(($ours), '$path')
                      = pg_catalog.jsonb_path_query_array(($base), '$path')
                  AND pg_catalog.jsonb_array_length(($base)->'data') > 0" 2>&1) || true
  [[ $same == t ]] && return 0
  record kind=error step="$step" why="ours and the baseline return different rows ($2 vs $3: ${same:0:200})"
  return 1
}

step_list_first_page() {
  need_list list_first_page || return 0
  same_page list_first_page list_first.ours.sql list_first.baseline.sql u=1 || return 0
  pgb_pair list_first_page list_first
}

# The cursor after `depth` rows of the heavy user's default list, by walking it page by page;
# checked against OFFSET so that both sides of the comparison fetch the same page.
cursor_at() { # depth
  local cursor
  cursor=$(bval "SELECT bench.cursor_at('heavy', $1)")
  local same
  same=$(bval "SELECT (inbox.list('heavy', pg_catalog.jsonb_build_object('limit', 20)
                          || CASE WHEN \$\$$cursor\$\$ = '' THEN '{}'
                                  ELSE pg_catalog.jsonb_build_object('after', \$\$$cursor\$\$) END)->'data'->0->>'id')
                   IS NOT DISTINCT FROM
                   (SELECT inbox.public_id(n.id) FROM inbox.notifications n
                     WHERE n.user_id = 'heavy' AND n.deleted_at IS NULL
                     ORDER BY n.created_at DESC, n.id DESC OFFSET $1 LIMIT 1)")
  if [[ $same != t ]]; then
    echo "keyset page at depth $1 does not start where OFFSET $1 does" >&2
    return 1
  fi
  printf '%s' "$cursor"
}

# The params of the heavy user's page at a depth: {"limit": 20} or {"limit": 20, "after": cursor}.
page_params() { # depth
  local cursor
  cursor=$(cursor_at "$1") || return 1
  if [[ -z $cursor ]]; then
    echo '{"limit": 20}'
  else
    bval "SELECT pg_catalog.jsonb_build_object('limit', 20, 'after', \$\$$cursor\$\$)"
  fi
}

step_keyset_deep() {
  need_list keyset_deep || {
    skip heavy_first_page "inbox.list(text, jsonb) is not installed yet"
    skip offset_deep "inbox.list(text, jsonb) is not installed yet"
    return 0
  }
  local deep first c
  deep=$(page_params "$BENCH_DEEP") || {
    record kind=error step=keyset_deep why="the keyset page at depth $BENCH_DEEP is not the OFFSET page"
    return 0
  }
  first=$(page_params 0)
  for c in $BENCH_SQL_CLIENTS; do
    pgb heavy_first_page ours "$c" list_heavy.ours.sql -D params="$first"
    pgb keyset_deep ours "$c" list_heavy.ours.sql -D params="$deep"
    pgb offset_deep baseline "$c" list_heavy.offset.sql -D offset="$BENCH_DEEP"
  done
}

# Latency by page depth, keyset (inbox.list with a cursor) against LIMIT/OFFSET, one client.
step_depth_curve() {
  need_list depth_curve || return 0
  local d params
  for d in $BENCH_DEPTHS; do
    params=$(page_params "$d") || {
      record kind=error step=depth_curve depth="$d" why="the keyset page at depth $d is not the OFFSET page"
      continue
    }
    PGB_T=$BENCH_DEPTH_T PGB_EXTRA="depth=$d" pgb "depth_keyset_$d" ours 1 list_heavy.ours.sql -D params="$params"
    PGB_T=$BENCH_DEPTH_T PGB_EXTRA="depth=$d" pgb "depth_offset_$d" baseline 1 list_heavy.offset.sql -D offset="$d"
  done
}

step_filtered_list() {
  need_list filtered_list || {
    skip filtered_list_heavy "inbox.list(text, jsonb) is not installed yet"
    return 0
  }
  same_page filtered_list filtered_list.ours.sql filtered_list.baseline.sql u=1 &&
    pgb_pair filtered_list filtered_list
  if same_page filtered_list_heavy filtered_heavy.ours.sql filtered_heavy.baseline.sql; then
    pgb_pair filtered_list_heavy filtered_heavy
    # Informational: the same page with the exact pageInfo.total (the engine's default), against
    # the hand-written page that counts the same rows.
    local c
    for c in $BENCH_SQL_CLIENTS; do
      pgb filtered_list_heavy_total ours "$c" filtered_heavy.total.sql
      pgb filtered_list_heavy_total baseline "$c" filtered_heavy.counted.sql
    done
  fi
  return 0
}

# The heavy user's first page of groups (issue 7: under 5 ms of server time) against the GROUP BY
# a developer would write. Both must return the same groups, field for field.
step_groups() {
  has_function 'inbox.groups(text,jsonb)' || {
    skip groups_heavy "inbox.groups(text, jsonb) is not installed yet (grouped notifications, issue 7)"
    return 0
  }
  SAME_PATH='$.data[*]' same_page groups_heavy groups_heavy.ours.sql groups_heavy.baseline.sql || return 0
  pgb_pair groups_heavy groups_heavy
}

# --- Mastodon (issue 16): the heavy user's v2 grouped page against its first ungrouped page ------
# Both as the routes answer them (GET /api/v2/notifications?limit=40 and /api/v1/...?limit=40),
# accounts from a relation over the users table (mastodon_account), which the HTTP steps use too.
step_mastodon() {
  has_function 'inbox.mastodon_groups(text,jsonb,text)' || {
    skip mastodon_groups_heavy "inbox.mastodon_groups is not installed yet (issue 16)"
    return 0
  }
  bval "SELECT inbox.define_relation('mastodon_account', 'actorId', 'bench.users', 'user_id')" >/dev/null
  local htoken
  htoken=$(bval "SELECT inbox.create_token('heavy', ARRAY['notifications:read'])")
  pgb_pair mastodon_groups_heavy mastodon_groups_heavy -D htoken="$htoken"
}

# --- GraphQL (Directus's /graphql/system) against the Directus REST route on the same rows -------
# At the SQL level: inbox.graphql against the SQL function behind the REST route (directus_read,
# directus_read_one), with the same tokens. Before timing, both must name the same notifications.

# same_ids STEP OURS-SCRIPT OURS-PATH BASELINE-SCRIPT BASELINE-PATH name=value...: the ids at
# the two JSON paths, compared as text (GraphQL's ids are strings, the REST route's numbers).
same_ids() {
  local step=$1 ours base same
  ours=$(script_sql "$2" "${@:6}")
  base=$(script_sql "$4" "${@:6}")
  same=$(bval "SELECT ARRAY(SELECT v.value #>> '{}' FROM pg_catalog.jsonb_path_query(($ours)::jsonb, '$3')
                                  WITH ORDINALITY AS v(value, o) ORDER BY v.o)
                      = ARRAY(SELECT v.value #>> '{}' FROM pg_catalog.jsonb_path_query(($base)::jsonb, '$5')
                                  WITH ORDINALITY AS v(value, o) ORDER BY v.o)
                  AND pg_catalog.jsonb_path_exists(($base)::jsonb, '$5')" 2>&1) || true
  [[ $same == t ]] && return 0
  record kind=error step="$step" why="ours and the baseline return different rows ($2 vs $4: ${same:0:200})"
  return 1
}

step_graphql() {
  local f
  for f in 'inbox.graphql(text,jsonb,text,text,text)' 'inbox.directus_read(text,jsonb)' \
    'inbox.directus_read_one(text,text,jsonb)' 'inbox.create_token(text,text[],text,timestamptz)'; do
    has_function "$f" || {
      skip graphql_list "$f is not installed"
      skip graphql_by_id "$f is not installed"
      return 0
    }
  done
  token_fixtures
  same_ids graphql_list graphql_list.ours.sql '$.data.notifications[*].id' \
    graphql_list.baseline.sql '$.data[*].id' n=1 &&
    pgb_pair graphql_list graphql_list -D tokens="$BENCH_TOKENS"
  same_ids graphql_by_id graphql_by_id.ours.sql '$.data.notifications_by_id.id' \
    graphql_by_id.baseline.sql '$.data.id' k=1 &&
    pgb_pair graphql_by_id graphql_by_id -D items="$ITEMS"
  return 0
}

# --- 3. counts and changes ------------------------------------------------------------------------
step_unread_count() { pgb_pair unread_count unread_count; }

step_mark_read() {
  # Ours picks from the first half of the unread targets, the baseline from the second.
  local half=$((TARGETS / 2)) c
  for c in $BENCH_SQL_CLIENTS; do
    pgb mark_read ours "$c" mark_read.ours.sql -D lo=1 -D hi="$half"
    pgb mark_read baseline "$c" mark_read.baseline.sql -D lo=$((half + 1)) -D hi="$TARGETS"
  done
}

step_read_all() { pgb_pair read_all read_all -D readall_rows="$BENCH_READALL_ROWS"; }

step_create_one() { pgb_pair create_one create_one; }

step_batch() { pgb_pair batch batch -D batch="$BENCH_BATCH"; }

# The target pair is inbox.fan_out_count against the INSERT ... SELECT (neither reads the rows
# back); inbox.fan_out, which returns one object per recipient, is measured against the same
# INSERT returning the same JSON.
step_fan_out() {
  if has_function 'inbox.fan_out_count(text[],jsonb)'; then
    PGB_EXTRA="recipients=$BENCH_USERS" pgb_pair fan_out fan_out
  else
    skip fan_out "inbox.fan_out_count(text[], jsonb) is not installed"
  fi
  PGB_EXTRA="recipients=$BENCH_USERS" pgb_pair fan_out_objects fan_out_objects
}

# --- 4. HTTP (bench/http.sh) ----------------------------------------------------------------------
step_http() { http_steps; }

# --- 5. the change feed (issue 14) ----------------------------------------------------------------
# Create one and fan-out with the feed against the same with the session's feed switched off
# (inbox.feed = off: the counter triggers append no event; everything else is the same), and
# the wake-up of the server: polling (create alone while one poller calls inbox.poll_events
# every 5 ms) against NOTIFY (create + pg_notify at commit, one LISTEN session), at the busiest
# SQL level. A read-all of BENCH_READALL_ROWS rows: one summary event against one event a row.
need_feed() {
  has_function 'inbox.poll_events(text,integer)' && return 0
  skip "$1" "inbox.poll_events(text, integer) is not installed (the change feed, extension/sql/45_feed.sql)"
  return 1
}

# beside SCRIPT VAR=VALUE... -- COMMAND...: COMMAND, with one more pgbench session running SCRIPT
# for as long (the poller, or the listener); its output is kept in $WORK/beside.SCRIPT.out.
beside() {
  local script=$1 defs=() pid
  shift
  while [[ $1 != -- ]]; do
    defs+=(-D "$1")
    shift
  done
  shift
  pgbench -n -M prepared -c 1 -j 1 -T "${PGB_T:-$BENCH_T}" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" \
    -f "$BENCH/pgbench/$script" "${defs[@]}" "$BENCH_DB" >"$WORK/beside.$script.out" 2>&1 &
  pid=$!
  "$@"
  wait "$pid" || true
}

step_feed() {
  need_feed feed_create_one || return 0
  local c busiest
  busiest=$(tr ' ' '\n' <<<"$BENCH_SQL_CLIENTS" | sort -n | tail -1)
  for c in $BENCH_SQL_CLIENTS; do
    pgb feed_create_one ours "$c" create_one.ours.sql
    PGOPTIONS='-c inbox.feed=off' pgb feed_create_one baseline "$c" create_one.ours.sql
  done
  for c in $BENCH_SQL_CLIENTS; do
    PGB_EXTRA="recipients=$BENCH_USERS" pgb feed_fan_out ours "$c" fan_out.ours.sql
    PGB_EXTRA="recipients=$BENCH_USERS" PGOPTIONS='-c inbox.feed=off' pgb feed_fan_out baseline "$c" fan_out.ours.sql
  done
  for c in $BENCH_SQL_CLIENTS; do
    pgb feed_read_all ours "$c" read_all.ours.sql -D readall_rows="$BENCH_READALL_ROWS"
    PGOPTIONS='-c inbox.feed_summary_threshold=2147483647' \
      pgb feed_read_all baseline "$c" read_all.ours.sql -D readall_rows="$BENCH_READALL_ROWS"
  done
  beside feed_poll.sql cursor=none -- pgb feed_wake ours "$busiest" create_one.ours.sql
  beside feed_listen.sql -- pgb feed_wake baseline "$busiest" feed_notify.sql
  record kind=feed step=feed_wake polls="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' \
    "$WORK/beside.feed_poll.sql.out")" seconds="${PGB_T:-$BENCH_T}"
}

# --- 6. the lifecycle (issue 19) --------------------------------------------------------------------
# Read-all as a read mark: a user with BENCH_BIG_READALL unread against one with 10 (the goal: the
# same time, ≤ 2x) and against the hand-written UPDATE of the same rows (≥ 100x faster), both
# rolled back, one client (one fixture user each). The unseen count against count(*) of the same
# rows, before the heavy user's first seen mark (the counters) and after one BENCH_UNSEEN rows
# back (informational). Prune of BENCH_PRUNE_ROWS expired rows (CALL inbox.prune() with only the
# expired rule): rows/s, and create's p99 latency while it runs against the same without it.
need_lifecycle() {
  has_function 'inbox.unseen_count(text,text)' && has_function 'inbox.prune_step(text,integer)' && return 0
  skip "$1" "inbox.unseen_count / inbox.prune_step are not installed (the lifecycle, issue 19)"
  return 1
}

# Ours and the baseline must count the same number: same_count STEP OURS-SCRIPT BASELINE-SCRIPT.
same_count() {
  local ours base
  ours=$(bval "$(script_sql "$2")")
  base=$(bval "$(script_sql "$3")")
  [[ $ours == "$base" ]] && return 0
  record kind=error step="$1" why="ours counts $ours, the baseline $base"
  return 1
}

step_lifecycle() {
  need_lifecycle lc_read_all || {
    skip lc_read_all_update "the lifecycle is not installed"
    skip lc_unseen_count "the lifecycle is not installed"
    skip lc_prune_create "the lifecycle is not installed"
    return 0
  }
  say "fixtures: read-all users with $BENCH_BIG_READALL and 10 unread, $BENCH_PRUNE_ROWS expired rows"
  bval "SELECT bench.load_unread(ARRAY['lc_big'], $BENCH_BIG_READALL) + bench.load_unread(ARRAY['lc_small'], 10)" >/dev/null
  local lo hi
  for ((lo = 1; lo <= BENCH_PRUNE_ROWS; lo += BENCH_CHUNK)); do
    hi=$((lo + BENCH_CHUNK - 1))
    ((hi > BENCH_PRUNE_ROWS)) && hi=$BENCH_PRUNE_ROWS
    bval "SELECT bench.load_expired($lo, $hi)" >/dev/null
  done
  # Fresh statistics after the fixtures (a million rows that expired): a deployment's autovacuum
  # would have them too. (inbox._user_state's probe no longer depends on them: see there.)
  bsql -c "VACUUM (ANALYZE) inbox.notifications" -c "VACUUM (ANALYZE) inbox.user_counters" \
    -c "VACUUM (ANALYZE) inbox.workspace_counters" -c "ANALYZE inbox.marks" -c "CHECKPOINT"

  pgb lc_read_all ours 1 read_all_user.ours.sql -D who=lc_big
  pgb lc_read_all baseline 1 read_all_user.ours.sql -D who=lc_small
  # The hand-written UPDATE goes through the counter triggers with 100,000 rows in their
  # transition tables: over 10 minutes in the first run. Bounded by a statement timeout, which,
  # when reached, is recorded as a lower bound of the baseline (report.py judges against it).
  PGOPTIONS="-c statement_timeout=${BENCH_UPDATE_TIMEOUT}s" \
    pgb lc_read_all_update baseline 1 read_all_user.baseline.sql -D who=lc_big
  if tail -1 "$RECORDS" | grep -q '"kind": "error".*statement timeout'; then
    record kind=lower_bound step=lc_read_all_update side=baseline clients=1 \
      lat_ms=$((BENCH_UPDATE_TIMEOUT * 1000)) why="statement_timeout ${BENCH_UPDATE_TIMEOUT} s reached"
  fi

  if same_count lc_unseen_count unseen_count.ours.sql unseen_count.baseline.sql; then
    pgb_pair lc_unseen_count unseen_count
  fi
  # The heavy user's seen mark at its BENCH_UNSEEN-th newest active row (a bell opened a while
  # ago), written as inbox.mark_seen would have written it then: the mark, and the unseen
  # counters set to the rows created after it (bench.seen_mark_at).
  bval "SELECT bench.seen_mark_at('heavy', $BENCH_UNSEEN)" >/dev/null
  if same_count lc_unseen_count_marked unseen_count.ours.sql unseen_count.baseline.sql; then
    pgb_pair lc_unseen_count_marked unseen_count
  fi

  # Prune: only the expired rule, so that it removes exactly the fixture's rows.
  bsql -c "INSERT INTO inbox.retention (deleted_after, expired_after) VALUES (NULL, '0')
           ON CONFLICT (one) DO UPDATE SET deleted_after = NULL, expired_after = '0', read_after = NULL,
                                           keep_per_type = NULL"
  pgb lc_prune_create baseline 1 create_one.ours.sql
  local t0 report pid running seconds removed
  t0=$(ns_now)
  bsql -At -c "CALL inbox.prune()" >"$WORK/prune.out" 2>&1 &
  pid=$!
  pgb lc_prune_create ours 1 create_one.ours.sql
  # The create measurement counts only if the prune ran for all of it.
  if kill -0 "$pid" 2>/dev/null; then running=yes; else running=no; fi
  if ! wait "$pid"; then
    record kind=error step=lc_prune why="CALL inbox.prune() failed: $(tail -1 "$WORK/prune.out")"
    return 0
  fi
  seconds=$(secs_since "$t0")
  report=$(tail -1 "$WORK/prune.out")
  removed=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["expired"])' "$report")
  record kind=prune step=lc_prune rows="$removed" expected_rows="$BENCH_PRUNE_ROWS" seconds="$seconds" \
    rows_per_s="$(awk -v r="$removed" -v s="$seconds" 'BEGIN { printf "%.0f", r / s }')" \
    outlasted_creates="$running" report="$report"
}
