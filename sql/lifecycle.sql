-- Issue 19: seen, read-all as a read mark, expiry, settling and retention.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse

-- Seen: a mark per user (or per workspace); the unseen count beside the unread count.
SELECT inbox.create('alice', '{"title": "a"}') IS NOT NULL AS a,
       inbox.create('alice', '{"title": "b", "workspaceId": "w1"}') IS NOT NULL AS b;
SELECT inbox.unread_count('alice') AS unread, inbox.unseen_count('alice') AS unseen,
       inbox.unseen_count('alice', 'w1') AS unseen_w1;
SELECT inbox.mark_seen('alice', 'w1') IS NOT NULL AS seen_w1;
SELECT inbox.unseen_count('alice') AS unseen, inbox.unseen_count('alice', 'w1') AS unseen_w1;
SELECT inbox.mark_seen('alice') IS NOT NULL AS seen_all;
SELECT inbox.create('alice', '{"title": "c"}')->>'seenAt' AS new_one_seen_at;
SELECT inbox.unseen_count('alice') AS unseen, inbox.unread_count('alice') AS unread;
SELECT count(*) FILTER (WHERE e->>'seenAt' IS NOT NULL) AS seen_rows, count(*) AS rows
  FROM jsonb_array_elements(inbox.list('alice', '{}')->'data') e;
SELECT (inbox.list('alice', '{"filter": {"seenAt": {"isNull": true}}}')->'pageInfo'->>'total')::int AS unseen_by_filter;

-- Read-all is a read mark: the rows are not written, yet every view shows them read.
SELECT inbox.mark_all_read('alice') AS changed;
SELECT count(*) AS rows_with_read_at FROM inbox.notifications WHERE user_id = 'alice' AND read_at IS NOT NULL;
SELECT inbox.unread_count('alice') AS unread,
       (inbox.list('alice', '{"read": false}')->'pageInfo'->>'total')::int AS read_false,
       (inbox.list('alice', '{"filter": {"read": true}}')->'pageInfo'->>'total')::int AS read_true,
       (SELECT bool_and((e->>'read')::boolean AND e->>'readAt' IS NOT NULL)
          FROM jsonb_array_elements(inbox.list('alice', '{}')->'data') e) AS all_read;
-- Marking one unread again, then a new notification: both unread; the groups agree.
SELECT inbox.mark_unread('alice', (inbox.list('alice', '{"limit": 1}')->'data'->0->>'id'))->>'read' AS unread_again;
SELECT inbox.create('alice', '{"title": "d", "groupKey": "g"}')->>'read' AS new_read;
SELECT inbox.unread_count('alice') AS unread,
       (SELECT sum((e->>'unreadCount')::int) FROM jsonb_array_elements(inbox.groups('alice', '{}')->'data') e) AS group_unread;
-- The admin listing across users applies every user's marks (joined set-wise, one row per
-- user, never looked up for each row): the same read state, readAt and seenAt as the user's list.
SELECT inbox.mark_all_read('dora') AS dora_none, inbox.create('dora', '{"title": "x"}') IS NOT NULL AS dora_one;
SELECT jsonb_path_query_array(inbox.list_all('{"filter": {"userId": {"in": ["alice", "dora"]}}, "orderBy": [{"userId": "asc"}, {"createdAt": "asc"}]}'), '$.data[*] ? (@.userId == "alice")')
       = jsonb_path_query_array(inbox.list('alice', '{"orderBy": [{"createdAt": "asc"}]}'), '$.data[*]') AS same_as_alice_list,
       (inbox.list_all('{"filter": {"userId": {"in": ["alice", "dora"]}}, "read": false}')->'pageInfo'->>'total')::int AS unread_total,
       (inbox.list_all('{"filter": {"userId": {"in": ["alice", "dora"]}, "seenAt": {"isNull": false}}}')->'pageInfo'->>'total')::int AS seen_total;
-- Settling writes the mark into the rows (readAt unchanged) and then clears it.
CREATE TEMP TABLE before AS SELECT inbox.list('alice', '{}') AS page;
SELECT inbox.settle_read_marks('alice') AS written, inbox.settle_read_marks('alice') AS cleared;
SELECT (SELECT page FROM before) = inbox.list('alice', '{}') AS same_page,
       (SELECT read_before FROM inbox.marks WHERE user_id = 'alice' AND workspace_key = '') AS mark;

-- Expiry: expiresAt on create, or a type's lifetime; an expired row leaves every list and count
-- at once, and prune removes it.
SELECT inbox.register_type('flash', 'Short-lived.', lifetime => interval '1 hour')->>'lifetimeSeconds' AS lifetime;
SELECT inbox.create('bob', '{"type": "flash"}')->>'expiresAt' IS NOT NULL AS has_default_expiry,
       inbox.create('bob', '{"type": "flash", "expiresAt": null}')->>'expiresAt' IS NULL AS explicit_never;
SELECT inbox.create('bob', '{"title": "gone", "groupKey": "g", "expiresAt": "2020-01-01T00:00:00Z"}') IS NOT NULL AS expired_created;
SELECT inbox.unread_count('bob') AS unread, inbox.unseen_count('bob') AS unseen,
       (inbox.list('bob', '{}')->'pageInfo'->>'total')::int AS listed,
       (inbox.list('bob', '{"filter": {"title": "gone"}}')->'pageInfo'->>'total')::int AS found,
       (inbox.groups('bob', '{}')->'pageInfo'->>'total')::int AS groups;
SELECT inbox.create('bob', '{"expiresAt": "soon"}');
SELECT inbox.create_many('[{"userId": "bob"}, {"userId": "bob", "expiresAt": 5}]');

-- Retention: bounded steps, a report by kind.
INSERT INTO inbox.retention (keep_per_type, batch_size) VALUES (2, 1);
SELECT inbox.fan_out_count(ARRAY['carol'], '{"type": "info"}') FROM generate_series(1, 4);
SELECT inbox.soft_delete('carol', (inbox.list('carol', '{"limit": 1}')->'data'->0->>'id')) IS NOT NULL AS deleted;
UPDATE inbox.notifications SET deleted_at = now() - interval '40 days' WHERE deleted_at IS NOT NULL;
CALL inbox.prune();
SELECT user_id, count(*) FROM inbox.notifications GROUP BY 1 ORDER BY 1;
SELECT * FROM inbox.prune_step('nonsense');
