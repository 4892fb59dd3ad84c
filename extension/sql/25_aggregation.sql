-- ---------------------------------------------------------------------------------------------
-- 25_aggregation: several actors behind one notification, the way Diaspora's event_creators
-- work. A create that aggregates, for a recipient who already has an unread, not deleted
-- notification with the same groupKey, adds its actor to that notification instead of
-- inserting a row: no duplicate actor, updatedAt bumped, still unread, and returns it.
-- ---------------------------------------------------------------------------------------------

-- Every actor of a notification that has aggregated, with when each last acted.
CREATE TABLE inbox.notification_actors (
    user_id         text        NOT NULL,
    notification_id bigint      NOT NULL,
    actor_id        text        NOT NULL,
    acted_at        timestamptz NOT NULL,
    PRIMARY KEY (user_id, notification_id, actor_id),
    FOREIGN KEY (user_id, notification_id) REFERENCES inbox.notifications (user_id, id) ON DELETE CASCADE,
    CONSTRAINT notification_actors_actor_id_length CHECK (pg_catalog.length(actor_id) BETWEEN 1 AND 255)
);

SELECT pg_catalog.pg_extension_config_dump('inbox.notification_actors', '');

-- The unread notification of a group, found without scanning the user's inbox.
CREATE INDEX notifications_open_group_idx ON inbox.notifications (user_id, group_key, created_at DESC)
    WHERE read_at IS NULL AND deleted_at IS NULL AND group_key IS NOT NULL;

-- Whether a create object aggregates: its own "aggregate" flag, else its type's setting.
-- PL/pgSQL, not SQL: called from inside a query, the SQL form was planned again on every call
-- (~80 us of each create).
CREATE FUNCTION inbox._wants_aggregate(o jsonb)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    wanted boolean := (o->>'aggregate')::boolean;
BEGIN
    -- Without both a groupKey and an actorId the type's setting cannot make it aggregate: no
    -- look-up (a plain create, every time).
    IF wanted IS NULL AND o ? 'groupKey' AND o ? 'actorId' THEN
        SELECT t.aggregate INTO wanted
          FROM inbox.notification_types t WHERE t.name = coalesce(o->>'type', 'info');
    END IF;
    RETURN coalesce(wanted, false);
END
$$;

CREATE FUNCTION inbox._aggregate(user_id text, o jsonb, path text)
RETURNS inbox.notifications
LANGUAGE plpgsql
AS $$
DECLARE
    target inbox.notifications;
    grp    text := o->>'groupKey';
    actor  text := o->>'actorId';
    recent text[];
    actors integer;
    mark   timestamptz;  -- the user's read mark (issue 19), read under the counter row's lock
BEGIN
    IF grp IS NULL OR actor IS NULL THEN
        RAISE EXCEPTION '%: needs a groupKey and an actorId to aggregate on', inbox._path(path, 'aggregate')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Concurrent creates for one user take turns, so none inserts a second row into a group and
    -- no actor is lost: they lock the user's counter row until commit. A row lock, unlike an
    -- advisory lock, holds on a Citus cluster whichever node the creates come through (the row
    -- is on the user's shard), and it costs no concurrency: every create for the user updates
    -- that row anyway, holding the same lock until commit.
    INSERT INTO inbox.user_counters AS c (user_id) VALUES (_aggregate.user_id)
    ON CONFLICT ON CONSTRAINT user_counters_pkey DO NOTHING;
    PERFORM FROM inbox.user_counters c WHERE c.user_id = _aggregate.user_id FOR NO KEY UPDATE;
    mark := inbox._read_mark(user_id);

    -- Unread as the API shows it: not covered by the user's read mark, and not expired (issue 19).
    SELECT * INTO target FROM inbox.notifications n
     WHERE n.user_id = _aggregate.user_id AND n.group_key = grp
       AND n.read_at IS NULL AND n.deleted_at IS NULL
       AND NOT inbox._is_read(n.read_at, n.deleted_at, n.updated_at, mark)
       AND (n.expires_at IS NULL OR n.expires_at > pg_catalog.now())
     ORDER BY n.created_at DESC, n.id DESC
     LIMIT 1
       FOR UPDATE;

    IF NOT FOUND THEN
        SELECT * INTO target FROM inbox._insert(ARRAY[user_id], ARRAY[o]);
        INSERT INTO inbox.notification_actors (user_id, notification_id, actor_id, acted_at)
        VALUES (target.user_id, target.id, actor, pg_catalog.clock_timestamp());
        RETURN target;
    END IF;

    -- A row created without aggregating has its one actor only on the row: record it first.
    INSERT INTO inbox.notification_actors (user_id, notification_id, actor_id, acted_at)
    SELECT target.user_id, target.id, a, target.created_at
      FROM pg_catalog.unnest(target.recent_actor_ids) AS a
    ON CONFLICT DO NOTHING;
    -- clock_timestamp, not now(): several aggregations in one transaction stay in order.
    INSERT INTO inbox.notification_actors AS a (user_id, notification_id, actor_id, acted_at)
    VALUES (target.user_id, target.id, actor, pg_catalog.clock_timestamp())
    ON CONFLICT ON CONSTRAINT notification_actors_pkey DO UPDATE SET acted_at = excluded.acted_at;

    -- Read first, then one UPDATE of plain values: subqueries in the UPDATE, correlated on the
    -- row's user_id, would make Citus send it to every shard.
    recent := ARRAY(SELECT a.actor_id FROM inbox.notification_actors a
                     WHERE a.user_id = target.user_id AND a.notification_id = target.id
                     ORDER BY a.acted_at DESC, a.actor_id
                     LIMIT 10);
    SELECT count(*) INTO actors FROM inbox.notification_actors a
     WHERE a.user_id = target.user_id AND a.notification_id = target.id;
    UPDATE inbox.notifications n
       SET actor_id = actor, recent_actor_ids = recent, actor_count = actors,
           updated_at = pg_catalog.now()
     WHERE n.user_id = target.user_id AND n.id = target.id
    RETURNING n.* INTO target;
    RETURN target;
END
$$;

-- The one way rows are created: type check, then one bulk insert, or one by one in input
-- order when some of them aggregate. Returns the rows in input order. `path` names the input
-- in errors; with `indexed`, objects are its elements (notifications[3].type), otherwise
-- every object is that one input (template.type). A recipient who turned in_app off for the
-- type gets nothing stored (inbox._skip_in_app, 55_delivery.sql): a hole, a row with only its
-- user_id (id NULL), stands in its place.
CREATE FUNCTION inbox._create(user_ids text[], objects jsonb[], path text, indexed boolean)
RETURNS SETOF inbox.notifications
LANGUAGE plpgsql
AS $$
DECLARE
    one_path text;
    skip boolean[];
    made inbox.notifications[];
    hole inbox.notifications;
    kept integer := 0;
    plain boolean;
BEGIN
    -- Without `indexed` every object is the same input (a fan-out's template, 10,000 times):
    -- checking the first one is checking them all.
    PERFORM inbox._check_types(CASE WHEN indexed THEN objects ELSE objects[1:1] END, path, indexed);
    PERFORM inbox._check_expiry(CASE WHEN indexed THEN objects ELSE objects[1:1] END, path, indexed);
    skip := inbox._skip_in_app(user_ids, objects, indexed);
    -- (One object, every single create, is asked with a plain expression: a query costs an
    -- executor start and end.)
    IF pg_catalog.cardinality(objects) = 1 THEN
        plain := NOT inbox._wants_aggregate(objects[1]);
    ELSE
        plain := NOT EXISTS (SELECT FROM (SELECT DISTINCT o
                                            FROM pg_catalog.unnest(CASE WHEN indexed THEN objects ELSE objects[1:1] END) AS o) AS d
                              WHERE inbox._wants_aggregate(d.o));
    END IF;
    IF plain THEN
        -- Identity values follow the insert order.
        IF skip IS NULL THEN
            RETURN QUERY SELECT * FROM inbox._insert(user_ids, objects) AS n ORDER BY n.id;
            RETURN;
        END IF;
        made := ARRAY(SELECT ROW(n.*)::inbox.notifications
                        FROM inbox._insert(
                                 ARRAY(SELECT x.u FROM ROWS FROM (pg_catalog.unnest(user_ids), pg_catalog.unnest(skip))
                                                       WITH ORDINALITY AS x(u, s, k)
                                        WHERE NOT x.s ORDER BY x.k),
                                 ARRAY(SELECT x.o FROM ROWS FROM (pg_catalog.unnest(objects), pg_catalog.unnest(skip))
                                                       WITH ORDINALITY AS x(o, s, k)
                                        WHERE NOT x.s ORDER BY x.k)) AS n
                       ORDER BY n.id);
        FOR i IN 1 .. pg_catalog.cardinality(objects) LOOP
            IF skip[i] THEN
                hole.user_id := user_ids[i];
                RETURN NEXT hole;
            ELSE
                kept := kept + 1;
                RETURN NEXT made[kept];
            END IF;
        END LOOP;
        RETURN;
    END IF;
    FOR i IN 1 .. pg_catalog.cardinality(objects) LOOP
        one_path := CASE WHEN indexed THEN path || '[' || (i - 1) || ']' ELSE path END;
        IF skip[i] THEN
            hole.user_id := user_ids[i];
            RETURN NEXT hole;
        ELSIF inbox._wants_aggregate(objects[i]) THEN
            RETURN NEXT inbox._aggregate(user_ids[i], objects[i], one_path);
        ELSE
            RETURN QUERY SELECT * FROM inbox._insert(ARRAY[user_ids[i]], ARRAY[objects[i]]);
        END IF;
    END LOOP;
END
$$;
