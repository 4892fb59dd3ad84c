SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse
\set SHOW_CONTEXT never

CREATE FUNCTION pg_temp.brief(j jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT format('%s actorId=%s actors=%s count=%s read=%s updated_after_created=%s',
                  j->>'id', j->>'actorId', j->'actors', j->>'actorCount', j->>'read',
                  (j->>'updatedAt') > (j->>'createdAt'))
$$;

-- "aggregate": true: Diaspora's liked post, several people behind one notification.
SELECT pg_temp.brief(inbox.create('alice', '{"type": "liked", "groupKey": "post:1", "actorId": "bob", "aggregate": true, "title": "Your post was liked"}'));
SELECT pg_temp.brief(inbox.create('alice', '{"type": "liked", "groupKey": "post:1", "actorId": "carol", "aggregate": true}'));
SELECT pg_temp.brief(inbox.create('alice', '{"type": "liked", "groupKey": "post:1", "actorId": "dave", "aggregate": true}'));
-- The same actor again: no duplicate, moves to the front.
SELECT pg_temp.brief(inbox.create('alice', '{"type": "liked", "groupKey": "post:1", "actorId": "bob", "aggregate": true}'));
SELECT count(*) AS rows_for_the_group, min(title) AS title_kept FROM inbox.notifications WHERE group_key = 'post:1';
SELECT inbox.unread_count('alice') AS unread;

-- Another group, another row; a read notification starts a new one.
SELECT pg_temp.brief(inbox.create('alice', '{"groupKey": "post:2", "actorId": "erin", "aggregate": true}'));
SELECT pg_temp.brief(inbox.mark_read('alice', (SELECT inbox.public_id(id) FROM inbox.notifications WHERE group_key = 'post:1')));
SELECT pg_temp.brief(inbox.create('alice', '{"type": "liked", "groupKey": "post:1", "actorId": "frank", "aggregate": true}'));
SELECT group_key, count(*) AS rows FROM inbox.notifications WHERE user_id = 'alice' GROUP BY 1 ORDER BY 1;
SELECT inbox.unread_count('alice') AS unread;

-- A row created without aggregating keeps its actor when later creates aggregate into it.
SELECT pg_temp.brief(inbox.create('alice', '{"groupKey": "post:3", "actorId": "gina"}'));
SELECT pg_temp.brief(inbox.create('alice', '{"groupKey": "post:3", "actorId": "hank", "aggregate": true}'));

-- The type's setting aggregates by default; "aggregate": false opts out.
SELECT inbox.register_type('mentioned', 'Someone mentioned you.', aggregate => true) IS NOT NULL AS registered;
SELECT pg_temp.brief(inbox.create('bob', '{"type": "mentioned", "groupKey": "thread:9", "actorId": "ivy"}'));
SELECT pg_temp.brief(inbox.create('bob', '{"type": "mentioned", "groupKey": "thread:9", "actorId": "jack"}'));
SELECT pg_temp.brief(inbox.create('bob', '{"type": "mentioned", "groupKey": "thread:9", "actorId": "kim", "aggregate": false}'));
-- Without a groupKey the type's setting has nothing to aggregate on: a plain row.
SELECT pg_temp.brief(inbox.create('bob', '{"type": "mentioned", "actorId": "lee"}'));

-- Only the 10 most recent actors are listed; the count is exact.
DO $$
BEGIN
    FOR i IN 1..25 LOOP
        PERFORM inbox.create('carol', jsonb_build_object('groupKey', 'big', 'actorId', 'a' || i, 'aggregate', true));
    END LOOP;
END $$;
SELECT pg_temp.brief(inbox.to_json(n)) FROM inbox.notifications n WHERE user_id = 'carol';

-- Bulk creates aggregate too, each in its own group, in input order.
SELECT jsonb_path_query_array(r, '$[*].actorCount') AS counts, jsonb_path_query_array(r, '$[*].userId') AS users
  FROM inbox.create_many('[{"userId": "dan", "groupKey": "g", "actorId": "x", "aggregate": true},
                           {"userId": "dan", "title": "plain"},
                           {"userId": "dan", "groupKey": "g", "actorId": "y", "aggregate": true}]') AS r;
SELECT jsonb_path_query_array(inbox.fan_out(ARRAY['eve', 'fay'], '{"groupKey": "g", "actorId": "z", "aggregate": true}'), '$[*].actorCount') AS counts;
SELECT jsonb_path_query_array(inbox.fan_out(ARRAY['eve', 'fay'], '{"groupKey": "g", "actorId": "w", "aggregate": true}'), '$[*].actorCount') AS counts;

-- Errors.
SELECT inbox.create('alice', '{"aggregate": true, "actorId": "x"}');
SELECT inbox.create('alice', '{"aggregate": true, "groupKey": "g"}');
SELECT inbox.create('alice', '{"aggregate": "yes", "groupKey": "g", "actorId": "x"}');
SELECT inbox.create_many('[{"userId": "a"}, {"userId": "a", "aggregate": true}]');

-- Deleting a notification deletes its actors; the counters stay exact.
SELECT count(*) AS actor_rows FROM inbox.notification_actors WHERE user_id = 'carol';
SELECT jsonb_array_length(inbox.delete('carol', ARRAY(SELECT inbox.public_id(id) FROM inbox.notifications WHERE user_id = 'carol'))) AS deleted;
SELECT count(*) AS actor_rows FROM inbox.notification_actors WHERE user_id = 'carol';
SELECT user_id, unread = (SELECT count(*) FROM inbox.notifications n WHERE n.user_id = c.user_id AND read_at IS NULL AND deleted_at IS NULL) AS exact
  FROM inbox.user_counters c ORDER BY user_id;
