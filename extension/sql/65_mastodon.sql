-- ---------------------------------------------------------------------------------------------
-- 65_mastodon: the social dialects' shared pieces (types, entities from relations) and
-- Mastodon's notifications API (README, "Mastodon and Diaspora APIs"): v1 notifications, v2
-- grouped notifications, markers. One function per route of the server's mastodon dialect.
--
-- Mastodon's parameters are translated into the query engine's native params (types,
-- exclude_types, filter, limit) plus an id range (max_id, since_id, min_id), which the engine
-- reads as a keyset seek on the primary key (extension/src/social/query.hpp). A notification's
-- Mastodon id is its internal id as a decimal string: Mastodon's ids are ordered, and clients
-- compare them. The entity is built from the row (inbox.mastodon_json); its `account` and
-- `status` are the rows of the relations mastodon_account (over actorId) and mastodon_status
-- (over item), which a DBA shapes into Mastodon's Account and Status with a view.
-- ---------------------------------------------------------------------------------------------

-- Registers the notification types of a social dialect: Mastodon's fourteen or Diaspora's nine.
CREATE FUNCTION inbox.register_types(dialect text)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    t record;
    n integer := 0;
BEGIN
    IF dialect IS DISTINCT FROM 'mastodon' AND dialect IS DISTINCT FROM 'diaspora' THEN
        RAISE EXCEPTION 'dialect: expected mastodon or diaspora, got %', coalesce(pg_catalog.quote_literal(dialect), 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR t IN SELECT * FROM (VALUES
        ('mastodon', 'mention', 'Someone mentioned you in their status', false),
        ('mastodon', 'status', 'Someone you enabled notifications for has posted a status', false),
        ('mastodon', 'reblog', 'Someone boosted one of your statuses', false),
        ('mastodon', 'follow', 'Someone followed you', false),
        ('mastodon', 'follow_request', 'Someone requested to follow you', false),
        ('mastodon', 'favourite', 'Someone favourited one of your statuses', false),
        ('mastodon', 'poll', 'A poll you have voted in or created has ended', false),
        ('mastodon', 'update', 'A status you interacted with has been edited', false),
        ('mastodon', 'admin.sign_up', 'Someone signed up (optionally sent to admins)', false),
        ('mastodon', 'admin.report', 'A new report has been filed', false),
        ('mastodon', 'severed_relationships', 'Some of your follow relationships have been severed as a result of a moderation or block event', false),
        ('mastodon', 'moderation_warning', 'A moderator has taken action against your account or has sent you a warning', false),
        ('mastodon', 'quote', 'Someone has quoted one of your statuses', false),
        ('mastodon', 'quoted_update', 'A status you have quoted has been edited', false),
        ('diaspora', 'also_commented', 'Someone commented on a post the current user also commented on.', true),
        ('diaspora', 'commented_on_post', 'Someone commented on a post the current user created.', true),
        ('diaspora', 'liked', 'Someone liked a post the current user created.', true),
        ('diaspora', 'liked_comment', 'Someone liked a comment the current user created.', true),
        ('diaspora', 'mentioned', 'Someone mentioned the current user in a post.', false),
        ('diaspora', 'mentioned_in_comment', 'Someone mentioned the current user in a comment of a post.', false),
        ('diaspora', 'reshared', 'Someone reshared one of the current user''s posts.', true),
        ('diaspora', 'started_sharing', 'Someone started sharing with the current user.', false),
        ('diaspora', 'contacts_birthday', 'Someone in the contacts of the current user has their birthday.', false)
    ) AS v(dialect, name, description, aggregate)
    WHERE v.dialect = register_types.dialect LOOP
        PERFORM inbox.register_type(t.name, t.description, t.aggregate);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

COMMENT ON FUNCTION inbox.register_types(text) IS
    'Registers the notification types of a social API: ''mastodon'' (its 14 types, none aggregated: Mastodon groups by group_key instead) or ''diaspora'' (its 9; those with several event_creators aggregate). Returns how many.';

-- The rows of `relation` for the keys (a JSON array of strings), as {key: row}; {} when no
-- such relation is defined, so an entity without its relation falls back to what the row says.
CREATE FUNCTION inbox.related_rows(relation text, keys jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_related_rows'
LANGUAGE C STABLE;

COMMENT ON FUNCTION inbox.related_rows(text, jsonb) IS
    'The rows of a registered relation for a JSON array of keys, as {key: row} (each row as expand embeds it); keys without a row are left out.';

CREATE FUNCTION inbox._social_rows(relation text, keys jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF keys IS NULL OR keys = '[]' OR NOT EXISTS (SELECT FROM inbox.relations r WHERE r.name = relation) THEN
        RETURN '{}';
    END IF;
    RETURN inbox.related_rows(relation, keys);
END
$$;

-- A page of the engine over one user's rows in an id range, each row shaped by the dialect's
-- entity function (inbox.mastodon_json, inbox.diaspora_json). {data, pageInfo}, newest first.
CREATE FUNCTION inbox._social_list(user_id text, params jsonb, dialect text,
                                   max_id bigint DEFAULT NULL, since_id bigint DEFAULT NULL,
                                   min_id bigint DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_social_list'
LANGUAGE C STABLE;

-- A page of inbox.groups over one user's rows in an id range.
CREATE FUNCTION inbox._social_groups(user_id text, params jsonb, max_id bigint DEFAULT NULL,
                                     since_id bigint DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_social_groups'
LANGUAGE C STABLE;

-- The caller's active notification `id` as a row, for the routes of one notification of both
-- dialects; P0002 naming it as the route did (`shown`) when it is not there, is another user's,
-- is deleted, or (for a token bound to a workspace) is in another workspace.
CREATE FUNCTION inbox._social_row(caller inbox.caller, id bigint, shown text)
RETURNS inbox.notifications
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found_row inbox.notifications;
BEGIN
    SELECT n.* INTO found_row FROM inbox.notifications n
     WHERE n.user_id = caller.user_id AND n.id = _social_row.id AND n.deleted_at IS NULL
       AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'notification % not found', coalesce(shown, 'null') USING ERRCODE = 'no_data_found';
    END IF;
    RETURN found_row;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Mastodon: parameters, authentication, entities
-- ---------------------------------------------------------------------------------------------

-- Mastodon's scopes and pg_inbox's: read and read:notifications are notifications:read, write
-- and write:notifications are notifications:write. A pg_inbox token is the bearer token.
CREATE FUNCTION inbox._mastodon_caller(token text, write boolean DEFAULT false)
RETURNS inbox.caller
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN inbox.authenticate(token, CASE WHEN write THEN 'notifications:write' ELSE 'notifications:read' END);
END
$$;

-- A Mastodon id parameter: the decimal internal id. Anything else, and ids out of range, are
-- 22023 naming the parameter.
CREATE FUNCTION inbox._mastodon_id_param(params jsonb, name text)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    value text := params->>name;
BEGIN
    IF value IS NULL OR value = '' THEN
        RETURN NULL;
    END IF;
    IF pg_catalog.jsonb_typeof(params->name) <> 'string' OR value !~ '^[0-9]{1,18}$' THEN
        RAISE EXCEPTION '%: expected a notification id, got %', name, pg_catalog.quote_literal(value)
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN value::bigint;
END
$$;

-- Mastodon's limit: the default when absent; a larger one is clamped to the maximum, as Mastodon
-- does (limit_param); 0 or a negative number is taken as 1 (Mastodon would ask the database
-- for no rows, or take the absolute value); what is not an integer is 22023.
CREATE FUNCTION inbox._mastodon_limit(params jsonb, default_limit integer, max_limit integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    value text := params->>'limit';
BEGIN
    IF value IS NULL OR value = '' THEN
        RETURN default_limit;
    END IF;
    IF pg_catalog.jsonb_typeof(params->'limit') <> 'string' OR value !~ '^-?[0-9]{1,9}$' THEN
        RAISE EXCEPTION 'limit: expected an integer, got %', pg_catalog.quote_literal(value)
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN greatest(1, least(pg_catalog.abs(value::integer), max_limit));
END
$$;

-- A list parameter (types[], exclude_types[], grouped_types[]): an array of strings, or one
-- string (types=mention). Unknown type names are 22023, so a typo never widens a list.
CREATE FUNCTION inbox._mastodon_types(params jsonb, name text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    value jsonb := params->name;
    unknown text;
BEGIN
    IF value IS NULL THEN
        RETURN NULL;
    END IF;
    IF pg_catalog.jsonb_typeof(value) = 'string' THEN
        value := pg_catalog.jsonb_build_array(value);
    END IF;
    SELECT t INTO unknown FROM pg_catalog.jsonb_array_elements_text(value) AS t
     WHERE t NOT IN (SELECT r.name FROM inbox.notification_types r)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%[]: unknown notification type %', name, pg_catalog.quote_literal(unknown)
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Register Mastodon''s types with inbox.register_types(''mastodon'').';
    END IF;
    RETURN value;
END
$$;

-- The engine's params for a Mastodon list: page size, type lists, the account filter, the
-- token's workspace.
CREATE FUNCTION inbox._mastodon_engine_params(caller inbox.caller, params jsonb, lim integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    out jsonb := pg_catalog.jsonb_build_object('limit', lim, 'total', false);
BEGIN
    IF params ? 'types' THEN
        out := out || pg_catalog.jsonb_build_object('types', inbox._mastodon_types(params, 'types'));
    END IF;
    IF params ? 'exclude_types' THEN
        out := out || pg_catalog.jsonb_build_object('exclude_types', inbox._mastodon_types(params, 'exclude_types'));
    END IF;
    IF coalesce(params->>'account_id', '') <> '' THEN
        out := out || pg_catalog.jsonb_build_object('filter', pg_catalog.jsonb_build_object('actorId', params->>'account_id'));
    END IF;
    IF caller.workspace_id IS NOT NULL THEN
        out := out || pg_catalog.jsonb_build_object('workspace_id', caller.workspace_id);
    END IF;
    RETURN out;
END
$$;

-- The Notification entity from the row. `account` is the actor's id until _mastodon_entities
-- puts the account row in its place; `status` (the item) likewise, and goes when no status
-- row exists.
CREATE FUNCTION inbox.mastodon_json(n inbox.notifications)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'id',         n.id::text,
        'type',       n.type,
        'created_at', inbox.directus_time(n.created_at),
        'group_key',  coalesce(n.group_key, 'ungrouped-' || n.id::text),
        'account',    n.actor_id,
        'status',     n.item)
$$;

COMMENT ON FUNCTION inbox.mastodon_json(inbox.notifications) IS
    'A notification as Mastodon''s Notification entity, before its account and status rows are put in (id is the internal id as a string; group_key is ungrouped-{id} without one).';

-- An Account for an actor without a row in mastodon_account: its id as every name.
CREATE FUNCTION inbox._mastodon_account_stub(actor text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN actor IS NULL THEN NULL
                ELSE pg_catalog.jsonb_build_object('id', actor, 'username', actor, 'acct', actor,
                                                   'display_name', actor) END
$$;

-- The accounts of actor ids, in their order, from mastodon_account (a stub for an actor
-- without a row).
CREATE FUNCTION inbox._mastodon_accounts(ids jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found jsonb := inbox._social_rows('mastodon_account', ids);
BEGIN
    RETURN coalesce((SELECT pg_catalog.jsonb_agg(coalesce(found->i.id, inbox._mastodon_account_stub(i.id)) ORDER BY i.o)
                       FROM pg_catalog.jsonb_array_elements_text(ids) WITH ORDINALITY AS i(id, o)), '[]');
END
$$;

-- What a Notification carries besides its account, by its type, as Mastodon attaches it: the
-- notification's `item` names a Report for admin.report, a RelationshipSeveranceEvent for
-- severed_relationships, an AccountWarning for moderation_warning, and a Status for any other
-- type. Each is the row of a registered relation over `item` that a DBA shapes into Mastodon's
-- entity with a view (README, "Shaping accounts, statuses and people with a view").
CREATE FUNCTION inbox._mastodon_target_relation(type text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN type = 'admin.report' THEN 'mastodon_report'
                WHEN type = 'severed_relationships' THEN 'mastodon_relationship_severance_event'
                WHEN type = 'moderation_warning' THEN 'mastodon_moderation_warning'
                ELSE 'mastodon_status' END
$$;

-- The keys the object goes under in a Notification. The severance event goes under both
-- Mastodon's documented `relationship_severance_event` and `event`, the key Mastodon's server
-- writes and its clients (masto.js) read.
CREATE FUNCTION inbox._mastodon_target_keys(relation text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN relation = 'mastodon_report' THEN ARRAY['report']
                WHEN relation = 'mastodon_relationship_severance_event' THEN ARRAY['relationship_severance_event', 'event']
                WHEN relation = 'mastodon_moderation_warning' THEN ARRAY['moderation_warning']
                ELSE ARRAY['status'] END
$$;

-- Entities from mastodon_json (whose `status` is the item) with the item's object in place of
-- `status`, under its keys (left out when its relation has no row for it): one look-up per
-- relation for the whole page. The account is left as the actor id.
CREATE FUNCTION inbox._mastodon_targets(entities jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found jsonb;  -- {relation: {item: row}}
BEGIN
    SELECT pg_catalog.jsonb_object_agg(t.relation, inbox._social_rows(t.relation, t.items)) INTO found
      FROM (SELECT inbox._mastodon_target_relation(e->>'type') AS relation, pg_catalog.jsonb_agg(DISTINCT e->'status') AS items
              FROM pg_catalog.jsonb_array_elements(entities) AS e
             WHERE pg_catalog.jsonb_typeof(e->'status') = 'string'
             GROUP BY 1) t;
    RETURN coalesce((
        SELECT pg_catalog.jsonb_agg(
                   (e.v - 'status')
                   || coalesce((SELECT pg_catalog.jsonb_object_agg(k, o.obj)
                                  FROM pg_catalog.unnest(inbox._mastodon_target_keys(o.relation)) AS k
                                 WHERE o.obj IS NOT NULL), '{}')
                   ORDER BY e.o)
          FROM pg_catalog.jsonb_array_elements(entities) WITH ORDINALITY AS e(v, o),
               LATERAL (SELECT r.relation, found->r.relation->(e.v->>'status') AS obj
                          FROM (SELECT inbox._mastodon_target_relation(e.v->>'type') AS relation) r) o), '[]');
END
$$;

-- Entities from mastodon_json with their account and their item's object in place (the v1
-- list, one notification, the streams' payloads): one look-up per relation for the whole page.
CREATE FUNCTION inbox._mastodon_entities(entities jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    accounts jsonb := inbox._social_rows('mastodon_account',
        (SELECT pg_catalog.jsonb_agg(DISTINCT e->'account') FROM pg_catalog.jsonb_array_elements(entities) AS e
          WHERE pg_catalog.jsonb_typeof(e->'account') = 'string'));
BEGIN
    RETURN coalesce((
        SELECT pg_catalog.jsonb_agg(
                   e.v || pg_catalog.jsonb_build_object('account',
                              coalesce(accounts->(e.v->>'account'), inbox._mastodon_account_stub(e.v->>'account')))
                   ORDER BY e.o)
          FROM pg_catalog.jsonb_array_elements(inbox._mastodon_targets(entities)) WITH ORDINALITY AS e(v, o)), '[]');
END
$$;

-- Mastodon's Link header: next (max_id: the page's last id) and prev (min_id: its first id),
-- each with the request's own paging-independent parameters, as Rails writes a query string:
-- keys sorted, a list as key%5B%5D=value in its order, values escaped as CGI.escape does.
CREATE FUNCTION inbox._mastodon_link(origin text, path text, params jsonb, keep text[],
                                     first_id text, last_id text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    parts text[] := '{}';
    key text;
    base text;
    next_parts text[];
    prev_parts text[];
BEGIN
    IF first_id IS NULL THEN
        RETURN NULL;
    END IF;
    FOREACH key IN ARRAY keep LOOP
        CONTINUE WHEN NOT params ? key;
        IF pg_catalog.jsonb_typeof(params->key) = 'array' THEN
            parts := parts || (SELECT pg_catalog.string_agg(inbox._cgi_escape(key || '[]') || '=' || inbox._cgi_escape(v), '&' ORDER BY o)
                                 FROM pg_catalog.jsonb_array_elements_text(params->key) WITH ORDINALITY AS a(v, o));
        ELSE
            parts := parts || (inbox._cgi_escape(key) || '=' || inbox._cgi_escape(params->>key));
        END IF;
    END LOOP;
    base := coalesce(origin, '') || path || '?';
    next_parts := ARRAY(SELECT p FROM pg_catalog.unnest(parts || ('max_id=' || last_id)) AS p ORDER BY p COLLATE "C");
    prev_parts := ARRAY(SELECT p FROM pg_catalog.unnest(parts || ('min_id=' || first_id)) AS p ORDER BY p COLLATE "C");
    RETURN '<' || base || pg_catalog.array_to_string(next_parts, '&') || '>; rel="next", <'
        || base || pg_catalog.array_to_string(prev_parts, '&') || '>; rel="prev"';
END
$$;

-- CGI.escape: letters, digits and *-._ stay, a space is +, every other byte is %XX (upper case).
CREATE FUNCTION inbox._cgi_escape(value text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(pg_catalog.string_agg(
               CASE WHEN b.c BETWEEN 48 AND 57 OR b.c BETWEEN 65 AND 90 OR b.c BETWEEN 97 AND 122
                         OR b.c IN (42, 45, 46, 95) THEN pg_catalog.chr(b.c)
                    WHEN b.c = 32 THEN '+'
                    ELSE '%' || pg_catalog.upper(pg_catalog.lpad(pg_catalog.to_hex(b.c), 2, '0')) END,
               '' ORDER BY b.i), '')
      FROM (SELECT pg_catalog.get_byte(s.bytes, i.i) AS c, i.i
              FROM (SELECT pg_catalog.convert_to(value, 'UTF8') AS bytes) s,
                   pg_catalog.generate_series(0, pg_catalog.length(s.bytes) - 1) AS i(i)) b
$$;

-- The notification id of a route ({id}), or NULL for text that is no id: Mastodon answers 404
-- for it (Rails finds no record), exactly as for another user's id.
CREATE FUNCTION inbox._mastodon_path_id(id text)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN id ~ '^[0-9]{1,18}$' THEN id::bigint END
$$;

-- The caller's active notification by its Mastodon id, as a row (P0002 otherwise).
CREATE FUNCTION inbox._mastodon_row(caller inbox.caller, id text)
RETURNS inbox.notifications
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN inbox._social_row(caller, inbox._mastodon_path_id(id), id);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Mastodon v1: notifications
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.mastodon_notifications(token text, query jsonb, origin text,
                                             OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    page jsonb;
BEGIN
    page := inbox._social_list(caller.user_id,
                               inbox._mastodon_engine_params(caller, params, inbox._mastodon_limit(params, 40, 80)),
                               'mastodon',
                               inbox._mastodon_id_param(params, 'max_id'),
                               inbox._mastodon_id_param(params, 'since_id'),
                               inbox._mastodon_id_param(params, 'min_id'));
    body := inbox._mastodon_entities(page->'data');
    link := inbox._mastodon_link(origin, '/api/v1/notifications', params,
                                 ARRAY['account_id', 'exclude_types', 'limit', 'types'],
                                 body->0->>'id', body->-1->>'id');
END
$$;

COMMENT ON FUNCTION inbox.mastodon_notifications(text, jsonb, text) IS
    'GET /api/v1/notifications: the caller''s notifications as Mastodon entities, newest first (max_id, since_id, min_id, limit 40/80, types[], exclude_types[], account_id), and the Link header.';

CREATE FUNCTION inbox.mastodon_notification(token text, id text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
BEGIN
    RETURN inbox._mastodon_entities(pg_catalog.jsonb_build_array(
        inbox.mastodon_json(inbox._mastodon_row(caller, id))))->0;
END
$$;

COMMENT ON FUNCTION inbox.mastodon_notification(text, text) IS
    'GET /api/v1/notifications/:id: one notification as a Mastodon entity (404 for an unknown id, another user''s, or one that is not an id).';

-- The streams' notifications (GET /api/v1/streaming): the caller's active notifications among
-- `ids` (internal ids, a JSON array of strings or numbers, as the change feed names them), as
-- the Notification entities the v1 list answers (inbox.mastodon_json with its account and status
-- rows: one shape), in id order. A gone notification, another user's or another workspace's is
-- left out. One read of the user's rows by primary key, for a whole batch of events; the rows
-- are shaped where the function runs, as inbox.mastodon_notification shapes its row (on Citus a
-- shaping call inside the query on the shard is refused).
CREATE FUNCTION inbox.mastodon_stream_notifications(token text, ids jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    keys bigint[] := ARRAY(SELECT k::bigint FROM pg_catalog.jsonb_array_elements_text(coalesce(ids, '[]')) AS k
                            WHERE k ~ '^[0-9]{1,18}$');
    found_row inbox.notifications;
    entities jsonb := '[]';
BEGIN
    FOR found_row IN
        SELECT n.* FROM inbox.notifications n
         WHERE n.user_id = caller.user_id AND n.id = ANY (keys) AND n.deleted_at IS NULL
           AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)
         ORDER BY n.id
    LOOP
        entities := entities || pg_catalog.jsonb_build_array(inbox.mastodon_json(found_row));
    END LOOP;
    RETURN inbox._mastodon_entities(entities);
END
$$;

COMMENT ON FUNCTION inbox.mastodon_stream_notifications(text, jsonb) IS
    'The Mastodon streams'' payloads: the caller''s active notifications among a JSON array of internal ids, as the Notification entities GET /api/v1/notifications answers, in id order.';

-- Dismiss is pg_inbox's soft delete: the notification leaves every Mastodon list and can be
-- restored through the native API.
CREATE FUNCTION inbox.mastodon_dismiss(token text, id text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token, write => true);
    found_row inbox.notifications := inbox._mastodon_row(caller, id);
BEGIN
    PERFORM inbox.soft_delete(caller.user_id, inbox.public_id(found_row.id));
    RETURN '{}';
END
$$;

COMMENT ON FUNCTION inbox.mastodon_dismiss(text, text) IS
    'POST /api/v1/notifications/:id/dismiss: soft-deletes the notification; returns {}.';

CREATE FUNCTION inbox.mastodon_clear(token text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token, write => true);
    ids text[];
BEGIN
    ids := ARRAY(SELECT inbox.public_id(n.id) FROM inbox.notifications n
                  WHERE n.user_id = caller.user_id AND n.deleted_at IS NULL
                    AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)
                  ORDER BY n.id);
    IF pg_catalog.cardinality(ids) > 0 THEN
        PERFORM inbox.soft_delete(caller.user_id, ids);
    END IF;
    RETURN '{}';
END
$$;

COMMENT ON FUNCTION inbox.mastodon_clear(text) IS
    'POST /api/v1/notifications/clear: soft-deletes every notification of the caller; returns {}.';

-- The number of unread notifications, capped at limit (default 100, at most 1000) as Mastodon
-- caps it. Without type or account parameters it is the counter (O(1)); with them the engine
-- counts the unread rows that match.
CREATE FUNCTION inbox.mastodon_unread_count(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    cap integer := inbox._mastodon_limit(params, 100, 1000);
    engine jsonb := inbox._mastodon_engine_params(caller, params, 1);
    n bigint;
BEGIN
    IF engine ?| ARRAY['types', 'exclude_types', 'filter'] THEN
        n := (inbox.list(caller.user_id, engine || '{"read": false, "total": true}')->'pageInfo'->>'total')::bigint;
    ELSE
        n := inbox.unread_count(caller.user_id, caller.workspace_id);
    END IF;
    RETURN pg_catalog.jsonb_build_object('count', least(n, cap));
END
$$;

COMMENT ON FUNCTION inbox.mastodon_unread_count(text, jsonb) IS
    'GET /api/v1/notifications/unread_count and /api/v2/notifications/unread_count: {"count": n}, the unread notifications (types[], exclude_types[], account_id narrow it), capped at limit (default 100, max 1000).';

-- ---------------------------------------------------------------------------------------------
-- Mastodon v2: grouped notifications
-- ---------------------------------------------------------------------------------------------

-- A group key as Mastodon shows it: pg_inbox's ungrouped-<public id> is ungrouped-<id>.
CREATE FUNCTION inbox._mastodon_group_key(key text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE WHEN key LIKE 'ungrouped-ntf\_%' THEN 'ungrouped-' || inbox.internal_id(pg_catalog.substr(key, 11))::text
                ELSE key END
$$;

-- The v2 answer {accounts, statuses, notification_groups} for groups in Mastodon's
-- NotificationGroup shape (`groups`: group_key, notifications_count, ... sample_account_ids) and
-- their representative notifications (`notifications`, in the same order: mastodon_json, or of
-- it at least `type` and `status`, all that is read here): each
-- group takes its notification's object as the v1 entity does (_mastodon_targets: one shape), a
-- status as `status_id` (the status itself in `statuses`), a report as `report`, a severance
-- event as `event`, a warning as `moderation_warning`. `accounts` are the sample accounts
-- (expand_accounts=partial_avatars still lists them in full). A page's groups come from
-- _mastodon_page_groups, one group's from mastodon_group. A statement of its own, apart from the
-- user's rows: on Citus the statement that reads them runs on the user's shard, where the
-- relations behind accounts and objects cannot be read. accounts: the groups' sample accounts,
-- shaped as _mastodon_accounts shapes them (distinct, in jsonb's order of their ids), when the
-- caller has them (_mastodon_page_groups reads them with the page); otherwise taken from the
-- groups here.
CREATE FUNCTION inbox._mastodon_grouped(groups jsonb, notifications jsonb, accounts jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    -- The sample accounts de-duplicated and shaped (unless the caller has them), apart from the
    -- statement below: inside it, a coalesce over them let every call plan it anew.
    IF accounts IS NULL THEN
        accounts := inbox._mastodon_accounts((
            SELECT coalesce(pg_catalog.jsonb_agg(DISTINCT s.id), '[]')
              FROM pg_catalog.jsonb_array_elements(groups) AS g(g),
                   pg_catalog.jsonb_array_elements(g.g->'sample_account_ids') AS s(id)));
    END IF;
    -- One statement: the groups' objects by one look-up per relation (_mastodon_targets).
    RETURN (
        WITH g AS (SELECT a.g, a.o FROM pg_catalog.jsonb_array_elements(groups) WITH ORDINALITY AS a(g, o)),
             n AS (SELECT a.n, a.o FROM pg_catalog.jsonb_array_elements(notifications) WITH ORDINALITY AS a(n, o)),
             t AS (SELECT t.v, t.o
                     FROM pg_catalog.jsonb_array_elements(inbox._mastodon_targets(notifications)) WITH ORDINALITY AS t(v, o))
        SELECT pg_catalog.jsonb_build_object(
                   'accounts', accounts,
                   'statuses', coalesce(pg_catalog.jsonb_agg(DISTINCT t.v->'status') FILTER (WHERE t.v ? 'status'), '[]'),
                   'notification_groups', coalesce(pg_catalog.jsonb_agg(
                       g.g
                       || (t.v - ARRAY['id', 'type', 'created_at', 'group_key', 'account', 'status', 'relationship_severance_event'])
                       || CASE WHEN t.v ? 'status' THEN pg_catalog.jsonb_build_object('status_id', n.n->'status')
                               ELSE '{}' END
                       ORDER BY g.o), '[]'))
          FROM g JOIN n ON n.o = g.o JOIN t ON t.o = g.o);
END
$$;

-- A group's rows newest first by id, as Mastodon orders them: the 8 most recent rows of each
-- group a v2 page shows are a LIMIT 8 read of it (notifications_group_idx orders by created_at,
-- which a concurrent insert can leave out of id order).
CREATE INDEX notifications_group_id_idx ON inbox.notifications
    (user_id, group_key, id DESC) WHERE deleted_at IS NULL AND group_key IS NOT NULL;

-- Whether a v2 page counts a row of a group it shows: the request's filters (types[],
-- exclude_types[], account_id, the token's workspace) and grouped_types[] (a row of a type it
-- leaves out is no group's). The one statement of these conditions for the groups' LIMIT 8 read
-- and their count; a SQL expression the planner inlines into each (no call per row).
CREATE FUNCTION inbox._mastodon_counted(engine jsonb, type text, actor_id text, workspace_id text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT (NOT engine ? 'types' OR engine->'types' ? type)
       AND (NOT engine ? 'exclude_types' OR NOT engine->'exclude_types' ? type)
       AND (NOT engine ? 'grouped_types' OR engine->'grouped_types' ? type)
       AND (NOT engine ? 'filter' OR actor_id = engine->'filter'->>'actorId')
       AND (NOT engine ? 'workspace_id' OR workspace_id = engine->>'workspace_id')
$$;

-- A v2 page as Mastodon pages groups (Notification.paginate_groups_by_max_id / _by_min_id) and
-- computes them (NotificationGroup.load_groups_data), as {groups: the groups' own fields,
-- notifications: their representatives' type and status (the item), as mastodon_json names
-- them, accounts: the groups' sample accounts, distinct, in jsonb's order of their ids, shaped
-- as _mastodon_accounts shapes them (left out when a sample is no string)}, newest first, for
-- _mastodon_grouped.
--
-- The page: the user's matching rows in the request's id range, read by the engine in id order,
-- `limit` (at least 40) at a time (keyset seeks on (user_id, id), never an offset), until `limit`
-- groups have begun: newest first below max_id (and above since_id), or with min_id oldest first
-- above it (below max_id). A row's group key is its group_key, or ungrouped-{id} for a row
-- without one or of a type grouped_types[] (engine->'grouped_types', when the request names
-- them) leaves out. A group's representative is the first of its rows the scan meets (its newest
-- in the range; by min_id its oldest), and the page's id range runs from the oldest to the newest
-- representative (a page with fewer groups than `limit` reaches to since_id, or by min_id to
-- max_id).
--
-- Each group over that range: notifications_count, the most recent notification (the
-- page_max_id), its time and the sample accounts (the actors of the 8 most recent rows, distinct)
-- over the group's rows up to the range's top; page_min_id its oldest row in the range (every
-- row of the range passes through the scan). The rows are those the request matches (types[],
-- exclude_types[], account_id, the token's workspace, grouped_types[]: inbox._mastodon_counted).
-- A row of its own (ungrouped-{id}) is its own group, formed from the scan's row: one row, its
-- time, its actors. What a group of several rows costs is bounded by what the page shows, not by
-- the group's size: the 8 most recent rows are a LIMIT 8 read of notifications_group_id_idx, and
-- without a filter notifications_count is the group's summary (inbox.notification_groups counts
-- its active rows) less its active rows above the range's top (none on a first page) and its
-- expired ones not pruned yet (the page reads the user's on notifications_expires_idx once).
-- With a filter the summary does not apply: the matching rows up to the top are counted.
--
-- In C++ (fn/social.cpp): each seek is the engine's page statement, its rows folded one by one
-- as they come into the groups begun so far (social/group_fold.hpp; a group of many thousand
-- rows costs its seeks), and the groups of several rows are one statement
-- (social/query.hpp: group_rows_statement), planned once for every value.
CREATE FUNCTION inbox._mastodon_page_groups(user_id text, engine jsonb, max_id bigint, since_id bigint,
                                            min_id bigint)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgi_mastodon_page_groups'
LANGUAGE C STABLE;

CREATE FUNCTION inbox.mastodon_groups(token text, query jsonb, origin text,
                                      OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    params jsonb := coalesce(query, '{}');
    engine jsonb := inbox._mastodon_engine_params(caller, params, inbox._mastodon_limit(params, 40, 80)) - 'total';
    max_id bigint := inbox._mastodon_id_param(params, 'max_id');
    since_id bigint := inbox._mastodon_id_param(params, 'since_id');
    min_id bigint := inbox._mastodon_id_param(params, 'min_id');
    page jsonb;
    newest text;
    oldest text;
BEGIN
    -- grouped_types[]: the types that group; a row of any other type is ungrouped-{id}. Left
    -- out, every type groups by its groupKey.
    IF params ? 'grouped_types' THEN
        engine := engine || pg_catalog.jsonb_build_object('grouped_types', inbox._mastodon_types(params, 'grouped_types'));
    END IF;
    IF params ? 'expand_accounts' AND params->>'expand_accounts' NOT IN ('full', 'partial_avatars') THEN
        RAISE EXCEPTION 'expand_accounts: expected full or partial_avatars, got %', pg_catalog.quote_literal(params->>'expand_accounts')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    page := inbox._mastodon_page_groups(caller.user_id, engine || '{"total": false}', max_id, since_id, min_id);
    body := inbox._mastodon_grouped(page->'groups', page->'notifications', page->'accounts');
    -- The Link from the ends of the page's range: next continues below its oldest row, prev
    -- above its newest. On a full page these are Mastodon's (the oldest and the newest
    -- representative); on a page with fewer groups than `limit` the range reaches past the
    -- oldest representative, and Mastodon's next would show that range's older rows again.
    SELECT pg_catalog.max((g->>'page_max_id')::bigint)::text, pg_catalog.min((g->>'page_min_id')::bigint)::text
      INTO newest, oldest
      FROM pg_catalog.jsonb_array_elements(body->'notification_groups') AS g;
    link := inbox._mastodon_link(origin, '/api/v2/notifications', params,
                                 ARRAY['account_id', 'exclude_types', 'expand_accounts', 'grouped_types', 'limit', 'types'],
                                 newest, oldest);
END
$$;

COMMENT ON FUNCTION inbox.mastodon_groups(text, jsonb, text) IS
    'GET /api/v2/notifications: the caller''s notification groups as Mastodon pages them (an id range read newest first until limit groups have begun; each group over that range) as its GroupedNotificationsResults {accounts, statuses, notification_groups}, and the Link header.';

-- The rows of a group key: ungrouped-{id} is that notification; any other key the rows with it.
CREATE FUNCTION inbox._mastodon_group_filter(caller inbox.caller, group_key text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found_row inbox.notifications;
BEGIN
    IF group_key LIKE 'ungrouped-%' THEN
        found_row := inbox._mastodon_row(caller, pg_catalog.substr(group_key, 11));
        RETURN pg_catalog.jsonb_build_object('ids', inbox.public_id(found_row.id));
    END IF;
    IF NOT EXISTS (SELECT FROM inbox.notifications n
                    WHERE n.user_id = caller.user_id AND n.group_key = _mastodon_group_filter.group_key
                      AND n.deleted_at IS NULL
                      AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)) THEN
        RAISE EXCEPTION 'notification group % not found', group_key USING ERRCODE = 'no_data_found';
    END IF;
    RETURN pg_catalog.jsonb_build_object('filter', pg_catalog.jsonb_build_object('groupKey', group_key));
END
$$;

CREATE FUNCTION inbox.mastodon_group(token text, group_key text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    narrow jsonb := inbox._mastodon_group_filter(caller, group_key);
    g jsonb;
    latest inbox.notifications;
BEGIN
    -- The group's summary (inbox.groups), its most recent notification the representative.
    g := inbox._social_groups(caller.user_id, narrow || pg_catalog.jsonb_build_object('limit', 1, 'total', false)
                                              || coalesce(pg_catalog.jsonb_build_object('workspace_id', caller.workspace_id), '{}'))->'data'->0;
    latest := inbox._social_row(caller, inbox.internal_id(g->>'mostRecentNotificationId'), group_key);
    RETURN inbox._mastodon_grouped(pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
        'group_key',                   inbox._mastodon_group_key(g->>'groupKey'),
        'notifications_count',         g->'notificationsCount',
        'type',                        g->'type',
        'most_recent_notification_id', latest.id::text,
        'page_min_id',                 latest.id::text,
        'page_max_id',                 latest.id::text,
        'latest_page_notification_at', inbox.directus_time((g->>'latestAt')::timestamptz),
        'sample_account_ids',          g->'sampleActorIds')),
        pg_catalog.jsonb_build_array(inbox.mastodon_json(latest)));
END
$$;

COMMENT ON FUNCTION inbox.mastodon_group(text, text) IS
    'GET /api/v2/notifications/:group_key: one group as {accounts, statuses, notification_groups: [group]}.';

CREATE FUNCTION inbox.mastodon_group_dismiss(token text, group_key text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token, write => true);
    narrow jsonb := inbox._mastodon_group_filter(caller, group_key);
    ids text[];
BEGIN
    IF narrow ? 'ids' THEN
        ids := ARRAY[narrow->>'ids'];
    ELSE
        ids := ARRAY(SELECT inbox.public_id(n.id) FROM inbox.notifications n
                      WHERE n.user_id = caller.user_id AND n.group_key = mastodon_group_dismiss.group_key
                        AND n.deleted_at IS NULL
                        AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)
                      ORDER BY n.id);
    END IF;
    PERFORM inbox.soft_delete(caller.user_id, ids);
    RETURN '{}';
END
$$;

COMMENT ON FUNCTION inbox.mastodon_group_dismiss(text, text) IS
    'POST /api/v2/notifications/:group_key/dismiss: soft-deletes every notification of the group; returns {}.';

CREATE FUNCTION inbox.mastodon_group_accounts(token text, group_key text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    narrow jsonb := inbox._mastodon_group_filter(caller, group_key);
    ids jsonb;
BEGIN
    -- Every actor of the group's notifications, most recent first.
    SELECT pg_catalog.jsonb_agg(a.actor ORDER BY a.latest DESC, a.actor) INTO ids
      FROM (SELECT x.actor, pg_catalog.max(n.id) AS latest
              FROM inbox.notifications n
                   CROSS JOIN LATERAL pg_catalog.unnest(inbox._actors(ROW(n.*)::inbox.notifications)) AS x(actor)
             WHERE n.user_id = caller.user_id AND n.deleted_at IS NULL
               AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)
               AND (n.group_key = mastodon_group_accounts.group_key
                    OR (narrow ? 'ids' AND n.id = inbox.internal_id(narrow->>'ids')))
             GROUP BY x.actor) a;
    RETURN inbox._mastodon_accounts(coalesce(ids, '[]'));
END
$$;

COMMENT ON FUNCTION inbox.mastodon_group_accounts(text, text) IS
    'GET /api/v2/notifications/:group_key/accounts: the accounts of every actor of the group, most recent first.';

-- ---------------------------------------------------------------------------------------------
-- Mastodon markers
-- ---------------------------------------------------------------------------------------------

-- A user's read position per timeline, as Mastodon keeps it. Keyed by user_id first (on Citus,
-- distributed with the notifications).
CREATE TABLE inbox.mastodon_markers (
    user_id      text        NOT NULL,
    timeline     text        NOT NULL,
    last_read_id bigint      NOT NULL,
    version      integer     NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT mastodon_markers_pkey PRIMARY KEY (user_id, timeline),
    CONSTRAINT mastodon_markers_timeline CHECK (timeline IN ('home', 'notifications'))
);

COMMENT ON TABLE inbox.mastodon_markers IS
    'Mastodon''s markers: per user and timeline (home, notifications) the last read id, its version (the number of updates) and when it moved. Moving the notifications marker marks the notifications up to it read.';

SELECT pg_catalog.pg_extension_config_dump('inbox.mastodon_markers', '');

CREATE FUNCTION inbox._mastodon_marker_json(m inbox.mastodon_markers)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object('last_read_id', m.last_read_id::text, 'version', m.version,
                                         'updated_at', inbox.directus_time(m.updated_at))
$$;

CREATE FUNCTION inbox.mastodon_markers(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token);
    wanted jsonb := coalesce(query->'timeline', '[]');
    out jsonb := '{}';
    m inbox.mastodon_markers;
BEGIN
    IF pg_catalog.jsonb_typeof(wanted) = 'string' THEN
        wanted := pg_catalog.jsonb_build_array(wanted);
    END IF;
    FOR m IN SELECT * FROM inbox.mastodon_markers k
              WHERE k.user_id = caller.user_id
                AND k.timeline IN (SELECT pg_catalog.jsonb_array_elements_text(wanted))
              ORDER BY k.timeline LOOP
        out := out || pg_catalog.jsonb_build_object(m.timeline, inbox._mastodon_marker_json(m));
    END LOOP;
    RETURN out;
END
$$;

COMMENT ON FUNCTION inbox.mastodon_markers(text, jsonb) IS
    'GET /api/v1/markers?timeline[]=notifications: the caller''s markers of the timelines asked for ({} without one).';

-- POST /api/v1/markers: {"notifications": {"last_read_id": "<id>"}} (and/or "home"). The
-- notifications marker moves to the id (it may move back, as Mastodon allows), its version
-- goes up by one, and every unread notification up to it is marked read through the SQL API
-- (the unread counter stays exact). Notifications above it keep their read state.
CREATE FUNCTION inbox.mastodon_set_markers(token text, body jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._mastodon_caller(token, write => true);
    tl text;
    value jsonb;
    last_id bigint;
    ids text[];
    m inbox.mastodon_markers;
    out jsonb := '{}';
    stamp timestamptz := pg_catalog.now();
    read_mark timestamptz;  -- the user's (issue 19), read once: never for each row
BEGIN
    IF body IS NULL OR pg_catalog.jsonb_typeof(body) <> 'object' OR body = '{}' THEN
        RAISE EXCEPTION 'body: expected {"notifications": {"last_read_id": "<id>"}}'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR tl, value IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(body) AS e ORDER BY e.key LOOP
        IF tl NOT IN ('home', 'notifications') THEN
            RAISE EXCEPTION '%: unknown timeline', tl
                  USING ERRCODE = 'invalid_parameter_value', HINT = 'Timelines: home, notifications.';
        END IF;
        IF pg_catalog.jsonb_typeof(value) <> 'object' THEN
            RAISE EXCEPTION '%: expected an object with last_read_id', tl USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF pg_catalog.jsonb_typeof(value->'last_read_id') = 'number' THEN
            value := pg_catalog.jsonb_build_object('last_read_id', value->>'last_read_id');
        END IF;
        last_id := inbox._mastodon_id_param(value, 'last_read_id');
        IF last_id IS NULL THEN
            RAISE EXCEPTION '%[last_read_id]: required', tl USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- As Rails' optimistic locking counts: version 0 when created, one more per change; a
        -- marker set to where it is changes nothing.
        -- (now() is read first: Citus takes only constants and immutable functions in DO UPDATE.)
        INSERT INTO inbox.mastodon_markers AS k (user_id, timeline, last_read_id, version, updated_at)
        VALUES (caller.user_id, tl, last_id, 0, stamp)
        ON CONFLICT (user_id, timeline) DO UPDATE
           SET last_read_id = excluded.last_read_id, version = k.version + 1, updated_at = excluded.updated_at
         WHERE k.last_read_id <> excluded.last_read_id
        RETURNING * INTO m;
        IF NOT FOUND THEN
            SELECT * INTO m FROM inbox.mastodon_markers k
             WHERE k.user_id = caller.user_id AND k.timeline = tl;
        END IF;
        IF tl = 'notifications' THEN
            read_mark := inbox._read_mark(caller.user_id);
            ids := ARRAY(SELECT inbox.public_id(n.id) FROM inbox.notifications n
                          WHERE n.user_id = caller.user_id AND n.id <= last_id
                            AND n.read_at IS NULL AND n.deleted_at IS NULL
                            AND NOT inbox._is_read(n.read_at, n.deleted_at, n.updated_at, read_mark)
                            AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id)
                          ORDER BY n.id);
            IF pg_catalog.cardinality(ids) > 0 THEN
                PERFORM inbox.mark_read(caller.user_id, ids);
            END IF;
        END IF;
        out := out || pg_catalog.jsonb_build_object(tl, inbox._mastodon_marker_json(m));
    END LOOP;
    RETURN out;
END
$$;

COMMENT ON FUNCTION inbox.mastodon_set_markers(text, jsonb) IS
    'POST /api/v1/markers: moves the caller''s markers ({"notifications": {"last_read_id": id}}); the notifications marker marks every unread notification up to it read. Returns the markers set.';
