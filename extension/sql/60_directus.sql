-- ---------------------------------------------------------------------------------------------
-- 60_directus: the Directus-compatible notifications API, over the same rows as the rest.
--
-- A Directus notification is a view of a pg_inbox row: id is the internal bigint, timestamp
-- created_at, status "archived" when archived_at is set (else "inbox"), recipient user_id,
-- sender actor_id, subject title, message body, collection and item themselves.
--
-- Each public function is one whole HTTP request (a row of the server's route table,
-- server/src/routes/table.cpp, calls one): it authenticates the bearer token (inbox.authenticate), checks what the caller may
-- do, acts through the SQL API of 20_api.sql and returns the response body as Directus writes
-- it. Queries (filter, sort, fields, aggregate, ...) are translated in C++ into the query engine
-- (directus/query.hpp); reads run there too (inbox._directus_read).
--
-- Permissions are those Directus gives: a plain user reads their own notifications and changes
-- their status; a token with notifications:send creates them for anyone; an admin token does
-- everything, across users. A token bound to a workspace sees only that workspace. A key the
-- caller may not see is "not found" (P0002), which the server answers 403 FORBIDDEN, as
-- Directus does, whether or not the notification exists.
--
-- Deleting is pg_inbox's soft delete: the notification leaves every view (Directus's and the
-- /api/ default views) and can still be restored or purged through the SQL API or /api/.
-- ---------------------------------------------------------------------------------------------

-- Directus's timestamps: UTC, milliseconds, Z ("2026-11-22T01:58:23.073Z").
CREATE FUNCTION inbox.directus_time(t timestamptz)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
    SELECT pg_catalog.to_char(pg_catalog.timezone('UTC', t), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

COMMENT ON FUNCTION inbox.directus_time(timestamptz) IS
    'A timestamp as the Directus API writes it: UTC ISO-8601 with milliseconds and Z.';

CREATE FUNCTION inbox.directus_status(archived_at timestamptz)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN archived_at IS NULL THEN 'inbox' ELSE 'archived' END
$$;

COMMENT ON FUNCTION inbox.directus_status(timestamptz) IS
    'The Directus status of a notification: archived when archived_at is set, else inbox.';

-- The Directus object, compact and in Directus's field order (json keeps both; jsonb would not).
-- directus/fields.cpp renders the same fields one by one for `fields=` projections.
CREATE FUNCTION inbox.to_directus(n inbox.notifications)
RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT ('{"id":' OPERATOR(pg_catalog.||) n.id::text
        OPERATOR(pg_catalog.||) ',"timestamp":' OPERATOR(pg_catalog.||) pg_catalog.to_json(inbox.directus_time(n.created_at))::text
        OPERATOR(pg_catalog.||) ',"status":' OPERATOR(pg_catalog.||) pg_catalog.to_json(inbox.directus_status(n.archived_at))::text
        OPERATOR(pg_catalog.||) ',"recipient":' OPERATOR(pg_catalog.||) pg_catalog.to_json(n.user_id)::text
        OPERATOR(pg_catalog.||) ',"sender":' OPERATOR(pg_catalog.||) COALESCE(pg_catalog.to_json(n.actor_id)::text, 'null')
        OPERATOR(pg_catalog.||) ',"subject":' OPERATOR(pg_catalog.||) COALESCE(pg_catalog.to_json(n.title)::text, 'null')
        OPERATOR(pg_catalog.||) ',"message":' OPERATOR(pg_catalog.||) COALESCE(pg_catalog.to_json(n.body)::text, 'null')
        OPERATOR(pg_catalog.||) ',"collection":' OPERATOR(pg_catalog.||) COALESCE(pg_catalog.to_json(n.collection)::text, 'null')
        OPERATOR(pg_catalog.||) ',"item":' OPERATOR(pg_catalog.||) COALESCE(pg_catalog.to_json(n.item)::text, 'null')
        OPERATOR(pg_catalog.||) '}')::json
$$;

COMMENT ON FUNCTION inbox.to_directus(inbox.notifications) IS
    'A notification row as a Directus notification object (id, timestamp, status, recipient, sender, subject, message, collection, item).';

-- ---------------------------------------------------------------------------------------------
-- Reads, in C++: the Directus query translated into the engine, run in one statement per part.
-- user_id NULL reads every user's rows (admins); keys narrows to those ids and, without a sort,
-- keeps their order; single answers {"data": object} or raises P0002.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox._directus_read(user_id text, workspace_id text, current_user_id text,
                                     query jsonb, keys bigint[] DEFAULT NULL,
                                     single boolean DEFAULT false)
RETURNS json
AS 'MODULE_PATHNAME', 'pgi_directus_read'
LANGUAGE C STABLE
-- With user_id NULL (an admin) they read every user's rows: on a Citus cluster every shard
-- (80_citus.sql); with a user_id, the engine's statements are that user's alone.
SET citus.multi_task_query_log_level = off;

CREATE FUNCTION inbox._directus_keys(user_id text, workspace_id text, current_user_id text,
                                     query jsonb)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'pgi_directus_keys'
LANGUAGE C STABLE
SET citus.multi_task_query_log_level = off;

CREATE FUNCTION inbox._directus_check_users(field text, users text[])
RETURNS void
AS 'MODULE_PATHNAME', 'pgi_directus_check_users'
LANGUAGE C STABLE;

-- Both read across users when user_id is null: only the SQL functions below call them.
REVOKE ALL ON FUNCTION inbox._directus_read(text, text, text, jsonb, bigint[], boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._directus_keys(text, text, text, jsonb) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Callers and keys
-- ---------------------------------------------------------------------------------------------

-- The caller behind a token. No token at all is Directus's public role, which may not touch
-- notifications: 403, where a bad token is 401.
CREATE FUNCTION inbox._directus_caller(token text, scope text)
RETURNS inbox.caller
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF token IS NULL THEN
        RAISE EXCEPTION 'no access token: the public role may not use notifications'
              USING ERRCODE = 'insufficient_privilege',
                    HINT = 'Send Authorization: Bearer <token>, or ?access_token=<token>.';
    END IF;
    RETURN inbox.authenticate(token, scope);
END
$$;

-- Whose rows a caller reads: an admin everyone's (null), anyone else their own.
CREATE FUNCTION inbox._directus_scope(caller inbox.caller)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN caller.admin THEN NULL ELSE caller.user_id END
$$;

-- A Directus primary key as it arrives (a path segment, a JSON number or string). Anything that
-- is not an id is "not found", as Directus answers 403 for a key it cannot read.
CREATE FUNCTION inbox._directus_key(key text)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF key IS NULL OR key OPERATOR(pg_catalog.!~) '^[0-9]{1,18}$' THEN
        RAISE EXCEPTION 'notification % not found', COALESCE(key, 'null')
              USING ERRCODE = 'no_data_found';
    END IF;
    RETURN key::bigint;
END
$$;

-- The keys of a request body: a JSON array of ids.
CREATE FUNCTION inbox._directus_key_list(keys jsonb, path text)
RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    out bigint[] := '{}';
    k jsonb;
    i int := 0;
BEGIN
    IF pg_catalog.jsonb_typeof(keys) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION '%: expected an array of notification keys, got %', path,
              COALESCE(pg_catalog.jsonb_typeof(keys), 'nothing')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR k IN SELECT e FROM pg_catalog.jsonb_array_elements(keys) AS e LOOP
        IF pg_catalog.jsonb_typeof(k) NOT IN ('number', 'string') THEN
            RAISE EXCEPTION '%[%]: expected a notification key, got %', path, i, pg_catalog.jsonb_typeof(k)
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        out := out OPERATOR(pg_catalog.||) inbox._directus_key(k OPERATOR(pg_catalog.#>>) '{}');
        i := i + 1;
    END LOOP;
    RETURN out;
END
$$;

-- The rows behind keys that the caller may change, grouped by user in user order (the order
-- bulk changes lock in), as public ids for the SQL API. The first key that is missing, deleted,
-- another user's (unless admin) or outside the token's workspace raises "not found".
-- An admin's keys may be any user's: on a Citus cluster the look-up by id visits every shard;
-- anyone else's is filtered by their user_id, one shard.
CREATE FUNCTION inbox._directus_owned(caller inbox.caller, keys bigint[])
RETURNS TABLE (user_id text, ids text[])
LANGUAGE plpgsql STABLE
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    owners bigint[];
    users text[];
    missing bigint;
BEGIN
    -- By id (notifications_id_idx), then kept only if the caller may see it.
    SELECT pg_catalog.array_agg(n.id ORDER BY n.user_id, n.id),
           pg_catalog.array_agg(n.user_id ORDER BY n.user_id, n.id)
      INTO owners, users
      FROM inbox.notifications n
     WHERE n.id = ANY (keys) AND n.deleted_at IS NULL
       AND (caller.admin OR n.user_id = caller.user_id)
       AND (caller.workspace_id IS NULL OR n.workspace_id = caller.workspace_id);
    SELECT k INTO missing FROM pg_catalog.unnest(keys) AS k
     WHERE k <> ALL (COALESCE(owners, '{}')) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'notification % not found', missing USING ERRCODE = 'no_data_found';
    END IF;
    RETURN QUERY SELECT o.owner, pg_catalog.array_agg(inbox.public_id(o.id) ORDER BY o.id)
                   FROM ROWS FROM (pg_catalog.unnest(users), pg_catalog.unnest(owners)) AS o(owner, id)
                  GROUP BY o.owner ORDER BY o.owner;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Payloads: Directus items -> the SQL API's objects. Errors name the item as `payload...`.
-- ---------------------------------------------------------------------------------------------

-- A text field of a payload: a string, or null. (item also takes a number: Directus keys of
-- other collections are often integers.)
CREATE FUNCTION inbox._directus_text(value jsonb, path text, numbers boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF pg_catalog.jsonb_typeof(value) IN ('string', 'null')
       OR (numbers AND pg_catalog.jsonb_typeof(value) = 'number') THEN
        RETURN pg_catalog.to_jsonb(value OPERATOR(pg_catalog.#>>) '{}');
    END IF;
    RAISE EXCEPTION '%: expected a string or null, got %', path, pg_catalog.jsonb_typeof(value)
          USING ERRCODE = 'invalid_parameter_value';
END
$$;

-- The object a payload part must be; `what` says which, for the message.
CREATE FUNCTION inbox._directus_object(value jsonb, path text, what text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF pg_catalog.jsonb_typeof(value) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION '%: expected %, got %', path, what, COALESCE(pg_catalog.jsonb_typeof(value), 'nothing')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

-- One item to create -> an object for inbox.create_many. recipient (required) and sender are
-- user ids, or the related object {"id": ...} as Directus also accepts them.
CREATE FUNCTION inbox._directus_new(caller inbox.caller, item jsonb, path text)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    native jsonb := '{}';
    key text;
    value jsonb;
    at text;
BEGIN
    PERFORM inbox._directus_object(item, path, 'a notification object');
    FOR key, value IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(item) AS e ORDER BY e.key LOOP
        at := path OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) key;
        IF key IN ('recipient', 'sender') AND pg_catalog.jsonb_typeof(value) = 'object' THEN
            IF NOT value ? 'id' OR (SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_object_keys(value)) <> 1 THEN
                RAISE EXCEPTION '%: expected a user id, or {"id": <user id>}', at
                      USING ERRCODE = 'invalid_parameter_value';
            END IF;
            value := value->'id';
            at := at OPERATOR(pg_catalog.||) '.id';
        END IF;
        CASE key
        WHEN 'recipient' THEN
            IF pg_catalog.jsonb_typeof(value) = 'null' THEN
                CONTINUE;  -- reported as missing below
            END IF;
            IF pg_catalog.jsonb_typeof(value) <> 'string' THEN
                RAISE EXCEPTION '%: expected a user id (a string), got %', at, pg_catalog.jsonb_typeof(value)
                      USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF value OPERATOR(pg_catalog.#>>) '{}' = '' THEN
                RAISE EXCEPTION '%: must not be empty', at USING ERRCODE = 'invalid_parameter_value';
            END IF;
            native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('userId', value);
        WHEN 'sender' THEN
            value := inbox._directus_text(value, at);
            IF value <> 'null' THEN
                native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('actorId', value);
            END IF;
        WHEN 'subject' THEN
            native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('title', inbox._directus_text(value, at));
        WHEN 'message' THEN
            native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('body', inbox._directus_text(value, at));
        WHEN 'collection' THEN
            native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('collection', inbox._directus_text(value, at));
        WHEN 'item' THEN
            native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('item', inbox._directus_text(value, at, true));
        WHEN 'status' THEN
            IF value NOT IN ('"inbox"', '"archived"') THEN
                RAISE EXCEPTION '%: expected "inbox" or "archived"', at USING ERRCODE = 'invalid_parameter_value';
            END IF;
        WHEN 'expires_at' THEN
            -- pg_inbox's own field (issue 19): null never expires, even with a type lifetime.
            IF pg_catalog.jsonb_typeof(value) NOT IN ('string', 'null') THEN
                RAISE EXCEPTION '%: expected an ISO-8601 timestamp or null, got %', at, pg_catalog.jsonb_typeof(value)
                      USING ERRCODE = 'invalid_parameter_value';
            END IF;
            BEGIN
                PERFORM (value OPERATOR(pg_catalog.#>>) '{}')::timestamptz;
            EXCEPTION WHEN data_exception THEN
                RAISE EXCEPTION '%: expected an ISO-8601 timestamp or null, got %', at, value
                      USING ERRCODE = 'invalid_parameter_value';
            END;
            native := native OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('expiresAt', value);
        WHEN 'id', 'timestamp', 'seen_at' THEN
            RAISE EXCEPTION '%: set by pg_inbox, cannot be given', at
                  USING ERRCODE = 'invalid_parameter_value';
        ELSE
            RAISE EXCEPTION '%: unknown field', at
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'Fields that can be created: recipient, sender, subject, message, collection, item, status, expires_at.';
        END CASE;
    END LOOP;
    IF NOT native ? 'userId' THEN
        RAISE EXCEPTION '%.recipient: required', path USING ERRCODE = 'not_null_violation';
    END IF;
    RETURN inbox._rest_in_workspace(caller, native, path OPERATOR(pg_catalog.||) '.');
END
$$;

-- Applies one Directus change to the rows behind keys, all or nothing. status archives or
-- moves back to the inbox; subject, message, collection and item (admins only, as Directus lets
-- a user change only the status of their notifications) go through inbox.update.
CREATE FUNCTION inbox._directus_change(caller inbox.caller, keys bigint[], data jsonb, path text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    changes jsonb := '{}';
    status text;
    key text;
    value jsonb;
    at text;
    owner record;
BEGIN
    PERFORM inbox._directus_object(data, path, 'an object of fields to change');
    FOR key, value IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(data) AS e ORDER BY e.key LOOP
        at := path OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) key;
        IF key = 'status' THEN
            IF value NOT IN ('"inbox"', '"archived"') THEN
                RAISE EXCEPTION '%: expected "inbox" or "archived"', at USING ERRCODE = 'invalid_parameter_value';
            END IF;
            status := value OPERATOR(pg_catalog.#>>) '{}';
        ELSIF key IN ('subject', 'message', 'collection', 'item') THEN
            IF NOT caller.admin THEN
                RAISE EXCEPTION '%: only an admin token can change %', at, key
                      USING ERRCODE = 'insufficient_privilege',
                            HINT = 'Users may change the status of their notifications.';
            END IF;
            changes := changes OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
                CASE WHEN key = 'subject' THEN 'title' WHEN key = 'message' THEN 'body' ELSE key END,
                inbox._directus_text(value, at, key = 'item'));
        ELSIF key IN ('id', 'timestamp', 'recipient', 'sender') THEN
            RAISE EXCEPTION '%: cannot be changed', at
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'A notification keeps its id, timestamp, recipient and sender; status, subject, message, collection and item can change.';
        ELSE
            RAISE EXCEPTION '%: unknown field', at
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'Fields that can be changed: status, subject, message, collection, item.';
        END IF;
    END LOOP;
    FOR owner IN SELECT o.user_id, o.ids FROM inbox._directus_owned(caller, keys) AS o LOOP
        IF changes <> '{}' THEN
            PERFORM inbox.update(owner.user_id, owner.ids, changes);
        END IF;
        IF status = 'archived' THEN
            PERFORM inbox.archive(owner.user_id, owner.ids);
        ELSIF status = 'inbox' THEN
            PERFORM inbox.unarchive(owner.user_id, owner.ids);
        END IF;
    END LOOP;
END
$$;

-- The keys a PATCH or DELETE body names: an array of keys, {"keys": [...]}, or {"query": {...}}
-- (the notifications that query reads, limit included). `extra` is the one other member the
-- body may have (data for PATCH).
CREATE FUNCTION inbox._directus_targets(caller inbox.caller, body jsonb, extra text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    unknown text;
BEGIN
    IF pg_catalog.jsonb_typeof(body) = 'array' AND extra IS NULL THEN
        RETURN inbox._directus_key_list(body, 'payload');
    END IF;
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'payload: expected %', CASE WHEN extra IS NULL
              THEN 'an array of keys, {"keys": [...]} or {"query": {...}}'
              ELSE '{"keys": [...], "data": {...}}, {"query": {...}, "data": {...}} or an array of items with their id' END
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT k INTO unknown FROM pg_catalog.jsonb_object_keys(body) AS k
     WHERE k NOT IN ('keys', 'query') AND k IS DISTINCT FROM extra ORDER BY k LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payload.%: unknown member', unknown USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF body ? 'keys' AND body ? 'query' THEN
        RAISE EXCEPTION 'payload: give keys or query, not both' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF body ? 'keys' THEN
        RETURN inbox._directus_key_list(body->'keys', 'payload.keys');
    END IF;
    IF NOT body ? 'query' THEN
        RAISE EXCEPTION 'payload: expected keys or query' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.jsonb_typeof(body->'query') <> 'object' THEN
        RAISE EXCEPTION 'payload.query: expected an object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN inbox._directus_keys(inbox._directus_scope(caller), caller.workspace_id, caller.user_id,
                                body->'query');
END
$$;

-- ---------------------------------------------------------------------------------------------
-- The routes
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.directus_read(token text, query jsonb)
RETURNS json
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'notifications:read');
BEGIN
    RETURN inbox._directus_read(inbox._directus_scope(caller), caller.workspace_id,
                                caller.user_id, query);
END
$$;

COMMENT ON FUNCTION inbox.directus_read(text, jsonb) IS
    'GET /notifications: the caller''s notifications (an admin''s: everyone''s) for a Directus query (filter, search, sort, limit, offset, page, fields, aggregate, groupBy, meta); returns {"data": [...]} (and "meta").';

CREATE FUNCTION inbox.directus_search(token text, body jsonb, query jsonb)
RETURNS json
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object'
       OR pg_catalog.jsonb_typeof(body->'query') IS DISTINCT FROM 'object'
       OR (SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_object_keys(body)) <> 1 THEN
        RAISE EXCEPTION 'payload: expected {"query": {...}}' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN inbox.directus_read(token, COALESCE(query, '{}') OPERATOR(pg_catalog.||) (body->'query'));
END
$$;

COMMENT ON FUNCTION inbox.directus_search(text, jsonb, jsonb) IS
    'SEARCH /notifications: directus_read with the query in the body ({"query": {...}}), over any query-string parameters.';

CREATE FUNCTION inbox.directus_read_one(token text, id text, query jsonb)
RETURNS json
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'notifications:read');
BEGIN
    RETURN inbox._directus_read(inbox._directus_scope(caller), caller.workspace_id,
                                caller.user_id, query, ARRAY[inbox._directus_key(id)], true);
END
$$;

COMMENT ON FUNCTION inbox.directus_read_one(text, text, jsonb) IS
    'GET /notifications/:id: one notification ({"data": {...}}, fields apply); P0002 when the caller may not see it.';

CREATE FUNCTION inbox.directus_create(token text, body jsonb, query jsonb)
RETURNS json
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'notifications:send');
    many boolean := pg_catalog.jsonb_typeof(body) = 'array';
    items jsonb := CASE WHEN many THEN body ELSE pg_catalog.jsonb_build_array(body) END;
    natives jsonb;
    user_ids text[];
    objects jsonb[];
    created inbox.notifications[];
    archived record;
    recipient text;
    skipped json;
    read_query jsonb;
    answer json;
BEGIN
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object' AND NOT many THEN
        RAISE EXCEPTION 'payload: expected a notification object or an array of them'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF many AND pg_catalog.jsonb_array_length(body) = 0 THEN
        RETURN '{"data":[]}';
    END IF;
    -- One item (what POST /notifications sends) takes plain expressions where several take a
    -- query: each query costs an executor start and end, and a plain expression does not.
    -- Directus's recipient and sender are foreign keys: so are they here, once a relation says
    -- which table holds the users.
    IF many THEN
        natives := (SELECT pg_catalog.jsonb_agg(inbox._directus_new(caller, i.item,
                               'payload[' OPERATOR(pg_catalog.||) (i.o - 1) OPERATOR(pg_catalog.||) ']') ORDER BY i.o)
                      FROM pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o));
        user_ids := ARRAY(SELECT e->>'userId' FROM pg_catalog.jsonb_array_elements(natives) AS e);
        objects := ARRAY(SELECT e FROM pg_catalog.jsonb_array_elements(natives) AS e);
        PERFORM inbox._directus_check_users('recipient', ARRAY(SELECT DISTINCT u FROM pg_catalog.unnest(user_ids) AS u));
    ELSE
        natives := pg_catalog.jsonb_build_array(inbox._directus_new(caller, body, 'payload'));
        user_ids := ARRAY[natives->0->>'userId'];
        objects := ARRAY[natives->0];
        PERFORM inbox._directus_check_users('recipient', user_ids);
    END IF;
    IF many OR natives->0 ? 'actorId' THEN
        PERFORM inbox._directus_check_users('sender', ARRAY(SELECT DISTINCT e->>'actorId' FROM pg_catalog.jsonb_array_elements(natives) AS e
                                                             WHERE e ? 'actorId'));
    END IF;
    -- The rows themselves (inbox.create_many's, in input order; a hole, id NULL, for a
    -- recipient who turned in_app off): the answer is Directus's shape, not the API's. Through
    -- inbox._create with inbox._create_rows's path, without the checks of its argument
    -- (inbox._check_fields, a statement per item): inbox._directus_new writes only known fields,
    -- each a string (or null where null is allowed), and always a userId.
    created := ARRAY(SELECT ROW(n.*)::inbox.notifications FROM inbox._create(user_ids, objects, 'notifications', true) AS n);
    -- Items created with status "archived" are archived at once (one item that is not needs no
    -- statement for it).
    IF many OR body->>'status' = 'archived' THEN
        FOR archived IN
            SELECT c.user_id, pg_catalog.array_agg(inbox.public_id(c.id) ORDER BY c.ordinality) AS ids
              FROM pg_catalog.unnest(created) WITH ORDINALITY AS c
              JOIN pg_catalog.jsonb_array_elements(items) WITH ORDINALITY AS i(item, o) ON i.o = c.ordinality
             WHERE i.item->>'status' = 'archived' AND c.id IS NOT NULL
             GROUP BY 1 ORDER BY 1
        LOOP
            PERFORM inbox.archive(archived.user_id, archived.ids);
        END LOOP;
    END IF;
    -- Recipients who turned in_app off get nothing stored (55_delivery.sql): the answer holds
    -- the items created ("data": null when the one item was not) and names the others in
    -- meta.skipped, a key Directus's own answer never has.
    IF NOT many THEN
        skipped := CASE WHEN created[1].id IS NULL THEN pg_catalog.json_build_array(created[1].user_id) END;
    ELSE
        skipped := (SELECT pg_catalog.json_agg(c.user_id ORDER BY c.ordinality)
                      FROM pg_catalog.unnest(created) WITH ORDINALITY AS c
                     WHERE c.id IS NULL);
    END IF;
    IF skipped IS NOT NULL AND NOT many THEN
        RETURN pg_catalog.json_build_object('data', NULL, 'meta', pg_catalog.json_build_object('skipped', skipped));
    END IF;
    -- A create answers its items alone, as Directus's does, and its meta parameter (meta,
    -- meta[]) is ignored: a send-only caller may read none of them, so meta would count rows
    -- it may not see.
    IF query IS NOT NULL AND query <> '{}' THEN
        read_query := (SELECT pg_catalog.jsonb_object_agg(q.key, q.value)
                         FROM pg_catalog.jsonb_each(query) AS q
                        WHERE q.key OPERATOR(pg_catalog.<>) 'meta' AND NOT pg_catalog.starts_with(q.key, 'meta['));
    END IF;
    -- One item, no query, not archived after its insert: the row the insert returned is the
    -- row a read would find (when it has not expired already: reads hide expired rows), and
    -- its object is inbox.to_directus, as the read's without `fields`. Saves the read (the
    -- engine's statement; about a fifth of the create).
    IF NOT many AND read_query IS NULL AND created[1].id IS NOT NULL
       AND body->>'status' IS DISTINCT FROM 'archived'
       AND (created[1].expires_at IS NULL OR created[1].expires_at > pg_catalog.now()) THEN
        RETURN ('{"data":' OPERATOR(pg_catalog.||) inbox.to_directus(created[1])::text OPERATOR(pg_catalog.||) '}')::json;
    END IF;
    -- Otherwise the created items are read back among the one recipient's rows when there is
    -- one (on Citus: one shard).
    SELECT CASE WHEN pg_catalog.count(DISTINCT e->>'userId') = 1 THEN pg_catalog.min(e->>'userId') END
      INTO recipient FROM pg_catalog.jsonb_array_elements(natives) AS e;
    answer := inbox._directus_read(recipient, NULL, caller.user_id, read_query,
                                   ARRAY(SELECT c.id FROM pg_catalog.unnest(created) WITH ORDINALITY AS c
                                          WHERE c.id IS NOT NULL ORDER BY c.ordinality),
                                   NOT many);
    IF skipped IS NULL THEN
        RETURN answer;
    END IF;
    RETURN pg_catalog.json_build_object('data', answer->'data', 'meta', pg_catalog.json_build_object('skipped', skipped));
END
$$;

COMMENT ON FUNCTION inbox.directus_create(text, jsonb, jsonb) IS
    'POST /notifications: creates one notification (an object) or several (an array), for any recipient (needs notifications:send or admin); returns them as Directus does.';

CREATE FUNCTION inbox.directus_update_one(token text, id text, body jsonb, query jsonb)
RETURNS json
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'notifications:write');
    key bigint := inbox._directus_key(id);
BEGIN
    PERFORM inbox._directus_change(caller, ARRAY[key], body, 'payload');
    RETURN inbox._directus_read(inbox._directus_scope(caller), caller.workspace_id,
                                caller.user_id, query, ARRAY[key], true);
END
$$;

COMMENT ON FUNCTION inbox.directus_update_one(text, text, jsonb, jsonb) IS
    'PATCH /notifications/:id: changes status (anyone, their own) or subject, message, collection, item (admin); returns the notification.';

CREATE FUNCTION inbox.directus_update_many(token text, body jsonb, query jsonb)
RETURNS json
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'notifications:write');
    keys bigint[] := '{}';
    item jsonb;
    o bigint;
    key bigint;
BEGIN
    IF pg_catalog.jsonb_typeof(body) = 'array' THEN
        -- A batch: each item carries its id and its own change.
        FOR item, o IN SELECT e.item, e.o FROM pg_catalog.jsonb_array_elements(body) WITH ORDINALITY AS e(item, o) LOOP
            IF pg_catalog.jsonb_typeof(item) <> 'object' OR NOT item ? 'id' THEN
                RAISE EXCEPTION 'payload[%]: expected a notification object with its id', o - 1
                      USING ERRCODE = 'invalid_parameter_value';
            END IF;
            key := inbox._directus_key(item->>'id');
            PERFORM inbox._directus_change(caller, ARRAY[key], item - 'id',
                                           'payload[' OPERATOR(pg_catalog.||) (o - 1) OPERATOR(pg_catalog.||) ']');
            keys := keys OPERATOR(pg_catalog.||) key;
        END LOOP;
    ELSE
        keys := inbox._directus_targets(caller, body, 'data');
        IF NOT body ? 'data' THEN
            RAISE EXCEPTION 'payload.data: required' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM inbox._directus_change(caller, keys, body->'data', 'payload.data');
    END IF;
    RETURN inbox._directus_read(inbox._directus_scope(caller), caller.workspace_id,
                                caller.user_id, query, keys);
END
$$;

COMMENT ON FUNCTION inbox.directus_update_many(text, jsonb, jsonb) IS
    'PATCH /notifications: {"keys": [...], "data": {...}}, {"query": {...}, "data": {...}} or a batch [{"id": ..., ...}], all or nothing; returns the notifications.';

CREATE FUNCTION inbox._directus_delete(caller inbox.caller, keys bigint[])
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    owner record;
BEGIN
    FOR owner IN SELECT o.user_id, o.ids FROM inbox._directus_owned(caller, keys) AS o LOOP
        PERFORM inbox.soft_delete(owner.user_id, owner.ids);
    END LOOP;
END
$$;

CREATE FUNCTION inbox.directus_delete_one(token text, id text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'admin');
BEGIN
    PERFORM inbox._directus_delete(caller, ARRAY[inbox._directus_key(id)]);
END
$$;

COMMENT ON FUNCTION inbox.directus_delete_one(text, text) IS
    'DELETE /notifications/:id (admin): soft-deletes the notification; it can be restored or purged through the SQL API or /api/.';

CREATE FUNCTION inbox.directus_delete_many(token text, body jsonb)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox._directus_caller(token, 'admin');
BEGIN
    PERFORM inbox._directus_delete(caller, inbox._directus_targets(caller, body, NULL));
END
$$;

COMMENT ON FUNCTION inbox.directus_delete_many(text, jsonb) IS
    'DELETE /notifications (admin): soft-deletes the notifications of an array of keys, {"keys": [...]} or {"query": {...}}, all or nothing.';
