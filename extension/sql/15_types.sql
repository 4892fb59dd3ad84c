-- ---------------------------------------------------------------------------------------------
-- 15_types: the registry of notification types an application declares (Diaspora's liked,
-- mentioned, ...; Mastodon's mention, reblog, admin.report, ...). A global reference table,
-- not per-user data: on Citus it is a reference table, copied to every node.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.notification_types (
    name        text        PRIMARY KEY,
    description text        NOT NULL DEFAULT '',
    -- Creates of this type aggregate actors into an unread notification with the same
    -- groupKey (see inbox.create), unless the create says "aggregate": false.
    aggregate   boolean     NOT NULL DEFAULT false,
    builtin     boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- Issue 19: a notification of this type created without an expiresAt expires this long
    -- after it is created (NULL: never).
    lifetime    interval,
    CONSTRAINT notification_types_name_format
        CHECK (name OPERATOR(pg_catalog.~) '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
    CONSTRAINT notification_types_description_length
        CHECK (pg_catalog.length(description) <= 1000),
    CONSTRAINT notification_types_lifetime_positive
        CHECK (lifetime > interval '0')
);

COMMENT ON TABLE inbox.notification_types IS
    'Declared notification types. The setting pg_inbox.unregistered_types (accept | reject) decides whether other types can be created.';

INSERT INTO inbox.notification_types (name, description, builtin) VALUES
    ('info',    'General information.', true),
    ('warning', 'Something needs attention.', true),
    ('error',   'Something failed.', true),
    ('success', 'Something finished well.', true);

-- The built-in rows come with CREATE EXTENSION; a dump keeps the ones applications add.
SELECT pg_catalog.pg_extension_config_dump('inbox.notification_types', 'WHERE NOT builtin');

CREATE FUNCTION inbox._type_json(t inbox.notification_types)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object('name', t.name, 'description', t.description,
                                         'aggregate', t.aggregate, 'builtin', t.builtin,
                                         'lifetimeSeconds', pg_catalog.date_part('epoch', t.lifetime)::bigint)
$$;

CREATE FUNCTION inbox.register_type(name text, description text DEFAULT '', aggregate boolean DEFAULT false,
                                    lifetime interval DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    registered inbox.notification_types;
BEGIN
    INSERT INTO inbox.notification_types AS t (name, description, aggregate, lifetime)
    VALUES (register_type.name, coalesce(register_type.description, ''), coalesce(register_type.aggregate, false),
            register_type.lifetime)
    ON CONFLICT ON CONSTRAINT notification_types_pkey DO UPDATE
       SET description = excluded.description, aggregate = excluded.aggregate, lifetime = excluded.lifetime
    RETURNING t.* INTO registered;
    RETURN inbox._type_json(registered);
END
$$;

COMMENT ON FUNCTION inbox.register_type(text, text, boolean, interval) IS
    'Declares a notification type (or changes its description, aggregate setting and lifetime: notifications of the type created without expiresAt expire that long after creation); returns it.';

CREATE FUNCTION inbox.unregister_type(name text)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM inbox.notification_types t WHERE t.name = unregister_type.name AND NOT t.builtin;
    IF NOT FOUND THEN
        IF EXISTS (SELECT FROM inbox.notification_types t WHERE t.name = unregister_type.name) THEN
            RAISE EXCEPTION 'type "%" is built in and cannot be unregistered', name
                  USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RAISE EXCEPTION 'type "%" is not registered', name USING ERRCODE = 'undefined_object';
    END IF;
    RETURN true;
END
$$;

COMMENT ON FUNCTION inbox.unregister_type(text) IS
    'Removes a declared type. Existing notifications of that type stay as they are.';

CREATE FUNCTION inbox.types()
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(pg_catalog.jsonb_agg(inbox._type_json(ROW(t.*)::inbox.notification_types) ORDER BY t.name), '[]')
      FROM inbox.notification_types t
$$;

COMMENT ON FUNCTION inbox.types() IS 'The declared notification types, by name.';

-- The setting pg_inbox.unregistered_types: 'accept' or 'reject'. Read with missing_ok, so a
-- session that has not loaded the library yet sees a value set with ALTER DATABASE/ROLE (a
-- placeholder there) and the default otherwise.
CREATE FUNCTION inbox._unregistered_types()
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    mode text := coalesce(pg_catalog.current_setting('pg_inbox.unregistered_types', true), '');
BEGIN
    IF mode NOT IN ('', 'accept', 'reject') THEN
        RAISE EXCEPTION 'pg_inbox.unregistered_types must be accept or reject, not "%"', mode
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN CASE WHEN mode = 'reject' THEN 'reject' ELSE 'accept' END;
END
$$;

-- Raises unless the type of every create or update object is registered, when
-- pg_inbox.unregistered_types = reject. `path` and `indexed` name the input as in inbox._create.
CREATE FUNCTION inbox._check_types(objects jsonb[], path text, indexed boolean)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    missing text;
    position bigint;
BEGIN
    IF inbox._unregistered_types() <> 'reject' THEN
        RETURN;
    END IF;
    SELECT coalesce(o->>'type', 'info'), i INTO missing, position
      FROM pg_catalog.unnest(objects) WITH ORDINALITY AS u(o, i)
     WHERE NOT EXISTS (SELECT FROM inbox.notification_types r WHERE r.name = coalesce(o->>'type', 'info'))
     ORDER BY i LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%: "%" is not a registered type',
              inbox._path(CASE WHEN indexed THEN path || '[' || (position - 1) || ']' ELSE path END, 'type'), missing
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Register it with inbox.register_type(), or SET pg_inbox.unregistered_types = accept.';
    END IF;
END
$$;
