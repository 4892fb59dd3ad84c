-- ---------------------------------------------------------------------------------------------
-- 80_citus: scale-out on a Citus cluster (README, "Scaling out with Citus").
--
-- pg_inbox installs and works without Citus; these functions are called after the fact, on the
-- coordinator of a cluster whose workers are added, in a database where CREATE EXTENSION citus
-- and CREATE EXTENSION pg_inbox have run (Citus creates pg_inbox on the workers too).
--
-- The per-user tables are distributed by user_id, colocated with inbox.notifications, so that
-- every statement about one user runs on one shard; the small global tables are reference tables,
-- copied to every node. The per-user functions of the SQL API are delegated: a call runs whole on
-- the node that holds the user. What the SQL elsewhere does for Citus (and tests/citus_lint.sh
-- keeps it doing): functions with parameters that touch a table are PL/pgSQL, never SQL (Citus
-- cannot plan a SQL function's statements with its parameters); whole rows are passed as
-- ROW(n.*)::inbox.notifications (on a shard `n` has the shard's row type); now() is never inside
-- CASE (Citus refuses non-immutable functions there) and CASE never tests a value against WHEN
-- constants (citus#2862); INSERT ... VALUES holds no subquery. The few functions that read every
-- user's rows by design (inbox.list_all, inbox.rebuild_counters, inbox.purge_idempotency_keys,
-- an admin finding a notification by its id alone, the Directus reads of an admin) set
-- citus.multi_task_query_log_level = off for their own duration: everything else touches one
-- shard, which a database can enforce with citus.multi_task_query_log_level = error
-- (tests/citus.sh does).
-- ---------------------------------------------------------------------------------------------

-- The tables Citus manages, in the order they are distributed: per-user ones by user_id,
-- colocated with inbox.notifications (first), and the global ones as reference tables.
CREATE FUNCTION inbox._citus_tables()
RETURNS TABLE (relation regclass, reference boolean)
LANGUAGE sql STABLE
AS $$
    VALUES ('inbox.notifications'::regclass, false),
           ('inbox.user_counters'::regclass, false),
           ('inbox.workspace_counters'::regclass, false),
           ('inbox.notification_groups'::regclass, false),
           ('inbox.marks'::regclass, false),
           ('inbox.notification_actors'::regclass, false),
           ('inbox.idempotency_keys'::regclass, false),
           ('inbox.events'::regclass, false),
           ('inbox.mastodon_markers'::regclass, false),
           -- delivery (55_delivery.sql): the outbox, its log and the preferences per user
           ('inbox.preferences'::regclass, false),
           ('inbox.deliveries'::regclass, false),
           ('inbox.delivery_attempts'::regclass, false),
           ('inbox.delivery_progress'::regclass, false),
           ('inbox.webhooks'::regclass, true),
           ('inbox.notification_types'::regclass, true),
           ('inbox.writable_fields'::regclass, true),
           ('inbox.relations'::regclass, true),
           ('inbox.tokens'::regclass, true),
           ('inbox.cursor_secrets'::regclass, true),
           ('inbox.retention'::regclass, true)
$$;

-- The functions Citus delegates to the node that holds the user named by their first argument.
CREATE FUNCTION inbox._citus_functions()
RETURNS regprocedure[]
LANGUAGE sql STABLE
AS $$
    SELECT ARRAY['inbox.create(text,jsonb)', 'inbox.get(text,text,boolean)',
                 'inbox.update(text,text,jsonb)', 'inbox.update(text,text[],jsonb)',
                 'inbox.mark_read(text,text)', 'inbox.mark_read(text,text[])',
                 'inbox.mark_unread(text,text)', 'inbox.mark_unread(text,text[])',
                 'inbox.archive(text,text)', 'inbox.archive(text,text[])',
                 'inbox.unarchive(text,text)', 'inbox.unarchive(text,text[])',
                 'inbox.soft_delete(text,text)', 'inbox.soft_delete(text,text[])',
                 'inbox.restore(text,text)', 'inbox.restore(text,text[])',
                 'inbox.purge(text,text)', 'inbox.purge(text,text[])',
                 'inbox.delete(text,text)', 'inbox.delete(text,text[])',
                 'inbox.mark_all_read(text,text)', 'inbox.unread_count(text,text)',
                 'inbox.mark_seen(text,text)', 'inbox.unseen_count(text,text)',
                 'inbox.list(text,jsonb)', 'inbox.groups(text,jsonb)',
                 'inbox.changes(text,bigint,integer,text)', 'inbox.feed_head(text)']::regprocedure[]
$$;

-- Raises unless this is the coordinator of a Citus cluster, in a database with Citus.
CREATE FUNCTION inbox._citus_coordinator(action text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname = 'citus') THEN
        RAISE EXCEPTION '%: Citus is not installed in this database', action
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = 'pg_inbox works without Citus. To scale out: CREATE EXTENSION citus, add the workers with citus_add_node(), then SELECT inbox.distribute().';
    END IF;
    IF NOT pg_catalog.citus_is_coordinator() THEN
        RAISE EXCEPTION '%: run it on the coordinator', action
              USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
END
$$;

-- Whether Citus manages the table (pg_dist_partition: Citus's citus_tables view does not show
-- tables an extension owns).
CREATE FUNCTION inbox._citus_managed(relation regclass)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;  -- no Citus in this database
    END IF;
    RETURN EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = relation);
END
$$;

-- Raises unless `target`, the table of a relation, is a reference table (a copy on every node):
-- on a Citus cluster a user's notifications are read on the worker that holds them, and a
-- filter or expand through the relation reads the target there. `path` names it in the error.
-- With only_distributed (inbox.define_relation), nothing is checked until pg_inbox is distributed.
CREATE FUNCTION inbox._citus_check_target(target regclass, path text, only_distributed boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF only_distributed AND NOT inbox._citus_managed('inbox.notifications') THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
                    WHERE p.logicalrelid = target AND p.partmethod = 'n' AND p.repmodel = 't') THEN
        RAISE EXCEPTION '%: % must be a reference table on a Citus cluster', path, target
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = pg_catalog.format('SELECT create_reference_table(%L);', target::text);
    END IF;
END
$$;

-- On a worker: its range of notification ids (see inbox.after_add_node()). Citus refuses to
-- alter a sequence it has distributed unless DDL propagation is off for the statement.
CREATE FUNCTION inbox._citus_id_range()
RETURNS void
LANGUAGE plpgsql
SET citus.enable_ddl_propagation = off
AS $$
BEGIN
    PERFORM pg_catalog.worker_adjust_identity_column_seq_ranges('inbox.notifications'::regclass);
END
$$;

CREATE FUNCTION inbox.after_add_node()
RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
    failed text;
BEGIN
    PERFORM inbox._citus_coordinator('inbox.after_add_node()');
    -- Notification ids: every node allocates from its own range, group << 48 onwards (Citus's
    -- rule for bigint identity columns, which it skips for tables an extension owns). Without
    -- it, a create through a worker, or a delegated create, collides with ids of other nodes.
    SELECT r.nodename || ':' || r.nodeport || ': ' || r.result INTO failed
      FROM pg_catalog.run_command_on_workers(
               'SELECT inbox._citus_id_range()') AS r
     WHERE NOT r.success
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'inbox.after_add_node(): could not set the id range of %', failed
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = 'pg_inbox must be installed on every node, at the same version (Citus creates it on nodes it activates).';
    END IF;
    RETURN pg_catalog.jsonb_build_object('nodes', (SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_node n
                                                     WHERE n.isactive AND n.noderole = 'primary'));
END
$$;

COMMENT ON FUNCTION inbox.after_add_node() IS
    'After citus_add_node() (and inbox.distribute()): gives every worker its own range of notification ids. Run it once more after adding each node; idempotent.';

CREATE FUNCTION inbox.distribute(shard_count integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
-- The counter triggers only touch shards colocated with the row's own (the by-user form of
-- 00_schema.sql), which is what Citus's "unsafe" triggers must do.
SET citus.enable_unsafe_triggers = on
SET citus.multi_task_query_log_level = off
-- Citus's notices about copying local rows: they are copied, and the local copies then go.
SET client_min_messages = warning
AS $$
DECLARE
    t record;
    f regprocedure;
    tables int := 0;
BEGIN
    PERFORM inbox._citus_coordinator('inbox.distribute()');
    FOR t IN SELECT r.name, pg_catalog.to_regclass(pg_catalog.format('%I.%I', r.target_schema, r.target_table)) AS target
               FROM inbox.relations r ORDER BY r.name LOOP
        CONTINUE WHEN t.target IS NULL;  -- a dropped table: reported when the relation is used
        PERFORM inbox._citus_check_target(t.target, 'relation ' || t.name, false);
    END LOOP;
    IF shard_count IS NOT NULL AND shard_count NOT BETWEEN 1 AND 64000 THEN
        RAISE EXCEPTION 'shard_count: expected 1 to 64000, got %', shard_count
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR t IN SELECT c.relation, c.reference FROM inbox._citus_tables() AS c LOOP
        CONTINUE WHEN inbox._citus_managed(t.relation);
        IF t.reference THEN
            PERFORM pg_catalog.create_reference_table(t.relation);
        ELSIF t.relation = 'inbox.notifications'::regclass THEN
            PERFORM pg_catalog.create_distributed_table(t.relation, 'user_id', colocate_with => 'none',
                                                        shard_count => shard_count);
        ELSE
            PERFORM pg_catalog.create_distributed_table(t.relation, 'user_id',
                                                        colocate_with => 'inbox.notifications');
        END IF;
        tables := tables + 1;
    END LOOP;
    -- The rows are in the shards now; the coordinator's own copies go (a TRUNCATE of the local
    -- tables only).
    FOR t IN SELECT c.relation FROM inbox._citus_tables() AS c LOOP
        PERFORM pg_catalog.truncate_local_data_after_distributing_table(t.relation);
    END LOOP;
    FOREACH f IN ARRAY inbox._citus_functions() LOOP
        PERFORM pg_catalog.create_distributed_function(f, '$1', colocate_with => 'inbox.notifications');
    END LOOP;
    PERFORM inbox.after_add_node();
    RETURN pg_catalog.jsonb_build_object(
        'distributed', tables,
        'shards', (SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_shard s
                    WHERE s.logicalrelid = 'inbox.notifications'::regclass),
        'functions', pg_catalog.cardinality(inbox._citus_functions()));
END
$$;

COMMENT ON FUNCTION inbox.distribute(integer) IS
    'On the coordinator of a Citus cluster: distributes the per-user tables by user_id (shard_count shards, default citus.shard_count), makes the global ones reference tables, delegates the per-user functions, and gives each node its id range. Idempotent.';

CREATE FUNCTION inbox.undistribute()
RETURNS jsonb
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
-- The notifications going back are no change: the feed's events are copied as they are, and
-- each user's last event id is kept (see below).
SET inbox.feed = off
AS $$
DECLARE
    t record;
    f regprocedure;
    copy text;
    saved bigint := 0;
    n bigint;
BEGIN
    PERFORM inbox._citus_coordinator('inbox.undistribute()');
    -- Citus's undistribute_table() cannot be used: it recreates the table and drops the old one
    -- with CASCADE, which would take every function of this extension that uses the row type
    -- with it (it refuses, as the extension owns the table). Instead the rows are copied out,
    -- Citus forgets the tables (its own steps for a dropped table: metadata on the workers,
    -- shards, metadata here), and the rows go back into the tables, which stay where they are.
    FOREACH f IN ARRAY inbox._citus_functions() LOOP
        PERFORM pg_catalog.citus_unmark_object_distributed('pg_catalog.pg_proc'::regclass, f::oid, 0, false);
    END LOOP;
    FOR t IN SELECT c.relation FROM inbox._citus_tables() AS c WHERE inbox._citus_managed(c.relation) LOOP
        -- The counters are not copied: inserting the notifications back rebuilds them.
        CONTINUE WHEN t.relation IN ('inbox.user_counters'::regclass, 'inbox.workspace_counters'::regclass,
                                     'inbox.notification_groups'::regclass);
        EXECUTE pg_catalog.format('CREATE TEMPORARY TABLE %I ON COMMIT DROP AS SELECT * FROM %s',
                                  'pg_inbox_saved_' || (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = t.relation),
                                  t.relation);
    END LOOP;
    -- The change feed's positions are no count of rows: kept, where the counters are rebuilt.
    CREATE TEMPORARY TABLE pg_inbox_saved_feed_heads ON COMMIT DROP AS
    SELECT c.user_id, c.last_event_id FROM inbox.user_counters c WHERE c.last_event_id > 0;
    FOR t IN SELECT c.relation, r.relname FROM inbox._citus_tables() WITH ORDINALITY AS c(relation, reference, o)
               JOIN pg_catalog.pg_class r ON r.oid = c.relation
              WHERE inbox._citus_managed(c.relation)
              ORDER BY c.o DESC LOOP
        PERFORM pg_catalog.master_remove_distributed_table_metadata_from_workers(t.relation, 'inbox', t.relname);
        PERFORM pg_catalog.citus_drop_all_shards(t.relation, 'inbox', t.relname);
        PERFORM pg_catalog.master_remove_partition_metadata(t.relation, 'inbox', t.relname);
    END LOOP;
    -- And the TRUNCATE trigger Citus put on each (citus_truncate_trigger, internal).
    FOR t IN SELECT g.tgname, g.tgrelid::regclass AS relation FROM pg_catalog.pg_trigger g
              WHERE g.tgfoid = 'pg_catalog.citus_truncate_trigger()'::regprocedure
                AND g.tgrelid IN (SELECT c.relation FROM inbox._citus_tables() AS c) LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', t.tgname, t.relation);
    END LOOP;
    TRUNCATE inbox.user_counters, inbox.workspace_counters, inbox.notification_groups;
    FOR t IN SELECT c.relation, r.relname FROM inbox._citus_tables() WITH ORDINALITY AS c(relation, reference, o)
               JOIN pg_catalog.pg_class r ON r.oid = c.relation
              WHERE pg_catalog.to_regclass('pg_temp.pg_inbox_saved_' || r.relname) IS NOT NULL
              ORDER BY c.o LOOP
        copy := 'pg_inbox_saved_' || t.relname;
        EXECUTE pg_catalog.format('DELETE FROM %s', t.relation);
        EXECUTE pg_catalog.format('INSERT INTO %s OVERRIDING SYSTEM VALUE SELECT * FROM pg_temp.%I', t.relation, copy);
        GET DIAGNOSTICS n = ROW_COUNT;
        saved := saved + n;
        EXECUTE pg_catalog.format('DROP TABLE pg_temp.%I', copy);
    END LOOP;
    INSERT INTO inbox.user_counters AS c (user_id, last_event_id)
    SELECT h.user_id, h.last_event_id FROM pg_temp.pg_inbox_saved_feed_heads h ORDER BY h.user_id
    ON CONFLICT (user_id) DO UPDATE SET last_event_id = excluded.last_event_id;
    DROP TABLE pg_temp.pg_inbox_saved_feed_heads;
    RETURN pg_catalog.jsonb_build_object('rows', saved);
END
$$;

COMMENT ON FUNCTION inbox.undistribute() IS
    'On the coordinator: brings every pg_inbox table back onto the coordinator as a plain table (rows, tokens, types, keys and the change feed kept; counters rebuilt) and drops the shards. Run it before DROP EXTENSION pg_inbox on a Citus cluster; restart change-feed pollers after it.';

-- The change feed's poller on a Citus cluster (45_feed.sql). An event's xid is the id of the
-- transaction of the node that holds its shard: xids are per node, and the snapshot that says
-- which of them have committed is that node's. So the poll runs on every node (one
-- run_command_on_all_nodes a poll: a connection a node, in parallel), each over its own shards
-- with its own part of the cursor ({"nodes": {"<nodeid>": <that node's cursor>}}), exactly as on
-- one node: nothing is skipped on any node. A node the cursor does not know (a node added since)
-- starts from now: it held no shard of the feed before, or a shard moved to it (below).
-- What it does not cover: a shard moved by the rebalancer carries its events' xids from the node
-- they were written on; on the new node they count as that node's xids. An event written just
-- before such a move can be missed by the poller (the stream learns of its user's next event and
-- reads every id from inbox.changes, which is per user and exact), and moved events can come
-- again. `limit` is a node's: a poll returns at most `limit` events of each node.
CREATE FUNCTION inbox._citus_poll_node(cursor text, "limit" integer)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    me   integer;
    mine text;
    result jsonb;
BEGIN
    SELECT n.nodeid INTO me FROM pg_catalog.pg_dist_node n
     WHERE n.groupid = (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g) AND n.noderole = 'primary';
    mine := (cursor::jsonb)->'nodes'->>(me::text);
    SELECT pg_catalog.jsonb_build_object(
               'node', me,
               'cursor', pg_catalog.max(p.next_cursor),
               'rows', coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(p.user_id, p.id, p.event, p.workspace_id, p.unread))
                                  FILTER (WHERE p.user_id IS NOT NULL), '[]'))
      INTO result
      FROM inbox._poll_node(mine, "limit") AS p;
    RETURN result::text;
END
$$;

CREATE FUNCTION inbox._citus_poll_events(cursor text, "limit" integer)
RETURNS TABLE (next_cursor text, user_id text, id bigint, event text, workspace_id text, unread bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    c       jsonb;
    answer  record;
    part    jsonb;
    nodes   jsonb := '{}';
    found   jsonb := '[]';
BEGIN
    IF cursor IS NOT NULL THEN
        BEGIN
            c := cursor::jsonb;
        EXCEPTION WHEN OTHERS THEN
            c := NULL;
        END;
        IF pg_catalog.jsonb_typeof(c->'nodes') IS DISTINCT FROM 'object' THEN
            RAISE EXCEPTION 'invalid feed cursor'
                  USING ERRCODE = 'invalid_parameter_value',
                        HINT = 'Pass the next_cursor of the previous poll, or NULL to start from now.';
        END IF;
    END IF;
    FOR answer IN SELECT r.nodeid, r.success, r.result
                    FROM pg_catalog.run_command_on_all_nodes(
                             pg_catalog.format('SELECT inbox._citus_poll_node(%L, %s)', cursor, "limit")) AS r LOOP
        IF NOT answer.success THEN
            RAISE EXCEPTION 'the change feed of node % could not be polled', answer.nodeid
                  USING ERRCODE = CASE WHEN answer.result LIKE '%invalid feed cursor%' THEN 'invalid_parameter_value'
                                       ELSE 'connection_failure' END,
                        DETAIL = answer.result;
        END IF;
        part := answer.result::jsonb;
        nodes := nodes || pg_catalog.jsonb_build_object(part->>'node', part->'cursor');
        found := found || (part->'rows');
    END LOOP;
    next_cursor := pg_catalog.jsonb_build_object('nodes', nodes)::text;
    IF pg_catalog.jsonb_array_length(found) = 0 THEN
        RETURN NEXT;
        RETURN;
    END IF;
    RETURN QUERY SELECT next_cursor, e->>0, (e->>1)::bigint, e->>2, e->>3, (e->>4)::bigint
                   FROM pg_catalog.jsonb_array_elements(found) AS e
                  ORDER BY (e->>0) COLLATE "C", (e->>1)::bigint;
END
$$;

-- inbox.expand_deliveries on a Citus cluster: every node expands the events of the shards it
-- holds with its own cursor (inbox._expand_node, 55_delivery.sql), all nodes at once
-- (run_command_on_all_nodes: a connection a node, in parallel), each in its own transaction
-- there. `limit` is a node's. Returns the events read on all nodes.
CREATE FUNCTION inbox._citus_expand_deliveries("limit" integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    node record;
    expanded integer := 0;
BEGIN
    FOR node IN SELECT * FROM pg_catalog.run_command_on_all_nodes(
                    pg_catalog.format('SELECT inbox._expand_node(%s)', "limit")) LOOP
        IF NOT node.success THEN
            RAISE WARNING 'inbox.expand_deliveries: node % could not expand: %', node.nodeid, node.result;
            CONTINUE;
        END IF;
        expanded := expanded + node.result::integer;
    END LOOP;
    RETURN expanded;
END
$$;

CREATE FUNCTION inbox._citus_prune_events(cutoff timestamptz, batch integer)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    removed bigint;
BEGIN
    -- Each shard as one node does it (45_feed.sql): its oldest `batch` events by xid, those
    -- older than the cutoff that the expander of the shard's node has passed (its floor is read
    -- there: xids are that node's).
    SELECT coalesce(sum(r.result::bigint), 0) INTO removed
      FROM pg_catalog.run_command_on_shards('inbox.events',
               -- (run_command_on_shards puts the shard's name for each %1$s.)
               pg_catalog.format('WITH kept AS MATERIALIZED (SELECT inbox._delivery_feed_floor() AS from_xid),
                                       gone AS (DELETE FROM %%1$s e USING (SELECT o.user_id, o.id, o.created_at, o.xid FROM %%1$s o ORDER BY o.xid LIMIT %s) AS old, kept
                                               WHERE e.user_id = old.user_id AND e.id = old.id AND old.created_at < %L
                                                 AND (kept.from_xid IS NULL OR old.xid < kept.from_xid) RETURNING 1)
                                  SELECT count(*) FROM gone', batch, cutoff)) AS r;
    RETURN removed;
END
$$;

REVOKE ALL ON FUNCTION inbox.distribute(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox.undistribute() FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox.after_add_node() FROM PUBLIC;
REVOKE ALL ON FUNCTION inbox._citus_expand_deliveries(integer) FROM PUBLIC;
