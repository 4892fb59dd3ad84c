#!/usr/bin/env bash
# The Mastodon and Diaspora notification APIs (issue 16), black-box: the real
# server/pg_inbox_server against a fresh database with Mastodon's and Diaspora's types
# registered and an application's users and posts shaped by a DBA's views into Mastodon's
# Account and Status and Diaspora's person and post (the relations mastodon_account,
# mastodon_status, diaspora_person, diaspora_target), then the node:test suites in
# tests/social/: the real client masto.js, the wire (Link header and entity fields byte by
# byte, errors), every example of seeds 003 (Diaspora) and 004 (Mastodon), and Mastodon's
# streaming API (masto.js's streaming client, raw WebSocket frames, SSE read through fetch).
# Ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node_suites.bash"
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
: "${PGHOST:=127.0.0.1}" "${PGPORT:?PGPORT (make test sets it)}" "${PGUSER:=postgres}"
export ROOT PGHOST PGPORT PGUSER
cd "$ROOT/tests"
[[ -d node_modules/masto ]] || npm ci --silent >/dev/null 2>&1

db=pg_inbox_social
export HTTP_DATABASE_URL="postgresql://$PGUSER@$PGHOST:$PGPORT/$db"
fresh_database "$db" || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || { echo "0 passed, 1 failed"; exit 1; }
CREATE EXTENSION pg_inbox;
SELECT inbox.register_types('mastodon');
SELECT inbox.register_types('diaspora');
-- The application's own tables (seed 003's people and post).
CREATE TABLE public.users (id text PRIMARY KEY, guid text NOT NULL, diaspora_id text NOT NULL,
                           display_name text NOT NULL, avatar text, created_at timestamptz NOT NULL DEFAULT '2019-01-01Z');
INSERT INTO public.users (id, guid, diaspora_id, display_name, avatar) VALUES
    ('bob', 'cb7e4aa0b82f0133e40d406c8f31e210', 'bob@example.com', 'Bob Testing', 'http://example.com/uploads/images/thumb_medium_a51bf501fe86c198c0b1.jpg'),
    ('carol', '19103170b8cc0133e40d406c8f31e210', 'carol@example.com', 'Carol Testing', 'http://example.com/uploads/images/thumb_medium_2e1bc500b8cc0133e40d.jpg'),
    ('alice', 'f50ffc00b188013355e3705681972339', 'alice@example.com', 'Alice Testing', 'http://example.com/uploads/images/thumb_medium_83abe5319ef830c2bd84.jpg'),
    ('trent', '83de2fc0b8cc0133e40d406c8f31e210', 'trent@example.com', 'Trent Testing', 'http://example.com/uploads/images/thumb_medium_8894c7a0b8cc0133e40d.jpg');
CREATE TABLE public.posts (id text PRIMARY KEY, guid text NOT NULL, author_id text NOT NULL, content text NOT NULL,
                           in_reply_to_id text, created_at timestamptz NOT NULL);
INSERT INTO public.posts VALUES
    ('103186126728896492', 'e0a33450b8e70133e40d406c8f31e210', 'carol', '<p>Hello</p>', '103186038209478945', '2019-11-23T07:49:01.940Z');
-- The DBA's views: Mastodon's Account and Status, Diaspora's person and post.
CREATE VIEW public.mastodon_accounts AS
SELECT u.id, u.id AS username, u.id AS acct, u.display_name, false AS locked, false AS bot,
       to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
       'https://example.com/@' || u.id AS url, coalesce(u.avatar, '') AS avatar, coalesce(u.avatar, '') AS avatar_static,
       '' AS header, '' AS header_static, 0 AS followers_count, 0 AS following_count, 0 AS statuses_count,
       '[]'::jsonb AS emojis, '[]'::jsonb AS fields, '' AS note
  FROM public.users u;
CREATE VIEW public.mastodon_statuses AS
SELECT p.id, to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
       p.in_reply_to_id, (SELECT a.id FROM public.mastodon_accounts a WHERE a.id = p.author_id AND p.in_reply_to_id IS NOT NULL) AS in_reply_to_account_id,
       false AS sensitive, '' AS spoiler_text, 'public' AS visibility, p.content,
       'https://example.com/statuses/' || p.id AS uri, (SELECT to_jsonb(a) FROM public.mastodon_accounts a WHERE a.id = p.author_id) AS account,
       '[]'::jsonb AS media_attachments, '[]'::jsonb AS mentions, '[]'::jsonb AS tags, '[]'::jsonb AS emojis,
       0 AS reblogs_count, 0 AS favourites_count, 0 AS replies_count
  FROM public.posts p;
CREATE VIEW public.diaspora_people AS
SELECT u.id, u.guid, u.diaspora_id, u.display_name AS name, u.avatar FROM public.users u;
CREATE VIEW public.diaspora_posts AS
SELECT p.guid AS id, p.guid,
       (SELECT jsonb_build_object('guid', u.guid, 'diaspora_id', u.diaspora_id, 'name', u.display_name, 'avatar', u.avatar)
          FROM public.users u WHERE u.id = p.author_id) AS author
  FROM public.posts p;
SELECT inbox.define_relation('mastodon_account', 'actorId', 'public.mastodon_accounts', 'id');
SELECT inbox.define_relation('mastodon_status', 'item', 'public.mastodon_statuses', 'id');
SELECT inbox.define_relation('diaspora_person', 'actorId', 'public.diaspora_people', 'id',
                             ARRAY['guid', 'diaspora_id', 'name', 'avatar']::name[]);
SELECT inbox.define_relation('diaspora_target', 'item', 'public.diaspora_posts', 'id', ARRAY['guid', 'author']::name[]);
-- The objects of admin.report, severed_relationships and moderation_warning notifications (their
-- item): the application's reports, severance events and warnings as Mastodon's Report,
-- RelationshipSeveranceEvent and AccountWarning.
CREATE TABLE public.reports (id text PRIMARY KEY, category text NOT NULL, comment text NOT NULL,
                             target_id text NOT NULL, rule_ids text[] NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL);
INSERT INTO public.reports VALUES ('48914', 'violation', 'Spam from this account', 'trent', '{3}', '2022-08-25T09:56:16.763Z');
CREATE TABLE public.severance_events (id text PRIMARY KEY, type text NOT NULL, purged boolean NOT NULL, target_name text NOT NULL,
                                      followers_count integer NOT NULL, following_count integer NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO public.severance_events VALUES ('6', 'domain_block', false, 'spammy.example', 4, 2, '2024-03-20T10:00:00.000Z');
CREATE TABLE public.account_warnings (id text PRIMARY KEY, action text NOT NULL, text text NOT NULL, target_id text NOT NULL,
                                      status_ids text[], created_at timestamptz NOT NULL);
INSERT INTO public.account_warnings VALUES ('7', 'mark_statuses_as_sensitive', 'Please mark your media sensitive.', 'alice',
                                            '{103186126728896492}', '2024-07-01T12:00:00.000Z');
CREATE VIEW public.mastodon_reports AS
SELECT r.id, false AS action_taken, NULL::text AS action_taken_at, r.category, r.comment, false AS forwarded,
       to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
       NULL::jsonb AS status_ids, to_jsonb(r.rule_ids) AS rule_ids,
       (SELECT to_jsonb(a) FROM public.mastodon_accounts a WHERE a.id = r.target_id) AS target_account
  FROM public.reports r;
CREATE VIEW public.mastodon_severance_events AS
SELECT e.id, e.type, e.purged, e.target_name, e.followers_count, e.following_count,
       to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
  FROM public.severance_events e;
CREATE VIEW public.mastodon_account_warnings AS
SELECT w.id, w.action, w.text, to_jsonb(w.status_ids) AS status_ids,
       (SELECT to_jsonb(a) FROM public.mastodon_accounts a WHERE a.id = w.target_id) AS target_account,
       NULL::jsonb AS appeal, to_char(w.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
  FROM public.account_warnings w;
SELECT inbox.define_relation('mastodon_report', 'item', 'public.mastodon_reports', 'id');
SELECT inbox.define_relation('mastodon_relationship_severance_event', 'item', 'public.mastodon_severance_events', 'id');
SELECT inbox.define_relation('mastodon_moderation_warning', 'item', 'public.mastodon_account_warnings', 'id');
SQL
prepare_database "$db" || { echo "0 passed, 1 failed"; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# A long idle timeout: the tests' synchronous psql calls block node's event loop, and a
# keep-alive connection the server closed meanwhile would fail the next request.
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
export BASE_URL="http://127.0.0.1:$port"
"${PG_INBOX_SERVER:-$ROOT/server/pg_inbox_server}" --database-url "$(server_url "$HTTP_DATABASE_URL")" --port "$port" \
  --pool-size 4 --idle-timeout-ms 60000 --stream-ping-ms 300 --stream-token-check-ms 200 \
  >"$work/server.log" 2>&1 &
server_pid=$!
ready=
for _ in $(seq 100); do
  curl -fs "$BASE_URL/readyz" >/dev/null 2>&1 && ready=1 && break
  sleep 0.1
done
if [[ -z $ready ]]; then
  echo "the server did not become ready:"
  tail -20 "$work/server.log"
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
run_node_suites social/*.test.mjs

echo "$passed passed, $failed failed"
((failed == 0))
