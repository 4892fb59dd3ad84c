-- ---------------------------------------------------------------------------------------------
-- 45_feed: the change feed (issue 14; README, "Change feed").
--
-- Every change to a user's notifications appends events to inbox.events in the same
-- transaction, from the statement triggers that keep the counters (00_schema.sql): a plain-SQL
-- INSERT, UPDATE or DELETE is in the feed as much as a call of the API. An event exists if and
-- only if its change committed.
--
-- Ids: `id` is the user's own event id, 1, 2, 3, ... with no gap, in commit order. It is taken
-- in the counter upsert (inbox.user_counters.last_event_id) under the row lock that upsert
-- holds to commit: a second transaction for the same user waits for the first to commit or roll
-- back before it takes its ids, so ids commit in order and a rollback leaves no gap. A consumer
-- that has event n of a user and sees n + 2 knows that n + 1 exists (inbox.changes returns it).
--
-- Summaries: a statement that changes more than inbox.feed_summary_threshold (default 50) rows
-- of one user appends one event for that user instead of one a row: notification.read_all when
-- every one of those rows only went from unread to read (a read-all), notification.bulk
-- otherwise (clients refetch). Their data is {"workspaceId": w} (w when every row was in
-- workspace w, else null); a bulk's also has "count", the rows changed. Creates are never
-- summarised (each is content to show and to deliver: 55_delivery.sql); a fan-out is one
-- notification.created a user anyway (a summary cannot span users).
--
-- Settings (read with current_setting(), so ALTER DATABASE / ALTER ROLE / SET all work):
--   inbox.feed_retention          interval, default '24 hours': how long events are kept
--                                 (inbox.prune_events removes older ones).
--   inbox.feed_summary_threshold  integer >= 1, default 50 (measured: bench/README.md).
--   inbox.feed                    on (default) / off: a benchmarking and maintenance switch.
--                                 With off, the session's changes append NO event and take no
--                                 id: streaming clients miss them without knowing. Never set
--                                 it on a database with live streams except to reload data
--                                 that clients will refetch anyway.
--
-- TRUNCATE inbox.notifications empties inbox.events with the counters, and every user's event
-- ids start again at 1. It is a reset: stop the servers first (their streams end; clients come
-- back with an id beyond the new head and get `reset`). A client that comes back only after new
-- events have carried the head past its old id cannot tell: on a live system, DELETE instead
-- (the feed carries it: one notification.bulk a user beyond the threshold).
-- ---------------------------------------------------------------------------------------------

CREATE TABLE inbox.events (
    user_id         text        NOT NULL,
    id              bigint      NOT NULL,
    event           text        NOT NULL,
    -- The notification's internal id; NULL for summaries.
    notification_id bigint,
    workspace_id    text,
    -- The user's unread count after this change when the change moved it, else NULL.
    unread          bigint,
    -- A summary's object; NULL for the events of one notification (inbox.changes reads it).
    data            jsonb,
    -- The writing transaction: inbox.poll_events reads by it (on a Citus cluster, the id of
    -- the worker's transaction: xids are per node).
    xid             xid8        NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT events_pkey PRIMARY KEY (user_id, id)
);

-- The poller's reads (inbox.poll_events) and the pruning (inbox.prune_events): xids only grow,
-- so each insert lands on the index's rightmost page.
CREATE INDEX events_xid_idx ON inbox.events (xid);

COMMENT ON TABLE inbox.events IS
    'The change feed: per user, gapless event ids in commit order (inbox.changes, inbox.poll_events). Appended by the counter triggers; pruned by inbox.prune_events().';

-- Whether this session's changes go into the feed (the setting inbox.feed, default on).
-- Every change's trigger asks: unset, on, off, true and false are answered without the block
-- that catches a bad value, since a block with EXCEPTION opens a subtransaction at each call.
CREATE FUNCTION inbox._feed_on()
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    setting text := nullif(pg_catalog.current_setting('inbox.feed', true), '');
BEGIN
    IF setting IS NULL OR setting IN ('on', 'true') THEN
        RETURN true;
    ELSIF setting IN ('off', 'false') THEN
        RETURN false;
    END IF;
    BEGIN
        RETURN setting::boolean;
    EXCEPTION WHEN invalid_text_representation THEN
        RAISE EXCEPTION 'inbox.feed: expected on or off, got "%"', setting
              USING ERRCODE = 'invalid_parameter_value';
    END;
END
$$;

-- How many events of one user one statement may append before they become one summary.
CREATE FUNCTION inbox._feed_threshold()
RETURNS integer
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    setting text := nullif(pg_catalog.current_setting('inbox.feed_summary_threshold', true), '');
    threshold integer;
BEGIN
    IF setting IS NULL THEN
        RETURN 50;
    END IF;
    BEGIN
        threshold := setting::integer;
    EXCEPTION WHEN OTHERS THEN
        threshold := NULL;
    END;
    IF threshold IS NULL OR threshold < 1 THEN
        RAISE EXCEPTION 'inbox.feed_summary_threshold: expected an integer of at least 1, got "%"', setting
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN threshold;
END
$$;

-- The retention window (the setting inbox.feed_retention, default 24 hours).
CREATE FUNCTION inbox._feed_retention()
RETURNS interval
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    setting text := nullif(pg_catalog.current_setting('inbox.feed_retention', true), '');
    retention interval;
BEGIN
    IF setting IS NULL THEN
        RETURN interval '24 hours';
    END IF;
    BEGIN
        retention := setting::interval;
    EXCEPTION WHEN OTHERS THEN
        retention := NULL;
    END;
    IF retention IS NULL OR retention < interval '0' THEN
        RAISE EXCEPTION 'inbox.feed_retention: expected a positive interval, got "%"', setting
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN retention;
END
$$;

-- How many ids a user's `n` events of one statement take: one summary beyond the threshold.
CREATE FUNCTION inbox._feed_ids(n bigint, threshold integer)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN n IS NULL THEN 0 WHEN n > threshold THEN 1 ELSE n END
$$;

-- The rows of inbox.events for a statement's events, given each user's counter row after the
-- upsert that took their ids (`positions`: last_event_id is the last of them, unread the count
-- after the statement, events how many the user had). A user's events are numbered in the order
-- the trigger listed them, each with the unread count after it when it moved it; beyond the
-- threshold, one summary.
--
-- A fan-out is one event for each of many users: that case is one hash join, no grouping and no
-- sort (grouping and ranking 10,000 users' events cost more than appending them). PL/pgSQL, so
-- that the three statements are planned once a session.
CREATE FUNCTION inbox._event_rows(events inbox.feed_event[], positions inbox.feed_position[], threshold integer)
RETURNS TABLE (user_id text, id bigint, event text, notification_id bigint, workspace_id text,
               unread bigint, data jsonb)
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    RETURN QUERY
    SELECT x.user_id, p.last_event_id, x.event, x.notification_id, x.workspace_id,
           CASE WHEN x.unread <> 0 THEN p.unread END, NULL::jsonb
      FROM pg_catalog.unnest(events) AS x JOIN pg_catalog.unnest(positions) AS p ON p.user_id = x.user_id
     WHERE p.events = 1;
    IF NOT EXISTS (SELECT FROM pg_catalog.unnest(positions) AS p WHERE p.events > 1) THEN
        RETURN;
    END IF;
    -- Several events of a user, up to the threshold: numbered in order.
    RETURN QUERY
    SELECT x.user_id, p.last_event_id - p.events + pg_catalog.row_number() OVER w, x.event, x.notification_id,
           x.workspace_id, CASE WHEN x.unread <> 0 THEN (p.unread - sum(x.unread) OVER all_of_user + sum(x.unread) OVER w)::bigint END,
           NULL::jsonb
      FROM pg_catalog.unnest(events) WITH ORDINALITY AS x(user_id, notification_id, workspace_id, event, unread, read_only, ord)
      JOIN pg_catalog.unnest(positions) AS p ON p.user_id = x.user_id
     WHERE p.events > 1 AND p.events <= threshold
    WINDOW w AS (PARTITION BY x.user_id ORDER BY x.ord),
           all_of_user AS (PARTITION BY x.user_id);
    -- Beyond it: one summary.
    RETURN QUERY
    SELECT s.user_id, p.last_event_id,
           CASE WHEN s.read_only THEN 'notification.read_all' ELSE 'notification.bulk' END, NULL::bigint, s.scope,
           CASE WHEN s.moved <> 0 THEN p.unread END,
           CASE WHEN s.read_only THEN pg_catalog.jsonb_build_object('workspaceId', s.scope)
                ELSE pg_catalog.jsonb_build_object('workspaceId', s.scope, 'count', p.events) END
      FROM (SELECT x.user_id, sum(x.unread) AS moved, bool_and(x.read_only) AS read_only,
                   CASE WHEN pg_catalog.count(x.workspace_id) = pg_catalog.count(*)
                         AND min(x.workspace_id) = max(x.workspace_id) THEN min(x.workspace_id) END AS scope
              FROM pg_catalog.unnest(events) AS x
             GROUP BY x.user_id) AS s
      JOIN pg_catalog.unnest(positions) AS p ON p.user_id = s.user_id
     WHERE p.events > threshold;
END
$$;

-- Appends one event for a user outside the counter triggers, taking the next id of the user
-- the same way (the counter row's lock, held to commit): for a change that touches no row of
-- inbox.notifications one by one, such as a constant-time read-all (issue 19), which appends
-- notification.read_all with data {"workspaceId": w-or-null}. Call it AFTER changing the
-- counters: with unread_moved, the event carries the user's unread count as it then is.
-- Returns the event's id. Honours inbox.feed (returns NULL when off).
CREATE FUNCTION inbox._append_event(user_id text, event text, workspace_id text DEFAULT NULL,
                                    data jsonb DEFAULT NULL, unread_moved boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    new_id bigint;
    unread_now bigint;
BEGIN
    IF NOT inbox._feed_on() THEN
        RETURN NULL;
    END IF;
    INSERT INTO inbox.user_counters AS c (user_id, last_event_id) VALUES (_append_event.user_id, 1)
    ON CONFLICT ON CONSTRAINT user_counters_pkey DO UPDATE SET last_event_id = c.last_event_id + 1
    RETURNING c.last_event_id, c.unread INTO new_id, unread_now;
    INSERT INTO inbox.events (user_id, id, event, workspace_id, unread, data)
    VALUES (_append_event.user_id, new_id, _append_event.event, _append_event.workspace_id,
            CASE WHEN unread_moved THEN unread_now END, _append_event.data);
    RETURN new_id;
END
$$;

CREATE FUNCTION inbox.feed_head(user_id text)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    head bigint;
BEGIN
    SELECT c.last_event_id INTO head FROM inbox.user_counters c WHERE c.user_id = feed_head.user_id;
    RETURN coalesce(head, 0);
END
$$;

COMMENT ON FUNCTION inbox.feed_head(text) IS
    'The id of the user''s last event in the change feed (0 when none): where a new stream starts.';

-- The data of an event as every consumer gets it (inbox.changes for the streams, the outbox's
-- webhooks): a summary's own object; {"id"} for a purged notification or one whose row is gone;
-- else the notification in the API shape as it is now. `n` is the row found for the event, or
-- a row of NULLs (or NULL); read_marks and seen are its user's marks (inbox._user_marks), read
-- once by the caller for all its events of that user.
CREATE FUNCTION inbox._event_data(event text, notification_id bigint, data jsonb, n inbox.notifications,
                                  read_marks timestamptz[], seen jsonb)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN notification_id IS NULL THEN data
                WHEN n.id IS NULL OR event = 'notification.purged'
                THEN pg_catalog.jsonb_build_object('id', inbox.public_id(notification_id))
                ELSE inbox._to_json(n, read_marks, seen)
           END
$$;

-- The user's events after `after`, in id order. The data of an event of one notification is
-- read now (the row as it is now, in the API shape), so the triggers build no JSON; a row that
-- is gone, and a purge, give {"id": "<public id>"}. Resumable points are the user's oldest kept
-- event id - 1 up to the head (with no event kept, the head alone); any other `after` is an error
-- (22023) that a stream turns into `reset`. With workspace_id, the events of that workspace and
-- the summaries whose scope is that workspace or none.
--
-- PL/pgSQL cannot name a parameter as a column of its result (workspace_id): inbox.changes is
-- the SQL declaration over inbox._changes, whose parameter is `scope`.
CREATE FUNCTION inbox._changes(user_id text, after bigint, "limit" integer, scope text)
RETURNS TABLE (id bigint, event text, workspace_id text, unread bigint, data jsonb)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    head   bigint := inbox.feed_head(_changes.user_id);
    oldest bigint;
    -- The user's marks for the shape (issue 19), read once for every event.
    marks  record := inbox._user_marks(_changes.user_id);
BEGIN
    IF _changes."limit" IS NULL OR _changes."limit" NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 10000, got %', coalesce(_changes."limit"::text, 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF after IS NULL THEN
        RETURN;  -- the head only: inbox.feed_head() says where it is
    END IF;
    IF after > head OR after < 0 THEN
        RAISE EXCEPTION 'cannot resume the feed after event %', after
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = pg_catalog.format('The last event of this user is %s.', head);
    END IF;
    SELECT min(e.id) INTO oldest FROM inbox.events e WHERE e.user_id = _changes.user_id;
    IF after < coalesce(oldest - 1, head) THEN
        RAISE EXCEPTION 'cannot resume the feed after event %', after
              USING ERRCODE = 'invalid_parameter_value',
                    DETAIL = CASE WHEN oldest IS NULL
                                  THEN pg_catalog.format('It is older than the retention window: no event is kept, the last was %s.', head)
                                  ELSE pg_catalog.format('It is older than the retention window: the oldest kept event is %s.', oldest)
                             END;
    END IF;
    RETURN QUERY
    SELECT e.id, e.event, e.workspace_id, e.unread,
           inbox._event_data(e.event, e.notification_id, e.data, ROW(n.*)::inbox.notifications,
                             marks.read_marks, marks.seen)
      FROM inbox.events e
      LEFT JOIN inbox.notifications n ON n.user_id = e.user_id AND n.id = e.notification_id
     WHERE e.user_id = _changes.user_id AND e.id > after
       AND (_changes.scope IS NULL OR e.workspace_id = _changes.scope
            OR (e.notification_id IS NULL AND e.workspace_id IS NULL))
     ORDER BY e.id
     LIMIT _changes."limit";
END
$$;

CREATE FUNCTION inbox.changes(user_id text, after bigint DEFAULT NULL, "limit" integer DEFAULT 100,
                              workspace_id text DEFAULT NULL)
RETURNS TABLE (id bigint, event text, workspace_id text, unread bigint, data jsonb)
LANGUAGE sql STABLE
AS $$
    SELECT * FROM inbox._changes(user_id, after, "limit", workspace_id)
$$;

COMMENT ON FUNCTION inbox.changes(text, bigint, integer, text) IS
    'The user''s change-feed events after event `after`, in order (at most `limit`), with each notification as it is now. An `after` outside the kept window raises 22023 (a stream sends reset).';

-- On one node, inbox.events; on a Citus cluster the events of the node it runs on (its shards
-- of inbox.events, by the names Citus's catalog gives them), which inbox.poll_events reads node
-- by node: xids are per node (80_citus.sql).
CREATE FUNCTION inbox._feed_local_source()
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    shards text;
BEGIN
    IF NOT inbox._citus_managed('inbox.events') THEN
        RETURN 'inbox.events';
    END IF;
    EXECUTE 'SELECT pg_catalog.string_agg(pg_catalog.format(''SELECT * FROM %s'', pg_catalog.shard_name(s.logicalrelid, s.shardid)),
                                          '' UNION ALL '' ORDER BY s.shardid)
               FROM pg_catalog.pg_dist_shard s
               JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
              WHERE s.logicalrelid = ''inbox.events''::regclass
                AND pl.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g)'
       INTO shards;
    -- A node without a shard of it reads an empty set of the same columns.
    RETURN '(' || coalesce(shards, 'SELECT * FROM inbox.events WHERE false') || ')';
END
$$;

-- The server's one poller: what committed since `cursor`, across all users, so that it knows
-- which users have new events (it then reads them with inbox.changes). Its cost does not depend
-- on how many streams are connected.
--
-- Xids are assigned in one order and commit in another, so "the events after the last xid seen"
-- would skip one whose transaction took its xid early and committed late. The cursor holds
--   x  every event with a lower xid has been returned or never will exist (x was the xmin of a
--      snapshot: every transaction below it had ended, committed or not);
--   p  a snapshot whose visible events have all been returned;
--   k  while a page of the final range [x, xmin) is being read, the last (xid, user, id) of it.
-- A poll takes its snapshot s (xmin m), then returns
--   (a) the events with x <= xid < m not visible in p (final: no more can appear there), by
--       (xid, user_id, id) after k, at most `limit`. A full page keeps x and p and moves k.
--   (b) otherwise, then, the events with xid >= m that s sees and p did not: the recent ones,
--       committed while an older transaction still runs. If they fit in the rest of the limit,
--       p becomes s; if not, those that fit are returned, p stays and they come again later
--       (as (a) once final). x becomes m.
-- So no event is ever skipped, and an event comes twice only after a full page. A long-running
-- writing transaction holds m back; (b) then reads every event since it started, each poll
-- (bounded by the retention window; README, "Change feed").
--
-- Rows come ordered by user and id. A user's lower id can come in a later poll than a higher
-- one (other users' pages in between): consumers drop what they have passed, and read a user's
-- events with inbox.changes(user, after => last id passed), which returns every id in order.
-- `cursor` NULL starts from now. A poll with no events returns one row, user_id NULL, for its
-- cursor. The cursor is opaque text (JSON today).
--
-- inbox._feed_page is that poll's core over the events of one node, for both of its readers:
-- the streams' poll (inbox._poll_node) and the outbox's expander (inbox.expand_deliveries,
-- 55_delivery.sql). Neither takes a page's events as the truth of what is new for a user: both
-- read the user's own gapless ids from what they passed (the streams with inbox.changes, the
-- expander with its per-user mark, inbox.delivery_progress), so a page that repeats events (after
-- a full page) costs a re-read, never a second delivery, and a lower id of a user that a later
-- page carries is caught up by the first page that holds a higher one. While an open transaction
-- holds m back and more than `limit` - (a) events committed after it began, each page returns
-- the same first ones of them (p stays): their users are caught up, the others' events wait for
-- that transaction to end (the expander's stall: README, "Delivery"). Returns the page (ordered
-- by xid, user and id) and the next cursor; `cursor` NULL gives the cursor "from now" and no
-- event. inbox._feed_passed says whether a cursor has passed an event.
--
-- inbox._poll_node is the poll over the events of one node; inbox.poll_events calls it on this
-- node, or on a Citus cluster on every node with a cursor a node (80_citus.sql).
-- A reader's page size: 1 to 100,000 events (raises 22023 otherwise).
CREATE FUNCTION inbox._check_feed_limit("limit" integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF _check_feed_limit."limit" IS NULL OR _check_feed_limit."limit" NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'limit: expected 1 to 100000, got %', coalesce(_check_feed_limit."limit"::text, 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

-- The xid of the newest event of this node (NULL: none), one probe of the xid index: a reader
-- whose cursor's x is beyond it has nothing to read (the delivery expander's idle look, which
-- so needs no page, no lock and no write: 55_delivery.sql).
CREATE FUNCTION inbox._feed_newest_xid()
RETURNS xid8
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    newest xid8;
BEGIN
    IF NOT inbox._citus_managed('inbox.events') THEN
        RETURN (SELECT max(e.xid) FROM inbox.events e);
    END IF;
    EXECUTE pg_catalog.format('SELECT max(e.xid) FROM %s AS e', inbox._feed_local_source()) INTO newest;
    RETURN newest;
END
$$;

-- The cursor "from now" (x and p from the current snapshot; the cursor's format is
-- inbox._feed_page's): every event committed before is behind it.
CREATE FUNCTION inbox._feed_start()
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    s pg_catalog.pg_snapshot := pg_catalog.pg_current_snapshot();
BEGIN
    RETURN pg_catalog.jsonb_build_object('x', pg_catalog.pg_snapshot_xmin(s)::text, 'p', s::text)::text;
END
$$;

-- A cursor's parts (x, p, and k as kx, ku, ki: NULL when it has none), or 22023 for text that
-- is not a cursor of inbox._feed_page's.
CREATE FUNCTION inbox._feed_cursor(cursor text, OUT x xid8, OUT p pg_catalog.pg_snapshot,
                                   OUT kx xid8, OUT ku text, OUT ki bigint)
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    c jsonb;
BEGIN
    BEGIN
        c  := _feed_cursor.cursor::jsonb;
        x  := (c->>'x')::xid8;
        p  := (c->>'p')::pg_catalog.pg_snapshot;
        kx := (c->'k'->>0)::xid8;
        ku := c->'k'->>1;
        ki := (c->'k'->>2)::bigint;
    EXCEPTION WHEN OTHERS THEN
        x := NULL;
    END;
    IF x IS NULL OR p IS NULL OR (c ? 'k' AND (kx IS NULL OR ku IS NULL OR ki IS NULL)) THEN
        RAISE EXCEPTION 'invalid feed cursor'
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = 'Pass the next_cursor of the previous poll, or NULL to start from now.';
    END IF;
END
$$;

-- Whether a cursor (its parts: inbox._feed_cursor) has passed the event (xid, user_id, id): an
-- event below x, one that p sees, or one of the final range at or before k (its xid is then
-- below the x of the page that set k, which paged that range in this order). Every event a
-- cursor has passed was returned by the pages that led to it, or committed before the first.
CREATE FUNCTION inbox._feed_passed(x xid8, p pg_catalog.pg_snapshot, kx xid8, ku text, ki bigint,
                                   xid xid8, user_id text, id bigint)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT xid < x OR pg_catalog.pg_visible_in_snapshot(xid, p)
           OR coalesce((xid, user_id COLLATE "C", id) <= (kx, ku COLLATE "C", ki), false)
$$;

CREATE FUNCTION inbox._feed_page(cursor text, "limit" integer,
                                 OUT events inbox.events[], OUT next_cursor text)
LANGUAGE plpgsql
AS $$
DECLARE
    s      pg_catalog.pg_snapshot := pg_catalog.pg_current_snapshot();
    m      xid8 := pg_catalog.pg_snapshot_xmin(s);
    x      xid8;
    p      pg_catalog.pg_snapshot;
    kx     xid8;
    ku     text;
    ki     bigint;
    recent inbox.events[];
    last   inbox.events;
    room   integer;
    source text := inbox._feed_local_source();
BEGIN
    PERFORM inbox._check_feed_limit(_feed_page."limit");
    events := '{}';
    IF _feed_page.cursor IS NULL THEN
        next_cursor := inbox._feed_start();
        RETURN;
    END IF;
    SELECT f.x, f.p, f.kx, f.ku, f.ki INTO x, p, kx, ku, ki FROM inbox._feed_cursor(_feed_page.cursor) AS f;

    -- (a) the final range.
    EXECUTE pg_catalog.format(
        'SELECT ARRAY(SELECT ROW(e.*)::inbox.events FROM %s AS e
                       WHERE e.xid >= $1 AND e.xid < $2 AND ($4 IS NULL OR e.xid >= $4)
                         AND NOT pg_catalog.pg_visible_in_snapshot(e.xid, $3)
                         AND ($4 IS NULL OR (e.xid, e.user_id COLLATE "C", e.id) > ($4, $5 COLLATE "C", $6))
                       ORDER BY e.xid, e.user_id COLLATE "C", e.id
                       LIMIT $7)', source)
       INTO events USING x, m, p, kx, ku, ki, _feed_page."limit";
    room := _feed_page."limit" - pg_catalog.cardinality(events);
    IF room = 0 THEN
        last := events[pg_catalog.cardinality(events)];
        next_cursor := pg_catalog.jsonb_build_object('x', x::text, 'p', p::text,
                                                     'k', pg_catalog.jsonb_build_array(last.xid::text, last.user_id, last.id))::text;
        RETURN;
    END IF;
    -- (b) the recent ones, one more than fits to know whether they all did.
    EXECUTE pg_catalog.format(
        'SELECT ARRAY(SELECT ROW(e.*)::inbox.events FROM %s AS e
                       WHERE e.xid >= $1 AND pg_catalog.pg_visible_in_snapshot(e.xid, $2)
                         AND NOT pg_catalog.pg_visible_in_snapshot(e.xid, $3)
                       ORDER BY e.xid, e.user_id COLLATE "C", e.id
                       LIMIT $4)', source)
       INTO recent USING m, s, p, room + 1;
    IF pg_catalog.cardinality(recent) <= room THEN
        next_cursor := pg_catalog.jsonb_build_object('x', m::text, 'p', s::text)::text;
        events := events || recent;
    ELSE
        next_cursor := pg_catalog.jsonb_build_object('x', m::text, 'p', p::text)::text;
        events := events || recent[1:room];
    END IF;
END
$$;

CREATE FUNCTION inbox._poll_node(cursor text, "limit" integer)
RETURNS TABLE (next_cursor text, user_id text, id bigint, event text, workspace_id text, unread bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    page inbox.events[];
BEGIN
    SELECT f.events, f.next_cursor INTO page, next_cursor FROM inbox._feed_page(_poll_node.cursor, _poll_node."limit") AS f;
    IF pg_catalog.cardinality(page) = 0 THEN
        RETURN NEXT;
        RETURN;
    END IF;
    RETURN QUERY SELECT next_cursor, e.user_id, e.id, e.event, e.workspace_id, e.unread
                   FROM pg_catalog.unnest(page) AS e
                  ORDER BY e.user_id COLLATE "C", e.id;
END
$$;

CREATE FUNCTION inbox.poll_events(cursor text DEFAULT NULL, "limit" integer DEFAULT 1000)
RETURNS TABLE (next_cursor text, user_id text, id bigint, event text, workspace_id text, unread bigint)
LANGUAGE plpgsql
-- On a Citus cluster it reads every node, by design.
SET citus.multi_task_query_log_level = off
AS $$
BEGIN
    PERFORM inbox._check_feed_limit(poll_events."limit");
    IF inbox._citus_managed('inbox.events') THEN
        RETURN QUERY SELECT * FROM inbox._citus_poll_events(poll_events.cursor, poll_events."limit");
    ELSE
        RETURN QUERY SELECT * FROM inbox._poll_node(poll_events.cursor, poll_events."limit");
    END IF;
END
$$;

COMMENT ON FUNCTION inbox.poll_events(text, integer) IS
    'The server''s poller: change-feed events committed since `cursor` across all users (NULL: from now), never skipping one that commits late; a row may come again. Returns next_cursor on every row (one row with NULL user_id when none).';

-- Removes events older than the retention window (inbox.feed_retention), at most `batch` of
-- them, oldest transactions first; returns how many. Run it until it returns less than `batch`
-- (a cron job, pg_cron, or the server). Events a little past the window can stay until an older
-- one ahead of them goes (the order is by xid, which follows created_at but for a transaction
-- that wrote long after it began): the window is a minimum. While e-mail or a webhook is
-- configured, the events the delivery expander has not passed stay whatever their age (from its
-- cursor's x on, inbox._delivery_feed_floor(), 55_delivery.sql): they are the outbox's source.
-- On a Citus cluster: at most `batch` a shard, every shard, each against its node's expander
-- (80_citus.sql).
CREATE FUNCTION inbox.prune_events(batch integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    cutoff  timestamptz := pg_catalog.now() - inbox._feed_retention();
    removed bigint;
    kept_from xid8;
BEGIN
    IF batch IS NULL OR batch < 1 THEN
        RAISE EXCEPTION 'batch: expected at least 1, got %', coalesce(batch::text, 'null')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF inbox._citus_managed('inbox.events') THEN
        RETURN inbox._citus_prune_events(cutoff, batch);
    END IF;
    kept_from := inbox._delivery_feed_floor();
    DELETE FROM inbox.events e
     USING (SELECT o.user_id, o.id, o.created_at, o.xid FROM inbox.events o ORDER BY o.xid LIMIT batch) AS old
     WHERE e.user_id = old.user_id AND e.id = old.id AND old.created_at < cutoff
       AND (kept_from IS NULL OR old.xid < kept_from);
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;

COMMENT ON FUNCTION inbox.prune_events(integer) IS
    'Deletes at most `batch` change-feed events older than inbox.feed_retention (default 24 hours), keeping those the delivery expander has not passed; returns how many. Call it until it returns less than batch.';
