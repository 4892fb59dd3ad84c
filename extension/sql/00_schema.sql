-- pg_inbox install script. Built by `make` from extension/sql/*.sql in name order; each part
-- holds one concern. Every name is schema-qualified so a hostile search_path changes nothing.

\echo Use "CREATE EXTENSION pg_inbox" to load this file. \quit

-- ---------------------------------------------------------------------------------------------
-- 00_schema: the notifications table, its indexes and the unread counters.
--
-- Every table is keyed by user_id first, and no constraint, index or trigger looks at two
-- users' rows together, so each can be distributed by user_id (Citus) as it stands.
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.notifications (
    user_id      text        NOT NULL,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    workspace_id text,
    type         text        NOT NULL DEFAULT 'info',
    title        text,
    body         text,
    data         jsonb       NOT NULL DEFAULT '{}',
    actor_id     text,
    collection   text,
    item         text,
    group_key    text,
    -- Filled only when creates aggregate into this row (inbox.notification_actors holds all):
    -- the most recent distinct actors, newest first, and how many there are in all.
    recent_actor_ids text[]  NOT NULL DEFAULT '{}',
    actor_count      integer NOT NULL DEFAULT 0,
    read_at      timestamptz,
    archived_at  timestamptz,
    deleted_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- Issue 19 (lifecycle). seen_at: when the row itself was marked seen (NULL: the user's seen
    -- marks in inbox.marks decide); expires_at: when it leaves every list and count (NULL: never).
    seen_at      timestamptz,
    expires_at   timestamptz,
    CONSTRAINT notifications_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT notifications_user_id_length      CHECK (pg_catalog.length(user_id) BETWEEN 1 AND 255),
    CONSTRAINT notifications_workspace_id_length CHECK (pg_catalog.length(workspace_id) BETWEEN 1 AND 255),
    CONSTRAINT notifications_actor_id_length     CHECK (pg_catalog.length(actor_id) BETWEEN 1 AND 255),
    CONSTRAINT notifications_collection_length   CHECK (pg_catalog.length(collection) BETWEEN 1 AND 255),
    CONSTRAINT notifications_item_length         CHECK (pg_catalog.length(item) BETWEEN 1 AND 255),
    CONSTRAINT notifications_group_key_length    CHECK (pg_catalog.length(group_key) BETWEEN 1 AND 255),
    CONSTRAINT notifications_type_format         CHECK (type OPERATOR(pg_catalog.~) '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
    CONSTRAINT notifications_title_length        CHECK (pg_catalog.length(title) <= 1000),
    CONSTRAINT notifications_body_length         CHECK (pg_catalog.length(body) <= 20000),
    CONSTRAINT notifications_data_object         CHECK (pg_catalog.jsonb_typeof(data) = 'object'),
    CONSTRAINT notifications_data_size           CHECK (pg_catalog.octet_length(data::text) <= 32768),
    CONSTRAINT notifications_recent_actors_bound CHECK (pg_catalog.cardinality(recent_actor_ids) <= 10)
);

COMMENT ON TABLE inbox.notifications IS
    'In-app notifications, one row per recipient. read_at, archived_at and deleted_at are NULL while the notification is unread, in the inbox and not deleted.';

-- The listings: newest first, the active rows of one user, and the same within a workspace,
-- by type, unread only, and the trash view. Keyset seeks on (created_at, id) use them too.
CREATE INDEX notifications_active_idx ON inbox.notifications
    (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX notifications_unread_idx ON inbox.notifications
    (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL AND read_at IS NULL;
-- (Rows without a workspace are left out: no workspace query reads them, and a plain create
-- writes one index less. A query's `workspace_id = ...` implies the predicate.)
CREATE INDEX notifications_workspace_idx ON inbox.notifications
    (user_id, workspace_id, created_at DESC, id DESC) WHERE deleted_at IS NULL AND workspace_id IS NOT NULL;
CREATE INDEX notifications_type_idx ON inbox.notifications
    (user_id, type, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX notifications_trash_idx ON inbox.notifications
    (user_id, created_at DESC, id DESC) WHERE deleted_at IS NOT NULL;
-- An admin names a notification by its id alone, across users: the Directus routes by id, and
-- the /api/ routes of one notification without user_id (inbox._rest_owner). One probe; on a
-- Citus cluster it visits every shard (a local index per shard, no uniqueness across them).
-- Measured for issue 12: it adds about 5% to a fan-out of 10,000 (66 bytes of WAL a row, 2-8% of
-- the time): ids only grow, so each insert lands on the index's rightmost page.
CREATE INDEX notifications_id_idx ON inbox.notifications (id);
-- Issue 19. Expired rows that are not purged yet, per user: every count subtracts them (one
-- probe that usually finds nothing), and inbox.prune finds them.
CREATE INDEX notifications_expires_idx ON inbox.notifications
    (user_id, expires_at) WHERE expires_at IS NOT NULL;
-- Issue 19. Unread rows by their last change: a read-all marks read the rows changed since its
-- transaction began (the rest its read mark covers) and counts what stays unread from here.
CREATE INDEX notifications_unread_changed_idx ON inbox.notifications
    (user_id, updated_at) WHERE deleted_at IS NULL AND read_at IS NULL;
-- Issue 19. Retention across users (inbox.prune_step): expired rows, and rows soft-deleted
-- long ago. Partial: a row that never expires, or is not deleted, costs them nothing. The
-- expiry index's predicate (`< 'infinity'`, which prune states) is one that a user's probe of
-- expired rows (`expires_at <= now()`) does not imply, so the planner can never take this
-- index for that probe: with statistics from before a million rows expired it once did, and
-- filtered it by user (a second a call).
CREATE INDEX notifications_expiry_idx ON inbox.notifications (expires_at) WHERE expires_at < 'infinity';
CREATE INDEX notifications_deleted_idx ON inbox.notifications (deleted_at) WHERE deleted_at IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- Counters. Reading a count is one primary-key lookup whatever the inbox size. They are
-- maintained by statement-level triggers, so a bulk statement touches each counter row once,
-- in user_id order (concurrent bulk statements cannot deadlock on them).
--   active  rows not soft-deleted;   unread  of those, not read;   deleted  soft-deleted rows
--   unseen  active rows not seen (issue 19): no seen_at of their own, created after the seen
--           mark in force for them (the newer of the user's and their workspace's)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.user_counters (
    user_id text   NOT NULL PRIMARY KEY,
    active  bigint NOT NULL DEFAULT 0,
    unread  bigint NOT NULL DEFAULT 0,
    deleted bigint NOT NULL DEFAULT 0,
    -- The id of the user's last event in inbox.events (45_feed.sql): taken under this row's
    -- lock, held to commit, so a user's event ids are gapless and commit in order.
    last_event_id bigint NOT NULL DEFAULT 0,
    unseen  bigint NOT NULL DEFAULT 0
);

CREATE TABLE inbox.workspace_counters (
    user_id      text   NOT NULL,
    workspace_id text   NOT NULL,
    active       bigint NOT NULL DEFAULT 0,
    unread       bigint NOT NULL DEFAULT 0,
    deleted      bigint NOT NULL DEFAULT 0,
    unseen       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, workspace_id)
);

-- Issue 19: the marks of "everything up to now", per user ('' workspace_key) and per user and
-- workspace. read_before (whole inbox only): the last read-all; an active notification whose
-- last change is before it and whose own read_at is NULL is read, at the first of read_marks
-- (every read-all not settled yet, in order) after its last change. seen_before: a seen-all;
-- a notification created at or before it (the newer of the user's and its workspace's) is
-- seen. Set in O(1) by inbox.mark_all_read and inbox.mark_seen; inbox.settle_read_marks
-- writes read_before into the rows it covers, in batches, and then clears it.
CREATE TABLE inbox.marks (
    user_id       text        NOT NULL,
    workspace_key text        NOT NULL DEFAULT '',
    read_before   timestamptz,
    read_marks    timestamptz[],
    seen_before   timestamptz,
    CONSTRAINT marks_pkey PRIMARY KEY (user_id, workspace_key),
    CONSTRAINT marks_read_whole_inbox CHECK (read_before IS NULL OR workspace_key = ''),
    CONSTRAINT marks_read_last CHECK (read_before IS NOT DISTINCT FROM read_marks[pg_catalog.array_upper(read_marks, 1)])
);

COMMENT ON TABLE inbox.marks IS
    'Read and seen marks per user ('''' workspace_key) and per user and workspace: what inbox.mark_all_read and inbox.mark_seen set in constant time.';

-- Dumped: the counters are rebuilt from the rows by the insert trigger on restore, and these
-- marks are part of what the rows mean (pg_dump restores this table before inbox.notifications).
SELECT pg_catalog.pg_extension_config_dump('inbox.marks', '');

COMMENT ON TABLE inbox.user_counters IS
    'Per-user counts of active, unread, soft-deleted and unseen notifications, kept exact by triggers. Rebuilt by inbox.rebuild_counters().';
COMMENT ON TABLE inbox.workspace_counters IS
    'The same counts per user and workspace, for notifications that have a workspace.';

-- Grouped notifications (Mastodon's grouped notifications): one row per user and groupKey
-- with at least one active notification, so a page of groups is an index scan and never a
-- GROUP BY over a whole inbox. Notifications without a groupKey are groups of their own and
-- are read from notifications_ungrouped_idx at listing time. Counts move by deltas; the
-- latest notification, its type and the sample of actors are re-read for each group a
-- statement touches, each by a LIMIT-bounded scan of notifications_group_idx.
CREATE TABLE inbox.notification_groups (
    user_id             text        NOT NULL,
    group_key           text        NOT NULL,
    notifications_count bigint      NOT NULL DEFAULT 0,
    unread_count        bigint      NOT NULL DEFAULT 0,
    latest_at           timestamptz,
    latest_id           bigint,
    type                text,
    sample_actor_ids    text[]      NOT NULL DEFAULT '{}',
    PRIMARY KEY (user_id, group_key)
);

CREATE INDEX notification_groups_latest_idx ON inbox.notification_groups
    (user_id, latest_at DESC, group_key DESC);
CREATE INDEX notifications_group_idx ON inbox.notifications
    (user_id, group_key, created_at DESC, id DESC) WHERE deleted_at IS NULL AND group_key IS NOT NULL;
CREATE INDEX notifications_ungrouped_idx ON inbox.notifications
    (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL AND group_key IS NULL;

COMMENT ON TABLE inbox.notification_groups IS
    'Per user and groupKey: active and unread counts, latest notification, type and sample actors. Kept by the counter triggers.';

CREATE TYPE inbox.counter_delta AS (
    user_id      text,
    workspace_id text,
    group_key    text,
    active       bigint,
    unread       bigint,
    deleted      bigint,
    unseen       bigint
);

-- One change of one notification for the change feed (45_feed.sql), as a counter trigger sees
-- it: the event's name, what it moved the user's unread count by, and whether the change was
-- only a mark-read (a statement of many of those becomes one notification.read_all summary).
CREATE TYPE inbox.feed_event AS (
    user_id         text,
    notification_id bigint,
    workspace_id    text,
    event           text,
    unread          bigint,
    read_only       boolean
);

-- A user's counter row after a statement: where its new event ids end, its unread count, and
-- how many events of the user the statement had (before a summary replaced them).
CREATE TYPE inbox.feed_position AS (
    user_id       text,
    last_event_id bigint,
    unread        bigint,
    events        bigint
);

-- Adds a set of signed row contributions to the counter tables and the group summaries.
-- Without refresh_groups, the statement changed none of what a summary shows besides its counts
-- (latest notification, type, sample actors), so they are not read again: that re-read is most
-- of the cost of marking one grouped notification read.
--
-- Each counter table is touched by one statement over all the deltas: the form for the table
-- itself. On a Citus cluster the triggers fire on each shard instead and use the next function.
--
-- `events` (NULL when the feed is off) are the statement's changes for the change feed: the
-- user's counter row takes their ids in the same upsert (last_event_id, under the row lock the
-- counters take anyway, so the feed adds no lock), and inbox._event_rows turns them into rows
-- of inbox.events, a user with more than inbox._feed_threshold() of them getting one summary.
CREATE FUNCTION inbox._apply_counter_deltas(deltas inbox.counter_delta[], refresh_groups boolean DEFAULT true,
                                            events inbox.feed_event[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    threshold integer;
    last_id   bigint;
    unread_now bigint;
BEGIN
    -- Creates are never summarised: each new notification is content a client shows and the
    -- outbox (55_delivery.sql) delivers; only changes of existing rows become one summary.
    threshold := CASE WHEN (events[1]).event = 'notification.created' THEN 2147483647
                      WHEN events IS NOT NULL THEN inbox._feed_threshold() END;
    IF pg_catalog.cardinality(events) = 1 AND pg_catalog.cardinality(deltas) <= 2 THEN
        -- One row changed (a create, a click): two plain statements. (A second delta of another
        -- user is a row that did not change: it adds up to zero.)
        INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, last_event_id, unseen)
        SELECT (events[1]).user_id, coalesce(sum(d.active), 0), coalesce(sum(d.unread), 0), coalesce(sum(d.deleted), 0), 1,
               coalesce(sum(d.unseen), 0)
          FROM pg_catalog.unnest(deltas) AS d
         WHERE d.user_id = (events[1]).user_id
        ON CONFLICT (user_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted,
               unseen  = c.unseen  + excluded.unseen,
               last_event_id = c.last_event_id + 1
        RETURNING c.last_event_id, c.unread INTO last_id, unread_now;
        INSERT INTO inbox.events (user_id, id, event, notification_id, workspace_id, unread)
        VALUES ((events[1]).user_id, last_id, (events[1]).event, (events[1]).notification_id, (events[1]).workspace_id,
                CASE WHEN (events[1]).unread <> 0 THEN unread_now END);
    ELSIF events IS NULL THEN
        INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, unseen)
        SELECT d.user_id, sum(d.active), sum(d.unread), sum(d.deleted), sum(d.unseen)
          FROM pg_catalog.unnest(deltas) AS d
         GROUP BY d.user_id
        HAVING sum(d.active) <> 0 OR sum(d.unread) <> 0 OR sum(d.deleted) <> 0 OR sum(d.unseen) <> 0
         ORDER BY d.user_id
        ON CONFLICT (user_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted,
               unseen  = c.unseen  + excluded.unseen;
    ELSE
        WITH d AS (SELECT x.user_id, sum(x.active) AS active, sum(x.unread) AS unread, sum(x.deleted) AS deleted,
                          sum(x.unseen) AS unseen
                     FROM pg_catalog.unnest(deltas) AS x
                    GROUP BY x.user_id),
             e AS (SELECT x.user_id, pg_catalog.count(*) AS n
                     FROM pg_catalog.unnest(events) AS x
                    GROUP BY x.user_id),
             moved AS (
            INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, last_event_id, unseen)
            SELECT coalesce(d.user_id, e.user_id), coalesce(d.active, 0), coalesce(d.unread, 0),
                   coalesce(d.deleted, 0), inbox._feed_ids(e.n, threshold), coalesce(d.unseen, 0)
              FROM d FULL JOIN e ON e.user_id = d.user_id
             WHERE e.n IS NOT NULL OR d.active <> 0 OR d.unread <> 0 OR d.deleted <> 0 OR d.unseen <> 0
             ORDER BY 1
            ON CONFLICT (user_id) DO UPDATE
               SET active  = c.active  + excluded.active,
                   unread  = c.unread  + excluded.unread,
                   deleted = c.deleted + excluded.deleted,
                   unseen  = c.unseen  + excluded.unseen,
                   last_event_id = c.last_event_id + excluded.last_event_id
            RETURNING c.user_id, c.last_event_id, c.unread)
        INSERT INTO inbox.events (user_id, id, event, notification_id, workspace_id, unread, data)
        SELECT r.* FROM inbox._event_rows(events, ARRAY(SELECT ROW(m.user_id, m.last_event_id, m.unread, e.n)::inbox.feed_position
                                                          FROM moved AS m JOIN e ON e.user_id = m.user_id),
                                          threshold) AS r;
    END IF;

    -- One delta (a create) outside any workspace and group has nothing more to count: tested
    -- as plain values, since each statement below costs an executor start even when it finds
    -- nothing to write (about 30 us of a create).
    IF pg_catalog.cardinality(deltas) = 1 AND (deltas[1]).workspace_id IS NULL AND (deltas[1]).group_key IS NULL THEN
        RETURN;
    END IF;

    INSERT INTO inbox.workspace_counters AS c (user_id, workspace_id, active, unread, deleted, unseen)
    SELECT d.user_id, d.workspace_id, sum(d.active), sum(d.unread), sum(d.deleted), sum(d.unseen)
      FROM pg_catalog.unnest(deltas) AS d
     WHERE d.workspace_id IS NOT NULL
     GROUP BY d.user_id, d.workspace_id
    HAVING sum(d.active) <> 0 OR sum(d.unread) <> 0 OR sum(d.deleted) <> 0 OR sum(d.unseen) <> 0
     ORDER BY d.user_id, d.workspace_id
    ON CONFLICT (user_id, workspace_id) DO UPDATE
       SET active  = c.active  + excluded.active,
           unread  = c.unread  + excluded.unread,
           deleted = c.deleted + excluded.deleted,
           unseen  = c.unseen  + excluded.unseen;

    IF NOT EXISTS (SELECT FROM pg_catalog.unnest(deltas) AS d WHERE d.group_key IS NOT NULL) THEN
        RETURN;
    END IF;

    INSERT INTO inbox.notification_groups AS g (user_id, group_key, notifications_count, unread_count)
    SELECT d.user_id, d.group_key, sum(d.active), sum(d.unread)
      FROM pg_catalog.unnest(deltas) AS d
     WHERE d.group_key IS NOT NULL
     GROUP BY d.user_id, d.group_key
     ORDER BY d.user_id, d.group_key
    ON CONFLICT (user_id, group_key) DO UPDATE
       SET notifications_count = g.notifications_count + excluded.notifications_count,
           unread_count        = g.unread_count + excluded.unread_count;

    -- Every group the statement touched, even with a zero delta (an edit of its latest row).
    IF refresh_groups THEN
        UPDATE inbox.notification_groups AS g
           SET (latest_at, latest_id, type) =
                   (SELECT n.created_at, n.id, n.type FROM inbox.notifications n
                     WHERE n.user_id = g.user_id AND n.group_key = g.group_key AND n.deleted_at IS NULL
                     ORDER BY n.created_at DESC, n.id DESC LIMIT 1),
               sample_actor_ids = ARRAY(
                   SELECT a.actor_id FROM (
                       SELECT n.created_at, n.id, r.actor_id, r.ord
                         FROM (SELECT * FROM inbox.notifications n
                                WHERE n.user_id = g.user_id AND n.group_key = g.group_key AND n.deleted_at IS NULL
                                ORDER BY n.created_at DESC, n.id DESC LIMIT 20) AS n,
                              pg_catalog.unnest(n.recent_actor_ids) WITH ORDINALITY AS r(actor_id, ord)) AS a
                    GROUP BY a.actor_id
                    ORDER BY max(a.created_at) DESC, max(a.id) DESC, min(a.ord), a.actor_id
                    LIMIT 8)
          FROM (SELECT DISTINCT d.user_id, d.group_key FROM pg_catalog.unnest(deltas) AS d
                 WHERE d.group_key IS NOT NULL) AS t
         WHERE g.user_id = t.user_id AND g.group_key = t.group_key;
    END IF;

    DELETE FROM inbox.notification_groups AS g
     USING (SELECT DISTINCT d.user_id, d.group_key FROM pg_catalog.unnest(deltas) AS d
             WHERE d.group_key IS NOT NULL) AS t
     WHERE g.user_id = t.user_id AND g.group_key = t.group_key AND g.notifications_count = 0;
END
$$;

-- The same work on a shard of a Citus cluster, where the triggers fire with that shard's rows.
-- A statement there may only touch shards on this node, and Citus routes a statement to one
-- shard only when its user_id is a constant: a join with the deltas would go to every shard. So
-- each user, workspace and group is one statement keyed by the loop's user_id, rows touched in
-- the order of the function above. (One node keeps that function: this form, a statement per
-- user, costs about half as much again on a grouped fan-out of 10,000.)
--
-- The feed's events likewise: each user's ids come from that user's counter upsert, and each
-- event row is one INSERT ... VALUES routed to the user's shard of inbox.events (a user has at
-- most inbox._feed_threshold() of them a statement; beyond, one summary).
CREATE FUNCTION inbox._apply_counter_deltas_by_user(deltas inbox.counter_delta[], refresh_groups boolean,
                                                    events inbox.feed_event[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    d record;
    -- (Creates are never summarised: see the function above.)
    threshold integer := CASE WHEN (events[1]).event = 'notification.created' THEN 2147483647
                              WHEN events IS NOT NULL THEN inbox._feed_threshold() END;
    positions inbox.feed_position[] := '{}';
    last_id   bigint;
    unread_now bigint;
BEGIN
    FOR d IN SELECT coalesce(a.user_id, e.user_id) AS user_id, coalesce(a.active, 0) AS active,
                    coalesce(a.unread, 0) AS unread, coalesce(a.deleted, 0) AS deleted,
                    coalesce(a.unseen, 0) AS unseen, e.n, inbox._feed_ids(e.n, threshold) AS ids
               FROM (SELECT x.user_id, sum(x.active) AS active, sum(x.unread) AS unread, sum(x.deleted) AS deleted,
                            sum(x.unseen) AS unseen
                       FROM pg_catalog.unnest(deltas) AS x
                      GROUP BY x.user_id) AS a
               FULL JOIN (SELECT x.user_id, pg_catalog.count(*) AS n
                            FROM pg_catalog.unnest(events) AS x
                           GROUP BY x.user_id) AS e ON e.user_id = a.user_id
              WHERE e.n IS NOT NULL OR a.active <> 0 OR a.unread <> 0 OR a.deleted <> 0 OR a.unseen <> 0
              ORDER BY 1 LOOP
        INSERT INTO inbox.user_counters AS c (user_id, active, unread, deleted, last_event_id, unseen)
        VALUES (d.user_id, d.active, d.unread, d.deleted, d.ids, d.unseen)
        ON CONFLICT (user_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted,
               unseen  = c.unseen  + excluded.unseen,
               last_event_id = c.last_event_id + excluded.last_event_id
        RETURNING c.last_event_id, c.unread INTO last_id, unread_now;
        IF d.ids > 0 THEN
            positions := positions || ROW(d.user_id, last_id, unread_now, d.n)::inbox.feed_position;
        END IF;
    END LOOP;
    FOR d IN SELECT * FROM inbox._event_rows(events, positions, threshold) LOOP
        INSERT INTO inbox.events (user_id, id, event, notification_id, workspace_id, unread, data)
        VALUES (d.user_id, d.id, d.event, d.notification_id, d.workspace_id, d.unread, d.data);
    END LOOP;

    FOR d IN SELECT x.user_id, x.workspace_id, sum(x.active) AS active, sum(x.unread) AS unread,
                    sum(x.deleted) AS deleted, sum(x.unseen) AS unseen
               FROM pg_catalog.unnest(deltas) AS x
              WHERE x.workspace_id IS NOT NULL
              GROUP BY x.user_id, x.workspace_id
             HAVING sum(x.active) <> 0 OR sum(x.unread) <> 0 OR sum(x.deleted) <> 0 OR sum(x.unseen) <> 0
              ORDER BY x.user_id, x.workspace_id LOOP
        INSERT INTO inbox.workspace_counters AS c (user_id, workspace_id, active, unread, deleted, unseen)
        VALUES (d.user_id, d.workspace_id, d.active, d.unread, d.deleted, d.unseen)
        ON CONFLICT (user_id, workspace_id) DO UPDATE
           SET active  = c.active  + excluded.active,
               unread  = c.unread  + excluded.unread,
               deleted = c.deleted + excluded.deleted,
               unseen  = c.unseen  + excluded.unseen;
    END LOOP;

    FOR d IN SELECT x.user_id, x.group_key, sum(x.active) AS active, sum(x.unread) AS unread
               FROM pg_catalog.unnest(deltas) AS x
              WHERE x.group_key IS NOT NULL
              GROUP BY x.user_id, x.group_key
              ORDER BY x.user_id, x.group_key LOOP
        INSERT INTO inbox.notification_groups AS g (user_id, group_key, notifications_count, unread_count)
        VALUES (d.user_id, d.group_key, d.active, d.unread)
        ON CONFLICT (user_id, group_key) DO UPDATE
           SET notifications_count = g.notifications_count + excluded.notifications_count,
               unread_count        = g.unread_count + excluded.unread_count;
        IF refresh_groups THEN
            UPDATE inbox.notification_groups AS g
               SET (latest_at, latest_id, type) =
                       (SELECT n.created_at, n.id, n.type FROM inbox.notifications n
                         WHERE n.user_id = d.user_id AND n.group_key = d.group_key AND n.deleted_at IS NULL
                         ORDER BY n.created_at DESC, n.id DESC LIMIT 1),
                   sample_actor_ids = ARRAY(
                       SELECT a.actor_id FROM (
                           SELECT n.created_at, n.id, r.actor_id, r.ord
                             FROM (SELECT * FROM inbox.notifications n
                                    WHERE n.user_id = d.user_id AND n.group_key = d.group_key AND n.deleted_at IS NULL
                                    ORDER BY n.created_at DESC, n.id DESC LIMIT 20) AS n,
                                  pg_catalog.unnest(n.recent_actor_ids) WITH ORDINALITY AS r(actor_id, ord)) AS a
                        GROUP BY a.actor_id
                        ORDER BY max(a.created_at) DESC, max(a.id) DESC, min(a.ord), a.actor_id
                        LIMIT 8)
             WHERE g.user_id = d.user_id AND g.group_key = d.group_key;
        END IF;
        DELETE FROM inbox.notification_groups AS g
         WHERE g.user_id = d.user_id AND g.group_key = d.group_key AND g.notifications_count = 0;
    END LOOP;
END
$$;

-- Issue 19. The seen mark in force for a row of workspace_id, from the user's seen marks by
-- workspace key ('' the whole inbox; inbox._user_marks): the newer of the user's and the
-- workspace's.
CREATE FUNCTION inbox._seen_before(seen jsonb, workspace_id text)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT GREATEST((seen->>'')::timestamptz, (seen->>coalesce(workspace_id, ''))::timestamptz)
$$;

-- Issue 19. Whether a row counts as unseen: active, no seen_at of its own, and created after
-- the seen mark in force for it (seen_before, NULL: none). The counters, the unseen count's
-- expired rows and inbox.mark_seen's recount all use it.
CREATE FUNCTION inbox._is_unseen(deleted_at timestamptz, seen_at timestamptz, created_at timestamptz,
                                 seen_before timestamptz)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT deleted_at IS NULL AND seen_at IS NULL AND NOT coalesce(created_at <= seen_before, false)
$$;

-- What one row contributes to the counters, with sign +1 (it appears) or -1 (it goes).
-- read_before is the user's read mark (issue 19): a row it covers is read; seen the user's seen
-- marks by workspace key (as inbox._user_marks gives them): a row they cover is seen.
CREATE FUNCTION inbox._counter_delta(n inbox.notifications, sign bigint, read_before timestamptz DEFAULT NULL,
                                     seen jsonb DEFAULT NULL)
RETURNS inbox.counter_delta
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT ROW(n.user_id, n.workspace_id, n.group_key,
               sign * (n.deleted_at IS NULL)::int,
               sign * (n.deleted_at IS NULL AND n.read_at IS NULL
                       AND NOT coalesce(n.updated_at < read_before, false))::int,
               sign * (n.deleted_at IS NOT NULL)::int,
               sign * inbox._is_unseen(n.deleted_at, n.seen_at, n.created_at,
                                       inbox._seen_before(seen, n.workspace_id))::int)::inbox.counter_delta
$$;

-- Issue 19. The read and seen marks of the users a statement changed rows of, read after
-- locking their counter rows (in user_id order, as the counter statements take them). A
-- read-all and a seen mark take the same lock before they set a mark, so the marks a trigger
-- counts with are the ones in force when its counts land: a row is never shown read and
-- counted unread, or shown seen and counted unseen. The lock is an upsert that changes nothing
-- (a counter row of zeros for a user who has none yet): a user's first notification waits for
-- a seen mark in flight as every later one does. On a Citus shard (by_user) one statement per
-- user, each routed to the user's shard. seen is the marks by workspace key, as
-- inbox._user_marks gives them. One user (every single create) also takes the statements per
-- user: their plans hold for every user, where the bulk read's `= ANY (users)` got a custom
-- plan, made again at every create (about 40 us).
CREATE FUNCTION inbox._lock_marks(users text[], by_user boolean)
RETURNS TABLE (user_id text, read_before timestamptz, seen jsonb)
LANGUAGE plpgsql
AS $$
DECLARE
    u text;
BEGIN
    IF NOT by_user AND pg_catalog.cardinality(users) > 1 THEN
        INSERT INTO inbox.user_counters AS c (user_id)
        SELECT DISTINCT x FROM pg_catalog.unnest(users) AS x ORDER BY 1
        ON CONFLICT ON CONSTRAINT user_counters_pkey DO UPDATE SET active = c.active WHERE false;
        RETURN QUERY SELECT m.user_id, max(m.read_before) FILTER (WHERE m.workspace_key = ''),
                            pg_catalog.jsonb_object_agg(m.workspace_key, m.seen_before) FILTER (WHERE m.seen_before IS NOT NULL)
                       FROM inbox.marks m
                      WHERE m.user_id = ANY (users)
                      GROUP BY m.user_id;
        RETURN;
    END IF;
    -- (One user, the usual case, needs no statement to be put in order.)
    IF pg_catalog.cardinality(users) > 1 THEN
        users := ARRAY(SELECT DISTINCT x FROM pg_catalog.unnest(users) AS x ORDER BY 1);
    END IF;
    FOREACH u IN ARRAY users LOOP
        INSERT INTO inbox.user_counters AS c (user_id) VALUES (u)
        ON CONFLICT ON CONSTRAINT user_counters_pkey DO UPDATE SET active = c.active WHERE false;
        RETURN QUERY SELECT m.user_id, max(m.read_before) FILTER (WHERE m.workspace_key = ''),
                            pg_catalog.jsonb_object_agg(m.workspace_key, m.seen_before) FILTER (WHERE m.seen_before IS NOT NULL)
                       FROM inbox.marks m
                      WHERE m.user_id = u
                      GROUP BY m.user_id;
    END LOOP;
END
$$;

-- Applies a trigger's deltas: on inbox.notifications itself in bulk, on a Citus shard
-- (inbox.notifications_102008, ...) user by user.
CREATE FUNCTION inbox._apply_trigger_deltas(on_table boolean, deltas inbox.counter_delta[], refresh_groups boolean,
                                            events inbox.feed_event[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF on_table THEN
        PERFORM inbox._apply_counter_deltas(deltas, refresh_groups, events);
    ELSE
        PERFORM inbox._apply_counter_deltas_by_user(deltas, refresh_groups, events);
    END IF;
END
$$;

-- What a created row is for the change feed.
CREATE FUNCTION inbox._created_event(n inbox.notifications)
RETURNS inbox.feed_event
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ROW(n.user_id, n.id, n.workspace_id, 'notification.created',
               (n.deleted_at IS NULL AND n.read_at IS NULL)::int, false)::inbox.feed_event
$$;

-- On a shard the transition tables have the shard's row type, hence ROW(n.*)::inbox.notifications
-- for a whole row.
--
-- The same triggers feed the change feed (45_feed.sql): each passes its rows' events, built
-- from the transition tables (no JSON: inbox.changes reads the payload when it is delivered),
-- or NULL when the session has switched the feed off (inbox._feed_on()).
-- Each reads the read and seen marks of its users first (issue 19: inbox._lock_marks).
--
-- One row (every single create) is read once, with the count, and takes the same steps as
-- plain values: the statements over new_rows (the users, the deltas, the events) cost an
-- executor start each (with them, one row's trigger took 202 to 232 us, without 185 to 191,
-- under track_functions).
CREATE FUNCTION inbox._counters_after_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    marks_users text[];
    marks_at timestamptz[];
    marks_seen jsonb[];
    probe record;
    mark record;
BEGIN
    SELECT ROW(n.*)::inbox.notifications AS one, pg_catalog.count(*) OVER () AS rows_in INTO probe FROM new_rows n LIMIT 1;
    IF probe.rows_in = 1 THEN
        SELECT m.read_before, m.seen INTO mark
          FROM inbox._lock_marks(ARRAY[(probe.one).user_id], TG_TABLE_NAME <> 'notifications') AS m;
        PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications',
                                            ARRAY[inbox._counter_delta(probe.one, 1, mark.read_before, mark.seen)], true,
                                            CASE WHEN inbox._feed_on() THEN ARRAY[inbox._created_event(probe.one)] END);
        RETURN NULL;
    END IF;
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before), pg_catalog.array_agg(m.seen)
      INTO marks_users, marks_at, marks_seen
      FROM inbox._lock_marks(ARRAY(SELECT DISTINCT n.user_id FROM new_rows n), TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.at, m.seen) FROM new_rows n
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at), pg_catalog.unnest(marks_seen))
                    AS m(user_id, at, seen)
            ON m.user_id = n.user_id), true,
        CASE WHEN inbox._feed_on() THEN ARRAY(
            SELECT inbox._created_event(ROW(n.*)::inbox.notifications) FROM new_rows n) END);
    RETURN NULL;
END
$$;

-- A row's event: notification.deleted when it was soft-deleted, notification.restored when it
-- came back, notification.updated for any other change (read, unread, archive, unarchive, a
-- field, an actor aggregating into it). A row whose user_id changed left one user's inbox
-- (notification.purged) and entered another's (notification.created); a row that did not change
-- at all has no event.
CREATE FUNCTION inbox._counters_after_update() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    marks_users text[];
    marks_at timestamptz[];
    marks_seen jsonb[];
BEGIN
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before), pg_catalog.array_agg(m.seen)
      INTO marks_users, marks_at, marks_seen
      FROM inbox._lock_marks(ARRAY(SELECT n.user_id FROM new_rows n UNION SELECT o.user_id FROM old_rows o),
                                  TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.at, m.seen) FROM new_rows n
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at), pg_catalog.unnest(marks_seen))
                    AS m(user_id, at, seen)
            ON m.user_id = n.user_id
        UNION ALL
        SELECT inbox._counter_delta(ROW(o.*)::inbox.notifications, -1, m.at, m.seen) FROM old_rows o
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at), pg_catalog.unnest(marks_seen))
                    AS m(user_id, at, seen)
            ON m.user_id = o.user_id),
        -- Group summaries are read again only when a grouped row changed what they show, or
        -- moved (a read, unread or archive does not). A FULL JOIN, which the planner can only
        -- hash or merge: it takes a transition table for one row, and as a LEFT JOIN it chose a
        -- nested loop, quadratic in the rows (a plain UPDATE of 20,000 rows took 48 s).
        EXISTS (SELECT FROM old_rows o
                  FULL JOIN new_rows n ON n.user_id = o.user_id AND n.id = o.id
                 WHERE (o.group_key IS NOT NULL OR n.group_key IS NOT NULL)
                   AND (n.id IS NULL OR o.id IS NULL
                        OR (o.group_key, o.type, o.created_at, o.deleted_at IS NULL, o.recent_actor_ids)
                           IS DISTINCT FROM
                           (n.group_key, n.type, n.created_at, n.deleted_at IS NULL, n.recent_actor_ids))),
        CASE WHEN inbox._feed_on() THEN ARRAY(
            SELECT ROW(coalesce(n.user_id, o.user_id), coalesce(n.id, o.id), coalesce(n.workspace_id, o.workspace_id),
                       CASE WHEN n.id IS NULL THEN 'notification.purged'
                            WHEN o.id IS NULL THEN 'notification.created'
                            WHEN o.deleted_at IS NULL AND n.deleted_at IS NOT NULL THEN 'notification.deleted'
                            WHEN o.deleted_at IS NOT NULL AND n.deleted_at IS NULL THEN 'notification.restored'
                            ELSE 'notification.updated'
                       END,
                       coalesce((n.deleted_at IS NULL AND n.read_at IS NULL)::int, 0)
                       - coalesce((o.deleted_at IS NULL AND o.read_at IS NULL)::int, 0),
                       coalesce(o.read_at IS NULL AND n.read_at IS NOT NULL
                                AND (o.workspace_id, o.type, o.title, o.body, o.data, o.actor_id, o.collection, o.item,
                                     o.group_key, o.recent_actor_ids, o.actor_count, o.archived_at, o.deleted_at,
                                     o.created_at)
                                    IS NOT DISTINCT FROM
                                    (n.workspace_id, n.type, n.title, n.body, n.data, n.actor_id, n.collection, n.item,
                                     n.group_key, n.recent_actor_ids, n.actor_count, n.archived_at, n.deleted_at,
                                     n.created_at), false))::inbox.feed_event
              FROM old_rows o
              FULL JOIN new_rows n ON n.user_id = o.user_id AND n.id = o.id
             WHERE ROW(o.*) IS DISTINCT FROM ROW(n.*)
             ORDER BY coalesce(n.id, o.id)) END);
    RETURN NULL;
END
$$;

CREATE FUNCTION inbox._counters_after_delete() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    marks_users text[];
    marks_at timestamptz[];
    marks_seen jsonb[];
BEGIN
    SELECT pg_catalog.array_agg(m.user_id), pg_catalog.array_agg(m.read_before), pg_catalog.array_agg(m.seen)
      INTO marks_users, marks_at, marks_seen
      FROM inbox._lock_marks(ARRAY(SELECT DISTINCT o.user_id FROM old_rows o), TG_TABLE_NAME <> 'notifications') AS m;
    PERFORM inbox._apply_trigger_deltas(TG_TABLE_NAME = 'notifications', ARRAY(
        SELECT inbox._counter_delta(ROW(o.*)::inbox.notifications, -1, m.at, m.seen) FROM old_rows o
          LEFT JOIN ROWS FROM (pg_catalog.unnest(marks_users), pg_catalog.unnest(marks_at), pg_catalog.unnest(marks_seen))
                    AS m(user_id, at, seen)
            ON m.user_id = o.user_id), true,
        CASE WHEN inbox._feed_on() THEN ARRAY(
            SELECT ROW(o.user_id, o.id, o.workspace_id, 'notification.purged',
                       -(o.deleted_at IS NULL AND o.read_at IS NULL)::int, false)::inbox.feed_event
              FROM old_rows o
             ORDER BY o.id) END);
    RETURN NULL;
END
$$;

-- On Citus a TRUNCATE of inbox.notifications fires this on the coordinator's table (which then
-- truncates the counter tables, cluster-wide, once) and again on every shard, where it must not:
-- one truncate of every counter shard per notifications shard deadlocks.
--
-- The change feed goes with the counters (45_feed.sql, "TRUNCATE"): inbox.events is emptied and
-- every user's event ids start again at 1, and so the delivery expander's marks of those ids
-- (inbox.delivery_progress, 55_delivery.sql) go too, or a user's new ids would sit below them.
CREATE FUNCTION inbox._counters_after_truncate() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_TABLE_NAME = 'notifications' THEN
        TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups, inbox.events,
                 inbox.delivery_progress;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER counters_after_insert AFTER INSERT ON inbox.notifications
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inbox._counters_after_insert();
-- (Transition tables rule out an UPDATE OF column list; rows whose counted columns did not
-- change add up to zero and touch no counter.)
CREATE TRIGGER counters_after_update AFTER UPDATE ON inbox.notifications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inbox._counters_after_update();
CREATE TRIGGER counters_after_delete AFTER DELETE ON inbox.notifications
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inbox._counters_after_delete();
CREATE TRIGGER counters_after_truncate AFTER TRUNCATE ON inbox.notifications
    FOR EACH STATEMENT EXECUTE FUNCTION inbox._counters_after_truncate();

-- Recomputes every counter from the rows (after a restore, or to prove them exact).
-- It reads every user's rows: on a Citus cluster, every shard (see 80_citus.sql).
CREATE FUNCTION inbox.rebuild_counters()
RETURNS void
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    -- The feed's positions are no count of rows: they are kept, not rebuilt.
    heads inbox.feed_position[] := ARRAY(SELECT ROW(c.user_id, c.last_event_id, 0, 0)::inbox.feed_position
                                           FROM inbox.user_counters c WHERE c.last_event_id > 0);
BEGIN
    TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups;
    PERFORM inbox._apply_counter_deltas(ARRAY(
        SELECT inbox._counter_delta(ROW(n.*)::inbox.notifications, 1, m.read_before, m.seen) FROM inbox.notifications n
          LEFT JOIN (SELECT k.user_id, max(k.read_before) FILTER (WHERE k.workspace_key = '') AS read_before,
                            pg_catalog.jsonb_object_agg(k.workspace_key, k.seen_before) FILTER (WHERE k.seen_before IS NOT NULL) AS seen
                       FROM inbox.marks k GROUP BY k.user_id) AS m ON m.user_id = n.user_id));
    INSERT INTO inbox.user_counters AS c (user_id, last_event_id)
    SELECT h.user_id, h.last_event_id FROM pg_catalog.unnest(heads) AS h ORDER BY h.user_id
    ON CONFLICT (user_id) DO UPDATE SET last_event_id = excluded.last_event_id;
END
$$;

COMMENT ON FUNCTION inbox.rebuild_counters() IS
    'Recomputes inbox.user_counters, inbox.workspace_counters and inbox.notification_groups from inbox.notifications.';

-- pg_dump keeps the notifications. The counters are not dumped: restoring the rows fires the
-- insert trigger, which rebuilds them.
SELECT pg_catalog.pg_extension_config_dump('inbox.notifications', '');
SELECT pg_catalog.pg_extension_config_dump('inbox.notifications_id_seq', '');
