-- The change feed (issue 14): inbox.events, inbox.changes, inbox.feed_head, summaries,
-- retention and pruning. inbox.poll_events under concurrency: specs/feed_concurrency.spec.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse

-- The feed as stored: one line an event (the notification by its title).
CREATE VIEW pg_temp.feed AS
SELECT e.user_id, e.id, e.event, n.title, e.workspace_id AS ws, e.unread, e.data
  FROM inbox.events e LEFT JOIN inbox.notifications n ON n.user_id = e.user_id AND n.id = e.notification_id
 ORDER BY e.user_id, e.id;
-- Every user's ids are 1..head with no gap, head = inbox.feed_head(). Empty when all agree.
CREATE VIEW pg_temp.feed_errors AS
SELECT c.user_id, c.last_event_id, count(e.id) AS events, min(e.id) AS first, max(e.id) AS last
  FROM inbox.user_counters c LEFT JOIN inbox.events e ON e.user_id = c.user_id
 GROUP BY c.user_id, c.last_event_id
HAVING count(e.id) <> c.last_event_id OR coalesce(max(e.id), 0) <> c.last_event_id
    OR coalesce(min(e.id), 1) <> 1 OR inbox.feed_head(c.user_id) <> c.last_event_id;
CREATE FUNCTION pg_temp.nid(u text, t text) RETURNS text LANGUAGE sql AS
$$ SELECT inbox.public_id(id) FROM inbox.notifications WHERE user_id = u AND title = t $$;

-- A user with no event: head 0, nothing after 0.
SELECT inbox.feed_head('alice') AS head, (SELECT count(*) FROM inbox.changes('alice', 0)) AS changes;

-- Creates: one, a fan-out (one event each recipient), create_many.
SELECT inbox.create('alice', '{"title": "one", "workspaceId": "w1"}') IS NOT NULL AS created;
SELECT inbox.fan_out_count(ARRAY['alice', 'bob', 'carol'], '{"title": "fan", "workspaceId": "w2"}') AS fanned;
SELECT jsonb_array_length(inbox.create_many('[{"userId": "alice", "title": "many 1"}, {"userId": "bob", "title": "many 2"}, {"userId": "alice", "title": "many 3"}]')) AS many;
-- Aggregation of an actor into an existing row: an update of that row.
SELECT inbox.create('alice', '{"type": "liked", "groupKey": "post:1", "actorId": "bob", "aggregate": true, "title": "liked"}') IS NOT NULL AS created;
SELECT inbox.create('alice', '{"type": "liked", "groupKey": "post:1", "actorId": "carol", "aggregate": true}')->'actors' AS actors;
-- Every state change.
SELECT inbox.update('alice', pg_temp.nid('alice', 'one'), '{"body": "edited"}')->>'body' AS body;
SELECT inbox.mark_read('alice', pg_temp.nid('alice', 'one'))->>'read' AS read;
SELECT inbox.mark_read('alice', pg_temp.nid('alice', 'one'))->>'read' AS read_again;  -- no change, no event
SELECT inbox.mark_unread('alice', pg_temp.nid('alice', 'one'))->>'read' AS read;
SELECT inbox.archive('alice', pg_temp.nid('alice', 'one'))->>'archived' AS archived;
SELECT inbox.unarchive('alice', pg_temp.nid('alice', 'one'))->>'archived' AS archived;
SELECT inbox.soft_delete('alice', pg_temp.nid('alice', 'many 1'))->>'deletedAt' IS NOT NULL AS deleted;
SELECT inbox.restore('alice', pg_temp.nid('alice', 'many 1'))->>'deletedAt' IS NULL AS restored;
SELECT inbox.soft_delete('alice', pg_temp.nid('alice', 'many 1')) IS NOT NULL AS deleted;
SELECT inbox.purge('alice', pg_temp.nid('alice', 'many 1')) IS NOT NULL AS purged;
SELECT inbox.delete('bob', pg_temp.nid('bob', 'many 2')) IS NOT NULL AS deleted;
-- Several rows of one user in one call, below the threshold: one event each, in id order.
SELECT jsonb_array_length(inbox.mark_read('alice', ARRAY[pg_temp.nid('alice', 'many 3'), pg_temp.nid('alice', 'fan')])) AS read;
-- A read-all writes no row (issue 19): one notification.read_all event, whatever the count.
SELECT inbox.mark_all_read('alice') AS changed;
-- Plain SQL is in the feed too.
UPDATE inbox.notifications SET title = 'renamed' WHERE user_id = 'carol';
DELETE FROM inbox.notifications WHERE user_id = 'carol';
SELECT * FROM pg_temp.feed;
SELECT * FROM pg_temp.feed_errors;

-- inbox.changes: the payload is the notification as it is now (the list's shape); a purged or
-- gone row is its id alone.
SELECT id, event, workspace_id, unread, data->>'title' AS title, data->>'read' AS read, data ? 'createdAt' AS whole,
       data - 'id' = '{}' AS id_only
  FROM inbox.changes('alice', 0);
SELECT id, event, data->>'title' AS title FROM inbox.changes('alice', 3, 2);
SELECT count(*) AS after_head FROM inbox.changes('alice', inbox.feed_head('alice'));
SELECT count(*) AS after_null FROM inbox.changes('alice');
-- A workspace: its events and the summaries of no workspace or that one.
SELECT id, event, workspace_id FROM inbox.changes('alice', 0, 100, 'w1');
SELECT id, event, workspace_id FROM inbox.changes('alice', 0, 100, 'w2');
-- Resuming beyond the head, or with a bad limit.
SELECT * FROM inbox.changes('alice', inbox.feed_head('alice') + 1);
SELECT * FROM inbox.changes('alice', -1);
SELECT * FROM inbox.changes('alice', 0, 0);

-- Summaries: beyond inbox.feed_summary_threshold (50) rows of one user in one statement, one
-- event. A read-all of 120 rows is notification.read_all with the new unread count, scoped to
-- a workspace when every row was in it; anything else is notification.bulk.
INSERT INTO inbox.notifications (user_id, workspace_id, title)
SELECT 'heavy', 'w' || (i % 2), 'n' || i FROM generate_series(1, 120) AS i;
SELECT inbox.mark_all_read('heavy', 'w1') AS changed_w1;
SELECT inbox.mark_all_read('heavy') AS changed_rest;
UPDATE inbox.notifications SET read_at = NULL WHERE user_id = 'heavy';
UPDATE inbox.notifications SET read_at = now(), title = 'x' WHERE user_id = 'heavy';  -- not only a read
SELECT inbox.mark_all_read('heavy') AS nothing_left;                                -- no change, no event
DELETE FROM inbox.notifications WHERE user_id = 'heavy' AND workspace_id = 'w0';
-- Creates are never summarised: the insert of 120 is 120 notification.created events.
SELECT count(*) AS created_events FROM pg_temp.feed WHERE user_id = 'heavy' AND event = 'notification.created';
SELECT id, event, ws, unread, data FROM pg_temp.feed WHERE user_id = 'heavy' AND event <> 'notification.created';
SELECT id, event, workspace_id, unread, data FROM inbox.changes('heavy', 0, 200, 'w0') WHERE event <> 'notification.created';
-- The threshold is a setting; creates are never summarised (nor a fan-out: one row a user).
SET inbox.feed_summary_threshold = 2;
SELECT jsonb_array_length(inbox.create_many('[{"userId": "dave", "title": "d1"}, {"userId": "dave", "title": "d2"}, {"userId": "erin", "title": "e1"}]')) AS two_for_dave;
SELECT jsonb_array_length(inbox.create_many('[{"userId": "dave", "title": "d3"}, {"userId": "dave", "title": "d4"}, {"userId": "dave", "title": "d5"}]')) AS three_for_dave;
SELECT inbox.fan_out_count(ARRAY(SELECT 'fan-' || i FROM generate_series(1, 5) AS i), '{"title": "f"}') AS fanned;
SELECT user_id, id, event, title, data FROM pg_temp.feed WHERE user_id IN ('dave', 'erin') OR user_id LIKE 'fan-%';
SET inbox.feed_summary_threshold = 0;
UPDATE inbox.notifications SET title = 'y' WHERE user_id = 'dave';  -- (a create reads no threshold)
RESET inbox.feed_summary_threshold;
SELECT * FROM pg_temp.feed_errors;

-- A row moved to another user: it leaves one feed and enters the other.
UPDATE inbox.notifications SET user_id = 'frank' WHERE user_id = 'erin';
SELECT user_id, id, event, title FROM pg_temp.feed WHERE user_id IN ('erin', 'frank');

-- An event exists iff its change committed: a rollback takes its ids back.
BEGIN;
SELECT inbox.create('gina', '{"title": "rolled back"}') IS NOT NULL;
SELECT inbox.feed_head('gina') AS head_inside;
ROLLBACK;
SELECT inbox.create('gina', '{"title": "kept"}') IS NOT NULL;
SELECT user_id, id, event, title FROM pg_temp.feed WHERE user_id = 'gina';

-- inbox._append_event: an event from outside the triggers (issue 19's constant-time read-all),
-- with the next id and the unread count as the counters then say.
SELECT inbox._append_event('gina', 'notification.read_all', 'w9', '{"workspaceId": "w9"}') AS appended;
SELECT id, event, workspace_id, unread, data FROM inbox.changes('gina', 1);

-- inbox.feed = off (benchmarks, maintenance): no event, no id.
SET inbox.feed = off;
SELECT inbox.create('gina', '{"title": "unseen"}') IS NOT NULL;
SELECT inbox._append_event('gina', 'notification.bulk') AS appended;
RESET inbox.feed;
SELECT inbox.feed_head('gina') AS head;
SET inbox.feed = maybe;
SELECT inbox.create('gina', '{}');
RESET inbox.feed;
SELECT * FROM pg_temp.feed_errors;

-- rebuild_counters recomputes the counts and keeps every user's event ids.
CREATE TEMP TABLE heads AS SELECT user_id, last_event_id FROM inbox.user_counters;
SELECT inbox.rebuild_counters();
SELECT count(*) AS heads_changed FROM heads h JOIN inbox.user_counters c USING (user_id)
 WHERE c.last_event_id <> h.last_event_id;

-- Retention: events older than inbox.feed_retention (24 hours) go, in batches of at most
-- `batch`, by the oldest transactions first (a young event among them ends a batch early: the
-- rest go on a later call); resuming before the oldest kept event is 22023 (a stream's `reset`).
UPDATE inbox.events SET created_at = created_at - interval '25 hours' WHERE user_id = 'alice' AND id <= 5;
UPDATE inbox.events SET created_at = created_at - interval '25 hours' WHERE user_id IN ('bob', 'carol');
SELECT inbox.prune_events(3) AS first_batch;
SELECT inbox.prune_events(3) AS second_batch;
SELECT inbox.prune_events(3) AS third_batch;
SELECT inbox.prune_events() AS rest;
SELECT user_id, min(id), max(id), inbox.feed_head(user_id) AS head FROM inbox.events
 WHERE user_id IN ('alice', 'bob', 'carol') GROUP BY user_id ORDER BY user_id;
SELECT count(*) AS from_oldest FROM inbox.changes('alice', 5);
SELECT * FROM inbox.changes('alice', 4);
-- carol has no event left: only her head resumes.
SELECT count(*) AS at_head FROM inbox.changes('carol', inbox.feed_head('carol'));
SELECT * FROM inbox.changes('carol', inbox.feed_head('carol') - 1);
SET inbox.feed_retention = '1 microsecond';
SELECT pg_sleep(0.01);
SELECT inbox.prune_events() > 0 AS pruned;
SELECT count(*) AS left FROM inbox.events;
SET inbox.feed_retention = 'soon';
SELECT inbox.prune_events();
RESET inbox.feed_retention;
SELECT inbox.prune_events(0);

-- TRUNCATE empties the feed with the counters: every user starts again at 1.
TRUNCATE inbox.notifications CASCADE;
SELECT (SELECT count(*) FROM inbox.events) AS events, inbox.feed_head('alice') AS head;
SELECT inbox.create('alice', '{"title": "after truncate"}') IS NOT NULL;
SELECT user_id, id, event, title FROM pg_temp.feed;

-- The poller, alone (concurrency: specs/feed_concurrency.spec): from now, a page at a time,
-- a bad cursor.
CREATE TEMP TABLE cur AS SELECT max(next_cursor) AS c FROM inbox.poll_events();
SELECT inbox.fan_out_count(ARRAY['p1', 'p2', 'p3'], '{"title": "polled"}') AS fanned;
SELECT user_id, id, event, unread FROM inbox.poll_events((SELECT c FROM cur), 2);
CREATE TEMP TABLE page AS SELECT * FROM inbox.poll_events((SELECT c FROM cur), 2);
SELECT user_id, id FROM inbox.poll_events((SELECT max(next_cursor) FROM page), 2);
SELECT count(*) AS empty_poll_rows, count(user_id) AS events FROM inbox.poll_events((SELECT max(next_cursor) FROM inbox.poll_events((SELECT max(next_cursor) FROM page), 2)));
SELECT * FROM inbox.poll_events('{"x": "1"}');
SELECT * FROM inbox.poll_events(NULL, 0);
