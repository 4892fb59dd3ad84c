#!/usr/bin/env bash
# The backend's CPU time per call of the Mastodon v1 page and the v2 grouped page of one user
# (h-mperf's and h-mv2's method): /proc/self/stat (utime + stime) read by the backend itself
# around the calls, in one session, after warm-up calls, the functions interleaved (ROUNDS
# rounds of CALLS calls of each in turn) so that the machine's load falls on all alike. The v2
# page of an earlier commit (BASE, loaded beside the installed functions as
# bench/mastodon_old.sh does) is measured in the same rounds.
#
#   bench/mastodon_cpu.sh DATABASE-URL [USER] [BASE] [PARAMS]
#       (USER: heavy; BASE: ab45127, main before h-v2c; PARAMS: {"limit": "40"})
#
# Needs a superuser (pg_read_file of /proc/self/stat). Prints ms per call of each and the
# ratios v2 / v1, with the load average before and after.
set -uo pipefail
url=${1:?database url}
user=${2:-heavy}
base=${3:-ab45127}
params=${4:-'{"limit": "40"}'}
: "${ROUNDS:=12}" "${CALLS:=50}" "${WARMUP:=8}"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/bench/mastodon_old.sh"
load_old_mastodon "$url" "$base" cpu_old || exit 1
echo "load before: $(cat /proc/loadavg)"
psql -X -qtA -v ON_ERROR_STOP=1 -d "$url" -v user="$user" -v params="$params" -v rounds="$ROUNDS" \
  -v calls="$CALLS" -v warmup="$WARMUP" <<'SQL'
SET client_min_messages = notice;
-- What the DO block reads (psql does not substitute variables inside it).
SELECT pg_catalog.set_config('cpu.token', inbox.create_token(:'user', ARRAY['notifications:read']), false),
       pg_catalog.set_config('cpu.params', :'params', false), pg_catalog.set_config('cpu.rounds', :'rounds', false),
       pg_catalog.set_config('cpu.calls', :'calls', false), pg_catalog.set_config('cpu.warmup', :'warmup', false) \g /dev/null
-- CPU ticks (utime + stime) of this backend: fields 14 and 15 of /proc/self/stat.
CREATE FUNCTION pg_temp.ticks() RETURNS bigint LANGUAGE sql AS $$
    SELECT f[12]::bigint + f[13]::bigint
      FROM (SELECT pg_catalog.string_to_array(pg_catalog.split_part(pg_catalog.pg_read_file('/proc/self/stat'), ') ', 2), ' ') AS f) s
$$;
CREATE FUNCTION pg_temp.call(f integer, token text, params jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CASE f
        WHEN 1 THEN PERFORM m.body FROM inbox.mastodon_notifications(token, params, NULL) m;
        WHEN 2 THEN PERFORM m.body FROM inbox.mastodon_groups(token, params, NULL) m;
        ELSE PERFORM m.body FROM cpu_old.mastodon_groups(token, params, NULL) m;
    END CASE;
END
$$;
DO $$
DECLARE
    token text := pg_catalog.current_setting('cpu.token');
    params jsonb := pg_catalog.current_setting('cpu.params');
    rounds integer := pg_catalog.current_setting('cpu.rounds');
    calls integer := pg_catalog.current_setting('cpu.calls');
    warmup integer := pg_catalog.current_setting('cpu.warmup');
    spent bigint[] := '{0,0,0}';
    t bigint;
    hz constant numeric := 100;  -- USER_HZ
BEGIN
    FOR f IN 1..3 LOOP
        FOR i IN 1..warmup LOOP PERFORM pg_temp.call(f, token, params); END LOOP;
    END LOOP;
    FOR r IN 1..rounds LOOP
        FOR f IN 1..3 LOOP
            t := pg_temp.ticks();
            FOR i IN 1..calls LOOP PERFORM pg_temp.call(f, token, params); END LOOP;
            spent[f] := spent[f] + pg_temp.ticks() - t;
        END LOOP;
    END LOOP;
    RAISE NOTICE 'v1 %  ms, v2 % ms (%x v1), v2 of the base % ms (%x v1)',
        round(spent[1] * 1000 / hz / (rounds * calls), 2),
        round(spent[2] * 1000 / hz / (rounds * calls), 2), round(spent[2]::numeric / spent[1], 2),
        round(spent[3] * 1000 / hz / (rounds * calls), 2), round(spent[3]::numeric / spent[1], 2);
END
$$;
SQL
rc=$?
psql -X -qtA -d "$url" -c "SET client_min_messages = warning" -c "DROP SCHEMA cpu_old CASCADE" >/dev/null
echo "load after: $(cat /proc/loadavg)"
exit $rc
