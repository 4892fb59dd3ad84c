-- ---------------------------------------------------------------------------------------------
-- 55_delivery: e-mail and webhooks (issue 15). An outbox, inbox.deliveries, filled from the
-- change feed (inbox.events) by the expander (inbox.expand_deliveries), which the server's
-- workers run before each claim: it queues the deliveries of the events committed since its
-- cursor, once each, so a create that answered success gets its deliveries milliseconds later
-- and a rolled-back one, which left no event, none. The create itself pays nothing beyond the
-- feed. The server's workers claim due rows
-- with FOR UPDATE SKIP LOCKED under a lease, send them (libcurl), and report each attempt back;
-- a worker that dies loses its lease and the row comes back, under the same id. Preferences per
-- user, type and channel; webhook endpoints per user or global; the attempts kept as a log.
--
-- Per-user tables (preferences, deliveries, delivery_attempts) are keyed by user_id first and
-- distributed with the notifications on Citus; webhooks are configuration (a reference table).
-- ---------------------------------------------------------------------------------------------

-- The type registry says on which channels a type goes by default, whether a user may turn it
-- off, and whether its e-mails are collected into one per window.
ALTER TABLE inbox.notification_types
    ADD COLUMN channels     text[]   NOT NULL DEFAULT '{in_app,email}',
    ADD COLUMN critical     boolean  NOT NULL DEFAULT false,
    ADD COLUMN email_digest interval,
    ADD CONSTRAINT notification_types_channels
        CHECK (channels OPERATOR(pg_catalog.<@) '{in_app,email}'::text[]),
    ADD CONSTRAINT notification_types_email_digest
        CHECK (email_digest IS NULL OR email_digest BETWEEN '1 second' AND '7 days');

-- The channels a person can turn on or off (webhooks are an administrator's, not a person's).
CREATE FUNCTION inbox._check_channel(channel text, path text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF channel IS NULL OR channel NOT IN ('in_app', 'email') THEN
        RAISE EXCEPTION '%: unknown channel %', path, coalesce(pg_catalog.quote_literal(channel), 'null')
              USING ERRCODE = 'invalid_parameter_value', HINT = 'Channels: in_app, email.';
    END IF;
END
$$;

-- register_type with the delivery settings, beside the lifecycle's lifetime (15_types.sql). A
-- call without the delivery arguments leaves a registered type's delivery settings as they are.
DROP FUNCTION inbox.register_type(text, text, boolean, interval);
CREATE FUNCTION inbox.register_type(name text, description text DEFAULT '', aggregate boolean DEFAULT false,
                                    lifetime interval DEFAULT NULL,
                                    channels text[] DEFAULT NULL, critical boolean DEFAULT NULL,
                                    email_digest interval DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    registered inbox.notification_types;
    channel text;
BEGIN
    FOREACH channel IN ARRAY coalesce(channels, '{}') LOOP
        PERFORM inbox._check_channel(channel, 'channels');
    END LOOP;
    IF email_digest IS NOT NULL AND email_digest NOT BETWEEN '1 second' AND '7 days' THEN
        RAISE EXCEPTION 'email_digest: expected 1 second to 7 days, got %', email_digest
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO inbox.notification_types AS t (name, description, aggregate, lifetime, channels, critical, email_digest)
    VALUES (register_type.name, coalesce(register_type.description, ''), coalesce(register_type.aggregate, false),
            register_type.lifetime, coalesce(register_type.channels, '{in_app,email}'),
            coalesce(register_type.critical, false), register_type.email_digest)
    ON CONFLICT ON CONSTRAINT notification_types_pkey DO UPDATE
       SET description = excluded.description, aggregate = excluded.aggregate, lifetime = excluded.lifetime,
           channels = coalesce(register_type.channels, t.channels),
           critical = coalesce(register_type.critical, t.critical),
           email_digest = coalesce(register_type.email_digest, t.email_digest)
    RETURNING t.* INTO registered;
    RETURN inbox._type_json(registered);
END
$$;

COMMENT ON FUNCTION inbox.register_type(text, text, boolean, interval, text[], boolean, interval) IS
    'Declares a notification type (or changes it); returns it. lifetime: notifications of the type created without expiresAt expire that long after creation; channels: the default channels (in_app, email); critical: a user cannot turn it off; email_digest: its e-mails are collected into one per window.';

-- ---------------------------------------------------------------------------------------------
-- Settings (GUCs the library defines; read with missing_ok so a session that has not loaded the
-- library sees the value ALTER DATABASE set, or the default)
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox._setting(name text, fallback text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN coalesce(NULLIF(pg_catalog.current_setting(name, true), ''), fallback);
END
$$;

-- The retry schedule of Standard Webhooks (also used for e-mail): the wait before attempt n+1.
CREATE FUNCTION inbox._delivery_backoff(attempts integer)
RETURNS interval
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    schedule interval[] := '{0, 5 seconds, 5 minutes, 30 minutes, 2 hours, 5 hours, 10 hours, 14 hours, 20 hours, 24 hours}';
    scale float8 := inbox._setting('pg_inbox.delivery_backoff_scale', '1')::float8;
    wait interval := schedule[least(greatest(attempts, 0), 9) + 1];
BEGIN
    -- Jitter: up to 10% more, so endpoints that failed together are not retried together.
    RETURN wait * scale * (1 + pg_catalog.random() * 0.1);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Preferences
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.preferences (
    user_id    text        NOT NULL,
    type       text        NOT NULL,  -- a registered type, or '*' for every type
    channel    text        NOT NULL,
    enabled    boolean     NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT preferences_pkey PRIMARY KEY (user_id, type, channel),
    CONSTRAINT preferences_channel CHECK (channel IN ('in_app', 'email')),
    CONSTRAINT preferences_type_format
        CHECK (type = '*' OR type OPERATOR(pg_catalog.~) '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$')
);

COMMENT ON TABLE inbox.preferences IS
    'Per user: a channel (in_app, email) turned on or off for a type or, with type *, for every type. A type''s own row wins over *, * over the type''s default channels; a critical type cannot be turned off.';

SELECT pg_catalog.pg_extension_config_dump('inbox.preferences', '');

-- Whether `channel` is on for the user and type: the type's row, else *, else the type's
-- default channels (an unregistered type: every channel). A critical type is always on.
CREATE FUNCTION inbox._channel_on(user_id text, type text, channel text)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    t inbox.notification_types;
    chosen boolean;
BEGIN
    SELECT * INTO t FROM inbox.notification_types r WHERE r.name = _channel_on.type;
    IF t.critical THEN
        RETURN true;
    END IF;
    SELECT p.enabled INTO chosen FROM inbox.preferences p
     WHERE p.user_id = _channel_on.user_id AND p.channel = _channel_on.channel
       AND p.type IN (_channel_on.type, '*')
     ORDER BY p.type = '*' LIMIT 1;
    RETURN coalesce(chosen, t.name IS NULL OR _channel_on.channel = ANY (t.channels));
END
$$;

-- Whether one of these recipients (several: each on their shard, on Citus) turned `channel` off
-- for something. Its own function for the setting: one recipient's probe (every single create)
-- reads one shard and pays for no setting saved and restored.
CREATE FUNCTION inbox._preferences_off_any(channel text, user_ids text[])
RETURNS boolean
LANGUAGE plpgsql STABLE
SET citus.multi_task_query_log_level = off
AS $$
BEGIN
    -- (A statement of its own, not an EXISTS subquery: Citus plans a subquery over several
    -- shards as an intermediate result, which it cannot read back without columns.)
    PERFORM 1 FROM inbox.preferences p
      WHERE p.user_id = ANY (user_ids) AND p.channel = _preferences_off_any.channel AND NOT p.enabled
      LIMIT 1;
    RETURN FOUND;
END
$$;

-- Whether `channel` may be off for any of these users and types (types NULL: any type): one of
-- them turned it off for something, or a type leaves it out of its defaults. false answers for
-- every recipient at once and is the common case (nothing configured): one probe of the
-- preferences' key per recipient and one look at the small type registry, whatever the
-- statistics say (an index probe or one pass over the preferences with the recipients hashed:
-- never a scan per recipient). (One recipient: a statement on its shard alone, on Citus.)
CREATE FUNCTION inbox._channel_maybe_off(channel text, user_ids text[], types text[])
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF EXISTS (SELECT FROM inbox.notification_types t
                WHERE NOT t.critical AND NOT _channel_maybe_off.channel = ANY (t.channels)
                  AND (types IS NULL OR t.name = ANY (types))) THEN
        RETURN true;
    END IF;
    IF pg_catalog.cardinality(user_ids) = 1 THEN
        PERFORM 1 FROM inbox.preferences p
          WHERE p.user_id = user_ids[1] AND p.channel = _channel_maybe_off.channel AND NOT p.enabled
          LIMIT 1;
        RETURN FOUND;
    END IF;
    RETURN inbox._preferences_off_any(_channel_maybe_off.channel, user_ids);
END
$$;

-- The same question for many recipients at once, set-based (a fan-out asks it for every
-- recipient): per position of (user_ids, types), whether `channel` is OFF for that user and type.
-- NULL when it is on for everyone (inbox._channel_maybe_off says so without looking at each
-- recipient). (On Citus, several recipients' preferences are one read of their shards, by
-- design, as the create that asks inserts into them: one recipient's, one shard.)
CREATE FUNCTION inbox._channel_off(channel text, user_ids text[], types text[])
RETURNS boolean[]
LANGUAGE plpgsql STABLE
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    one text := CASE WHEN pg_catalog.cardinality(user_ids) = 1 THEN user_ids[1] END;
    -- The choices of these users for the channel, by user and type (a look-up, not a join:
    -- the planner cannot size the arrays, and a nested loop over two of them is quadratic).
    chosen jsonb;
BEGIN
    IF NOT inbox._channel_maybe_off(channel, user_ids, types) THEN
        RETURN NULL;
    END IF;
    IF one IS NOT NULL THEN
        chosen := (SELECT pg_catalog.jsonb_object_agg(p.user_id || E'\n' || p.type, p.enabled) FROM inbox.preferences p
                    WHERE p.user_id = one AND p.channel = _channel_off.channel);
    ELSE
        chosen := (SELECT pg_catalog.jsonb_object_agg(p.user_id || E'\n' || p.type, p.enabled) FROM inbox.preferences p
                    WHERE p.user_id = ANY (user_ids) AND p.channel = _channel_off.channel);
    END IF;
    -- The type's own row wins over *, * over the type's defaults (every channel for an
    -- unregistered type); a critical type is always on.
    RETURN ARRAY(
        SELECT NOT coalesce(t.critical, false)
               AND NOT coalesce((chosen->>(u.user_id || E'\n' || u.type))::boolean,
                                (chosen->>(u.user_id || E'\n*'))::boolean,
                                t.name IS NULL OR _channel_off.channel = ANY (t.channels))
          FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(types)) WITH ORDINALITY AS u(user_id, type, ord)
          LEFT JOIN inbox.notification_types t ON t.name = u.type
         ORDER BY u.ord);
END
$$;

CREATE FUNCTION inbox.preferences(user_id text)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN pg_catalog.jsonb_build_object(
        'data', coalesce((
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'type', t.name, 'critical', t.critical,
                       'emailDigest', EXTRACT(epoch FROM t.email_digest)::bigint,
                       'channels', pg_catalog.jsonb_build_object(
                           'in_app', inbox._channel_on(preferences.user_id, t.name, 'in_app'),
                           'email', inbox._channel_on(preferences.user_id, t.name, 'email')))
                   ORDER BY t.name)
              FROM inbox.notification_types t), '[]'),
        'all', (SELECT coalesce(pg_catalog.jsonb_object_agg(p.channel, p.enabled), '{}')
                  FROM inbox.preferences p WHERE p.user_id = preferences.user_id AND p.type = '*'));
END
$$;

COMMENT ON FUNCTION inbox.preferences(text) IS
    'The user''s preferences: per registered type, whether each channel is on (their own choice, else their choice for every type, else the type''s default), and their choices for every type ("all").';

-- Turns a channel on or off for one type ('*': every type); enabled NULL forgets the choice.
CREATE FUNCTION inbox.set_preference(user_id text, type text, channel text, enabled boolean)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    t inbox.notification_types;
BEGIN
    IF user_id IS NULL OR pg_catalog.length(user_id) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'user_id: expected 1 to 255 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM inbox._check_channel(channel, 'channel');
    IF type IS DISTINCT FROM '*' THEN
        SELECT * INTO t FROM inbox.notification_types r WHERE r.name = set_preference.type;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'type: % is not a registered type', coalesce(pg_catalog.quote_literal(type), 'null')
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'Preferences name a registered type (inbox.types()), or * for every type.';
        END IF;
        IF t.critical AND enabled IS FALSE THEN
            RAISE EXCEPTION 'type: % is critical and cannot be turned off', type
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    IF enabled IS NULL THEN
        DELETE FROM inbox.preferences p
         WHERE p.user_id = set_preference.user_id AND p.type = set_preference.type AND p.channel = set_preference.channel;
    ELSE
        INSERT INTO inbox.preferences AS p (user_id, type, channel, enabled)
        VALUES (set_preference.user_id, set_preference.type, set_preference.channel, set_preference.enabled)
        ON CONFLICT ON CONSTRAINT preferences_pkey DO UPDATE
           SET enabled = excluded.enabled, updated_at = pg_catalog.now();
    END IF;
    RETURN inbox.preferences(user_id);
END
$$;

COMMENT ON FUNCTION inbox.set_preference(text, text, text, boolean) IS
    'Turns channel (in_app, email) on or off for the user and type (* for every type); NULL forgets the choice. Returns inbox.preferences(user_id).';

-- ---------------------------------------------------------------------------------------------
-- Webhook endpoints
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.webhooks (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    user_id         text,                -- NULL: every user's events
    url             text        NOT NULL,
    events          text[]      NOT NULL,
    types           text[],              -- NULL: every type
    workspace_id    text,                -- NULL: every workspace
    secret          text        NOT NULL, -- whsec_ + base64 of the signing key
    enabled         boolean     NOT NULL DEFAULT true,
    disabled_reason text,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT webhooks_pkey PRIMARY KEY (id),
    CONSTRAINT webhooks_url_length CHECK (pg_catalog.length(url) <= 2048),
    CONSTRAINT webhooks_secret_format CHECK (secret OPERATOR(pg_catalog.~) '^whsec_[A-Za-z0-9+/]{32,88}={0,2}$')
);

COMMENT ON TABLE inbox.webhooks IS
    'Webhook endpoints (Standard Webhooks 1.0): the events, types and workspace they want, for one user or every user. Configuration, not per-user data (on Citus a reference table).';

REVOKE ALL ON inbox.webhooks FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('inbox.webhooks', '');

-- The events a webhook can ask for: the change feed's (inbox.events).
CREATE FUNCTION inbox.webhook_events()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT '{notification.created,notification.updated,notification.deleted,notification.restored,notification.purged,notification.read_all,notification.bulk,notification.seen}'::text[]
$$;

CREATE FUNCTION inbox._webhook_json(w inbox.webhooks)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'id', 'wh_' || w.id, 'userId', w.user_id, 'url', w.url, 'events', pg_catalog.to_jsonb(w.events),
        'types', pg_catalog.to_jsonb(w.types), 'workspaceId', w.workspace_id, 'enabled', w.enabled,
        'disabledReason', w.disabled_reason, 'createdAt', inbox.iso_time(w.created_at))
$$;

-- 'wh_42' -> 42; raises P0002 for anything else, as for an unknown webhook.
CREATE FUNCTION inbox._webhook_id(id text)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF id OPERATOR(pg_catalog.~) '^wh_[1-9][0-9]{0,17}$' THEN
        RETURN pg_catalog.substr(id, 4)::bigint;
    END IF;
    RAISE EXCEPTION 'webhook % not found', id USING ERRCODE = 'no_data_found';
END
$$;

-- Raises unless `url` is an http(s) URL whose host is not on a loopback, private, link-local or
-- otherwise internal address, unless pg_inbox.webhook_allow_private is on. Names are checked by
-- their spelling here (localhost, *.localhost, *.internal, ...); the server checks the address
-- a name resolves to before it connects.
CREATE FUNCTION inbox._check_webhook_url(url text)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    parts text[] := pg_catalog.regexp_match(url,
        '^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?(/[^[:space:][:cntrl:]]*)?$');
    host text;
    address inet;
BEGIN
    IF url IS NULL OR pg_catalog.length(url) > 2048 OR parts IS NULL THEN
        RAISE EXCEPTION 'url: expected an http or https URL of at most 2048 characters, got %',
              coalesce(pg_catalog.quote_literal(pg_catalog.left(url, 100)), 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF parts[2] IS NOT NULL AND pg_catalog.substr(parts[2], 2)::int NOT BETWEEN 1 AND 65535 THEN
        RAISE EXCEPTION 'url: port % is out of range', pg_catalog.substr(parts[2], 2)
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF inbox._setting('pg_inbox.webhook_allow_private', 'off') IN ('on', 'true', '1', 'yes') THEN
        RETURN;
    END IF;
    host := pg_catalog.lower(pg_catalog.btrim(parts[1], '[]'));
    BEGIN
        address := host::inet;
    EXCEPTION WHEN invalid_text_representation THEN
        address := NULL;
    END;
    IF host = 'localhost' OR host LIKE '%.localhost' OR host LIKE '%.local' OR host LIKE '%.internal'
       OR host NOT LIKE '%.%' AND address IS NULL
       OR address IS NOT NULL AND (
              address <<= ANY ('{0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,127.0.0.0/8,169.254.0.0/16,172.16.0.0/12,192.0.0.0/24,192.168.0.0/16,198.18.0.0/15,224.0.0.0/3}'::inet[])
              OR address <<= ANY ('{::/128,::1/128,::ffff:0:0/96,fc00::/7,fe80::/10,ff00::/8}'::inet[])) THEN
        RAISE EXCEPTION 'url: % is a loopback, private or internal address', host
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Webhooks go to public addresses; SET pg_inbox.webhook_allow_private = on allows others (for tests).';
    END IF;
END
$$;

CREATE FUNCTION inbox.create_webhook(url text, events text[], types text[] DEFAULT NULL,
                                     workspace_id text DEFAULT NULL, user_id text DEFAULT NULL,
                                     secret text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    bad text;
    created inbox.webhooks;
    key bytea;
BEGIN
    PERFORM inbox._check_webhook_url(url);
    IF events IS NULL OR pg_catalog.cardinality(events) = 0 THEN
        RAISE EXCEPTION 'events: expected at least one event' USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Events: ' || pg_catalog.array_to_string(inbox.webhook_events(), ', ') || '.';
    END IF;
    SELECT e INTO bad FROM pg_catalog.unnest(events) AS e WHERE e IS NULL OR e <> ALL (inbox.webhook_events()) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'events: unknown event %', coalesce(pg_catalog.quote_literal(bad), 'null')
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Events: ' || pg_catalog.array_to_string(inbox.webhook_events(), ', ') || '.';
    END IF;
    IF types IS NOT NULL THEN
        SELECT t INTO bad FROM pg_catalog.unnest(types) AS t
         WHERE t IS NULL OR t OPERATOR(pg_catalog.!~) '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' LIMIT 1;
        IF FOUND OR pg_catalog.cardinality(types) = 0 THEN
            RAISE EXCEPTION 'types: expected type names, got %', coalesce(pg_catalog.quote_literal(bad), 'an empty list')
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    IF workspace_id = '' OR user_id = '' THEN
        RAISE EXCEPTION '%: must not be empty', CASE WHEN user_id = '' THEN 'userId' ELSE 'workspaceId' END
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF secret IS NULL THEN
        key := pg_catalog.decode(pg_catalog.replace(pg_catalog.gen_random_uuid()::text || pg_catalog.gen_random_uuid()::text, '-', ''), 'hex');
        secret := 'whsec_' || pg_catalog.encode(key, 'base64');
    ELSIF secret OPERATOR(pg_catalog.!~) '^whsec_[A-Za-z0-9+/]{32,88}={0,2}$' THEN
        RAISE EXCEPTION 'secret: expected whsec_ and the base64 of 24 to 64 bytes'
              USING ERRCODE = 'invalid_parameter_value';
    ELSE
        BEGIN
            key := pg_catalog.decode(pg_catalog.substr(secret, 7), 'base64');
        EXCEPTION WHEN invalid_parameter_value THEN
            RAISE EXCEPTION 'secret: expected whsec_ and the base64 of 24 to 64 bytes'
                  USING ERRCODE = 'invalid_parameter_value';
        END;
        IF pg_catalog.octet_length(key) NOT BETWEEN 24 AND 64 THEN
            RAISE EXCEPTION 'secret: expected whsec_ and the base64 of 24 to 64 bytes, got % bytes', pg_catalog.octet_length(key)
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    INSERT INTO inbox.webhooks AS w (user_id, url, events, types, workspace_id, secret)
    VALUES (create_webhook.user_id, create_webhook.url, create_webhook.events, create_webhook.types,
            create_webhook.workspace_id, create_webhook.secret)
    RETURNING w.* INTO created;
    -- The secret is shown this once.
    RETURN inbox._webhook_json(created) || pg_catalog.jsonb_build_object('secret', created.secret);
END
$$;

COMMENT ON FUNCTION inbox.create_webhook(text, text[], text[], text, text, text) IS
    'Registers a webhook endpoint for events (inbox.webhook_events()), optionally only some types, one workspace, one user; returns it with its signing secret (whsec_..., shown once).';

CREATE FUNCTION inbox.webhooks()
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN coalesce((SELECT pg_catalog.jsonb_agg(inbox._webhook_json(ROW(w.*)::inbox.webhooks) ORDER BY w.id)
                       FROM inbox.webhooks w), '[]');
END
$$;

CREATE FUNCTION inbox.delete_webhook(id text)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM inbox.webhooks w WHERE w.id = inbox._webhook_id(delete_webhook.id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'webhook % not found', id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN true;
END
$$;

COMMENT ON FUNCTION inbox.delete_webhook(text) IS
    'Removes a webhook endpoint; its pending deliveries are cancelled when claimed.';

-- ---------------------------------------------------------------------------------------------
-- The outbox
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.deliveries (
    user_id          text        NOT NULL,
    id               uuid        NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
    channel          text        NOT NULL,
    webhook_id       bigint,                -- channel webhook
    address          text,                  -- channel email: the recipient's address
    event            text        NOT NULL,
    type             text,
    notification_ids bigint[]    NOT NULL DEFAULT '{}',  -- an e-mail digest lists several
    digest           boolean     NOT NULL DEFAULT false, -- still collecting until due_at
    payload          jsonb,                 -- a webhook's body, as it was when the event happened
    state            text        NOT NULL DEFAULT 'pending',
    attempts         integer     NOT NULL DEFAULT 0,
    -- pending: when it is due (the next try, or the end of a claim's lease)
    due_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    lease            uuid,                  -- the current claim
    last_status      integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    finished_at      timestamptz,
    CONSTRAINT deliveries_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT deliveries_channel CHECK (channel IN ('email', 'webhook')),
    CONSTRAINT deliveries_state CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled'))
);

COMMENT ON TABLE inbox.deliveries IS
    'The outbox: one row per e-mail or webhook call to make, filled from inbox.events in the transaction of the change. Workers claim due rows (inbox.claim_deliveries) and report each attempt (inbox.finish_deliveries); finished rows are pruned after pg_inbox.delivery_retention (inbox.prune_deliveries).';

-- What the workers claim: a channel's due rows, oldest first, across users. By channel first:
-- each worker claims one channel, and a webhook worker must not read every e-mail waiting.
CREATE INDEX deliveries_due_idx ON inbox.deliveries (channel, due_at) WHERE state = 'pending';
-- What pruning removes.
CREATE INDEX deliveries_finished_idx ON inbox.deliveries (finished_at) WHERE state <> 'pending';
-- The log of one webhook.
CREATE INDEX deliveries_webhook_idx ON inbox.deliveries (webhook_id, created_at DESC) WHERE webhook_id IS NOT NULL;
-- The one open digest of a user and type, which new notifications join.
CREATE UNIQUE INDEX deliveries_open_digest_idx ON inbox.deliveries (user_id, type)
    WHERE digest AND state = 'pending' AND attempts = 0;

SELECT pg_catalog.pg_extension_config_dump('inbox.deliveries', '');

-- The delivery log: one row per attempt.
CREATE TABLE inbox.delivery_attempts (
    user_id     text        NOT NULL,
    delivery_id uuid        NOT NULL,
    attempt     integer     NOT NULL,
    at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    outcome     text        NOT NULL,  -- delivered, retry, failed, gone
    status      integer,               -- HTTP status, SMTP reply code; NULL when none came
    duration_ms integer,
    error       text,
    CONSTRAINT delivery_attempts_pkey PRIMARY KEY (user_id, delivery_id, attempt),
    FOREIGN KEY (user_id, delivery_id) REFERENCES inbox.deliveries (user_id, id) ON DELETE CASCADE,
    CONSTRAINT delivery_attempts_error_length CHECK (pg_catalog.length(error) <= 1000)
);

SELECT pg_catalog.pg_extension_config_dump('inbox.delivery_attempts', '');

-- The stable id of a delivery (Standard Webhooks' webhook-id; the same on every attempt).
CREATE FUNCTION inbox._delivery_public_id(id uuid)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT 'msg_' || pg_catalog.replace(id::text, '-', '')
$$;

CREATE FUNCTION inbox._delivery_uuid(id text)
RETURNS uuid
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF id OPERATOR(pg_catalog.~) '^msg_[0-9a-f]{32}$' THEN
        RETURN pg_catalog.substr(id, 5)::uuid;
    END IF;
    RAISE EXCEPTION 'delivery % not found', id USING ERRCODE = 'no_data_found';
END
$$;

-- The e-mail address of each user (per position; NULL for none): the first row of `target` whose
-- key column equals the user id (text or varchar keys through their index, others compared as
-- text). Its statement is built from quoted identifiers and its plan kept for the session, found
-- again by the statement's text (a changed setting or relation makes a new one). The caller
-- (inbox._email_addresses) checks the relation and both columns against the catalog first.
CREATE FUNCTION inbox._email_lookup(target regclass, key_column text, email_column text, user_ids text[])
RETURNS text[]
AS 'MODULE_PATHNAME', 'pgi_email_lookup'
LANGUAGE C STABLE STRICT;

-- The e-mail addresses of users (per position of user_ids; NULL for none), found through the
-- relation named recipient
-- (inbox.define_relation('recipient', 'userId', 'public.users', 'id')) and the column that
-- pg_inbox.email_column names; none when e-mail is not set up (with a warning when it is set up
-- wrongly: a set-up mistake never makes the change itself fail). The one dynamic statement of
-- the delivery queueing, and a small one: a look-up by key (an index scan when the key is text),
-- identifiers quoted after a catalog check, its plan kept (inbox._email_lookup).
CREATE FUNCTION inbox._email_addresses(user_ids text[])
RETURNS text[]
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    email_column text := inbox._setting('pg_inbox.email_column', '');
    r inbox.relations;
    target regclass;
    key_type regtype;
BEGIN
    IF email_column = '' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO r FROM inbox.relations x WHERE x.name = 'recipient';
    IF NOT FOUND THEN
        RAISE WARNING 'pg_inbox.email_column is set but no relation is named recipient: no e-mail is queued'
              USING HINT = 'SELECT inbox.define_relation(''recipient'', ''userId'', ''public.users'', ''id''); or RESET pg_inbox.email_column.';
        RETURN NULL;
    END IF;
    target := pg_catalog.to_regclass(pg_catalog.format('%I.%I', r.target_schema, r.target_table));
    SELECT a.atttypid::regtype INTO key_type FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = target AND a.attname = r.target_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF target IS NULL OR key_type IS NULL OR r.source_column <> 'user_id' OR NOT EXISTS (
        SELECT FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = target AND a.attname = email_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE WARNING 'pg_inbox.email_column: column % of the recipient relation''s table %.% does not exist: no e-mail is queued',
              email_column, r.target_schema, r.target_table
              USING DETAIL = 'The recipient relation must go from userId to the table that holds the address.';
        RETURN NULL;
    END IF;
    -- Per recipient, the first address found: a statement whose plan is kept for the session.
    RETURN inbox._email_lookup(target, r.target_column, email_column, user_ids);
END
$$;

-- The e-mails that created notifications call for, per position of the arrays: the recipient,
-- the type, and either the stored notification's id (its e-mail is built from the row when it
-- is sent) or, for a recipient who has in_app off and so has no row, the create object itself
-- (contents); with the recipient's address. A recipient whose e-mail is off for the type, or
-- who has no address, gets none. The callers queue them: the expander's queueing (a type with an
-- e-mail digest window joins the recipient's open digest of it) and inbox._skip_in_app (a
-- recipient without a row gets the e-mail on its own). One SELECT in SQL, so that it is planned
-- into the caller's statement; it reads no table itself (the functions it calls do), as Citus
-- wants of a SQL function with parameters.
CREATE FUNCTION inbox._emails_wanted(user_ids text[], types text[], notification_ids bigint[], contents jsonb[])
RETURNS TABLE (user_id text, type text, notification_id bigint, content jsonb, address text)
LANGUAGE sql STABLE
AS $$
    SELECT u.user_id, u.type, u.notification_id, u.content, u.address
      FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(types),
                      pg_catalog.unnest(notification_ids), pg_catalog.unnest(contents),
                      pg_catalog.unnest(inbox._email_addresses(user_ids)),
                      -- (NULL when e-mail is on for everyone: no rows, so off is NULL)
                      pg_catalog.unnest(inbox._channel_off('email', user_ids, types)))
           AS u(user_id, type, notification_id, content, address, off)
     WHERE u.off IS NOT TRUE AND u.address <> ''
$$;

-- in_app off: a create stores nothing for that person (inbox._create calls this first). Per
-- position of (user_ids, objects), whether the recipient is skipped; NULL when no one is (the
-- common case, answered cheaply by inbox._channel_off). A skipped recipient whose e-mail is on
-- still gets the e-mail: queued here, in the transaction of the create, since no row and so
-- no notification.created event will queue it.
CREATE FUNCTION inbox._skip_in_app(user_ids text[], objects jsonb[], indexed boolean)
RETURNS boolean[]
LANGUAGE plpgsql
AS $$
DECLARE
    types text[];
    skip boolean[];
BEGIN
    -- What every create pays: one probe, before the types of the input are even listed.
    IF NOT inbox._channel_maybe_off('in_app', user_ids, NULL) THEN
        RETURN NULL;
    END IF;
    types := CASE WHEN indexed
                  THEN ARRAY(SELECT coalesce(x.o->>'type', 'info')
                               FROM pg_catalog.unnest(objects) WITH ORDINALITY AS x(o, k) ORDER BY x.k)
                  ELSE pg_catalog.array_fill(coalesce(objects[1]->>'type', 'info'),
                                             ARRAY[pg_catalog.cardinality(user_ids)]) END;
    skip := inbox._channel_off('in_app', user_ids, types);
    IF skip IS NULL OR NOT true = ANY (skip) THEN
        RETURN NULL;
    END IF;
    IF inbox._setting('pg_inbox.email_column', '') <> '' THEN
        INSERT INTO inbox.deliveries (user_id, channel, address, event, type, payload)
        SELECT w.user_id, 'email', w.address, 'notification.created', w.type, w.content
          FROM inbox._emails_wanted(
                   ARRAY(SELECT x.u FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(skip)) WITH ORDINALITY AS x(u, s, k)
                          WHERE x.s ORDER BY x.k),
                   ARRAY(SELECT x.t FROM ROWS FROM (pg_catalog.unnest(types), pg_catalog.unnest(skip)) WITH ORDINALITY AS x(t, s, k)
                          WHERE x.s ORDER BY x.k),
                   NULL,
                   ARRAY(SELECT x.o FROM ROWS FROM (pg_catalog.unnest(objects), pg_catalog.unnest(skip)) WITH ORDINALITY AS x(o, s, k)
                          WHERE x.s ORDER BY x.k)) AS w;
    END IF;
    RETURN skip;
END
$$;

-- A notification by its key, or NULL: one probe of the primary key, for each event the delivery
-- queueing needs the row of (a join of the events with inbox.notifications in the queueing's own
-- statement, planned once for the session while the inbox was small, kept a nested loop that
-- scanned the table whole for every event of a later fan-out: quadratic, 73 s instead of 2 s
-- for 10,000 recipients, which SET enable_seqscan = off on the statement only hid). `planned`:
-- the probe is planned at this call, with the table as it is now; otherwise its plan is cached
-- for the session, which is what a statement of one event wants (nothing to plan), and all it
-- risks is one read of a small table's pages, until the next ANALYZE replans it. The expander
-- reads a page of many events' rows in one statement planned at its call instead
-- (inbox._queue_deliveries), not a probe planned per event (0.12 ms each, a third of what an
-- e-mail cost the workers' backends at 400 creates/s).
CREATE FUNCTION inbox._notification_at(user_id text, id bigint, planned boolean)
RETURNS inbox.notifications
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found inbox.notifications;
BEGIN
    IF planned THEN
        EXECUTE 'SELECT n.* FROM inbox.notifications n WHERE n.user_id = $1 AND n.id = $2'
           INTO found USING user_id, id;
    ELSE
        SELECT n.* INTO found FROM inbox.notifications n
         WHERE n.user_id = _notification_at.user_id AND n.id = _notification_at.id;
    END IF;
    RETURN found;
END
$$;

-- Queues the deliveries of `events` (inbox.events rows, a page of the feed): an e-mail per
-- created notification whose type and recipient want one (or a place in the open digest of its
-- type), and a webhook call per event and endpoint that asks for it (`email`, `hooks`: whether
-- either is configured at all, as the expander found), its body stamped with the event's
-- created_at (the time of the change, not of the expansion). One static statement
-- (its plan cached for the session); the e-mails and the webhook calls are one INSERT (the
-- digests, which join an open row, another). A channel nobody wants costs nothing more than
-- its empty steps: no address look-up without an e-mail, no marks without a webhook. No
-- cached statement joins inbox.notifications: the rows of a page of many events are read first
-- by key, one statement planned at each call with the table as it is then (so no plan made
-- while the inbox was nearly empty can make a fan-out quadratic), into an array in the events'
-- order that the static statement indexes by the event's place in the page; a page of one
-- event uses the cached key probe (inbox._notification_at), and so does each event of a page on
-- a Citus node (there planned at its call when the page has many). One node runs it through
-- inbox._queue_page, which has its plans made once a session. The marks the webhook bodies are
-- shaped with are read once per user (inbox._user_marks), matched to the events by a FULL join,
-- which PostgreSQL runs as a hash or merge join, never as a loop over one side for each row of
-- the other. On a Citus node the events are one user's (inbox._expand_node): every table the
-- statement reaches is then that user's shard or a reference table.
CREATE FUNCTION inbox._queue_deliveries(events inbox.events[], email boolean, hooks boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    many boolean := pg_catalog.cardinality(events) > 1;
    -- (On a Citus node, whose pages are one user's, each event's row is a probe of its own:
    -- Citus routes a statement by its user, not a correlated read for the rows of an array.)
    read_first boolean := many AND NOT inbox._citus_managed('inbox.notifications');
    stored inbox.notifications[];  -- (read_first: each event's notification, in the events' order)
    queued bigint;  -- (the rows the statement inserted; unused)
BEGIN
    IF read_first THEN
        -- Only the rows a delivery may need (an e-mail's created notification; any, for webhooks).
        EXECUTE 'SELECT pg_catalog.array_agg(
                            CASE WHEN e.notification_id IS NOT NULL AND ($2 AND e.event = ''notification.created'' OR $3)
                                 THEN (SELECT n FROM inbox.notifications n
                                        WHERE n.user_id = e.user_id AND n.id = e.notification_id) END
                            ORDER BY e.ordinality)
                   FROM pg_catalog.unnest($1) WITH ORDINALITY AS e'
           INTO stored USING events, email, hooks;
    END IF;
    WITH found AS MATERIALIZED (
        -- The events that call for a delivery, each with its notification's row.
        SELECT x.*, CASE WHEN x.notification_id IS NULL THEN NULL
                         WHEN read_first THEN stored[x.ordinality]
                         ELSE inbox._notification_at(x.user_id, x.notification_id, many) END AS n
          FROM (SELECT e.id, e.user_id, e.event, e.notification_id, e.workspace_id, coalesce(e.data, '{}') AS data,
                       e.created_at, e.ordinality,
                       email AND e.event = 'notification.created' AS mailed,
                       hooks AND EXISTS (SELECT FROM inbox.webhooks w
                                          WHERE w.enabled AND e.event = ANY (w.events)
                                            AND (w.user_id IS NULL OR w.user_id = e.user_id)
                                            AND (w.workspace_id IS NULL OR w.workspace_id = e.workspace_id)) AS hooked
                  -- ((SELECT events): the planner sizes the array alike in every call.)
                  FROM pg_catalog.unnest((SELECT events)) WITH ORDINALITY AS e) AS x
         WHERE x.mailed OR x.hooked),
    -- E-mails: the created notifications that are stored (an in_app-off recipient's e-mail was
    -- queued by the create, inbox._skip_in_app).
    mails AS MATERIALIZED (
        SELECT w.*, t.email_digest
          FROM (SELECT pg_catalog.array_agg(f.user_id ORDER BY f.id) AS user_ids,
                       pg_catalog.array_agg((f.n).type ORDER BY f.id) AS types,
                       pg_catalog.array_agg(f.notification_id ORDER BY f.id) AS notification_ids
                  FROM found f
                 WHERE f.mailed AND (f.n).id IS NOT NULL) AS a
         CROSS JOIN LATERAL inbox._emails_wanted(a.user_ids, a.types, a.notification_ids, NULL) AS w
          LEFT JOIN inbox.notification_types t ON t.name = w.type
         WHERE a.user_ids IS NOT NULL),
    digested AS (
        INSERT INTO inbox.deliveries AS d (user_id, channel, address, event, type, notification_ids, digest, due_at)
        SELECT m.user_id, 'email', pg_catalog.min(m.address), 'notification.created', m.type,
               pg_catalog.array_agg(m.notification_id ORDER BY m.notification_id), true,
               pg_catalog.now() + pg_catalog.min(m.email_digest)
          FROM mails m WHERE m.email_digest IS NOT NULL
         GROUP BY m.user_id, m.type
        ON CONFLICT (user_id, type) WHERE digest AND state = 'pending' AND attempts = 0
        DO UPDATE SET notification_ids = d.notification_ids || excluded.notification_ids),
    marks AS MATERIALIZED (
        SELECT u.user_id, m.read_marks, m.seen
          FROM (SELECT DISTINCT f.user_id FROM found f WHERE f.hooked) AS u
         CROSS JOIN LATERAL inbox._user_marks(u.user_id) AS m),
    shaped AS MATERIALIZED (
        -- The event's data as the streams get it (45_feed.sql), always naming the user. (Every
        -- event has its user's marks: FULL only rules out a nested loop.)
        SELECT f.user_id, f.event, f.notification_id, f.workspace_id, (f.n).type AS type, f.created_at,
               inbox._event_data(f.event, f.notification_id, f.data, f.n, m.read_marks, m.seen)
               || pg_catalog.jsonb_build_object('userId', f.user_id) AS data
          FROM (SELECT * FROM found WHERE hooked) AS f FULL JOIN marks m ON m.user_id = f.user_id),
    inserted AS (
        INSERT INTO inbox.deliveries (user_id, channel, address, webhook_id, event, type, notification_ids, payload)
        SELECT m.user_id, 'email', m.address, NULL, 'notification.created', m.type, ARRAY[m.notification_id], NULL
          FROM mails m WHERE m.email_digest IS NULL
        UNION ALL
        -- Webhooks (Standard Webhooks: type, timestamp, data): the time of the event, the
        -- notification as the expander found it, milliseconds after it.
        SELECT s.user_id, 'webhook', NULL, w.id, s.event, s.type,
               CASE WHEN s.notification_id IS NULL THEN '{}'::bigint[] ELSE ARRAY[s.notification_id] END,
               pg_catalog.jsonb_build_object('type', s.event, 'timestamp', inbox.iso_time(s.created_at), 'data', s.data)
          FROM shaped s
          JOIN inbox.webhooks w ON w.enabled AND s.event = ANY (w.events)
                               AND (w.user_id IS NULL OR w.user_id = s.user_id)
                               AND (w.workspace_id IS NULL OR w.workspace_id = s.workspace_id)
         -- (A summary is of no one type: an endpoint that asked for its event gets it.)
         WHERE w.types IS NULL OR s.notification_id IS NULL OR s.type = ANY (w.types)
        RETURNING 1)
    SELECT pg_catalog.count(*) INTO queued FROM inserted;
END
$$;

-- inbox._queue_deliveries on one node, with its statements planned once a session: given the
-- channels' booleans a custom plan always looked cheaper (it drops the channels not wanted), so
-- PostgreSQL planned the whole statement again at every page (2.7 ms of planning against 1.3 ms
-- of execution for a page of one event). No plan of it reads a table by anything but a key
-- (inbox.notifications not at all), so the plan made for one page is the plan for any. Not on
-- Citus, whose router plans a statement with its user's value (inbox._expand_user calls
-- inbox._queue_deliveries itself).
CREATE FUNCTION inbox._queue_page(events inbox.events[], email boolean, hooks boolean)
RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    PERFORM inbox._queue_deliveries(events, email, hooks);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- The expander: the outbox filled from the change feed
-- ---------------------------------------------------------------------------------------------

-- The expander's cursor in the change feed of this node (inbox._feed_page's, 45_feed.sql): only
-- the hint of which users have events to expand; what has been expanded is each user's mark
-- (inbox.delivery_progress). One row. On a Citus cluster every node has its own table and row,
-- never distributed (xids, and so cursors, are per node): it is not in inbox._citus_tables().
-- Not dumped (no pg_extension_config_dump): a cursor holds xids of the cluster it was taken on,
-- which mean nothing in another, so a restore starts it afresh, from the moment of its CREATE
-- EXTENSION, as the install and the upgrade scripts do. `unconfigured_at`: when an expansion
-- last found neither e-mail nor a webhook configured (and so moved the cursor to now, queueing
-- nothing): the events created before it are never queued, even by a later catch-up of a mark.
CREATE TABLE inbox.delivery_feed_position (
    only_row  boolean     PRIMARY KEY DEFAULT true CHECK (only_row),
    cursor    text        NOT NULL,
    moved_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    unconfigured_at timestamptz
);

COMMENT ON TABLE inbox.delivery_feed_position IS
    'The delivery expander''s cursor in this node''s change feed (inbox.expand_deliveries): which users have events to expand (inbox.delivery_progress says which are). Local to each node; not dumped.';

-- From now: what committed before has no deliveries of the expander's (before 0.2.0's expander,
-- none at all, or the trigger's).
INSERT INTO inbox.delivery_feed_position (cursor) SELECT inbox._feed_start();

-- The expander's truth: per user, the id of the last event (inbox.events.id, the user's gapless
-- ids in commit order) whose deliveries are queued. Every lower id of the user is expanded or
-- predates the expander (a user gets a mark at the first expansion of theirs, from their events
-- the cursor had not passed: inbox._expand_node). Distributed with the notifications, so it
-- moves with the user's shard: an expander that reads a moved user's events again (the new
-- node's cursor, its xids unrelated to the old node's) queues nothing twice. Its own table, not a
-- column of inbox.user_counters: the creates hold that row's lock to commit, which the expander
-- must not wait for nor make them wait for. Not dumped, as the feed's events and ids are not.
CREATE TABLE inbox.delivery_progress (
    user_id  text   NOT NULL,
    event_id bigint NOT NULL,
    CONSTRAINT delivery_progress_pkey PRIMARY KEY (user_id)
);

COMMENT ON TABLE inbox.delivery_progress IS
    'Per user, the last change-feed event id whose deliveries the expander queued (inbox.expand_deliveries): the events after it are the ones to expand. Not dumped.';

-- Whether e-mail or a webhook is configured at all: the expander queues nothing otherwise, and
-- pruning keeps no event for it.
CREATE FUNCTION inbox._delivery_configured(OUT email boolean, OUT hooks boolean)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    -- E-mail, sent when a notification is created (never on an update: Directus's rule).
    email := inbox._setting('pg_inbox.email_column', '') <> '';
    hooks := EXISTS (SELECT FROM inbox.webhooks w WHERE w.enabled);
END
$$;

-- The lowest xid of an event the expander of this node may still have to read (its cursor's
-- x: every event below it has been expanded), or NULL when delivery is not configured.
-- inbox.prune_events keeps the events from it on: they are the outbox's source.
CREATE FUNCTION inbox._delivery_feed_floor()
RETURNS xid8
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    wanted record := inbox._delivery_configured();
BEGIN
    IF NOT wanted.email AND NOT wanted.hooks THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT (pg_catalog.jsonb_extract_path_text(f.cursor::jsonb, 'x'))::xid8 FROM inbox.delivery_feed_position f);
END
$$;

-- The expansion of one user on a Citus node (every statement about that user's shard): queues
-- their events after their mark up to `upto` (created after `since`, when set) and moves the
-- mark. The mark's row is locked first, so that two nodes expanding the same user at once
-- (during a shard move) queue nothing twice: the second waits, then finds the mark moved. A
-- user without a mark starts as inbox._expand_node says (the same rule, here for one user).
CREATE FUNCTION inbox._expand_user(user_id text, upto bigint, x xid8, p pg_catalog.pg_snapshot, kx xid8,
                                   ku text, ki bigint, since timestamptz, email boolean, hooks boolean)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    after bigint;
    due inbox.events[];
BEGIN
    SELECT d.event_id INTO after FROM inbox.delivery_progress d WHERE d.user_id = _expand_user.user_id FOR UPDATE;
    IF NOT FOUND THEN
        SELECT coalesce(min(e.id) FILTER (WHERE NOT inbox._feed_passed(x, p, kx, ku, ki, e.xid, e.user_id, e.id)) - 1,
                        max(e.id), 0)
          INTO after
          FROM inbox.events e WHERE e.user_id = _expand_user.user_id;
        INSERT INTO inbox.delivery_progress AS d (user_id, event_id) VALUES (_expand_user.user_id, after)
        ON CONFLICT ON CONSTRAINT delivery_progress_pkey DO UPDATE SET event_id = d.event_id
        RETURNING d.event_id INTO after;
    END IF;
    IF upto <= after THEN
        RETURN;
    END IF;
    SELECT pg_catalog.array_agg(ROW(e.*)::inbox.events ORDER BY e.id) INTO due
      FROM inbox.events e
     WHERE e.user_id = _expand_user.user_id AND e.id > after AND e.id <= upto
       AND (since IS NULL OR e.created_at > since);
    IF pg_catalog.cardinality(due) > 0 THEN
        PERFORM inbox._queue_deliveries(due, email, hooks);
    END IF;
    UPDATE inbox.delivery_progress d SET event_id = upto WHERE d.user_id = _expand_user.user_id;
END
$$;

-- The expander on this node: for the users of a page of the feed after its cursor (up to `limit`
-- events, inbox._feed_page), queues the deliveries of each user's events after their mark
-- (inbox.delivery_progress) up to the highest id of theirs the page holds, read by key from
-- inbox.events, and moves the marks there; then moves the cursor. All in the caller's
-- transaction, so an event's deliveries exist if and only if its change committed. Exactly once,
-- by the marks: a user's ids commit in order, so when the page holds id n every lower id of the
-- user is committed, and what is at or below the mark is never queued again, whatever page
-- carries it again (a repeated page, a lower id in a later page, a moved shard's events under
-- another node's xids). A second expander at the same moment (the cursor row locked) returns 0
-- at once, as does an idle feed (inbox._feed_newest_xid), which is read without locking or
-- writing. With neither e-mail nor a webhook configured it only moves the cursor to now and
-- notes when (unconfigured_at: a later catch-up skips the events created before): the
-- configuration that counts is the one at expansion. A user without a mark yet starts before
-- their oldest event the cursor has not passed (inbox._feed_passed), or, with none, at their
-- last: the events it passed predate the expander (before delivery was configured, before the
-- upgrade) and are never queued. One node: one statement reads and moves the marks, one queues
-- (inbox._queue_page). Citus: a user at a time (inbox._expand_user), so that every
-- statement is about one user's shard. Returns the events the page held.
CREATE FUNCTION inbox._expand_node("limit" integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    here text;
    since timestamptz;
    c record;
    page inbox.events[];
    next text;
    wanted record;
    due inbox.events[];
    one_user record;
BEGIN
    SELECT f.cursor INTO here FROM inbox.delivery_feed_position f;
    IF NOT FOUND THEN
        -- (Someone emptied the table: start again from now.)
        INSERT INTO inbox.delivery_feed_position (cursor) SELECT inbox._feed_start() ON CONFLICT DO NOTHING;
        RETURN 0;
    END IF;
    -- Idle: no event at or beyond the cursor's x (one probe of the feed's xid index). Events
    -- there may all be behind the cursor already (in its p): then the page below is empty and
    -- moving the cursor on puts x beyond them, so the next look is this one again.
    IF NOT coalesce(inbox._feed_newest_xid() >= pg_catalog.jsonb_extract_path_text(here::jsonb, 'x')::xid8, false) THEN
        RETURN 0;
    END IF;
    SELECT f.cursor, f.unconfigured_at INTO here, since FROM inbox.delivery_feed_position f FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;  -- another expander is at it
    END IF;
    wanted := inbox._delivery_configured();
    IF NOT wanted.email AND NOT wanted.hooks THEN
        UPDATE inbox.delivery_feed_position
           SET cursor = inbox._feed_start(), moved_at = pg_catalog.now(), unconfigured_at = pg_catalog.now();
        RETURN 0;
    END IF;
    SELECT * INTO c FROM inbox._feed_cursor(here);
    SELECT f.events, f.next_cursor INTO page, next FROM inbox._feed_page(here, "limit") AS f;
    IF pg_catalog.cardinality(page) > 0 AND inbox._citus_managed('inbox.events') THEN
        FOR one_user IN SELECT e.user_id, max(e.id) AS upto FROM pg_catalog.unnest(page) AS e GROUP BY e.user_id LOOP
            PERFORM inbox._expand_user(one_user.user_id, one_user.upto, c.x, c.p, c.kx, c.ku, c.ki, since,
                                       wanted.email, wanted.hooks);
        END LOOP;
    ELSIF pg_catalog.cardinality(page) > 0 THEN
        -- Planned at each expansion (never with the plan of a smaller inbox: a join by key).
        EXECUTE 'WITH reach AS (
                     SELECT e.user_id, max(e.id) AS upto FROM pg_catalog.unnest($1) AS e GROUP BY e.user_id),
                 ranges AS MATERIALIZED (
                     SELECT r.user_id, r.upto,
                            coalesce(d.event_id,
                                     (SELECT coalesce(min(o.id) FILTER (WHERE NOT inbox._feed_passed($2, $3, $4, $5, $6, o.xid, o.user_id, o.id)) - 1,
                                                      max(o.id), 0)
                                        FROM inbox.events o WHERE o.user_id = r.user_id)) AS after
                       FROM reach r LEFT JOIN inbox.delivery_progress d ON d.user_id = r.user_id),
                 moved AS (
                     INSERT INTO inbox.delivery_progress AS d (user_id, event_id)
                     SELECT r.user_id, r.upto FROM ranges r
                     ON CONFLICT ON CONSTRAINT delivery_progress_pkey DO UPDATE SET event_id = excluded.event_id
                      WHERE d.event_id < excluded.event_id)
                 SELECT pg_catalog.array_agg(ROW(e.*)::inbox.events ORDER BY e.user_id, e.id)
                   FROM ranges r JOIN inbox.events e ON e.user_id = r.user_id AND e.id > r.after AND e.id <= r.upto
                  WHERE $7::timestamptz IS NULL OR e.created_at > $7'
           INTO due USING page, c.x, c.p, c.kx, c.ku, c.ki, since;
        IF pg_catalog.cardinality(due) > 0 THEN
            PERFORM inbox._queue_page(due, wanted.email, wanted.hooks);
        END IF;
    END IF;
    UPDATE inbox.delivery_feed_position SET cursor = next, moved_at = pg_catalog.now();
    RETURN pg_catalog.cardinality(page);
END
$$;

CREATE FUNCTION inbox.expand_deliveries("limit" integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql
-- On a Citus cluster it runs on every node, by design.
SET citus.multi_task_query_log_level = off
AS $$
BEGIN
    PERFORM inbox._check_feed_limit(expand_deliveries."limit");
    IF inbox._citus_managed('inbox.events') THEN
        RETURN inbox._citus_expand_deliveries(expand_deliveries."limit");
    END IF;
    RETURN inbox._expand_node(expand_deliveries."limit");
END
$$;

COMMENT ON FUNCTION inbox.expand_deliveries(integer) IS
    'Queues the deliveries (e-mail, webhooks) of the change-feed events of the users of up to limit events committed since the last expansion, each event exactly once (by the user''s mark, inbox.delivery_progress); returns how many events it read (0 when another expansion is running). inbox.claim_deliveries calls it first; on a Citus cluster every node expands its own shards (and every node''s claim its own, in the claim''s one round).';

-- ---------------------------------------------------------------------------------------------
-- Workers: claim, finish, prune
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox._hmac_sha256(key bytea, data bytea)
RETURNS bytea
AS 'MODULE_PATHNAME', 'pgi_hmac_sha256'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The unsubscribe token of a user and type: both in base64url, and an HMAC-SHA256 (truncated to
-- 128 bits) over them with the installation's key (inbox.cursor_secrets).
CREATE FUNCTION inbox._b64url(data bytea)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.rtrim(pg_catalog.translate(pg_catalog.encode(data, 'base64'), E'+/\n', '-_'), '=')
$$;

CREATE FUNCTION inbox._unb64url(data text)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    RETURN pg_catalog.decode(pg_catalog.translate(data, '-_', '+/')
                             || pg_catalog.repeat('=', (4 - pg_catalog.length(data) % 4) % 4), 'base64');
END
$$;

CREATE FUNCTION inbox._unsubscribe_mac(user_id text, type text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN inbox._b64url(pg_catalog.substr(inbox._hmac_sha256(
        (SELECT s.secret FROM inbox.cursor_secrets s ORDER BY s.created_at, s.secret LIMIT 1),
        pg_catalog.convert_to('unsubscribe' || pg_catalog.chr(10) || user_id || pg_catalog.chr(10) || type, 'UTF8')), 1, 16));
END
$$;

CREATE FUNCTION inbox._unsubscribe_token(user_id text, type text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN inbox._b64url(pg_catalog.convert_to(user_id, 'UTF8')) || '.'
        || inbox._b64url(pg_catalog.convert_to(type, 'UTF8')) || '.' || inbox._unsubscribe_mac(user_id, type);
END
$$;

-- The (user, type) of a token; raises P0002 for a token that is not one of ours.
CREATE FUNCTION inbox._unsubscribe_target(token text, OUT user_id text, OUT type text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    parts text[] := CASE WHEN pg_catalog.length(token) <= 600
                         THEN pg_catalog.regexp_match(token, '^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$') END;
BEGIN
    IF parts IS NOT NULL THEN
        BEGIN
            user_id := pg_catalog.convert_from(inbox._unb64url(parts[1]), 'UTF8');
            type := pg_catalog.convert_from(inbox._unb64url(parts[2]), 'UTF8');
        EXCEPTION WHEN invalid_parameter_value OR character_not_in_repertoire OR untranslatable_character THEN
            user_id := NULL;
        END;
        IF user_id IS NOT NULL AND inbox._unsubscribe_mac(user_id, type) = parts[3] THEN
            RETURN;
        END IF;
    END IF;
    RAISE EXCEPTION 'unsubscribe link not found' USING ERRCODE = 'no_data_found',
          DETAIL = 'The link is not one this server sent, or its key was replaced.';
END
$$;

-- Whether a claim of `channels` expands the change feed first: when one of them is configured
-- (e-mail: pg_inbox.email_column; webhook: an enabled endpoint), or when neither channel is (the
-- expansion then moves its cursor to now, so that a later configuration queues nothing older).
-- A claim of an unconfigured channel alone does not: the server's webhook workers, with e-mail
-- on and no webhook, expanded a third of the pages (every worker's claim expanded), each page
-- the smaller for it (about 40 events at 400 creates/s), and a page costs about as much for 40
-- events as for 160. What they passed by is expanded by the next claim of a configured
-- channel's worker, which expands before it claims: its latency is the same. (A process whose
-- workers claim only channels that are not configured, say webhook threads without
-- --smtp-url while only e-mail is, expands nothing: the events wait for a worker of a
-- configured channel, or for inbox.expand_deliveries, as with --delivery-workers 0.)
CREATE FUNCTION inbox._claim_expands(channels text[])
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    wanted record := inbox._delivery_configured();
BEGIN
    RETURN NOT (wanted.email OR wanted.hooks)
           OR wanted.email AND 'email' = ANY (channels)
           OR wanted.hooks AND 'webhook' = ANY (channels);
END
$$;

-- Claims up to `limit` due deliveries of `channels` for `lease_for` and returns what to send, in
-- one statement: the target (URL or address), the body, and the headers (webhook: webhook-id
-- and webhook-timestamp, with the endpoint's secret for the server to sign them; e-mail: the
-- subject, the Message-ID's local part, the unsubscribe token). A row whose lease runs out
-- before it is finished is due again, under the same id. Rows that can no longer be sent (their
-- endpoint gone or disabled, every notification of an e-mail deleted) are cancelled here. An
-- e-mail without a stored notification (its recipient had in_app off) is built from the create
-- object the row carries. It first expands the change feed (inbox.expand_deliveries), so that
-- what committed up to now is claimable, with no statement of the workers' own: an idle claim
-- costs one more look at the feed's xid index; but not for a claim of channels none of which is
-- configured (inbox._claim_expands).
CREATE FUNCTION inbox.claim_deliveries("limit" integer DEFAULT 100, lease_for interval DEFAULT '1 minute',
                                       channels text[] DEFAULT '{email,webhook}')
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
AS $$
DECLARE
    claim uuid := pg_catalog.gen_random_uuid();
    at timestamptz := pg_catalog.now();
    stamp text := pg_catalog.floor(EXTRACT(epoch FROM at))::bigint::text;
BEGIN
    IF "limit" IS NULL OR "limit" NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 10000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF inbox._citus_managed('inbox.deliveries') THEN
        -- (Each node expands its own events in its claim: one round to the nodes.)
        RETURN QUERY SELECT * FROM inbox._claim_citus("limit", lease_for, channels);
        RETURN;
    END IF;
    IF inbox._claim_expands(channels) THEN
        PERFORM inbox.expand_deliveries();
    END IF;
    RETURN QUERY
    -- Each channel's due rows in the index's order (channel, due_at), the oldest of them all
    -- taken: an ordered scan that stops at `limit` and passes the entries of rows that left the
    -- queue (they are marked dead as it goes), where a scan of every channel's due entries at
    -- once read the heap for each of them at every claim until a vacuum.
    WITH due AS (
        SELECT d.user_id, d.id
          FROM (SELECT DISTINCT u FROM pg_catalog.unnest(channels) AS u) AS c(channel)
          CROSS JOIN LATERAL (
              SELECT x.user_id, x.id, x.due_at FROM inbox.deliveries x
               WHERE x.state = 'pending' AND x.channel = c.channel AND x.due_at <= at
               ORDER BY x.due_at LIMIT "limit"
                 FOR UPDATE SKIP LOCKED) AS d
         ORDER BY d.due_at LIMIT "limit"),
    found AS (
        SELECT x.user_id, x.id, x.channel, x.type, x.payload, x.address, x.notification_ids,
               w.url, w.secret, m.count, m.first_id, m.subject, m.lines,
               CASE WHEN x.channel = 'webhook' THEN coalesce(w.enabled, false)
                    ELSE x.payload IS NOT NULL OR m.count > 0 END AS live
          FROM due JOIN inbox.deliveries x ON x.user_id = due.user_id AND x.id = due.id
          LEFT JOIN inbox.webhooks w ON x.channel = 'webhook' AND w.id = x.webhook_id
          LEFT JOIN LATERAL (
              SELECT pg_catalog.count(*)::int AS count, pg_catalog.min(n.id) AS first_id,
                     pg_catalog.min(n.title) FILTER (WHERE n.id = x.notification_ids[1]) AS subject,
                     pg_catalog.string_agg(
                         CASE WHEN pg_catalog.cardinality(x.notification_ids) > 1 THEN '* ' ELSE '' END
                         || coalesce(n.title, n.type)
                         || coalesce(E'\n\n' || n.body, '')
                         || coalesce(E'\n\n' || (n.data->>'url'), ''),
                         E'\n\n' ORDER BY n.created_at, n.id) AS lines
                FROM inbox.notifications n
               WHERE x.channel = 'email' AND n.user_id = x.user_id AND n.id = ANY (x.notification_ids)
                 AND n.deleted_at IS NULL) m ON true),
    cancelled AS (
        UPDATE inbox.deliveries x
           SET state = 'cancelled', finished_at = at, lease = NULL, attempts = x.attempts + 1, digest = false,
               last_error = CASE WHEN f.channel = 'webhook' THEN 'the webhook endpoint was removed or disabled'
                                 ELSE 'every notification of the e-mail was deleted' END
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND NOT f.live),
    claimed AS (
        UPDATE inbox.deliveries x
           SET lease = claim, attempts = x.attempts + 1, due_at = at + lease_for, digest = false
          FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND f.live
        -- (With found's columns: a join of the two afterwards was a nested loop over both,
        -- quadratic in the claim's size, whenever the statistics had the outbox nearly empty.)
        RETURNING f.*, x.attempts)
    SELECT f.user_id, inbox._delivery_public_id(f.id), claim, f.channel, f.attempts,
           CASE WHEN f.channel = 'webhook' THEN f.url ELSE f.address END,
           CASE WHEN f.channel = 'webhook'
                THEN pg_catalog.jsonb_build_object('webhook-id', inbox._delivery_public_id(f.id), 'webhook-timestamp', stamp)
                ELSE pg_catalog.jsonb_build_object(
                         'subject', CASE WHEN pg_catalog.cardinality(f.notification_ids) > 1 THEN f.count || ' new notifications'
                                         WHEN f.count > 0 THEN coalesce(f.subject, f.type, 'New notification')
                                         ELSE coalesce(f.payload->>'title', f.type, 'New notification') END,
                         -- A retry is the same message; a digest, or an e-mail without a stored
                         -- notification, is its own.
                         'messageId', CASE WHEN pg_catalog.cardinality(f.notification_ids) = 1 AND f.count > 0
                                           THEN inbox.public_id(f.first_id) ELSE inbox._delivery_public_id(f.id) END,
                         'unsubscribe', inbox._unsubscribe_token(f.user_id, f.type),
                         'type', f.type) END,
           CASE WHEN f.channel = 'webhook' THEN f.payload::text
                WHEN f.count > 0 THEN f.lines || E'\n'
                ELSE coalesce(f.payload->>'title', f.type) || coalesce(E'\n\n' || (f.payload->>'body'), '')
                     || coalesce(E'\n\n' || (f.payload->'data'->>'url'), '') || E'\n' END,
           f.secret
      FROM claimed f;
END
$$;

COMMENT ON FUNCTION inbox.claim_deliveries(integer, interval, text[]) IS
    'For the server''s delivery workers: claims up to limit due deliveries (FOR UPDATE SKIP LOCKED) for lease, and returns what to send. Several workers and servers can share the outbox.';

-- inbox.claim_deliveries on a Citus cluster, where a row lock may not be taken in a statement
-- over several shards: every node expands its own events and claims from the shards it holds
-- (inbox._claim_local), all nodes at once in one round (run_command_on_all_nodes), busy or
-- idle, each its share of `limit`; each node's expansion and claims commit there together (a
-- lease that no one uses runs out, as a dead worker's does).
CREATE FUNCTION inbox._claim_citus("limit" integer, lease_for interval, channels text[])
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
-- (On Citus: it asks every node, by design.)
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    node record;
    nodes integer;
BEGIN
    SELECT pg_catalog.count(DISTINCT p.groupid)::int INTO nodes
      FROM pg_catalog.pg_dist_shard s JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid
     WHERE s.logicalrelid = 'inbox.deliveries'::regclass;
    FOR node IN SELECT * FROM pg_catalog.run_command_on_all_nodes(pg_catalog.format(
                    'SELECT inbox._claim_local(%s, %L, %L)', (("limit" + nodes - 1) / nodes), lease_for, channels)) LOOP
        IF NOT node.success THEN
            RAISE WARNING 'inbox.claim_deliveries: node % could not claim: %', node.nodeid, node.result;
            CONTINUE;
        END IF;
        RETURN QUERY SELECT * FROM pg_catalog.jsonb_to_recordset(node.result::jsonb)
            AS r(user_id text, id text, lease uuid, channel text, attempt integer, target text,
                 headers jsonb, body text, secret text);
    END LOOP;
END
$$;

-- The claim's statement (inbox.claim_deliveries's, which keeps its own static copy: one node
-- plans it once per session, where this one is planned at every call) over one shard's tables
-- on a Citus node: the deliveries, the notifications of the same shard group, the node's copy
-- of the webhooks, named by the caller from the catalogs.
CREATE FUNCTION inbox._claim_shard(deliveries regclass, notifications regclass, webhooks regclass,
                                   "limit" integer, lease_for interval, channels text[])
RETURNS TABLE (user_id text, id text, lease uuid, channel text, attempt integer, target text,
               headers jsonb, body text, secret text)
LANGUAGE plpgsql
AS $$
DECLARE
    at timestamptz := pg_catalog.now();
BEGIN
    RETURN QUERY EXECUTE pg_catalog.format($claim$
        WITH due AS (
            SELECT d.user_id, d.id
              FROM (SELECT DISTINCT u FROM pg_catalog.unnest($6) AS u) AS c(channel)
              CROSS JOIN LATERAL (
                  SELECT x.user_id, x.id, x.due_at FROM %1$s x
                   WHERE x.state = 'pending' AND x.channel = c.channel AND x.due_at <= $2
                   ORDER BY x.due_at LIMIT $4
                     FOR UPDATE SKIP LOCKED) AS d
             ORDER BY d.due_at LIMIT $4),
        found AS (
            SELECT x.user_id, x.id, x.channel, x.type, x.payload, x.address, x.notification_ids,
                   w.url, w.secret, m.count, m.first_id, m.subject, m.lines,
                   CASE WHEN x.channel = 'webhook' THEN coalesce(w.enabled, false)
                        ELSE x.payload IS NOT NULL OR m.count > 0 END AS live
              FROM due JOIN %1$s x ON x.user_id = due.user_id AND x.id = due.id
              LEFT JOIN %3$s w ON x.channel = 'webhook' AND w.id = x.webhook_id
              LEFT JOIN LATERAL (
                  SELECT pg_catalog.count(*)::int AS count, pg_catalog.min(n.id) AS first_id,
                         pg_catalog.min(n.title) FILTER (WHERE n.id = x.notification_ids[1]) AS subject,
                         pg_catalog.string_agg(
                             CASE WHEN pg_catalog.cardinality(x.notification_ids) > 1 THEN '* ' ELSE '' END
                             || coalesce(n.title, n.type)
                             || coalesce(E'\n\n' || n.body, '')
                             || coalesce(E'\n\n' || (n.data->>'url'), ''),
                             E'\n\n' ORDER BY n.created_at, n.id) AS lines
                    FROM %2$s n
                   WHERE x.channel = 'email' AND n.user_id = x.user_id AND n.id = ANY (x.notification_ids)
                     AND n.deleted_at IS NULL) m ON true),
        cancelled AS (
            UPDATE %1$s x
               SET state = 'cancelled', finished_at = $2, lease = NULL, attempts = x.attempts + 1, digest = false,
                   last_error = CASE WHEN f.channel = 'webhook' THEN 'the webhook endpoint was removed or disabled'
                                     ELSE 'every notification of the e-mail was deleted' END
              FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND NOT f.live),
        claimed AS (
            UPDATE %1$s x
               SET lease = $1, attempts = x.attempts + 1, due_at = $2 + $5, digest = false
              FROM found f WHERE x.user_id = f.user_id AND x.id = f.id AND f.live
            -- (With found's columns, as inbox.claim_deliveries's statement, which says why.)
            RETURNING f.*, x.attempts)
        SELECT f.user_id, inbox._delivery_public_id(f.id), $1, f.channel, f.attempts,
               CASE WHEN f.channel = 'webhook' THEN f.url ELSE f.address END,
               CASE WHEN f.channel = 'webhook'
                    THEN pg_catalog.jsonb_build_object('webhook-id', inbox._delivery_public_id(f.id), 'webhook-timestamp', $3)
                    ELSE pg_catalog.jsonb_build_object(
                             'subject', CASE WHEN pg_catalog.cardinality(f.notification_ids) > 1 THEN f.count || ' new notifications'
                                             WHEN f.count > 0 THEN coalesce(f.subject, f.type, 'New notification')
                                             ELSE coalesce(f.payload->>'title', f.type, 'New notification') END,
                             -- A retry is the same message; a digest, or an e-mail without a stored
                             -- notification, is its own.
                             'messageId', CASE WHEN pg_catalog.cardinality(f.notification_ids) = 1 AND f.count > 0
                                               THEN inbox.public_id(f.first_id) ELSE inbox._delivery_public_id(f.id) END,
                             'unsubscribe', inbox._unsubscribe_token(f.user_id, f.type),
                             'type', f.type) END,
               CASE WHEN f.channel = 'webhook' THEN f.payload::text
                    WHEN f.count > 0 THEN f.lines || E'\n'
                    ELSE coalesce(f.payload->>'title', f.type) || coalesce(E'\n\n' || (f.payload->>'body'), '')
                         || coalesce(E'\n\n' || (f.payload->'data'->>'url'), '') || E'\n' END,
               f.secret
          FROM claimed f
$claim$, deliveries, notifications, webhooks)
    USING pg_catalog.gen_random_uuid(), at, pg_catalog.floor(EXTRACT(epoch FROM at))::bigint::text,
          "limit", lease_for, channels;
END
$$;

-- On a node of a Citus cluster: first expands this node's change-feed events into the outbox
-- (inbox._expand_node, as inbox.expand_deliveries's default page: its deliveries are then
-- claimable in this same transaction), then claims up to `limit` due deliveries from the shards
-- this node holds that have any (one look over them all, planned at each call as the feed's
-- idle look is: an idle claim costs that look and the expander's), one statement per such
-- shard, in a random order so that no shard waits behind the others; returns them as a JSON
-- array of inbox.claim_deliveries's rows.
CREATE FUNCTION inbox._claim_local("limit" integer, lease_for interval, channels text[])
RETURNS jsonb
LANGUAGE plpgsql
-- (Citus refuses changes to a shard by name unless told: these are the shards' own rows.)
SET citus.enable_manual_changes_to_shards = on
AS $$
DECLARE
    shards record;
    look text;
    due integer[];
    hooks regclass;
    part jsonb;
    claimed jsonb := '[]';
    wanted integer := "limit";
    i integer;
BEGIN
    IF inbox._claim_expands(channels) THEN
        PERFORM inbox._expand_node(1000);
    END IF;
    SELECT pg_catalog.array_agg(pg_catalog.shard_name('inbox.deliveries'::regclass, d.shardid)::regclass ORDER BY d.shardid) AS deliveries,
           pg_catalog.array_agg(pg_catalog.shard_name('inbox.notifications'::regclass, n.shardid)::regclass ORDER BY d.shardid) AS notifications
      INTO shards
      FROM pg_catalog.pg_dist_shard d
      JOIN pg_catalog.pg_dist_placement p ON p.shardid = d.shardid
      JOIN pg_catalog.pg_dist_shard n ON n.logicalrelid = 'inbox.notifications'::regclass
                                     AND n.shardminvalue = d.shardminvalue
     WHERE d.logicalrelid = 'inbox.deliveries'::regclass
       AND p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g);
    IF shards.deliveries IS NULL THEN
        RETURN claimed;
    END IF;
    -- Which of them have due rows (the due index of each, one statement).
    SELECT pg_catalog.string_agg(pg_catalog.format(
               'SELECT %s AS i WHERE EXISTS (SELECT FROM %s x WHERE x.state = ''pending'' AND x.due_at <= $1 AND x.channel = ANY ($2))',
               o.i, o.deliveries), ' UNION ALL ')
      INTO look
      FROM pg_catalog.unnest(shards.deliveries) WITH ORDINALITY AS o(deliveries, i);
    EXECUTE 'SELECT pg_catalog.array_agg(l.i ORDER BY pg_catalog.random()) FROM (' || look || ') AS l'
       INTO due USING pg_catalog.now(), channels;
    IF due IS NULL THEN
        RETURN claimed;
    END IF;
    hooks := (SELECT pg_catalog.shard_name('inbox.webhooks'::regclass, w.shardid)::regclass
                FROM pg_catalog.pg_dist_shard w WHERE w.logicalrelid = 'inbox.webhooks'::regclass);
    FOREACH i IN ARRAY due LOOP
        SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(c)), '[]') INTO part
          FROM inbox._claim_shard(shards.deliveries[i], shards.notifications[i], hooks, wanted, lease_for, channels) AS c;
        claimed := claimed || part;
        wanted := wanted - pg_catalog.jsonb_array_length(part);
        EXIT WHEN wanted <= 0;
    END LOOP;
    RETURN claimed;
END
$$;

-- Records attempts: a JSON array of {"userId", "id", "lease", "status", "error", "durationMs",
-- "retryAfter"} (status: the HTTP status or SMTP reply code, 0 or absent when none came). What an
-- answer means:
--   webhook: 2xx delivered; 410 the endpoint is disabled and the delivery failed; 408, 429, 5xx
--            and no answer (timeout, refused, reset) are retried; any other 4xx fails at once (the
--            receiver refused the request: sending it again would not change that);
--   e-mail:  2xx delivered; 5xx (a permanent SMTP failure) fails at once; 4xx and no answer are
--            retried.
-- A retry is due after the backoff schedule (or a 429/503's Retry-After), unless that was the
-- last attempt (pg_inbox.delivery_max_attempts): then the delivery failed. A report whose lease
-- is no longer the row's (the lease ran out and another worker claimed it) is ignored. Returns
-- how many reports were recorded. On a Citus cluster every node records the reports of the
-- shards it holds (inbox._finish_local), one statement per shard, as the claim does.
CREATE FUNCTION inbox.finish_deliveries(results jsonb)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    max_attempts integer := inbox._setting('pg_inbox.delivery_max_attempts', '10')::integer;
    recorded integer;
    finished timestamptz := pg_catalog.clock_timestamp();
BEGIN
    IF pg_catalog.jsonb_typeof(results) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'results: expected a JSON array' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF inbox._citus_managed('inbox.deliveries') THEN
        RETURN inbox._finish_citus(results);
    END IF;
    -- One statement for the whole batch: the reports whose lease is still the row's, what each
    -- answer means, the attempt logged, the row rescheduled or finished, a gone endpoint disabled.
    WITH reports AS (
        SELECT r."userId" AS user_id, inbox._delivery_uuid(r.id) AS id, r.lease,
               NULLIF(r.status, 0) AS code, pg_catalog.left(r.error, 1000) AS error,
               r."durationMs" AS duration_ms, r."retryAfter" AS retry_after
          FROM pg_catalog.jsonb_to_recordset(results)
               AS r("userId" text, id text, lease uuid, status integer, error text, "durationMs" integer, "retryAfter" integer)),
    current AS (
        SELECT d.user_id, d.id, d.channel, d.attempts, d.webhook_id, r.code, r.error, r.duration_ms, r.retry_after
          FROM inbox.deliveries d JOIN reports r ON d.user_id = r.user_id AND d.id = r.id AND d.lease = r.lease
         WHERE d.state = 'pending'
           FOR UPDATE OF d),
    answered AS (
        SELECT c.*, CASE WHEN c.code BETWEEN 200 AND 299 THEN 'delivered'
                         WHEN c.channel = 'webhook' AND c.code = 410 THEN 'gone'
                         WHEN c.code IS NULL OR c.code >= 500 AND c.channel = 'webhook' OR c.code IN (408, 429)
                              OR c.code BETWEEN 400 AND 499 AND c.channel = 'email'
                         THEN CASE WHEN c.attempts >= max_attempts THEN 'failed' ELSE 'retry' END
                         ELSE 'failed' END AS outcome
          FROM current c),
    planned AS (
        SELECT a.*, CASE WHEN a.code IN (429, 503) AND a.retry_after > 0
                         THEN pg_catalog.make_interval(secs => least(a.retry_after, 86400))
                         ELSE inbox._delivery_backoff(a.attempts) END AS wait
          FROM answered a),
    logged AS (
        INSERT INTO inbox.delivery_attempts (user_id, delivery_id, attempt, outcome, status, duration_ms, error)
        SELECT p.user_id, p.id, p.attempts, p.outcome, p.code, p.duration_ms, p.error FROM planned p
        ON CONFLICT ON CONSTRAINT delivery_attempts_pkey DO NOTHING),
    disabled AS (
        UPDATE inbox.webhooks w SET enabled = false, disabled_reason = 'the endpoint answered 410 Gone'
         WHERE w.enabled AND w.id IN (SELECT p.webhook_id FROM planned p WHERE p.outcome = 'gone'))
    UPDATE inbox.deliveries d
       SET state = CASE WHEN p.outcome = 'retry' THEN 'pending' WHEN p.outcome = 'delivered' THEN 'delivered' ELSE 'failed' END,
           due_at = pg_catalog.now() + p.wait,
           finished_at = CASE WHEN p.outcome = 'retry' THEN NULL ELSE finished END,
           lease = NULL, last_status = p.code, last_error = p.error
      FROM planned p
     WHERE d.user_id = p.user_id AND d.id = p.id;
    GET DIAGNOSTICS recorded = ROW_COUNT;
    RETURN recorded;
END
$$;

-- inbox.finish_deliveries on a Citus cluster: every node records the reports of the shards it
-- holds (inbox._finish_local), one statement per shard, as the claim does; an endpoint that
-- answered 410 Gone is disabled here, on the reference table.
CREATE FUNCTION inbox._finish_citus(results jsonb)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    recorded integer := 0;
    gone bigint[];
    node record;
BEGIN
    FOR node IN SELECT * FROM pg_catalog.run_command_on_all_nodes(
                    pg_catalog.format('SELECT inbox._finish_local(%L)', results)) LOOP
        IF NOT node.success THEN
            RAISE WARNING 'inbox.finish_deliveries: node % could not record: %', node.nodeid, node.result;
            CONTINUE;
        END IF;
        recorded := recorded + (node.result::jsonb->>'recorded')::int;
        gone := gone || ARRAY(SELECT x::bigint FROM pg_catalog.jsonb_array_elements_text(node.result::jsonb->'gone') AS x);
    END LOOP;
    -- An endpoint that answered 410 Gone is disabled.
    IF gone IS NOT NULL THEN
        UPDATE inbox.webhooks w SET enabled = false, disabled_reason = 'the endpoint answered 410 Gone'
         WHERE w.enabled AND w.id = ANY (gone);
    END IF;
    RETURN recorded;
END
$$;

COMMENT ON FUNCTION inbox.finish_deliveries(jsonb) IS
    'For the server''s delivery workers: records attempts and schedules retries (see the function''s header for what each answer means).';

-- The finish's statement (inbox.finish_deliveries's, static there) over one shard's deliveries
-- and attempts on a Citus node: the reports whose lease is still the row's, what each answer
-- means, the attempt logged, the row rescheduled or finished. Returns how many were recorded
-- and the endpoints that answered 410 (the webhooks, a reference table, are the caller's).
CREATE FUNCTION inbox._finish_shard(deliveries regclass, attempts regclass, results jsonb,
                                    OUT recorded integer, OUT gone bigint[])
LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE pg_catalog.format($finish$
        WITH reports AS (
            SELECT r."userId" AS user_id, inbox._delivery_uuid(r.id) AS id, r.lease,
                   NULLIF(r.status, 0) AS code, pg_catalog.left(r.error, 1000) AS error,
                   r."durationMs" AS duration_ms, r."retryAfter" AS retry_after
              FROM pg_catalog.jsonb_to_recordset($1)
                   AS r("userId" text, id text, lease uuid, status integer, error text, "durationMs" integer, "retryAfter" integer)),
        current AS (
            SELECT d.user_id, d.id, d.channel, d.attempts, d.webhook_id, r.code, r.error, r.duration_ms, r.retry_after
              FROM %1$s d JOIN reports r ON d.user_id = r.user_id AND d.id = r.id AND d.lease = r.lease
             WHERE d.state = 'pending'
               FOR UPDATE OF d),
        answered AS (
            SELECT c.*, CASE WHEN c.code BETWEEN 200 AND 299 THEN 'delivered'
                             WHEN c.channel = 'webhook' AND c.code = 410 THEN 'gone'
                             WHEN c.code IS NULL OR c.code >= 500 AND c.channel = 'webhook' OR c.code IN (408, 429)
                                  OR c.code BETWEEN 400 AND 499 AND c.channel = 'email'
                             THEN CASE WHEN c.attempts >= $2 THEN 'failed' ELSE 'retry' END
                             ELSE 'failed' END AS outcome
              FROM current c),
        planned AS (
            SELECT a.*, CASE WHEN a.code IN (429, 503) AND a.retry_after > 0
                             THEN pg_catalog.make_interval(secs => least(a.retry_after, 86400))
                             ELSE inbox._delivery_backoff(a.attempts) END AS wait
              FROM answered a),
        logged AS (
            INSERT INTO %2$s (user_id, delivery_id, attempt, outcome, status, duration_ms, error)
            SELECT p.user_id, p.id, p.attempts, p.outcome, p.code, p.duration_ms, p.error FROM planned p
            ON CONFLICT (user_id, delivery_id, attempt) DO NOTHING),
        updated AS (
            UPDATE %1$s d
               SET state = CASE WHEN p.outcome = 'retry' THEN 'pending' WHEN p.outcome = 'delivered' THEN 'delivered' ELSE 'failed' END,
                   due_at = pg_catalog.now() + p.wait,
                   finished_at = CASE WHEN p.outcome = 'retry' THEN NULL ELSE $3 END,
                   lease = NULL, last_status = p.code, last_error = p.error
              FROM planned p
             WHERE d.user_id = p.user_id AND d.id = p.id
            RETURNING p.outcome, p.webhook_id)
        SELECT pg_catalog.count(*)::int,
               pg_catalog.array_agg(DISTINCT u.webhook_id) FILTER (WHERE u.outcome = 'gone')
          FROM updated u
$finish$, deliveries, attempts)
    INTO recorded, gone
    USING results, inbox._setting('pg_inbox.delivery_max_attempts', '10')::integer, pg_catalog.clock_timestamp();
END
$$;

-- On a node of a Citus cluster: records the reports whose users' shards this node holds, one
-- statement per shard; returns {"recorded": n, "gone": [webhook ids]}.
CREATE FUNCTION inbox._finish_local(results jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET citus.enable_manual_changes_to_shards = on
AS $$
DECLARE
    s record;
    f record;
    recorded integer := 0;
    gone bigint[] := '{}';
BEGIN
    FOR s IN SELECT pg_catalog.shard_name('inbox.deliveries'::regclass, d.shardid)::regclass AS deliveries,
                    pg_catalog.shard_name('inbox.delivery_attempts'::regclass, a.shardid)::regclass AS attempts,
                    x.reports
               FROM (SELECT pg_catalog.get_shard_id_for_distribution_column('inbox.deliveries', r->>'userId') AS shardid,
                            pg_catalog.jsonb_agg(r) AS reports
                       FROM pg_catalog.jsonb_array_elements(results) AS r
                      GROUP BY 1) x
               JOIN pg_catalog.pg_dist_shard d ON d.shardid = x.shardid
               JOIN pg_catalog.pg_dist_placement p ON p.shardid = d.shardid
               JOIN pg_catalog.pg_dist_shard a ON a.logicalrelid = 'inbox.delivery_attempts'::regclass
                                              AND a.shardminvalue = d.shardminvalue
              WHERE p.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g) LOOP
        SELECT * INTO f FROM inbox._finish_shard(s.deliveries, s.attempts, s.reports);
        recorded := recorded + f.recorded;
        gone := gone || coalesce(f.gone, '{}');
    END LOOP;
    RETURN pg_catalog.jsonb_build_object('recorded', recorded, 'gone', pg_catalog.to_jsonb(gone));
END
$$;

-- Removes up to `batch` delivered, failed or cancelled rows older than
-- pg_inbox.delivery_retention (default 7 days), with their attempts; returns how many.
CREATE FUNCTION inbox.prune_deliveries(batch integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    removed bigint;
BEGIN
    DELETE FROM inbox.deliveries x
     USING (SELECT y.user_id, y.id FROM inbox.deliveries y
             WHERE y.state <> 'pending'
               AND y.finished_at < pg_catalog.now() - inbox._setting('pg_inbox.delivery_retention', '7 days')::interval
             ORDER BY y.finished_at LIMIT batch) old
     WHERE x.user_id = old.user_id AND x.id = old.id;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;

COMMENT ON FUNCTION inbox.prune_deliveries(integer) IS
    'Removes at most batch finished deliveries (and their attempts) older than pg_inbox.delivery_retention; returns how many. The server''s workers call it every minute.';

-- ---------------------------------------------------------------------------------------------
-- The delivery log of a webhook, and replaying one
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox._delivery_json(d inbox.deliveries)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN pg_catalog.jsonb_build_object(
        'id', inbox._delivery_public_id(d.id), 'userId', d.user_id, 'channel', d.channel,
        'event', d.event, 'type', d.type, 'state', d.state, 'attempts', d.attempts,
        'nextAttemptAt', CASE WHEN d.state = 'pending' THEN inbox.iso_time(d.due_at) END,
        'lastStatus', d.last_status, 'lastError', d.last_error,
        'createdAt', inbox.iso_time(d.created_at), 'finishedAt', inbox.iso_time(d.finished_at),
        'log', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                           'attempt', a.attempt, 'at', inbox.iso_time(a.at), 'outcome', a.outcome,
                           'status', a.status, 'durationMs', a.duration_ms, 'error', a.error) ORDER BY a.attempt)
                           FROM inbox.delivery_attempts a
                          WHERE a.user_id = d.user_id AND a.delivery_id = d.id), '[]'));
END
$$;

CREATE FUNCTION inbox.webhook_deliveries(webhook text, "limit" integer DEFAULT 50)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    wanted bigint := inbox._webhook_id(webhook);
BEGIN
    IF NOT EXISTS (SELECT FROM inbox.webhooks w WHERE w.id = wanted) THEN
        RAISE EXCEPTION 'webhook % not found', webhook USING ERRCODE = 'no_data_found';
    END IF;
    IF "limit" IS NULL OR "limit" NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 1000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN coalesce((SELECT pg_catalog.jsonb_agg(inbox._delivery_json(ROW(x.*)::inbox.deliveries) ORDER BY x.created_at DESC, x.id)
                       FROM (SELECT * FROM inbox.deliveries d WHERE d.webhook_id = wanted
                              ORDER BY d.created_at DESC, d.id LIMIT "limit") x), '[]');
END
$$;

COMMENT ON FUNCTION inbox.webhook_deliveries(text, integer) IS
    'The newest deliveries of a webhook endpoint with their attempts (outcome, status, duration).';

CREATE FUNCTION inbox.retry_delivery(webhook text, id text)
RETURNS jsonb
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    d inbox.deliveries;
BEGIN
    UPDATE inbox.deliveries x
       SET state = 'pending', due_at = pg_catalog.now(), finished_at = NULL, lease = NULL
     WHERE x.webhook_id = inbox._webhook_id(webhook) AND x.id = inbox._delivery_uuid(retry_delivery.id)
       AND x.state <> 'pending'
    RETURNING x.* INTO d;
    IF NOT FOUND THEN
        IF EXISTS (SELECT FROM inbox.deliveries x WHERE x.webhook_id = inbox._webhook_id(webhook)
                     AND x.id = inbox._delivery_uuid(retry_delivery.id)) THEN
            RAISE EXCEPTION 'delivery % is still pending', id USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RAISE EXCEPTION 'delivery % not found', id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN inbox._delivery_json(d);
END
$$;

COMMENT ON FUNCTION inbox.retry_delivery(text, text) IS
    'Sends a finished delivery of a webhook once more (same id), now.';

-- ---------------------------------------------------------------------------------------------
-- Unsubscribe (RFC 8058 one-click): the link in each e-mail turns that type's e-mail off
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.unsubscribe(token text)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    target record;
BEGIN
    SELECT * INTO target FROM inbox._unsubscribe_target(token);
    IF EXISTS (SELECT FROM inbox.notification_types t WHERE t.name = target.type AND t.critical) THEN
        RAISE EXCEPTION 'type: % is critical and cannot be turned off', target.type
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO inbox.preferences AS p (user_id, type, channel, enabled)
    VALUES (target.user_id, target.type, 'email', false)
    ON CONFLICT ON CONSTRAINT preferences_pkey DO UPDATE SET enabled = false, updated_at = pg_catalog.now();
    RETURN pg_catalog.jsonb_build_object('unsubscribed', true, 'type', target.type, 'channel', 'email');
END
$$;

COMMENT ON FUNCTION inbox.unsubscribe(text) IS
    'POST /api/unsubscribe/{token} (the List-Unsubscribe link of an e-mail): turns that type''s e-mail off for that person.';

-- The page a GET of the link shows: what the button does, and the button (a GET changes nothing:
-- mail scanners follow links).
CREATE FUNCTION inbox.unsubscribe_page(token text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    target record;
    html_type text;
BEGIN
    SELECT * INTO target FROM inbox._unsubscribe_target(token);
    html_type := pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
                     target.type, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;');
    RETURN '<!doctype html><html><head><meta charset="utf-8"><title>Unsubscribe</title></head><body>'
        || '<h1>Unsubscribe</h1><p>Stop e-mails about <strong>' || html_type || '</strong> notifications?</p>'
        || '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        || '<button type="submit">Unsubscribe</button></form></body></html>';
END
$$;

-- ---------------------------------------------------------------------------------------------
-- REST: preferences, webhooks, unsubscribe
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.rest_preferences(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:read');
    params jsonb := inbox._rest_params(query, ARRAY['user_id']);
BEGIN
    RETURN inbox.preferences(inbox._rest_user(caller, params));
END
$$;

COMMENT ON FUNCTION inbox.rest_preferences(text, jsonb) IS
    'GET /api/preferences: the caller''s preferences (an admin names another user with user_id).';

-- body: one {"type", "channel", "enabled"} or an array of them; all or nothing.
CREATE FUNCTION inbox.rest_set_preferences(token text, body jsonb, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'notifications:write');
    params jsonb := inbox._rest_params(query, ARRAY['user_id']);
    target text := inbox._rest_user(caller, params);
    items jsonb := CASE WHEN pg_catalog.jsonb_typeof(body) = 'object' THEN pg_catalog.jsonb_build_array(body) ELSE body END;
    item jsonb;
    i integer := 0;
    key text;
BEGIN
    IF pg_catalog.jsonb_typeof(items) IS DISTINCT FROM 'array' OR pg_catalog.jsonb_array_length(items) = 0 THEN
        RAISE EXCEPTION 'body: expected a preference {"type", "channel", "enabled"} or an array of them'
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR item IN SELECT e FROM pg_catalog.jsonb_array_elements(items) AS e LOOP
        IF pg_catalog.jsonb_typeof(item) IS DISTINCT FROM 'object' THEN
            RAISE EXCEPTION 'preferences[%]: expected an object', i USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT k INTO key FROM pg_catalog.jsonb_object_keys(item) AS k WHERE k NOT IN ('type', 'channel', 'enabled') LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'preferences[%].%: unknown field', i, key USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF pg_catalog.jsonb_typeof(item->'type') IS DISTINCT FROM 'string'
           OR pg_catalog.jsonb_typeof(item->'channel') IS DISTINCT FROM 'string'
           OR pg_catalog.jsonb_typeof(item->'enabled') NOT IN ('boolean', 'null') THEN
            RAISE EXCEPTION 'preferences[%]: expected "type" and "channel" strings and "enabled" true, false or null', i
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        BEGIN
            PERFORM inbox.set_preference(target, item->>'type', item->>'channel', (item->>'enabled')::boolean);
        EXCEPTION WHEN invalid_parameter_value THEN
            DECLARE
                message text;
                hint text;
            BEGIN
                GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
                RAISE EXCEPTION 'preferences[%].%', i, message USING ERRCODE = 'invalid_parameter_value', HINT = hint;
            END;
        END;
        i := i + 1;
    END LOOP;
    RETURN inbox.preferences(target);
END
$$;

COMMENT ON FUNCTION inbox.rest_set_preferences(text, jsonb, jsonb) IS
    'PUT /api/preferences: sets the caller''s preferences, one {"type", "channel", "enabled"} or an array (all or nothing); returns them.';

CREATE FUNCTION inbox.rest_create_webhook(token text, body jsonb, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'admin');
    key text;
BEGIN
    PERFORM inbox._rest_params(query, '{}');
    IF pg_catalog.jsonb_typeof(body) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'body: expected a webhook object {"url", "events", ...}' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT k INTO key FROM pg_catalog.jsonb_object_keys(body) AS k
     WHERE k NOT IN ('url', 'events', 'types', 'workspaceId', 'userId', 'secret') LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%: unknown field', key USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Fields: url, events, types, workspaceId, userId, secret.';
    END IF;
    IF pg_catalog.jsonb_typeof(body->'url') IS DISTINCT FROM 'string' THEN
        RAISE EXCEPTION 'url: required, a string' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF pg_catalog.jsonb_typeof(body->'events') IS DISTINCT FROM 'array'
       OR EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(body->'events') e WHERE pg_catalog.jsonb_typeof(e) <> 'string') THEN
        RAISE EXCEPTION 'events: required, an array of event names' USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Events: ' || pg_catalog.array_to_string(inbox.webhook_events(), ', ') || '.';
    END IF;
    IF body ? 'types' AND (pg_catalog.jsonb_typeof(body->'types') IS DISTINCT FROM 'array'
       OR EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(body->'types') e WHERE pg_catalog.jsonb_typeof(e) <> 'string')) THEN
        RAISE EXCEPTION 'types: expected an array of type names' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT k INTO key FROM pg_catalog.unnest(ARRAY['workspaceId', 'userId', 'secret']) AS k
     WHERE body ? k AND pg_catalog.jsonb_typeof(body->k) NOT IN ('string', 'null') LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%: expected a string', key USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN inbox.create_webhook(
        body->>'url', ARRAY(SELECT pg_catalog.jsonb_array_elements_text(body->'events')),
        CASE WHEN body ? 'types' THEN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(body->'types')) END,
        body->>'workspaceId', body->>'userId', body->>'secret');
END
$$;

CREATE FUNCTION inbox.rest_webhooks(token text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'admin');
BEGIN
    PERFORM inbox._rest_params(query, '{}');
    RETURN pg_catalog.jsonb_build_object('data', inbox.webhooks());
END
$$;

CREATE FUNCTION inbox.rest_delete_webhook(token text, id text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'admin');
BEGIN
    PERFORM inbox._rest_params(query, '{}');
    PERFORM inbox.delete_webhook(id);
    RETURN '{"success": true}';
END
$$;

CREATE FUNCTION inbox.rest_webhook_deliveries(token text, id text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'admin');
    params jsonb := inbox._rest_params(query, ARRAY['limit']);
BEGIN
    IF params ? 'limit' AND params->>'limit' OPERATOR(pg_catalog.!~) '^[0-9]{1,4}$' THEN
        RAISE EXCEPTION 'limit: expected 1 to 1000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN pg_catalog.jsonb_build_object('data',
        inbox.webhook_deliveries(id, coalesce((params->>'limit')::integer, 50)));
END
$$;

CREATE FUNCTION inbox.rest_retry_delivery(token text, id text, delivery text, query jsonb)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    caller inbox.caller := inbox.authenticate(token, 'admin');
BEGIN
    PERFORM inbox._rest_params(query, '{}');
    RETURN inbox.retry_delivery(id, delivery);
END
$$;

COMMENT ON FUNCTION inbox.rest_create_webhook(text, jsonb, jsonb) IS
    'POST /api/webhooks (admin): registers an endpoint; the answer carries its secret, once.';
COMMENT ON FUNCTION inbox.rest_webhooks(text, jsonb) IS 'GET /api/webhooks (admin): the endpoints, without secrets.';
COMMENT ON FUNCTION inbox.rest_delete_webhook(text, text, jsonb) IS 'DELETE /api/webhooks/{id} (admin).';
COMMENT ON FUNCTION inbox.rest_webhook_deliveries(text, text, jsonb) IS
    'GET /api/webhooks/{id}/deliveries (admin): the newest deliveries and their attempts.';
COMMENT ON FUNCTION inbox.rest_retry_delivery(text, text, text, jsonb) IS
    'POST /api/webhooks/{id}/deliveries/{delivery}/retry (admin): sends a finished delivery once more.';

REVOKE ALL ON FUNCTION inbox.claim_deliveries(integer, interval, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox.expand_deliveries(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._expand_node(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._expand_user(text, bigint, xid8, pg_catalog.pg_snapshot, xid8, text, bigint, timestamptz, boolean, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox.finish_deliveries(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._claim_citus(integer, interval, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._claim_shard(regclass, regclass, regclass, integer, interval, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._claim_local(integer, interval, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._finish_citus(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._finish_shard(regclass, regclass, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._finish_local(jsonb) FROM PUBLIC;
