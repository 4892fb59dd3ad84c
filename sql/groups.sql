SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse
\set SHOW_CONTEXT never

-- Mastodon-style: likes of two posts (aggregated and not), a follow, mentions without a key.
SELECT inbox.register_type('favourite', 'Someone favourited your post.') IS NOT NULL AS ok;
SELECT count(*) AS created FROM (
    SELECT inbox.create('alice', o) FROM unnest(ARRAY[
        '{"type": "favourite", "groupKey": "fav:post1", "actorId": "bob"}',
        '{"type": "mention", "actorId": "carol", "title": "m1"}',
        '{"type": "favourite", "groupKey": "fav:post1", "actorId": "dave"}',
        '{"type": "favourite", "groupKey": "fav:post2", "actorId": "erin", "aggregate": true}',
        '{"type": "favourite", "groupKey": "fav:post2", "actorId": "frank", "aggregate": true}',
        '{"type": "follow", "groupKey": "follow", "actorId": "gina"}',
        '{"type": "favourite", "groupKey": "fav:post1", "actorId": "bob"}',
        '{"type": "mention", "actorId": "hank", "title": "m2"}'
    ]::jsonb[]) WITH ORDINALITY AS x(o, i) ORDER BY i) AS s;
-- Same-transaction rows share created_at: ties are broken by the latest notification's id.
SELECT jsonb_array_length(inbox.create_many('[{"userId": "alice", "groupKey": "tie:a", "type": "follow"},
                                               {"userId": "alice", "type": "poll"},
                                               {"userId": "alice", "groupKey": "tie:b", "type": "follow"}]')) AS created;
SELECT inbox.create('bob', '{"groupKey": "fav:post1", "actorId": "zed"}') IS NOT NULL AS other_user;

CREATE FUNCTION pg_temp.show(page jsonb) RETURNS TABLE (group_key text, count int, unread int, type text, actors jsonb)
LANGUAGE sql AS $$
    SELECT CASE WHEN g->>'groupKey' LIKE 'ungrouped-%' THEN 'ungrouped' ELSE g->>'groupKey' END,
           (g->>'notificationsCount')::int, (g->>'unreadCount')::int, g->>'type', g->'sampleActorIds'
      FROM jsonb_array_elements(page->'data') AS g
$$;

-- The first page answered from the summaries, newest activity first.
SELECT * FROM pg_temp.show(inbox.groups('alice'));
SELECT (inbox.groups('alice')->'pageInfo') - 'startCursor' - 'endCursor' AS page_info;
-- An ungrouped group is named after its notification, Mastodon's ungrouped-{id} rule.
SELECT g->>'groupKey' = 'ungrouped-' || (g->>'mostRecentNotificationId') AS ungrouped_rule
  FROM jsonb_array_elements(inbox.groups('alice')->'data') AS g WHERE g->>'groupKey' LIKE 'ungrouped-%' LIMIT 1;

-- Reading changes unread counts; soft-deleting the only row of a group removes the group.
SELECT jsonb_array_length(inbox.mark_read('alice', ARRAY(
    SELECT inbox.public_id(id) FROM inbox.notifications WHERE user_id = 'alice' AND group_key = 'fav:post1' ORDER BY id LIMIT 2))) AS read;
SELECT jsonb_array_length(inbox.soft_delete('alice', ARRAY(
    SELECT inbox.public_id(id) FROM inbox.notifications WHERE user_id = 'alice' AND group_key = 'follow'))) AS deleted;
SELECT * FROM pg_temp.show(inbox.groups('alice'));

-- Paging: forward to the end and back to the start, every group exactly once, exact pageInfo.
CREATE FUNCTION pg_temp.walk(user_id text, params jsonb, page_size int)
RETURNS TABLE (direction text, page int, groups text, has_next boolean, has_previous boolean)
LANGUAGE plpgsql AS $$
DECLARE
    p jsonb; cursor text; n int := 0;
BEGIN
    LOOP
        p := inbox.groups(user_id, params || jsonb_build_object('limit', page_size)
                                           || coalesce(jsonb_build_object('after', cursor), '{}'));
        n := n + 1;
        direction := 'forward'; page := n;
        groups := (SELECT string_agg(g->>'mostRecentNotificationId', ',') FROM jsonb_array_elements(p->'data') g);
        has_next := (p->'pageInfo'->>'hasNextPage')::boolean;
        has_previous := (p->'pageInfo'->>'hasPreviousPage')::boolean;
        RETURN NEXT;
        EXIT WHEN NOT has_next;
        cursor := p->'pageInfo'->>'endCursor';
    END LOOP;
    cursor := p->'pageInfo'->>'startCursor';
    LOOP
        EXIT WHEN cursor IS NULL;
        p := inbox.groups(user_id, params || jsonb_build_object('limit', page_size, 'before', cursor));
        n := n - 1;
        direction := 'backward'; page := n;
        groups := (SELECT string_agg(g->>'mostRecentNotificationId', ',') FROM jsonb_array_elements(p->'data') g);
        has_next := (p->'pageInfo'->>'hasNextPage')::boolean;
        has_previous := (p->'pageInfo'->>'hasPreviousPage')::boolean;
        RETURN NEXT;
        EXIT WHEN NOT has_previous;
        cursor := p->'pageInfo'->>'startCursor';
    END LOOP;
END $$;

-- The same walk from the summaries and from read-time grouping (a filter that keeps every
-- active row forces it) gives the same pages.
CREATE TEMP TABLE walks AS
SELECT 'summaries' AS how, * FROM pg_temp.walk('alice', '{}', 2)
UNION ALL
SELECT 'read-time', * FROM pg_temp.walk('alice', '{"filter": {"OR": [{"read": true}, {"read": false}]}}', 2);
SELECT direction, page, has_next, has_previous, array_length(string_to_array(groups, ','), 1) AS groups
  FROM walks WHERE how = 'summaries' ORDER BY direction DESC, page;
SELECT (SELECT array_agg(groups ORDER BY direction, page) FROM walks WHERE how = 'summaries')
     = (SELECT array_agg(groups ORDER BY direction, page) FROM walks WHERE how = 'read-time') AS same_pages;
SELECT count(*) AS groups_seen_forward, count(DISTINCT g) AS distinct_groups,
       (SELECT (inbox.groups('alice')->'pageInfo'->>'total')::int) AS total
  FROM walks, unnest(string_to_array(groups, ',')) AS g WHERE how = 'summaries' AND direction = 'forward';
-- The pages backward are the forward pages again.
SELECT bool_and(f.groups = b.groups) AS backward_matches_forward
  FROM walks f JOIN walks b USING (how, page)
 WHERE f.direction = 'forward' AND b.direction = 'backward';
-- Both answers agree on every field, not just the order.
SELECT (SELECT jsonb_agg(g ORDER BY g->>'mostRecentNotificationId') FROM jsonb_array_elements(inbox.groups('alice')->'data') g)
     = (SELECT jsonb_agg(g ORDER BY g->>'mostRecentNotificationId') FROM jsonb_array_elements(
            inbox.groups('alice', '{"filter": {"OR": [{"read": true}, {"read": false}]}}')->'data') g) AS same_groups;

-- Filters describe the matching notifications only: the unread ones, one type, the trash.
SELECT * FROM pg_temp.show(inbox.groups('alice', '{"read": false}'));
SELECT * FROM pg_temp.show(inbox.groups('alice', '{"type": "favourite"}'));
SELECT * FROM pg_temp.show(inbox.groups('alice', '{"include_deleted": "only"}'));
SELECT * FROM pg_temp.show(inbox.groups('alice', '{"filter": {"actorId": {"in": ["bob", "carol"]}}}'));
SELECT inbox.groups('alice', '{"read": false}')->'pageInfo'->>'total' AS unread_groups;
SELECT inbox.groups('nobody') AS empty;

-- Misuse is an error, never a wrong page.
SELECT inbox.groups('alice', '{"orderBy": [{"createdAt": "asc"}]}');
SELECT inbox.groups('alice', '{"limit": 0}');
SELECT inbox.groups('alice', '{"after": "garbage"}');
SELECT inbox.groups('alice', jsonb_build_object('after', inbox.list('alice', '{"limit": 1}')->'pageInfo'->>'endCursor'));
SELECT inbox.list('alice', jsonb_build_object('after', inbox.groups('alice', '{"limit": 1}')->'pageInfo'->>'endCursor'));
SELECT inbox.groups('alice', '{"colour": "red"}');
SELECT inbox.groups(NULL);
