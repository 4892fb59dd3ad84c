SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse
\set SHOW_CONTEXT never

-- Seed 002's four types ship registered.
SELECT inbox.types();

-- Applications declare theirs (Diaspora's and Mastodon's names are valid type names).
SELECT inbox.register_type('also_commented', 'Someone commented on a post you also commented on.');
SELECT inbox.register_type('liked', 'Someone liked your post.', aggregate => true);
SELECT inbox.register_type('admin.report', 'A new report has been filed.');
-- Registering again changes the description and the setting.
SELECT inbox.register_type('admin.report', 'A report was filed.', aggregate => false);
SELECT jsonb_path_query_array(inbox.types(), '$[*].name') AS names;
SELECT inbox.register_type('bad name', 'spaces are not allowed');
SELECT inbox.register_type('x', repeat('d', 1001));

-- By default unregistered types are accepted.
SHOW pg_inbox.unregistered_types;
SELECT inbox.create('u1', '{"type": "poll"}')->>'type' AS accepted;

-- With the setting at reject, every create path and update refuses them, naming the field.
SET pg_inbox.unregistered_types = reject;
SELECT inbox.create('u1', '{"type": "poll"}');
SELECT inbox.create_many('[{"userId": "u1", "type": "liked"}, {"userId": "u2", "type": "poll"}]');
SELECT inbox.fan_out(ARRAY['u1', 'u2'], '{"type": "favourite"}');
SELECT inbox.update('u1', inbox.create('u1', '{"type": "liked"}')->>'id', '{"type": "poll"}');
SELECT inbox.create('u1', '{"type": "also_commented"}')->>'type' AS registered_ok;
SELECT inbox.create('u1', '{}')->>'type' AS default_info_ok;
SET pg_inbox.unregistered_types = maybe;
RESET pg_inbox.unregistered_types;
SET pg_inbox.no_such_setting = 1;

-- Unregistering: built-in types stay; unknown names are an error.
SELECT inbox.unregister_type('admin.report');
SELECT inbox.unregister_type('admin.report');
SELECT inbox.unregister_type('info');
SELECT jsonb_path_query_array(inbox.types(), '$[*].name') AS names;
