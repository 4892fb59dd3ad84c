SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse
\set SHOW_CONTEXT never

-- A row's state, without the times that vary between runs.
CREATE FUNCTION pg_temp.state(j jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT format('%s read=%s(%s) archived=%s(%s) deleted=%s title=%s',
                  j->>'id', j->>'read', j->>'readAt' IS NOT NULL, j->>'archived',
                  j->>'archivedAt' IS NOT NULL, j->>'deletedAt' IS NOT NULL, j->>'title')
$$;

SELECT inbox.create('alice', '{"title": "one", "workspaceId": "w1"}')->>'id' AS n1 \gset
SELECT inbox.create('alice', '{"title": "two", "workspaceId": "w1"}')->>'id' AS n2 \gset
SELECT inbox.create('alice', '{"title": "three", "workspaceId": "w2"}')->>'id' AS n3 \gset
SELECT inbox.create('alice', '{"title": "four"}')->>'id' AS n4 \gset
SELECT inbox.create('bob', '{"title": "bob''s"}')->>'id' AS b1 \gset

-- get
SELECT pg_temp.state(inbox.get('alice', :'n1'));
SELECT inbox.get('alice', :'b1');                    -- another user's id: not found
SELECT inbox.get('alice', 'ntf_0000000000000');      -- unknown id: not found
SELECT inbox.get('alice', 'garbage');                -- malformed: 22023

-- mark_read / mark_unread: idempotent, the first readAt kept, updatedAt only on a change
SELECT pg_temp.state(inbox.mark_read('alice', :'n1'));
SELECT inbox.get('alice', :'n1')->'readAt' AS first_read_at,
       inbox.get('alice', :'n1')->'updatedAt' AS first_updated_at \gset
SELECT pg_sleep(0.01);
SELECT pg_temp.state(inbox.mark_read('alice', :'n1'));
SELECT inbox.get('alice', :'n1')->'readAt' = :'first_read_at'::jsonb AS read_at_kept,
       inbox.get('alice', :'n1')->'updatedAt' = :'first_updated_at'::jsonb AS updated_at_kept;
SELECT pg_temp.state(inbox.mark_unread('alice', :'n1'));
SELECT inbox.get('alice', :'n1')->'updatedAt' <> :'first_updated_at'::jsonb AS updated_at_moved;
SELECT inbox.mark_read('bob', :'n1');                -- not bob's
SELECT pg_temp.state(x) FROM jsonb_array_elements(inbox.mark_read('alice', ARRAY[:'n2', :'n1'])) AS x;
SELECT pg_temp.state(x) FROM jsonb_array_elements(inbox.mark_unread('alice', ARRAY[:'n1', :'n2'])) AS x;
-- bulk calls are all or nothing
SELECT inbox.mark_read('alice', ARRAY[:'n1', :'b1']);
SELECT inbox.mark_read('alice', ARRAY[:'n1', :'n1']);
SELECT inbox.mark_read('alice', ARRAY[]::text[]);
SELECT inbox.mark_read('alice', ARRAY[:'n1', 'nope']);
SELECT count(*) FILTER (WHERE read_at IS NOT NULL) AS read_rows FROM inbox.notifications WHERE user_id = 'alice';

-- mark_all_read, optionally per workspace
SELECT inbox.unread_count('alice') AS unread, inbox.unread_count('alice', 'w1') AS unread_w1;
SELECT inbox.mark_all_read('alice', 'w1') AS changed;
SELECT inbox.unread_count('alice') AS unread, inbox.unread_count('alice', 'w1') AS unread_w1;
SELECT inbox.mark_all_read('alice') AS changed;
SELECT inbox.mark_all_read('alice') AS changed_again;
SELECT inbox.unread_count('alice') AS unread, inbox.unread_count('bob') AS bob_unread,
       inbox.unread_count('nobody') AS nobody_unread, inbox.unread_count('alice', 'nowhere') AS nowhere;

-- archive / unarchive
SELECT pg_temp.state(inbox.archive('alice', :'n3'));
SELECT pg_temp.state(inbox.archive('alice', :'n3'));
SELECT pg_temp.state(inbox.unarchive('alice', :'n3'));
SELECT pg_temp.state(x) FROM jsonb_array_elements(inbox.archive('alice', ARRAY[:'n3', :'n4'])) AS x;
SELECT pg_temp.state(x) FROM jsonb_array_elements(inbox.unarchive('alice', ARRAY[:'n3', :'n4'])) AS x;

-- update one and many
SELECT pg_temp.state(inbox.update('alice', :'n4', '{"title": "four (edited)", "data": {"v": 2}}'));
SELECT inbox.get('alice', :'n4')->'data' AS data;
SELECT pg_temp.state(x) FROM jsonb_array_elements(
    inbox.update('alice', ARRAY[:'n3', :'n4'], '{"type": "error", "groupKey": "g"}')) AS x;
SELECT inbox.get('alice', :'n3')->>'type' AS type, inbox.get('alice', :'n3')->>'groupKey' AS group_key;
SELECT inbox.update('alice', :'n4', '{}');
SELECT inbox.update('alice', :'n4', '{"userId": "mallory"}');
SELECT inbox.update('alice', :'n4', '{"workspaceId": "w9"}');
SELECT inbox.update('alice', :'n4', '{"data": "text"}');
SELECT inbox.update('alice', :'n4', '{"type": null}');
SELECT inbox.update('alice', :'n4', jsonb_build_object('title', repeat('t', 1001)));
SELECT inbox.update('alice', ARRAY[:'n4', :'b1'], '{"title": "mine now"}');
SELECT inbox.get('bob', :'b1')->>'title' AS bob_title_unchanged;

-- soft delete, restore, purge
SELECT pg_temp.state(inbox.soft_delete('alice', :'n4'));
SELECT inbox.get('alice', :'n4');                                  -- gone from the default view
SELECT pg_temp.state(inbox.get('alice', :'n4', include_deleted => true));
SELECT inbox.mark_read('alice', :'n4');                            -- deleted rows take no changes
SELECT inbox.soft_delete('alice', :'n4');                          -- already deleted: not found
SELECT pg_temp.state(inbox.restore('alice', :'n4'));
SELECT inbox.restore('alice', :'n4');                              -- not deleted: 55000
\set VERBOSITY default
SELECT inbox.purge('alice', :'n4');                                -- active: 55000 with a hint
\set VERBOSITY terse
SELECT pg_temp.state(inbox.soft_delete('alice', :'n4'));
SELECT pg_temp.state(inbox.purge('alice', :'n4'));
SELECT inbox.get('alice', :'n4', include_deleted => true);         -- purged for good
SELECT inbox.purge('alice', :'n4');
SELECT inbox.restore('bob', :'n3');                                -- not bob's
-- bulk: one active row among deleted ones stops the purge
SELECT jsonb_array_length(inbox.soft_delete('alice', ARRAY[:'n1', :'n2'])) AS soft_deleted;
SELECT inbox.purge('alice', ARRAY[:'n1', :'n2', :'n3']);
SELECT jsonb_array_length(inbox.restore('alice', ARRAY[:'n1', :'n2'])) AS restored;

-- hard delete, deleted or not
SELECT pg_temp.state(inbox.delete('alice', :'n3'));
SELECT inbox.delete('alice', :'n3');
SELECT inbox.delete('alice', :'b1');
SELECT jsonb_array_length(inbox.delete('alice', ARRAY[:'n1', :'n2'])) AS deleted;
SELECT user_id, count(*) FROM inbox.notifications GROUP BY user_id ORDER BY user_id;

-- The SQLSTATEs are part of the contract.
CREATE FUNCTION pg_temp.sqlstate_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
SELECT inbox.create('carol', '{"title": "c"}')->>'id' AS c1 \gset
SELECT s AS statement, pg_temp.sqlstate_of(s) AS sqlstate FROM unnest(ARRAY[
    $$SELECT inbox.get('carol', 'ntf_0000000000000')$$,
    $$SELECT inbox.get('carol', 'not-an-id')$$,
    $$SELECT inbox.create('carol', '{"nope": 1}')$$,
    $$SELECT inbox.create('carol', '{"type": null}')$$,
    $$SELECT inbox.create('carol', jsonb_build_object('title', repeat('x', 1001)))$$,
    format($$SELECT inbox.restore('carol', %L)$$, :'c1'),
    format($$SELECT inbox.purge('carol', %L)$$, :'c1'),
    format($$SELECT inbox.mark_read('carol', ARRAY[%L, %L])$$, :'c1', :'c1'),
    format($$SELECT inbox.mark_read('carol', %L)$$, :'c1')
]) AS s;
