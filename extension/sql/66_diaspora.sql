-- ---------------------------------------------------------------------------------------------
-- 66_diaspora: Diaspora's notifications API (seed 003; README, "Mastodon and Diaspora APIs"),
-- served under /diaspora/api/v1/notifications. One function per route of the server's diaspora
-- dialect; lists go through the one query engine (inbox._social_list) with its shorthands
-- only_after, only_unread and type.
--
-- A notification's guid is 32 lower-case hex characters: its internal id in 16, then 16 of a
-- digest of it. Each id has exactly one guid and any other text names no notification. The
-- entity is built from the row (inbox.diaspora_json); `target` is the row of the relation
-- diaspora_target (over item) and `event_creators` the rows of diaspora_person (over actorId)
-- for the notification's actors, which a DBA shapes with views (guid, author / guid,
-- diaspora_id, name, avatar).
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.diaspora_guid(id bigint)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT pg_catalog.lpad(pg_catalog.to_hex(id), 16, '0')
        || pg_catalog.substr(pg_catalog.md5('pg_inbox:' || id::text), 1, 16)
$$;

COMMENT ON FUNCTION inbox.diaspora_guid(bigint) IS
    'The Diaspora guid of a notification id: 32 lower-case hex characters, one spelling per id.';

-- The id a guid spells, or NULL for text that is not a guid of this spelling.
CREATE FUNCTION inbox._diaspora_id(guid text)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    id bigint;
BEGIN
    IF guid IS NULL OR guid !~ '^[0-7][0-9a-f]{31}$' THEN
        RETURN NULL;
    END IF;
    id := ('x' || pg_catalog.substr(guid, 1, 16))::bit(64)::bigint;
    IF inbox.diaspora_guid(id) <> guid THEN
        RETURN NULL;
    END IF;
    RETURN id;
END
$$;

-- The Notification object from the row. `target` is the item and `event_creators` the actor
-- ids until _diaspora_entities puts their rows in place. read_marks and seen are the user's
-- marks (inbox._user_marks), which the engine passes to a page (issue 19).
CREATE FUNCTION inbox._diaspora_json(n inbox.notifications, read_marks timestamptz[], seen jsonb)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'guid',           inbox.diaspora_guid(n.id),
        'type',           n.type,
        -- Read as inbox._shape says it: read_at, or the user's last read mark (a read-all).
        'read',           inbox._is_read(n.read_at, n.deleted_at, n.updated_at,
                                         read_marks[pg_catalog.array_upper(read_marks, 1)]),
        'created_at',     inbox.directus_time(n.created_at),
        'target',         CASE WHEN n.type IN ('started_sharing', 'contacts_birthday') THEN NULL ELSE n.item END,
        'event_creators', pg_catalog.to_jsonb(inbox._actors(n)))
$$;

CREATE FUNCTION inbox.diaspora_json(n inbox.notifications)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT inbox._diaspora_json(n, m.read_marks, m.seen) FROM inbox._user_marks(n.user_id) AS m
$$;

COMMENT ON FUNCTION inbox.diaspora_json(inbox.notifications) IS
    'A notification as Diaspora''s notification object, before its target and event_creators rows are put in.';

-- A person without a row in diaspora_person: its id as guid and diaspora_id.
CREATE FUNCTION inbox._diaspora_person_stub(actor text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object('guid', actor, 'diaspora_id', actor, 'name', actor, 'avatar', NULL)
$$;

CREATE FUNCTION inbox._diaspora_entities(entities jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    people jsonb := inbox._social_rows('diaspora_person',
        (SELECT pg_catalog.jsonb_agg(DISTINCT a) FROM pg_catalog.jsonb_array_elements(entities) AS e,
                pg_catalog.jsonb_array_elements(e->'event_creators') AS a));
    targets jsonb := inbox._social_rows('diaspora_target',
        (SELECT pg_catalog.jsonb_agg(DISTINCT e->'target') FROM pg_catalog.jsonb_array_elements(entities) AS e
          WHERE pg_catalog.jsonb_typeof(e->'target') = 'string'));
BEGIN
    RETURN coalesce((
        SELECT pg_catalog.jsonb_agg(
                   (e.v - 'target' - 'event_creators')
                   || CASE WHEN pg_catalog.jsonb_typeof(e.v->'target') = 'string'
                           THEN pg_catalog.jsonb_build_object('target',
                                    coalesce(targets->(e.v->>'target'),
                                             pg_catalog.jsonb_build_object('guid', e.v->>'target', 'author', NULL)))
                           ELSE '{}' END
                   || pg_catalog.jsonb_build_object('event_creators',
                          coalesce((SELECT pg_catalog.jsonb_agg(coalesce(people->a.id, inbox._diaspora_person_stub(a.id)) ORDER BY a.o)
                                      FROM pg_catalog.jsonb_array_elements_text(e.v->'event_creators') WITH ORDINALITY AS a(id, o)), '[]'))
                   ORDER BY e.o)
          FROM pg_catalog.jsonb_array_elements(entities) WITH ORDINALITY AS e(v, o)), '[]');
END
$$;

-- Diaspora's scope `notifications` is pg_inbox's notifications:read (lists) and, for the routes
-- that change the read state, notifications:write too.
CREATE FUNCTION inbox._diaspora_caller(token text, write boolean)
RETURNS inbox.caller
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:read');
BEGIN
    IF write THEN
        PERFORM inbox._rest_require(caller, 'notifications:write');
    END IF;
    RETURN caller;
END
$$;

-- The caller's active notification by guid (P0002 otherwise, also for text that is no guid).
CREATE FUNCTION inbox._diaspora_row(caller inbox.caller, guid text)
RETURNS inbox.notifications
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN inbox._social_row(caller, inbox._diaspora_id(guid), guid);
END
$$;

CREATE FUNCTION inbox._diaspora_one(caller inbox.caller, id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found_row inbox.notifications;
BEGIN
    SELECT n.* INTO found_row FROM inbox.notifications n WHERE n.user_id = caller.user_id AND n.id = _diaspora_one.id;
    RETURN inbox._diaspora_entities(pg_catalog.jsonb_build_array(inbox.diaspora_json(found_row)))->0;
END
$$;

-- GET /diaspora/api/v1/notifications: only_after, only_unread, type (the engine's shorthands),
-- per_page (default 15, at most 100) and before (a guid: the page below that notification),
-- newest first, with a Link header whose rel="next" continues below the page's last one.
CREATE FUNCTION inbox.diaspora_notifications(token text, query jsonb, origin text,
                                             OUT body jsonb, OUT link text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._diaspora_caller(token, false);
    params jsonb := inbox._rest_params(query, ARRAY['only_after', 'only_unread', 'type', 'per_page', 'before']);
    per_page integer := 15;
    before bigint;
    engine jsonb;
    page jsonb;
BEGIN
    IF params ? 'per_page' THEN
        IF params->>'per_page' !~ '^[0-9]{1,4}$' OR (params->>'per_page')::integer NOT BETWEEN 1 AND 100 THEN
            RAISE EXCEPTION 'per_page: expected 1 to 100, got %', pg_catalog.quote_literal(params->>'per_page')
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        per_page := (params->>'per_page')::integer;
    END IF;
    IF params ? 'before' THEN
        before := inbox._diaspora_id(params->>'before');
        IF before IS NULL THEN
            RAISE EXCEPTION 'before: expected a notification guid, got %', pg_catalog.quote_literal(params->>'before')
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    engine := (params - 'per_page' - 'before') || pg_catalog.jsonb_build_object('limit', per_page, 'total', false);
    IF caller.workspace_id IS NOT NULL THEN
        engine := engine || pg_catalog.jsonb_build_object('workspace_id', caller.workspace_id);
    END IF;
    page := inbox._social_list(caller.user_id, engine, 'diaspora', max_id => before);
    body := inbox._diaspora_entities(page->'data');
    IF (page->'pageInfo'->>'hasNextPage')::boolean THEN
        link := '<' || coalesce(origin, '') || '/diaspora/api/v1/notifications?'
             || pg_catalog.array_to_string(ARRAY(
                    SELECT p FROM pg_catalog.unnest(
                        ARRAY(SELECT inbox._cgi_escape(k.key) || '=' || inbox._cgi_escape(k.value)
                                FROM pg_catalog.jsonb_each_text(params - 'before') AS k)
                        || ('before=' || (body->-1->>'guid'))) AS p ORDER BY p COLLATE "C"), '&')
             || '>; rel="next"';
    END IF;
END
$$;

COMMENT ON FUNCTION inbox.diaspora_notifications(text, jsonb, text) IS
    'GET /diaspora/api/v1/notifications: the caller''s notifications as Diaspora objects, newest first (only_after, only_unread, type, per_page, before=<guid>), and the Link header to the next page.';

CREATE FUNCTION inbox.diaspora_notification(token text, guid text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._diaspora_caller(token, true);
    found_row inbox.notifications := inbox._diaspora_row(caller, guid);
BEGIN
    IF NOT inbox._is_read(found_row.read_at, found_row.deleted_at, found_row.updated_at,
                          inbox._read_mark(caller.user_id)) THEN
        PERFORM inbox.mark_read(caller.user_id, inbox.public_id(found_row.id));
    END IF;
    RETURN inbox._diaspora_one(caller, found_row.id);
END
$$;

COMMENT ON FUNCTION inbox.diaspora_notification(text, text) IS
    'GET /diaspora/api/v1/notifications/:guid: the notification, which this marks read (as Diaspora does).';

CREATE FUNCTION inbox.diaspora_set_read(token text, guid text, body jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._diaspora_caller(token, true);
    found_row inbox.notifications;
BEGIN
    IF body IS NULL OR pg_catalog.jsonb_typeof(body) <> 'object' OR pg_catalog.jsonb_typeof(body->'read') IS DISTINCT FROM 'boolean'
       OR body - 'read' <> '{}' THEN
        RAISE EXCEPTION 'body: expected {"read": true} or {"read": false}' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    found_row := inbox._diaspora_row(caller, guid);
    IF (body->'read')::boolean THEN
        PERFORM inbox.mark_read(caller.user_id, inbox.public_id(found_row.id));
    ELSE
        PERFORM inbox.mark_unread(caller.user_id, inbox.public_id(found_row.id));
    END IF;
    RETURN inbox._diaspora_one(caller, found_row.id);
END
$$;

COMMENT ON FUNCTION inbox.diaspora_set_read(text, text, jsonb) IS
    'PATCH /diaspora/api/v1/notifications/:guid with {"read": bool}: marks it read or unread; returns it.';
