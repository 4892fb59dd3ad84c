-- ---------------------------------------------------------------------------------------------
-- 35_groups: grouped notifications, the way Mastodon groups them. inbox.groups pages through a
-- user's groups (newest activity first) with the list's filters and keyset cursors; see
-- extension/src/query/groups_compiler.hpp for how a page is answered from the summaries that
-- 00_schema.sql keeps.
-- ---------------------------------------------------------------------------------------------

-- Up to 8 distinct actors from a JSON array of actor arrays, newest notification first.
-- (The Mastodon v2 page's groups' statement writes this rule inline, over a group's rows by id:
-- extension/src/social/query.cpp, group_rows_statement, for speed. A change here goes there too.)
CREATE FUNCTION inbox._sample_actors(actor_lists jsonb)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ARRAY(
        SELECT a.actor FROM pg_catalog.jsonb_array_elements(actor_lists) WITH ORDINALITY AS l(actors, i),
                            pg_catalog.jsonb_array_elements_text(l.actors) WITH ORDINALITY AS a(actor, k)
         GROUP BY a.actor
         ORDER BY min(l.i), min(a.k), a.actor
         LIMIT 8)
$$;

-- A group in the API shape. A NULL group_key is a notification without one: Mastodon's
-- "ungrouped-{id}" rule, with the public id.
CREATE FUNCTION inbox._group_json(group_key text, notifications_count bigint, unread_count bigint,
                                  type text, latest_at timestamptz, latest_id bigint,
                                  sample_actor_ids text[])
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'groupKey',                 coalesce(group_key, 'ungrouped-' || inbox.public_id(latest_id)),
        'notificationsCount',       notifications_count,
        'unreadCount',              unread_count,
        'type',                     type,
        'latestAt',                 inbox.iso_time(latest_at),
        'mostRecentNotificationId', inbox.public_id(latest_id),
        'sampleActorIds',           pg_catalog.to_jsonb(sample_actor_ids))
$$;

CREATE FUNCTION inbox.groups(user_id text, params jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_groups'
LANGUAGE C STABLE;

COMMENT ON FUNCTION inbox.groups(text, jsonb) IS
    'A page of user_id''s notification groups (by groupKey; a notification without one is its own group), newest activity first: params as inbox.list except orderBy and expand. Returns {data, pageInfo}.';
