-- The social APIs' list shorthands (types, exclude_types, only_unread, only_after): each is the
-- filter clause it stands for, in inbox.list, inbox.groups and as URL strings, and every error.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse
\set SHOW_CONTEXT never

INSERT INTO inbox.notifications (user_id, title, type, group_key, read_at, created_at, updated_at)
VALUES
    ('u1', 'a', 'mention',   NULL,    NULL,  '2024-01-01 00:00Z', '2024-01-01 00:00Z'),
    ('u1', 'b', 'favourite', 'fav:1', now(), '2024-01-02 00:00Z', '2024-01-09 00:00Z'),
    ('u1', 'c', 'favourite', 'fav:1', NULL,  '2024-01-03 00:00Z', '2024-01-03 00:00Z'),
    ('u1', 'd', 'follow',    NULL,    NULL,  '2024-01-04 00:00Z', '2024-01-04 00:00Z'),
    ('u1', 'e', 'reblog',    'rb:1',  now(), '2024-01-05 00:00Z', '2024-01-05 00:00Z'),
    ('u2', 'f', 'mention',   NULL,    NULL,  '2024-01-06 00:00Z', '2024-01-06 00:00Z');

CREATE FUNCTION pg_temp.show(params jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce((SELECT string_agg(e->>'title', ',' ORDER BY o)
                       FROM jsonb_array_elements(p->'data') WITH ORDINALITY AS a(e, o)), '-')
           || ' total=' || (p->'pageInfo'->>'total')
      FROM inbox.list('u1', params) AS p
$$;
-- Each shorthand lists what the filter it stands for lists.
CREATE FUNCTION pg_temp.same(shorthand jsonb, filter jsonb) RETURNS boolean LANGUAGE sql AS $$
    SELECT inbox.list('u1', shorthand)->'data' = inbox.list('u1', jsonb_build_object('filter', filter))->'data'
$$;

-- types / exclude_types: arrays, or comma-separated strings as a URL gives them
SELECT pg_temp.show('{"types": ["favourite", "follow"]}') AS types,
       pg_temp.show('{"types": "favourite,follow"}') AS types_text,
       pg_temp.show('{"types": ["poll"]}') AS no_such_type;
SELECT pg_temp.show('{"exclude_types": ["favourite", "follow"]}') AS exclude_types,
       pg_temp.show('{"exclude_types": "mention"}') AS exclude_text;
SELECT pg_temp.show('{"types": ["favourite", "mention"], "exclude_types": ["mention"]}') AS both;
SELECT pg_temp.same('{"types": ["favourite", "follow"]}', '{"type": {"in": ["favourite", "follow"]}}') AS types_is_in,
       pg_temp.same('{"exclude_types": ["reblog"]}', '{"type": {"notIn": ["reblog"]}}') AS exclude_is_not_in;

-- only_unread: read=false (and the counter-backed total), only_after: updatedAt > it
SELECT pg_temp.show('{"only_unread": true}') AS only_unread,
       pg_temp.show('{"only_unread": "true"}') AS only_unread_text,
       pg_temp.show('{"only_unread": false}') AS not_only_unread,
       pg_temp.show('{"only_unread": true, "read": false}') AS with_read_false;
SELECT pg_temp.show('{"only_after": "2024-01-03"}') AS after_jan_3,
       pg_temp.show('{"only_after": "2024-01-03T00:00:00Z", "only_unread": true}') AS after_unread,
       pg_temp.show('{"only_after": "2024-01-08T23:00:00+02:00"}') AS offset_time;
SELECT pg_temp.same('{"only_after": "2024-01-03"}', '{"updatedAt": {"gt": "2024-01-03"}}') AS only_after_is_gt;

-- combined with a filter and the other shorthands; paging keeps the narrowing
SELECT pg_temp.show('{"types": ["favourite", "follow", "reblog"], "filter": {"title": {"neq": "c"}}, "read": true}') AS combined;
SELECT pg_temp.show(jsonb_build_object('types', 'favourite,follow,reblog', 'limit', 1,
                    'after', inbox.list('u1', '{"types": "favourite,follow,reblog", "limit": 1}')->'pageInfo'->>'endCursor')) AS second_page;

-- groups take the same shorthands
SELECT string_agg(g->>'groupKey', ',' ORDER BY o) AS favourite_groups
  FROM jsonb_array_elements(inbox.groups('u1', '{"types": ["favourite", "reblog"]}')->'data') WITH ORDINALITY AS a(g, o);
SELECT string_agg((g->>'notificationsCount') || '/' || (g->>'unreadCount'), ',' ORDER BY o) AS unread_group_counts
  FROM jsonb_array_elements(inbox.groups('u1', '{"only_unread": true, "types": "favourite"}')->'data') WITH ORDINALITY AS a(g, o);

-- errors name the parameter
SELECT inbox.list('u1', '{"types": []}');
SELECT inbox.list('u1', '{"types": ""}');
SELECT inbox.list('u1', '{"types": [1]}');
SELECT inbox.list('u1', '{"types": {"a": 1}}');
SELECT inbox.list('u1', '{"types": "mention,,follow"}');
SELECT inbox.list('u1', jsonb_build_object('exclude_types', (SELECT jsonb_agg('t' || g) FROM generate_series(1, 1001) g)));
SELECT inbox.list('u1', jsonb_build_object('types', repeat('x', 256)));
SELECT inbox.list('u1', '{"only_unread": "yes"}');
SELECT inbox.list('u1', '{"only_unread": true, "read": true}');
SELECT inbox.list('u1', '{"only_after": "yesterday"}');
SELECT inbox.list('u1', '{"only_after": 20240101}');
SELECT inbox.groups('u1', '{"exclude_types": 3}');
