-- Delivery (issue 15): the outbox filled from the change feed, claim under a lease, what each
-- answer means, preferences, webhook endpoints, unsubscribe tokens, pruning. The server's
-- workers and the real SMTP and HTTP parts are in tests/delivery.sh. A create queues nothing
-- itself: the expander (inbox.expand_deliveries, which the workers' claim runs first) queues
-- the deliveries of the committed events, so each check of the outbox after a create expands
-- first.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
DROP TABLE IF EXISTS public.delivery_users;
\set VERBOSITY terse
\set SHOW_CONTEXT never
CREATE TABLE public.delivery_users (id text PRIMARY KEY, email text);
INSERT INTO public.delivery_users VALUES ('dana', 'dana@example.org'), ('eve', NULL);
SELECT inbox.define_relation('recipient', 'userId', 'public.delivery_users', 'id') IS NOT NULL AS defined;
SET pg_inbox.webhook_allow_private = on;
SET pg_inbox.delivery_backoff_scale = 0;

-- HMAC-SHA256 as Standard Webhooks signs (the specification's example).
SELECT 'v1,' || encode(inbox._hmac_sha256(decode('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'),
       convert_to('msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}', 'UTF8')), 'base64') AS signature;

-- Nothing configured: a create queues nothing.
SELECT inbox.create('dana', '{"title": "quiet"}') IS NOT NULL AS created;
SELECT inbox.expand_deliveries() AS expanded;
SELECT count(*) AS queued FROM inbox.deliveries;

-- E-mail on: one per create, to the address of the recipient relation; none without an address.
SET pg_inbox.email_column = 'email';
SELECT inbox.create('dana', '{"title": "Build finished", "body": "main is green", "data": {"url": "https://ci/42"}}') ->> 'id' AS first_id \gset
SELECT inbox.create('eve', '{"title": "no address"}') IS NOT NULL AS created;
SELECT inbox.expand_deliveries() AS expanded;
SELECT user_id, channel, address, event, type, state, attempts FROM inbox.deliveries ORDER BY created_at;
-- Not on an update.
SELECT inbox.mark_read('dana', :'first_id') IS NOT NULL AS marked;
SELECT inbox.expand_deliveries() AS expanded;
SELECT count(*) AS queued FROM inbox.deliveries;
-- A rolled-back create queues nothing.
BEGIN;
SELECT inbox.create('dana', '{"title": "rolled back"}') IS NOT NULL AS created;
ROLLBACK;
SELECT inbox.expand_deliveries() AS expanded;
SELECT count(*) AS queued FROM inbox.deliveries;

-- Claim: what the worker sends; the lease hides the row from a second claim.
SELECT channel, attempt, target, headers->>'subject' AS subject, headers->>'messageId' = :'first_id' AS stable_message_id,
       body, lease IS NOT NULL AS leased
  FROM inbox.claim_deliveries(10);
SELECT count(*) AS claimed_again FROM inbox.claim_deliveries(10);
-- The unsubscribe token names dana and info, and turns that type's e-mail off.
SELECT inbox.unsubscribe(inbox._unsubscribe_token('dana', 'info'));
SELECT inbox.unsubscribe('ZGFuYQ.aW5mbw.AAAAAAAAAAAAAAAAAAAAAA');
SELECT p->'channels' AS info_channels FROM jsonb_array_elements(inbox.preferences('dana')->'data') p WHERE p->>'type' = 'info';
SELECT inbox.create('dana', '{"title": "after unsubscribing"}') IS NOT NULL AS created;
SELECT inbox.expand_deliveries() AS expanded;
SELECT count(*) AS queued FROM inbox.deliveries;
SELECT inbox.set_preference('dana', 'info', 'email', NULL)->'all' AS all_choices;

-- A report: SMTP 451 (later), then 250. A report with another lease is ignored.
SELECT user_id, id AS delivery_id, lease AS claim FROM inbox.deliveries d, LATERAL (SELECT 1) x
 WHERE channel = 'email' LIMIT 1 \gset
SELECT inbox.finish_deliveries(jsonb_build_array(jsonb_build_object(
    'userId', 'dana', 'id', inbox._delivery_public_id(:'delivery_id'), 'lease', gen_random_uuid(), 'status', 250))) AS recorded;
SELECT inbox.finish_deliveries(jsonb_build_array(jsonb_build_object(
    'userId', 'dana', 'id', inbox._delivery_public_id(:'delivery_id'), 'lease', :'claim', 'status', 451, 'error', 'try later'))) AS recorded;
SELECT state, attempts, last_status, last_error, lease IS NULL AS released FROM inbox.deliveries WHERE id = :'delivery_id';
SELECT lease AS claim FROM inbox.claim_deliveries(10) \gset
SELECT inbox.finish_deliveries(jsonb_build_array(jsonb_build_object(
    'userId', 'dana', 'id', inbox._delivery_public_id(:'delivery_id'), 'lease', :'claim', 'status', 250, 'durationMs', 12))) AS recorded;
SELECT state, attempts, finished_at IS NOT NULL AS finished FROM inbox.deliveries WHERE id = :'delivery_id';
SELECT attempt, outcome, status, duration_ms, error FROM inbox.delivery_attempts WHERE delivery_id = :'delivery_id' ORDER BY attempt;

-- Webhooks: bad input, then one endpoint with a known secret.
SELECT inbox.create_webhook('ftp://example.org/', '{notification.created}');
SELECT inbox.create_webhook('https://example.org/', '{notification.exploded}');
SELECT inbox.create_webhook('https://example.org/', '{}');
SELECT inbox.create_webhook('https://example.org/', '{notification.created}', secret => 'whsec_' || repeat('A', 120));
SELECT inbox.create_webhook('https://example.org/', '{notification.created}', secret => 'whsec_AAAA');
SET pg_inbox.webhook_allow_private = off;
SELECT inbox.create_webhook('http://192.168.1.10/hook', '{notification.created}');
SELECT inbox.create_webhook('http://[::1]:8080/hook', '{notification.created}');
SELECT inbox.create_webhook('http://localhost/hook', '{notification.created}');
SET pg_inbox.webhook_allow_private = on;
SELECT count(*) AS webhooks FROM inbox.webhooks;
SELECT inbox.create_webhook('http://127.0.0.1:9/hook', '{notification.created,notification.updated}', types => '{warning}',
                            secret => 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw') - 'createdAt' AS webhook;
SELECT inbox.create('dana', '{"title": "not a warning"}') IS NOT NULL AS created;
SELECT inbox.create('dana', '{"title": "disk", "type": "warning"}') IS NOT NULL AS created;
-- Read row by row: a read-all writes no row (issue 19), so its one notification.read_all event
-- is no notification.updated for this endpoint.
SELECT jsonb_array_length(inbox.mark_read('dana', ARRAY(SELECT inbox.public_id(n.id) FROM inbox.notifications n
                                                        WHERE n.user_id = 'dana' AND n.read_at IS NULL))) AS read_all;
SELECT inbox.expand_deliveries() AS expanded;
SELECT channel, event, type, payload->'data'->>'title' AS title, payload->'data'->>'userId' AS user_id
  FROM inbox.deliveries WHERE channel = 'webhook' ORDER BY created_at, event;
-- The signature the worker sends verifies against the endpoint's secret.
-- (The server signs with the secret the claim hands it; tests/delivery.sh verifies its calls.)
SELECT 'v1,' || encode(inbox._hmac_sha256(decode(substr(secret, 7), 'base64'),
           convert_to(id || '.' || (headers->>'webhook-timestamp') || '.' || body, 'UTF8')), 'base64')
       = 'v1,' || encode(inbox._hmac_sha256(decode('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'),
           convert_to(id || '.' || (headers->>'webhook-timestamp') || '.' || body, 'UTF8')), 'base64') AS verifies,
       headers->>'webhook-id' = id AS id_header
  FROM inbox.claim_deliveries(10, channels => '{webhook}') ORDER BY body;
-- 410 disables the endpoint.
SELECT inbox.finish_deliveries(jsonb_agg(jsonb_build_object('userId', user_id, 'id', inbox._delivery_public_id(id),
                                                            'lease', lease, 'status', 410))) AS recorded
  FROM inbox.deliveries WHERE channel = 'webhook';
SELECT (w->>'enabled')::boolean AS enabled, w->>'disabledReason' AS reason FROM jsonb_array_elements(inbox.webhooks()) w;
SELECT jsonb_array_length(inbox.webhook_deliveries('wh_1')) AS logged;
SELECT inbox.webhook_deliveries('wh_999');
SELECT inbox.retry_delivery('wh_1', 'msg_00000000000000000000000000000000');

-- The last attempt fails; 4xx fails at once; 5xx and no answer retry.
SET pg_inbox.delivery_max_attempts = 2;
SELECT inbox.create('dana', '{"title": "retried"}') IS NOT NULL AS created;
SELECT inbox.expand_deliveries() AS expanded;
SELECT user_id, id AS delivery_id FROM inbox.deliveries WHERE state = 'pending' ORDER BY created_at DESC LIMIT 1 \gset
SELECT inbox.finish_deliveries(jsonb_agg(jsonb_build_object('userId', c.user_id, 'id', c.id, 'lease', c.lease, 'status', 0, 'error', 'refused')))
  FROM inbox.claim_deliveries(10) c;
SELECT inbox.finish_deliveries(jsonb_agg(jsonb_build_object('userId', c.user_id, 'id', c.id, 'lease', c.lease)))
  FROM inbox.claim_deliveries(10) c;
SELECT state, attempts FROM inbox.deliveries WHERE id = :'delivery_id';
SELECT string_agg(outcome, ', ' ORDER BY attempt) AS outcomes FROM inbox.delivery_attempts WHERE delivery_id = :'delivery_id';

-- Preferences: * and a type, a critical type, bad input.
SELECT inbox.register_type('security', 'New sign-in', channels => '{in_app,email}', critical => true) IS NOT NULL AS registered;
SELECT inbox.register_type('comment', email_digest => '1 hour') IS NOT NULL AS registered;
SELECT inbox.register_type('quiet', channels => '{in_app}') IS NOT NULL AS registered;
SELECT inbox.register_type('bad', channels => '{sms}');
SELECT inbox.set_preference('dana', '*', 'email', false)->'all' AS all_choices;
SELECT p->>'type' AS type, p->'channels' AS channels, p->'critical' AS critical, p->'emailDigest' AS digest
  FROM jsonb_array_elements(inbox.preferences('dana')->'data') p ORDER BY 1;
SELECT inbox.set_preference('dana', 'security', 'email', false);
SELECT inbox.set_preference('dana', 'nope', 'email', false);
SELECT inbox.set_preference('dana', 'info', 'pigeon', false);

-- A digest: the notifications of the window join one delivery.
SELECT inbox.set_preference('dana', '*', 'email', NULL) IS NOT NULL AS reset;
SELECT inbox.create_many('[{"userId": "dana", "type": "comment", "title": "c1"}, {"userId": "dana", "type": "comment", "title": "c2"}]') IS NOT NULL AS created;
SELECT inbox.create('dana', '{"type": "comment", "title": "c3"}') IS NOT NULL AS created;
SELECT inbox.expand_deliveries() AS expanded;
SELECT count(*) AS digests, max(cardinality(notification_ids)) AS notifications, bool_and(due_at > now() + '59 minutes') AS due_at_window_end
  FROM inbox.deliveries WHERE type = 'comment';

-- Pruning: finished rows past the retention, with their attempts.
SET pg_inbox.delivery_retention = '0 seconds';
SELECT inbox.prune_deliveries(1) AS pruned;
SELECT inbox.prune_deliveries() > 0 AS pruned_more;
SELECT count(*) FILTER (WHERE state <> 'pending') AS finished_left, count(*) FILTER (WHERE state = 'pending') > 0 AS pending_kept
  FROM inbox.deliveries;
RESET pg_inbox.delivery_retention;

-- in_app off: the create stores nothing for that person and says so; e-mail on still sends
-- the e-mail (queued by the create, built from the create object); a critical type stores.
DELETE FROM inbox.deliveries;
INSERT INTO public.delivery_users VALUES ('finn', 'finn@example.org'), ('gia', 'gia@example.org');
SELECT inbox.set_preference('finn', '*', 'in_app', false)->'all' AS all_choices;
SELECT inbox.set_preference('gia', 'info', 'in_app', false) IS NOT NULL AS set;
SELECT inbox.set_preference('gia', 'info', 'email', false) IS NOT NULL AS set;
SELECT inbox.create('finn', '{"title": "Skipped", "body": "not stored", "data": {"url": "https://x/1"}}') AS skipped;
SELECT count(*) AS stored FROM inbox.notifications WHERE user_id = 'finn';
SELECT user_id, channel, address, type, notification_ids, payload->>'title' AS title FROM inbox.deliveries;
SELECT channel, target, headers->>'subject' AS subject, headers->>'messageId' = id AS own_message_id, body
  FROM inbox.claim_deliveries(10);
DELETE FROM inbox.deliveries;
-- In order, the skipped ones in their places; gia (e-mail off too) gets nothing at all.
SELECT jsonb_path_query_array(inbox.create_many('[{"userId": "dana", "title": "a"}, {"userId": "finn", "title": "b"}, {"userId": "gia", "title": "c"}, {"userId": "gia", "type": "warning", "title": "d"}]'),
       '$[*] ? (exists (@.skipped)).userId') AS skipped,
       jsonb_path_query_array(inbox.create_many('[{"userId": "dana", "title": "e"}, {"userId": "finn", "title": "f"}]'), '$[*].title') AS titles;
SELECT user_id, title FROM inbox.notifications WHERE title IN ('a', 'b', 'c', 'd', 'e', 'f') ORDER BY id;
SELECT inbox.fan_out_count('{dana,finn,gia}', '{"title": "g"}') AS served;
SELECT jsonb_path_query_array(inbox.fan_out('{finn,dana}', '{"title": "h"}'), '$[*].skipped') AS skipped;
SELECT inbox.expand_deliveries() AS expanded;
SELECT user_id, count(*) AS emails FROM inbox.deliveries WHERE channel = 'email' GROUP BY 1 ORDER BY 1;
-- A critical type cannot be turned off: finn gets it stored.
SELECT inbox.set_preference('finn', 'security', 'in_app', false);
SELECT inbox.create('finn', '{"type": "security", "title": "New sign-in"}') ? 'id' AS stored;
-- A type whose defaults leave in_app out: nothing stored unless the person turns it on.
SELECT inbox.register_type('mailonly', channels => '{email}') IS NOT NULL AS registered;
SELECT inbox.set_preference('dana', 'mailonly', 'in_app', true) IS NOT NULL AS set;
SELECT inbox.fan_out('{dana,gia}', '{"type": "mailonly", "title": "i"}') @? '$[0].id' AS dana_stored,
       inbox.fan_out('{dana,gia}', '{"type": "mailonly", "title": "j"}') @? '$[1].skipped' AS gia_skipped;
-- The REST answer lists the skipped recipients.
SELECT inbox.create_token('svc', '{notifications:send}') AS send_token \gset
SELECT inbox.rest_create(:'send_token', '{"userIds": ["dana", "finn"], "title": "k"}', NULL, '{}') - 'data' AS rest_fan_out,
       jsonb_array_length(inbox.rest_create(:'send_token', '{"userIds": ["dana", "finn"], "title": "k"}', NULL, '{}')->'data') AS created;
SELECT inbox.rest_create(:'send_token', '{"userId": "finn", "title": "l"}', NULL, '{}') AS rest_one;

-- The expander: the outbox's source is the change feed. A rolled-back create leaves no delivery;
-- a committed one exactly one e-mail and one webhook call (stamped with the event's time, not
-- the expansion's), and only once expanded; an event no webhook asks for, none; a second
-- expansion, nothing more; the limit pages; inbox.feed = off, none (no event).
SELECT inbox.expand_deliveries() >= 0 AS caught_up;
DELETE FROM inbox.deliveries;
INSERT INTO public.delivery_users VALUES ('hana', 'hana@example.org');
SELECT inbox.create_webhook('http://127.0.0.1:9/created', '{notification.created}') ? 'id' AS hooked;
BEGIN;
SELECT inbox.create('hana', '{"title": "rolled back"}') IS NOT NULL AS created;
ROLLBACK;
SELECT inbox.expand_deliveries() AS expanded;
SELECT count(*) AS queued FROM inbox.deliveries WHERE user_id = 'hana';
SELECT inbox.create('hana', '{"title": "committed"}') ->> 'id' AS hana_id \gset
SELECT count(*) AS queued_before_expanding FROM inbox.deliveries WHERE user_id = 'hana';
SELECT pg_sleep(0.01);
SELECT inbox.expand_deliveries() AS expanded;
SELECT d.channel, count(*) AS queued,
       bool_and(d.channel = 'email' OR d.payload->>'timestamp' = inbox.iso_time(e.created_at)) AS stamped_with_the_event
  FROM inbox.deliveries d
  JOIN inbox.events e ON e.user_id = d.user_id AND e.notification_id = d.notification_ids[1] AND e.event = 'notification.created'
 WHERE d.user_id = 'hana' GROUP BY d.channel ORDER BY d.channel;
SELECT inbox.mark_read('hana', :'hana_id') IS NOT NULL AS marked;
SELECT inbox.expand_deliveries() AS expanded;
SELECT inbox.expand_deliveries() AS expanded_again;
SELECT count(*) AS queued FROM inbox.deliveries WHERE user_id = 'hana';
SELECT count(*) AS created FROM (SELECT inbox.create('hana', jsonb_build_object('title', 'page ' || i)) FROM generate_series(1, 3) i) c;
SELECT inbox.expand_deliveries(2) AS first_page, inbox.expand_deliveries(2) AS second_page;
SELECT count(*) FILTER (WHERE channel = 'webhook') AS webhook_calls, count(*) FILTER (WHERE channel = 'email') AS emails
  FROM inbox.deliveries WHERE user_id = 'hana';
SET inbox.feed = off;
SELECT inbox.create('hana', '{"title": "not in the feed"}') IS NOT NULL AS created;
RESET inbox.feed;
SELECT inbox.expand_deliveries() AS expanded;
SELECT count(*) AS queued FROM inbox.deliveries WHERE user_id = 'hana';
SELECT inbox.expand_deliveries(0);
-- Pruning keeps the events the expander has not passed, whatever their age, while delivery is
-- configured; once expanded they go.
SET inbox.feed_retention = '0 seconds';
SELECT inbox.create('hana', '{"title": "not yet expanded"}') ->> 'id' AS waiting_id \gset
SELECT inbox.prune_events() >= 0 AS pruned;
SELECT count(*) AS kept FROM inbox.events WHERE notification_id = inbox.internal_id(:'waiting_id');
SELECT inbox.expand_deliveries() AS expanded;
SELECT inbox.prune_events() >= 1 AS pruned;
SELECT count(*) AS kept FROM inbox.events WHERE notification_id = inbox.internal_id(:'waiting_id');
RESET inbox.feed_retention;
-- Exactly once by each user's event ids (inbox.delivery_progress), whatever the cursor does: the
-- cursor is only the hint of which users have new events, as a shard move leaves it (the moved
-- events under another node's xids, read again or never). Each user's queued count after each
-- step: one e-mail and one webhook call per created notification.
CREATE FUNCTION pg_temp.queued(who text) RETURNS text LANGUAGE sql AS $$
    SELECT count(*) FILTER (WHERE channel = 'email') || ' e-mails, ' || count(*) FILTER (WHERE channel = 'webhook') || ' webhook calls'
      FROM inbox.deliveries WHERE user_id = who
$$;
SELECT inbox.expand_deliveries() >= 0 AS caught_up;
INSERT INTO public.delivery_users VALUES ('ivy', 'ivy@example.org'), ('jon', 'jon@example.org'), ('kim', 'kim@example.org');
-- A repeated page (the cursor set back, as a page that comes again): read again, queued once.
SELECT f.cursor AS old_cursor FROM inbox.delivery_feed_position f \gset
SELECT count(*) AS created FROM (SELECT inbox.create(u, '{"title": "once"}') FROM unnest(ARRAY['ivy', 'ivy', 'jon']) u) c;
SELECT inbox.expand_deliveries() AS expanded;
SELECT pg_temp.queued('ivy') AS ivy, pg_temp.queued('jon') AS jon;
UPDATE inbox.delivery_feed_position SET cursor = :'old_cursor';
SELECT inbox.expand_deliveries() AS read_again;
SELECT pg_temp.queued('ivy') AS ivy, pg_temp.queued('jon') AS jon;
SELECT d.user_id, d.event_id = inbox.feed_head(d.user_id) AS at_head
  FROM inbox.delivery_progress d WHERE d.user_id IN ('ivy', 'jon') ORDER BY d.user_id;
-- A user with no mark yet: only the events the cursor has not passed (kim's first event
-- predates the expander: the cursor is moved past it), never older kept ones.
SELECT inbox.create('kim', '{"title": "before the expander"}') IS NOT NULL AS created;
UPDATE inbox.delivery_feed_position SET cursor = inbox._feed_start();
SELECT inbox.create('kim', '{"title": "after"}') IS NOT NULL AS created;
SELECT inbox.expand_deliveries() AS expanded;
SELECT pg_temp.queued('kim') AS kim, (SELECT event_id FROM inbox.delivery_progress WHERE user_id = 'kim') AS kim_mark;
-- Catch-up: an event the cursor never reads (a shard moved to a node whose cursor is past its
-- xid) is queued with the user's next event, by key, in id order; the events of other users the
-- cursor skipped are not (they wait for their user's next event).
SELECT inbox.create('jon', '{"title": "moved, unread by the cursor"}') IS NOT NULL AS created;
SELECT inbox.create('ivy', '{"title": "moved, unread by the cursor"}') IS NOT NULL AS created;
UPDATE inbox.delivery_feed_position SET cursor = inbox._feed_start();
SELECT inbox.expand_deliveries() AS expanded;
SELECT pg_temp.queued('jon') AS jon_before;
SELECT inbox.create('jon', '{"title": "next"}') IS NOT NULL AS created;
SELECT inbox.expand_deliveries() AS expanded;
SELECT pg_temp.queued('jon') AS jon, pg_temp.queued('ivy') AS ivy_waits;
SELECT array_agg(n.title ORDER BY d.created_at, n.title) AS jon_webhooks
  FROM inbox.deliveries d JOIN inbox.notifications n ON n.user_id = d.user_id AND n.id = d.notification_ids[1]
 WHERE d.user_id = 'jon' AND d.channel = 'webhook';
-- A user whose events span pages (the limit): each page queues up to its highest id of the user.
SELECT count(*) AS created FROM (SELECT inbox.create('ivy', jsonb_build_object('title', 'span ' || i)) FROM generate_series(1, 3) i) c;
SELECT inbox.expand_deliveries(1) AS first_page;
SELECT pg_temp.queued('ivy') AS ivy;
SELECT inbox.expand_deliveries() AS rest;
SELECT pg_temp.queued('ivy') AS ivy;
-- Delivery unconfigured for a while: the events created then are never queued, not even by a
-- later catch-up of their user's mark.
SET pg_inbox.email_column = '';
UPDATE inbox.webhooks SET enabled = false WHERE enabled;
SELECT inbox.create('kim', '{"title": "while unconfigured"}') IS NOT NULL AS created;
SELECT inbox.expand_deliveries() AS expanded;
SET pg_inbox.email_column = 'email';
UPDATE inbox.webhooks SET enabled = true WHERE url = 'http://127.0.0.1:9/created';
SELECT pg_sleep(0.01);
SELECT inbox.create('kim', '{"title": "configured again"}') IS NOT NULL AS created;
SELECT inbox.expand_deliveries() AS expanded;
SELECT pg_temp.queued('kim') AS kim;
-- TRUNCATE inbox.notifications restarts every user's event ids: the marks go with them.
BEGIN;
TRUNCATE inbox.notifications CASCADE;
SELECT count(*) AS marks_left FROM inbox.delivery_progress;
ROLLBACK;
