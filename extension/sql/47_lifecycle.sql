-- ---------------------------------------------------------------------------------------------
-- 47_lifecycle (issue 19): settling read marks into the rows, and retention. Each step is one
-- bounded batch in its own short transaction: inbox.prune() (a procedure that commits after
-- every step: CALL it from psql or pg_cron) or the server's --prune-interval (it calls
-- inbox.prune_step in a loop, one transaction a call).
-- ---------------------------------------------------------------------------------------------

-- The retention policy: at most one row; without one, the defaults below. NULL turns a rule
-- off. Set it with INSERT ... ON CONFLICT (one) DO UPDATE (README, "Retention").
CREATE TABLE inbox.retention (
    one           boolean  NOT NULL DEFAULT true,
    -- purge soft-deleted notifications this long after their deletion
    deleted_after interval DEFAULT interval '30 days',
    -- purge expired notifications this long after they expired (0: as soon as prune runs)
    expired_after interval DEFAULT interval '0',
    -- purge read notifications created longer ago than this
    read_after    interval,
    -- purge, per user and type, the active notifications beyond the newest this many (Mastodon)
    keep_per_type integer,
    -- rows a step touches at most
    batch_size    integer  NOT NULL DEFAULT 10000,
    CONSTRAINT retention_pkey PRIMARY KEY (one),
    CONSTRAINT retention_one_row CHECK (one),
    CONSTRAINT retention_keep_positive CHECK (keep_per_type > 0),
    CONSTRAINT retention_batch_positive CHECK (batch_size BETWEEN 1 AND 1000000)
);

COMMENT ON TABLE inbox.retention IS
    'The retention policy inbox.prune applies (at most one row, else the defaults; NULL turns a rule off): deleted_after, expired_after, read_after, keep_per_type, batch_size.';

SELECT pg_catalog.pg_extension_config_dump('inbox.retention', '');

-- Writes a user's read mark into the rows it covers, at most `batch` of them, and once none is
-- left, clears the mark (and brings the group summaries' unread counts, which a read-all does
-- not touch, back to the rows). Returns how many rows it wrote, or -1 when it cleared the mark.
-- The rows keep their updated_at: what the API shows does not change.
CREATE FUNCTION inbox.settle_read_marks(user_id text, batch integer DEFAULT 10000)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    mark timestamptz := inbox._read_mark(user_id);
    marks timestamptz[] := inbox._read_marks(user_id);
    done bigint;
BEGIN
    IF mark IS NULL THEN
        RETURN 0;
    END IF;
    UPDATE inbox.notifications n SET read_at = inbox._mark_after(marks, n.updated_at)
     WHERE n.user_id = settle_read_marks.user_id
       AND n.id = ANY (ARRAY(SELECT x.id FROM inbox.notifications x
                              WHERE x.user_id = settle_read_marks.user_id AND x.deleted_at IS NULL
                                AND x.read_at IS NULL AND x.updated_at < mark
                              LIMIT batch))
       AND n.read_at IS NULL AND n.updated_at < mark;
    GET DIAGNOSTICS done = ROW_COUNT;
    IF done > 0 THEN
        RETURN done;
    END IF;
    -- Nothing left to write: under the counter row's lock (no counter change is in flight),
    -- the group summaries' unread counts from the rows, then the mark goes.
    PERFORM FROM inbox.user_counters c WHERE c.user_id = settle_read_marks.user_id FOR NO KEY UPDATE;
    IF EXISTS (SELECT FROM inbox.notifications x
                WHERE x.user_id = settle_read_marks.user_id AND x.deleted_at IS NULL
                  AND x.read_at IS NULL AND x.updated_at < mark) THEN
        RETURN 0;  -- committed meanwhile: the next step writes them
    END IF;
    UPDATE inbox.notification_groups g
       SET unread_count = (SELECT count(*) FROM inbox.notifications x
                            WHERE x.user_id = settle_read_marks.user_id AND x.group_key = g.group_key
                              AND x.deleted_at IS NULL AND x.read_at IS NULL)
     WHERE g.user_id = settle_read_marks.user_id;
    UPDATE inbox.marks m SET read_before = NULL, read_marks = NULL
     WHERE m.user_id = settle_read_marks.user_id AND m.workspace_key = '';
    RETURN -1;
END
$$;

COMMENT ON FUNCTION inbox.settle_read_marks(text, integer) IS
    'Writes user_id''s read mark into at most batch of the rows it covers; once none is left, clears the mark. Returns the rows written, or -1 when it cleared the mark.';

-- One bounded step of retention. `cursor` is where the previous step left off (NULL: start);
-- the answer's next_cursor is where the next one goes on (NULL: done). Phases, in order:
-- settle (read marks into rows), expired, deleted, read, overflow (per user and type beyond
-- keep_per_type). Each step is one statement's worth of work: call it in a loop, each call in
-- its own transaction (inbox.prune does).
CREATE FUNCTION inbox.prune_step(cursor text DEFAULT NULL, batch integer DEFAULT NULL)
RETURNS TABLE (kind text, removed bigint, next_cursor text)
LANGUAGE plpgsql
SET citus.multi_task_query_log_level = off
AS $$
DECLARE
    policy inbox.retention;
    phase  text := coalesce(split_part(cursor, ':', 1), 'settle');
    after_ text := CASE WHEN position(':' IN coalesce(cursor, '')) > 0
                        THEN substr(cursor, position(':' IN cursor) + 1) END;
    n      bigint;
    u      text;
BEGIN
    SELECT * INTO policy FROM inbox.retention LIMIT 1;
    IF NOT FOUND THEN
        policy := ROW(true, interval '30 days', interval '0', NULL, NULL, 10000)::inbox.retention;
    END IF;
    batch := coalesce(batch, policy.batch_size, 10000);
    IF batch < 1 THEN
        RAISE EXCEPTION 'batch: expected a positive number of rows, got %', batch
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF phase NOT IN ('settle', 'expired', 'deleted', 'read', 'overflow', 'overflow_again') THEN
        RAISE EXCEPTION 'cursor: not a cursor of inbox.prune_step: %', cursor
              USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF phase = 'settle' THEN
        SELECT m.user_id INTO u FROM inbox.marks m
         WHERE m.workspace_key = '' AND m.read_before IS NOT NULL AND m.user_id > coalesce(after_, '')
         ORDER BY m.user_id LIMIT 1;
        IF FOUND THEN
            n := inbox.settle_read_marks(u, batch);
            -- Written a batch: the same user again; cleared or nothing: the next user.
            RETURN QUERY SELECT 'settled'::text, greatest(n, 0),
                                'settle:' || CASE WHEN n > 0 THEN coalesce(after_, '') ELSE u END;
            RETURN;
        END IF;
        phase := 'expired';
        after_ := NULL;
    END IF;

    IF phase = 'expired' AND policy.expired_after IS NOT NULL THEN
        DELETE FROM inbox.notifications x
         WHERE (x.user_id, x.id) IN (SELECT y.user_id, y.id FROM inbox.notifications y
                                      WHERE y.expires_at <= pg_catalog.now() - policy.expired_after
                                        AND y.expires_at < 'infinity'  -- notifications_expiry_idx
                                      ORDER BY y.expires_at LIMIT batch);
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            RETURN QUERY SELECT 'expired'::text, n, 'expired'::text;
            RETURN;
        END IF;
    END IF;
    IF phase IN ('settle', 'expired') THEN
        phase := 'deleted';
    END IF;

    IF phase = 'deleted' AND policy.deleted_after IS NOT NULL THEN
        DELETE FROM inbox.notifications x
         WHERE (x.user_id, x.id) IN (SELECT y.user_id, y.id FROM inbox.notifications y
                                      WHERE y.deleted_at < pg_catalog.now() - policy.deleted_after
                                      ORDER BY y.deleted_at LIMIT batch)
           -- Rechecked on the row deleted: a row restored while this step waited for its lock
           -- is no longer one the rule names (the IN list is not re-evaluated for it).
           AND x.deleted_at < pg_catalog.now() - policy.deleted_after;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            RETURN QUERY SELECT 'deleted'::text, n, 'deleted'::text;
            RETURN;
        END IF;
    END IF;
    IF phase = 'deleted' THEN
        phase := 'read';
    END IF;

    IF phase = 'read' AND policy.read_after IS NOT NULL THEN
        DELETE FROM inbox.notifications x
         WHERE (x.user_id, x.id) IN (SELECT y.user_id, y.id FROM inbox.notifications y
                                      WHERE y.deleted_at IS NULL AND y.read_at IS NOT NULL
                                        AND y.created_at < pg_catalog.now() - policy.read_after
                                      ORDER BY y.id LIMIT batch)  -- oldest first (notifications_id_idx)
           -- Rechecked on the row deleted, as above: one marked unread or deleted meanwhile stays.
           AND x.deleted_at IS NULL AND x.read_at IS NOT NULL
           AND x.created_at < pg_catalog.now() - policy.read_after;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            RETURN QUERY SELECT 'read'::text, n, 'read'::text;
            RETURN;
        END IF;
    END IF;
    IF phase = 'read' THEN
        phase := 'overflow';
        after_ := NULL;
    END IF;

    IF policy.keep_per_type IS NOT NULL THEN
        -- The next user (in user_id order, from the counters) with more active rows than a
        -- type may keep; their rows of each type beyond the newest keep_per_type.
        SELECT c.user_id INTO u FROM inbox.user_counters c
         WHERE c.active > policy.keep_per_type
           AND CASE WHEN phase = 'overflow_again' THEN c.user_id >= after_ ELSE c.user_id > coalesce(after_, '') END
         ORDER BY c.user_id LIMIT 1;
        IF FOUND THEN
            DELETE FROM inbox.notifications x
             WHERE x.user_id = u
               AND x.id = ANY (ARRAY(
                   SELECT y.id FROM (SELECT z.id, pg_catalog.row_number() OVER (PARTITION BY z.type
                                                ORDER BY z.created_at DESC, z.id DESC) AS r
                                       FROM inbox.notifications z
                                      WHERE z.user_id = u AND z.deleted_at IS NULL) AS y
                    WHERE y.r > policy.keep_per_type
                    LIMIT batch));
            GET DIAGNOSTICS n = ROW_COUNT;
            -- A full batch: this user again; else the next one.
            RETURN QUERY SELECT 'overflow'::text, n,
                                CASE WHEN n >= batch THEN 'overflow_again:' ELSE 'overflow:' END || u;
            RETURN;
        END IF;
    END IF;
    RETURN QUERY SELECT 'done'::text, 0::bigint, NULL::text;
END
$$;

COMMENT ON FUNCTION inbox.prune_step(text, integer) IS
    'One bounded step of retention (read marks settled, expired, soft-deleted, read, beyond keep_per_type per user and type): returns what it removed and the cursor of the next step (NULL: done). Call it in a loop, one transaction a call; inbox.prune does.';

-- The whole of retention, committing after each step (so no step holds its locks for long): a
-- procedure, for psql and pg_cron (CALL inbox.prune()). Reports what it removed, by kind.
CREATE PROCEDURE inbox.prune(batch integer DEFAULT NULL, INOUT report jsonb DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    cursor_ text;
    step record;
BEGIN
    report := '{"settled": 0, "expired": 0, "deleted": 0, "read": 0, "overflow": 0, "steps": 0}';
    LOOP
        SELECT * INTO step FROM inbox.prune_step(cursor_, batch);
        IF step.kind <> 'done' THEN
            report := report || pg_catalog.jsonb_build_object(step.kind, (report->>step.kind)::bigint + step.removed);
        END IF;
        report := report || pg_catalog.jsonb_build_object('steps', (report->>'steps')::bigint + 1);
        COMMIT;
        EXIT WHEN step.next_cursor IS NULL;
        cursor_ := step.next_cursor;
    END LOOP;
END
$$;

COMMENT ON PROCEDURE inbox.prune(integer, jsonb) IS
    'Applies the retention policy (inbox.retention) in bounded steps, committing after each; reports the rows removed by kind (settled: read-mark rows written, not removed).';
