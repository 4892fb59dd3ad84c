-- The benchmark's own helpers, in schema `bench` of the benchmark database (never in the
-- extension). Everything here is deterministic: a row's every value is a hash of its ordinal,
-- so two runs on any machine load the same data set.

DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

-- A uniform integer in [0, m) drawn from (i, salt). hashint8extended is PostgreSQL's stable
-- 64-bit hash, so the value depends on nothing but its arguments.
CREATE FUNCTION bench.h(i bigint, salt bigint, m bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT ((pg_catalog.hashint8extended(i, salt) % m) + m) % m $$;

-- One item of a fixed list, picked by (i, salt).
CREATE FUNCTION bench.pick(items text[], i bigint, salt bigint)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT items[1 + bench.h(i, salt, pg_catalog.cardinality(items))] $$;

-- Text for bodies: a slice of it gives bodies of realistic length and content.
CREATE FUNCTION bench.prose()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT 'The nightly build for the release branch finished with two flaky tests in the upload '
          || 'service. Please review the failing cases before the freeze on Thursday; the logs are '
          || 'attached to the run. Maria left a comment on the design document asking whether the '
          || 'new retention policy applies to archived projects as well, and the security team '
          || 'scheduled a short maintenance window for the database cluster this weekend. Your '
          || 'export of the quarterly report is ready to download for the next seven days.' $$;

-- The data set's shape. Row i of 1..total is the heavy user's when i*heavy/total steps up
-- (exactly `heavy` rows, spread evenly in time); the others go round-robin to `users` users
-- (exactly total-heavy rows, the same number each). created_at grows with i over 90 days
-- with sub-second jitter, so ids follow time as they do in production and each user's rows
-- are interleaved with everyone else's in the heap.
CREATE TABLE bench.shape (
    users   bigint NOT NULL,  -- regular users: user1 .. userN
    regular bigint NOT NULL,  -- their notifications in all
    heavy   bigint NOT NULL   -- the heavy user's notifications (user_id 'heavy')
);

CREATE FUNCTION bench.is_heavy(i bigint, regular bigint, heavy bigint)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT (i * heavy) / (regular + heavy) <> ((i - 1) * heavy) / (regular + heavy) $$;

-- The generated data set, one row per notification in load order (ord), with the columns the
-- load writes.
CREATE UNLOGGED TABLE bench.staged (
    ord          bigint PRIMARY KEY,
    user_id      text NOT NULL,
    workspace_id text,
    type         text NOT NULL,
    title        text,
    body         text,
    data         jsonb NOT NULL,
    actor_id     text,
    collection   text,
    item         text,
    group_key    text,
    recent_actor_ids text[] NOT NULL,
    actor_count  integer NOT NULL,
    read_at      timestamptz,
    archived_at  timestamptz,
    deleted_at   timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

-- Generates rows lo..hi of the data set into bench.staged (the load then copies them into
-- inbox.notifications, so that its timing is the product's insert path alone).
CREATE FUNCTION bench.generate_rows(lo bigint, hi bigint)
RETURNS bigint
LANGUAGE sql
AS $$
    WITH s AS (SELECT * FROM bench.shape),
    base AS (
        SELECT g.i,
               bench.is_heavy(g.i, s.regular, s.heavy) AS heavy,
               -- regular row number r (1-based) and its user
               1 + (g.i - 1 - (g.i * s.heavy) / (s.regular + s.heavy)) % s.users AS u,
               s.users,
               timestamptz '2025-10-01 00:00:00+00'
                 + pg_catalog.make_interval(secs => (g.i::float8 / (s.regular + s.heavy)) * 90 * 86400
                                                    + bench.h(g.i, 1, 1000000) / 1e6) AS created_at
          FROM s, pg_catalog.generate_series(lo, hi) AS g(i)
    ),
    r AS (
        SELECT b.*,
               CASE WHEN b.heavy THEN 'heavy' ELSE 'user' || b.u END AS user_id,
               bench.h(b.i, 11, 100) < 30 AS unread,
               bench.h(b.i, 14, 100) < CASE WHEN b.heavy THEN 5 ELSE 3 END AS deleted,
               bench.h(b.i, 13, 10) = 0 AS archived,
               bench.pick(ARRAY['issues', 'comments', 'builds', 'documents', 'reports'], b.i, 8) AS coll,
               bench.h(b.i, 9, 100000) AS item,
               1 + bench.h(b.i, 7, b.users) AS actor,
               -- Likes and boosts of the user's own posts, grouped by type and post as Mastodon
               -- groups them: the heavy user has 2,000 posts, a regular user 5, and a few posts
               -- draw most of the reactions (the square skews the draw towards post 0).
               bench.h(b.i, 10, 100) < CASE WHEN b.heavy THEN 40 ELSE 25 END AS grouped,
               CASE WHEN b.heavy THEN 1000000 ELSE b.u * 10 END
                 + pg_catalog.floor(CASE WHEN b.heavy THEN 2000 ELSE 5 END
                                    * (bench.h(b.i, 19, 1000000) / 1e6) ^ 2)::bigint AS post,
               -- A fifth of the grouped rows aggregated 2 to 5 actors (Diaspora's event_creators).
               CASE WHEN bench.h(b.i, 10, 100) < CASE WHEN b.heavy THEN 40 ELSE 25 END
                     AND bench.h(b.i, 20, 5) = 0
                    THEN 2 + bench.h(b.i, 21, 4)::int ELSE 1 END AS actors,
               bench.pick(ARRAY['Maria Garcia', 'Wei Chen', 'Amara Okafor', 'Lars Nilsson', 'Priya Patel',
                                'Jonas Weber', 'Sofia Rossi', 'Kenji Tanaka', 'Chloé Martin', 'Diego Silva'],
                          b.i, 15) AS actor_name,
               CASE
                 WHEN bench.h(b.i, 10, 100) < CASE WHEN b.heavy THEN 40 ELSE 25 END
                   THEN CASE WHEN bench.h(b.i, 18, 10) < 6 THEN 'favourite' ELSE 'reblog' END
                 WHEN bench.h(b.i, 4, 100) < 50 THEN 'info'
                 WHEN bench.h(b.i, 4, 100) < 70 THEN 'mention'
                 WHEN bench.h(b.i, 4, 100) < 80 THEN 'warning'
                 WHEN bench.h(b.i, 4, 100) < 90 THEN 'success'
                 WHEN bench.h(b.i, 4, 100) < 95 THEN 'error'
                 ELSE 'admin.report'
               END AS type
          FROM base b
    ),
    ins AS (
        INSERT INTO bench.staged
               (ord, user_id, workspace_id, type, title, body, data, actor_id, collection, item, group_key,
                recent_actor_ids, actor_count, read_at, archived_at, deleted_at, created_at, updated_at)
        SELECT r.i, r.user_id,
               CASE
                 WHEN r.heavy THEN CASE WHEN bench.h(r.i, 2, 6) = 0 THEN NULL ELSE 'hws' || bench.h(r.i, 2, 6) END
                 WHEN bench.h(r.i, 2, 10) < 3 THEN NULL
                 ELSE 'ws' || (r.u % 500) || '_' || bench.h(r.i, 3, 3)
               END,
               r.type,
               r.actor_name || CASE r.type
                 WHEN 'favourite' THEN ' liked your post #' || r.post
                 WHEN 'reblog' THEN ' boosted your post #' || r.post
                 WHEN 'mention' THEN ' mentioned you in ' || pg_catalog.rtrim(r.coll, 's') || ' #' || r.item
                 ELSE ' updated ' || pg_catalog.rtrim(r.coll, 's') || ' #' || r.item END
                 || CASE WHEN r.actors > 1 THEN ' (and ' || (r.actors - 1) || ' more)' ELSE '' END,
               pg_catalog.substr(bench.prose(), 1 + bench.h(r.i, 5, 200)::int, 80 + bench.h(r.i, 6, 220)::int),
               pg_catalog.jsonb_build_object(
                   'url', '/projects/' || (r.item % 300) || '/' || r.coll || '/' || r.item,
                   'project', pg_catalog.jsonb_build_object('id', r.item % 300, 'name', 'Project ' || (r.item % 300)),
                   'actor', pg_catalog.jsonb_build_object(
                       'id', 'user' || r.actor, 'name', r.actor_name,
                       'avatarUrl', 'https://cdn.example.com/avatars/user' || r.actor || '.png'),
                   'priority', bench.pick(ARRAY['low', 'normal', 'high'], r.i, 16),
                   'labels', CASE WHEN bench.h(r.i, 17, 2) = 0
                                  THEN pg_catalog.jsonb_build_array('backend', 'release')
                                  ELSE pg_catalog.jsonb_build_array('design') END),
               'user' || r.actor,
               CASE WHEN r.grouped THEN 'posts' ELSE r.coll END,
               CASE WHEN r.grouped THEN r.post ELSE r.item END::text,
               CASE WHEN r.grouped THEN r.type || ':post:' || r.post END,
               -- As inbox._insert and inbox._aggregate write them: the actors newest first
               -- (distinct: 7919 is prime), and how many.
               ARRAY(SELECT 'user' || (1 + (r.actor - 1 + j * 7919) % r.users)
                       FROM pg_catalog.generate_series(0, r.actors - 1) AS j ORDER BY j),
               r.actors,
               CASE WHEN NOT r.unread THEN r.created_at + pg_catalog.make_interval(secs => bench.h(r.i, 12, 86400)) END,
               CASE WHEN NOT r.unread AND r.archived THEN r.created_at + interval '2 days' END,
               CASE WHEN r.deleted THEN r.created_at + interval '3 days' END,
               r.created_at,
               r.created_at + CASE WHEN r.deleted THEN interval '3 days'
                                   WHEN NOT r.unread AND r.archived THEN interval '2 days'
                                   WHEN NOT r.unread THEN pg_catalog.make_interval(secs => bench.h(r.i, 12, 86400))
                                   ELSE interval '0' END
          FROM r
        RETURNING 1)
    SELECT count(*) FROM ins
$$;

-- Inserts staged rows lo..hi in one statement, in load order (created_at grows with ord),
-- through the table's constraints, indexes and counter triggers, as an application's inserts
-- would. Returns the row count.
CREATE FUNCTION bench.load_rows(lo bigint, hi bigint)
RETURNS bigint
LANGUAGE sql
AS $$
    WITH ins AS (
        INSERT INTO inbox.notifications
               (user_id, workspace_id, type, title, body, data, actor_id, collection, item, group_key,
                recent_actor_ids, actor_count, read_at, archived_at, deleted_at, created_at, updated_at)
        SELECT user_id, workspace_id, type, title, body, data, actor_id, collection, item, group_key,
               recent_actor_ids, actor_count, read_at, archived_at, deleted_at, created_at, updated_at
          FROM bench.staged
         WHERE ord BETWEEN lo AND hi
         ORDER BY ord
        RETURNING 1)
    SELECT count(*) FROM ins
$$;

-- Unread notifications for fixture users: `per_user` each, one a minute from 2025-10-01, the
-- users' rows interleaved (read-all, and the lifecycle step's read-all at two sizes). Returns
-- the row count.
CREATE FUNCTION bench.load_unread(user_ids text[], per_user int)
RETURNS bigint
LANGUAGE sql
AS $$
    WITH ins AS (
        INSERT INTO inbox.notifications (user_id, type, title, body, data, created_at, updated_at)
        SELECT u.user_id, 'info', 'Weekly digest #' || k, pg_catalog.substr(bench.prose(), 1, 160),
               pg_catalog.jsonb_build_object('digest', k, 'url', '/digests/' || k),
               timestamptz '2025-10-01 00:00:00+00' + pg_catalog.make_interval(secs => k * 60),
               timestamptz '2025-10-01 00:00:00+00' + pg_catalog.make_interval(secs => k * 60)
          FROM pg_catalog.unnest(user_ids) WITH ORDINALITY AS u(user_id, o),
               pg_catalog.generate_series(1, per_user) AS k
         ORDER BY k, u.o
        RETURNING 1)
    SELECT count(*) FROM ins
$$;

-- Fixture users for read-all: readall1..readallN, each with `per_user` unread notifications.
CREATE FUNCTION bench.load_readall(users int, per_user int)
RETURNS bigint
LANGUAGE sql
AS $$
    SELECT bench.load_unread(ARRAY(SELECT 'readall' || u FROM pg_catalog.generate_series(1, users) AS u), per_user)
$$;

-- The regular users, the recipients of the fan-out.
CREATE TABLE bench.users (user_id text PRIMARY KEY);

-- Unread notifications to mark read, numbered 1..n in a fixed order: the mark-read steps
-- pick one at random (ours from the first half, the baseline from the second, so neither
-- finds the other's rows already read).
CREATE TABLE bench.unread_targets (
    ord       int PRIMARY KEY,
    user_id   text NOT NULL,
    id        bigint NOT NULL,
    public_id text NOT NULL
);

-- A batch of `n` new notifications for consecutive users from `base`, as the JSON array a
-- caller sends: the input of both create_many and the hand-written INSERT.
CREATE FUNCTION bench.batch(base int, n int, users int)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'userId', 'user' || (1 + (base + g) % users),
               'type', 'mention',
               'title', 'Sofia Rossi mentioned you in comment #' || (base + g),
               'body', pg_catalog.substr(bench.prose(), 1, 180),
               'data', pg_catalog.jsonb_build_object('url', '/projects/7/comments/' || (base + g),
                                                     'actor', pg_catalog.jsonb_build_object('id', 'user7', 'name', 'Sofia Rossi')),
               'actorId', 'user7', 'collection', 'comments', 'item', (base + g)::text) ORDER BY g)
      FROM pg_catalog.generate_series(1, n) AS g
$$;

-- The endCursor after the first `depth` rows of a user's default list, by walking it with
-- inbox.list 100 rows at a time (what a client paging through would hold). Empty for depth 0.
CREATE FUNCTION bench.cursor_at(user_id text, depth int)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    cursor text;
    remaining int := depth;
    step int;
    page jsonb;
BEGIN
    WHILE remaining > 0 LOOP
        step := least(100, remaining);
        page := inbox.list(user_id, pg_catalog.jsonb_build_object('limit', step)
                                    || CASE WHEN cursor IS NULL THEN '{}'
                                            ELSE pg_catalog.jsonb_build_object('after', cursor) END);
        cursor := page->'pageInfo'->>'endCursor';
        IF cursor IS NULL THEN
            RAISE EXCEPTION 'the list of % ends before depth %', user_id, depth;
        END IF;
        remaining := remaining - step;
    END LOOP;
    RETURN coalesce(cursor, '');
END
$$;

-- Bearer tokens of the HTTP steps, one per user of user1..userN, numbered for pgbench.
CREATE TABLE bench.tokens (
    n       int PRIMARY KEY,
    user_id text NOT NULL,
    token   text NOT NULL
);

-- Unread notifications of the token users, for PUT .../read: wrk takes the first half, pgbench
-- the second.
CREATE TABLE bench.http_targets (
    ord       int PRIMARY KEY,
    token     text NOT NULL,
    public_id text NOT NULL
);

-- One active notification of each token user, by its Directus (internal) id, for the by-id
-- reads: GraphQL's notifications_by_id against GET /notifications/:id.
CREATE TABLE bench.items (
    n     int PRIMARY KEY,
    token text NOT NULL,
    id    bigint NOT NULL
);

-- The fields of the POST /api/notifications body after its userId, shared by wrk and pgbench.
CREATE TABLE bench.http_body (fields text NOT NULL);
INSERT INTO bench.http_body VALUES (
    '"type": "mention", "title": "Wei Chen mentioned you in comment #9182", '
    '"body": "Can you confirm the export finished before the freeze?", '
    '"data": {"url": "/projects/12/comments/9182", "actor": {"id": "user12", "name": "Wei Chen"}}, '
    '"actorId": "user12", "collection": "comments", "item": "9182"');

-- Every actor of the rows that aggregated several (actor_count > 1), as inbox._aggregate keeps
-- them in inbox.notification_actors: acted_at in the order of recent_actor_ids, newest first.
CREATE FUNCTION bench.load_actors()
RETURNS bigint
LANGUAGE sql
AS $$
    WITH ins AS (
        INSERT INTO inbox.notification_actors (user_id, notification_id, actor_id, acted_at)
        SELECT n.user_id, n.id, a.actor_id, n.created_at - pg_catalog.make_interval(secs => a.k)
          FROM inbox.notifications n,
               pg_catalog.unnest(n.recent_actor_ids) WITH ORDINALITY AS a(actor_id, k)
         WHERE n.actor_count > 1
        RETURNING 1)
    SELECT count(*) FROM ins
$$;

-- Issue 19 (the lifecycle step, bench/steps.sh step_lifecycle) ---------------------------------

-- Rows lo..hi of the prune fixture: notifications of users prune0..prune999 (one after the
-- other, as they would have arrived) that expired a day after their creation, in 2025: what
-- inbox.prune's expired rule removes. Returns the row count.
CREATE FUNCTION bench.load_expired(lo bigint, hi bigint)
RETURNS bigint
LANGUAGE sql
AS $$
    WITH ins AS (
        INSERT INTO inbox.notifications (user_id, type, title, body, data, created_at, updated_at, expires_at)
        SELECT 'prune' || (k % 1000), 'flash-sale', 'Sale ends soon #' || k, pg_catalog.substr(bench.prose(), 1, 120),
               pg_catalog.jsonb_build_object('sale', k),
               timestamptz '2025-01-01 00:00:00+00' + pg_catalog.make_interval(secs => k * 10),
               timestamptz '2025-01-01 00:00:00+00' + pg_catalog.make_interval(secs => k * 10),
               timestamptz '2025-01-02 00:00:00+00' + pg_catalog.make_interval(secs => k * 10)
          FROM pg_catalog.generate_series(lo, hi) AS k
         ORDER BY k
        RETURNING 1)
    SELECT count(*) FROM ins
$$;

-- A seen mark of user_id at its `unseen`-th newest active row, as inbox.mark_seen would have
-- set it then: the mark, and the unseen counters (issue 19) set to what it leaves unseen, as
-- mark_seen sets them. Returns the user's unseen counter.
CREATE FUNCTION bench.seen_mark_at(user_id text, unseen integer)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    mark timestamptz;
    seen jsonb;
    n bigint;
BEGIN
    SELECT x.created_at INTO mark FROM inbox.notifications x
     WHERE x.user_id = seen_mark_at.user_id AND x.deleted_at IS NULL
     ORDER BY x.created_at DESC, x.id DESC OFFSET unseen LIMIT 1;
    INSERT INTO inbox.marks AS m (user_id, workspace_key, seen_before)
    VALUES (seen_mark_at.user_id, '', mark)
    ON CONFLICT ON CONSTRAINT marks_pkey DO UPDATE SET seen_before = excluded.seen_before;
    seen := (inbox._user_marks(seen_mark_at.user_id)).seen;
    UPDATE inbox.user_counters c
       SET unseen = (SELECT count(*) FROM inbox.notifications x
                      WHERE x.user_id = seen_mark_at.user_id AND x.deleted_at IS NULL AND x.created_at > mark
                        AND inbox._is_unseen(x.deleted_at, x.seen_at, x.created_at, inbox._seen_before(seen, x.workspace_id)))
     WHERE c.user_id = seen_mark_at.user_id
    RETURNING c.unseen INTO n;
    UPDATE inbox.workspace_counters c
       SET unseen = (SELECT count(*) FROM inbox.notifications x
                      WHERE x.user_id = seen_mark_at.user_id AND x.workspace_id = c.workspace_id
                        AND x.deleted_at IS NULL AND x.created_at > mark
                        AND inbox._is_unseen(x.deleted_at, x.seen_at, x.created_at, inbox._seen_before(seen, x.workspace_id)))
     WHERE c.user_id = seen_mark_at.user_id;
    RETURN n;
END
$$;
