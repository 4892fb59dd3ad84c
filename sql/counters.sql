SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse

-- The counters, and what they should be, counted from the rows. Empty when all agree. A row
-- is unread as the API shows it: not read, and not covered by the user's read mark (issue 19).
CREATE VIEW pg_temp.unread_rows AS
SELECT n.* FROM inbox.notifications n
 WHERE n.deleted_at IS NULL AND n.read_at IS NULL
   AND NOT coalesce(n.updated_at < inbox._read_mark(n.user_id), false);
CREATE VIEW pg_temp.counter_errors AS
WITH truth_user AS (
    SELECT user_id,
           count(*) FILTER (WHERE deleted_at IS NULL) AS active,
           count(*) FILTER (WHERE id IN (SELECT id FROM pg_temp.unread_rows)) AS unread,
           count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted
      FROM inbox.notifications GROUP BY user_id),
truth_ws AS (
    SELECT user_id, workspace_id,
           count(*) FILTER (WHERE deleted_at IS NULL) AS active,
           count(*) FILTER (WHERE id IN (SELECT id FROM pg_temp.unread_rows)) AS unread,
           count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted
      FROM inbox.notifications WHERE workspace_id IS NOT NULL GROUP BY user_id, workspace_id)
SELECT 'user' AS level, coalesce(t.user_id, c.user_id) AS user_id, NULL AS workspace_id,
       t.active AS true_active, c.active, t.unread AS true_unread, c.unread,
       t.deleted AS true_deleted, c.deleted
  FROM truth_user t FULL JOIN inbox.user_counters c USING (user_id)
 WHERE (coalesce(t.active, 0), coalesce(t.unread, 0), coalesce(t.deleted, 0))
       IS DISTINCT FROM (coalesce(c.active, 0), coalesce(c.unread, 0), coalesce(c.deleted, 0))
UNION ALL
SELECT 'workspace', coalesce(t.user_id, c.user_id), coalesce(t.workspace_id, c.workspace_id),
       t.active, c.active, t.unread, c.unread, t.deleted, c.deleted
  FROM truth_ws t FULL JOIN inbox.workspace_counters c USING (user_id, workspace_id)
 WHERE (coalesce(t.active, 0), coalesce(t.unread, 0), coalesce(t.deleted, 0))
       IS DISTINCT FROM (coalesce(c.active, 0), coalesce(c.unread, 0), coalesce(c.deleted, 0));

-- The group summaries, and what they should be. Empty when all agree.
CREATE VIEW pg_temp.group_errors AS
WITH truth AS (
    SELECT DISTINCT ON (user_id, group_key) user_id, group_key,
           count(*) OVER w AS notifications_count,
           count(*) FILTER (WHERE id IN (SELECT id FROM pg_temp.unread_rows)) OVER w AS unread_count,
           id AS latest_id, type, created_at AS latest_at
      FROM inbox.notifications
     WHERE deleted_at IS NULL AND group_key IS NOT NULL
    WINDOW w AS (PARTITION BY user_id, group_key)
     ORDER BY user_id, group_key, created_at DESC, id DESC)
SELECT coalesce(t.user_id, g.user_id) AS user_id, coalesce(t.group_key, g.group_key) AS group_key,
       t.notifications_count AS true_count, g.notifications_count, t.unread_count AS true_unread,
       g.unread_count, t.latest_id AS true_latest, g.latest_id, t.type AS true_type, g.type
  FROM truth t FULL JOIN inbox.notification_groups g USING (user_id, group_key)
 WHERE (t.notifications_count, t.unread_count, t.latest_id, t.type, t.latest_at)
       IS DISTINCT FROM (g.notifications_count, g.unread_count, g.latest_id, g.type, g.latest_at);

-- A seeded random walk over every state change, single and bulk, checking after each step.
-- Failed calls (a purge of an active row, say) must leave the counters as they were too.
DO $$
DECLARE
    users      text[] := ARRAY['u1', 'u2', 'u3'];
    workspaces text[] := ARRAY['w1', 'w2', NULL];
    groups     text[] := ARRAY['g1', 'g2', NULL];
    g text;
    actions    text[] := ARRAY['create', 'create_many', 'fan_out', 'mark_read', 'mark_unread',
                               'archive', 'unarchive', 'soft_delete', 'restore', 'purge',
                               'delete', 'update', 'mark_all_read', 'mark_all_read_ws'];
    u text; w text; a text; ids text[];
    steps int := 0; failures int := 0; bad int;
BEGIN
    PERFORM setseed(0.42);
    FOR step IN 1..600 LOOP
        u := users[1 + floor(random() * 3)::int];
        w := workspaces[1 + floor(random() * 3)::int];
        g := groups[1 + floor(random() * 3)::int];
        a := actions[1 + floor(random() * array_length(actions, 1))::int];
        SELECT array_agg(inbox.public_id(id)) INTO ids
          FROM (SELECT id FROM inbox.notifications WHERE user_id = u
                 ORDER BY random() LIMIT 1 + floor(random() * 4)::int) AS s;
        BEGIN
            CASE a
            WHEN 'create' THEN
                PERFORM inbox.create(u, jsonb_strip_nulls(jsonb_build_object(
                    'workspaceId', w, 'title', 's' || step, 'groupKey', g,
                    'type', (ARRAY['info', 'warning'])[1 + step % 2],
                    'actorId', 'a' || (step % 4), 'aggregate', random() < 0.3 AND g IS NOT NULL)));
            WHEN 'create_many' THEN
                PERFORM inbox.create_many(jsonb_build_array(
                    jsonb_strip_nulls(jsonb_build_object('userId', u, 'workspaceId', w)),
                    jsonb_build_object('userId', users[1 + floor(random() * 3)::int], 'workspaceId', 'w1'),
                    jsonb_build_object('userId', u)));
            WHEN 'fan_out' THEN
                PERFORM inbox.fan_out(users, jsonb_strip_nulls(jsonb_build_object('workspaceId', w, 'groupKey', g)));
            WHEN 'mark_read' THEN PERFORM inbox.mark_read(u, ids);
            WHEN 'mark_unread' THEN PERFORM inbox.mark_unread(u, ids);
            WHEN 'archive' THEN PERFORM inbox.archive(u, ids);
            WHEN 'unarchive' THEN PERFORM inbox.unarchive(u, ids);
            WHEN 'soft_delete' THEN PERFORM inbox.soft_delete(u, ids);
            WHEN 'restore' THEN PERFORM inbox.restore(u, ids);
            WHEN 'purge' THEN PERFORM inbox.purge(u, ids);
            WHEN 'delete' THEN PERFORM inbox.delete(u, ids[1]);
            WHEN 'update' THEN
                PERFORM inbox.update(u, ids, CASE WHEN random() < 0.5 THEN '{"title": "edited"}'::jsonb
                                                  ELSE jsonb_build_object('groupKey', g, 'type', 'error') END);
            WHEN 'mark_all_read' THEN PERFORM inbox.mark_all_read(u);
            WHEN 'mark_all_read_ws' THEN PERFORM inbox.mark_all_read(u, w);
            END CASE;
        EXCEPTION WHEN invalid_parameter_value OR no_data_found
                    OR object_not_in_prerequisite_state OR null_value_not_allowed THEN
            failures := failures + 1;   -- an expected refusal; it must have changed nothing
        END;
        SELECT (SELECT count(*) FROM pg_temp.counter_errors) + (SELECT count(*) FROM pg_temp.group_errors) INTO bad;
        IF bad > 0 THEN
            RAISE EXCEPTION 'counters wrong after step % (%)', step, a;
        END IF;
        steps := steps + 1;
    END LOOP;
    RAISE NOTICE 'random walk: % steps checked, % refused calls among them', steps, failures;
END $$;

SELECT count(*) >= 4 AS several_groups, bool_or(notifications_count > 5) AS a_big_group,
       bool_or(cardinality(sample_actor_ids) > 1) AS a_group_with_several_actors
  FROM inbox.notification_groups;
SELECT count(*) > 100 AS enough_rows,
       count(*) FILTER (WHERE read_at IS NULL AND deleted_at IS NULL) > 0 AS some_unread,
       count(*) FILTER (WHERE deleted_at IS NOT NULL) > 0 AS some_deleted,
       count(*) FILTER (WHERE archived_at IS NOT NULL) > 0 AS some_archived
  FROM inbox.notifications;

-- unread_count reads the counters, and they equal a count of the rows.
SELECT u, inbox.unread_count(u) = (SELECT count(*) FROM inbox.notifications n
                                    WHERE n.user_id = u AND read_at IS NULL AND deleted_at IS NULL) AS exact
  FROM unnest(ARRAY['u1', 'u2', 'u3']) AS u;

-- Changes made with plain SQL by a DBA keep them exact too, including moving rows between
-- workspaces and users, and bulk deletes.
UPDATE inbox.notifications SET workspace_id = 'w3' WHERE workspace_id = 'w1' AND id % 2 = 0;
UPDATE inbox.notifications SET user_id = 'u4' WHERE user_id = 'u3' AND id % 3 = 0;
UPDATE inbox.notifications SET read_at = NULL, deleted_at = NULL WHERE id % 5 = 0;
UPDATE inbox.notifications SET group_key = 'g3' WHERE group_key = 'g1' AND id % 2 = 0;
DELETE FROM inbox.notifications WHERE id % 7 = 0;
SELECT * FROM pg_temp.counter_errors;
SELECT * FROM pg_temp.group_errors;

-- A read-all over 10,000 unread rows of one user moves its counter once, exactly.
SELECT jsonb_array_length(inbox.fan_out(ARRAY(SELECT 'bulk-' || i FROM generate_series(1, 10) AS i), '{}')) AS fanned;
INSERT INTO inbox.notifications (user_id, workspace_id, title)
SELECT 'heavy', 'w' || (i % 3), 'n' || i FROM generate_series(1, 10000) AS i;
SELECT inbox.unread_count('heavy') AS before, inbox.unread_count('heavy', 'w1') AS before_w1;
SELECT inbox.mark_all_read('heavy', 'w1') AS changed_w1;
SELECT inbox.mark_all_read('heavy') AS changed_rest;
SELECT inbox.unread_count('heavy') AS after;
SELECT * FROM pg_temp.counter_errors;

-- TRUNCATE clears them; rebuild_counters recomputes them from the rows.
UPDATE inbox.user_counters SET unread = unread + 5 WHERE user_id = 'u1';
SELECT count(*) AS drifted FROM pg_temp.counter_errors;
UPDATE inbox.notification_groups SET notifications_count = 0;
SELECT count(*) > 0 AS groups_drifted FROM pg_temp.group_errors;
SELECT inbox.rebuild_counters();
SELECT * FROM pg_temp.counter_errors;
SELECT * FROM pg_temp.group_errors;
TRUNCATE inbox.notifications CASCADE;   -- CASCADE: notification_actors refers to it
SELECT (SELECT count(*) FROM inbox.user_counters) AS user_rows,
       (SELECT count(*) FROM inbox.workspace_counters) AS workspace_rows,
       (SELECT count(*) FROM inbox.notification_groups) AS group_rows;

-- Reading a count is one primary-key lookup, whatever the inbox size.
EXPLAIN (COSTS OFF) SELECT unread FROM inbox.user_counters WHERE user_id = 'heavy';
