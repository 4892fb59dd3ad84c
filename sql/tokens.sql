SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_inbox CASCADE;
CREATE EXTENSION pg_inbox;
RESET client_min_messages;
\set VERBOSITY terse

-- create_token: a new random token each time, shown once; the table keeps only its SHA-256.
SELECT inbox.create_token('alice', ARRAY['notifications:read', 'notifications:write']) AS alice \gset
SELECT inbox.create_token('alice', ARRAY['notifications:read', 'notifications:write']) AS alice2 \gset
SELECT :'alice' ~ '^pgi_[0-9a-f]{64}$' AS well_formed, :'alice' <> :'alice2' AS distinct_tokens;
SELECT count(*) AS rows_holding_the_token FROM inbox.tokens t
 WHERE t::text LIKE '%' || substr(:'alice', 5) || '%';
SELECT user_id, scopes, workspace_id, expires_at, pg_catalog.length(token_hash) AS hash_bytes
  FROM inbox.tokens WHERE token_hash = pg_catalog.sha256(pg_catalog.convert_to(:'alice', 'UTF8'));

-- Scopes are stored sorted and without repeats.
SELECT inbox.create_token('bob', ARRAY['notifications:send', 'admin', 'notifications:send']) AS bob \gset
SELECT scopes FROM inbox.tokens WHERE user_id = 'bob';

-- authenticate: who is calling, and whether the token has the scope (admin has every scope).
SELECT * FROM inbox.authenticate(:'alice');
SELECT * FROM inbox.authenticate(:'alice', 'notifications:read');
SELECT * FROM inbox.authenticate(:'alice', 'notifications:send');   -- 42501
SELECT * FROM inbox.authenticate(:'bob', 'notifications:read');     -- admin: allowed
SELECT (inbox.authenticate(:'bob')).admin;

-- One 401 for every kind of bad token (28000), so probing learns nothing.
SELECT inbox.authenticate('pgi_' || repeat('0', 64));
SELECT inbox.authenticate('');
SELECT inbox.authenticate(NULL);
SELECT inbox.authenticate(upper(:'alice'));

-- Workspace-bound and expiring tokens.
SELECT inbox.create_token('carol', ARRAY['notifications:read'], 'w1',
                          pg_catalog.now() + interval '1 hour') AS carol \gset
SELECT user_id, workspace_id, admin FROM inbox.authenticate(:'carol');
-- An expired token is refused: move its expiry into the past behind the API's back.
UPDATE inbox.tokens SET expires_at = pg_catalog.now() - interval '1 second' WHERE user_id = 'carol';
SELECT inbox.authenticate(:'carol');

-- revoke_token: at once; a second revoke finds nothing.
SELECT inbox.revoke_token(:'alice2') AS revoked, inbox.revoke_token(:'alice2') AS again;
SELECT inbox.authenticate(:'alice2');
SELECT user_id FROM inbox.authenticate(:'alice');   -- the other token of the same user still works
SELECT inbox.revoke_token(NULL) IS NULL AS strict;

-- revoke_tokens: every token of a user.
SELECT inbox.revoke_tokens('alice') AS revoked, inbox.revoke_tokens('alice') AS again;
SELECT inbox.authenticate(:'alice');

-- Bad input.
SELECT inbox.create_token(NULL, ARRAY['admin']);
SELECT inbox.create_token('', ARRAY['admin']);
SELECT inbox.create_token(repeat('x', 256), ARRAY['admin']);
SELECT inbox.create_token('dave', ARRAY[]::text[]);
SELECT inbox.create_token('dave', NULL);
SELECT inbox.create_token('dave', ARRAY['notifications:delete']);
SELECT inbox.create_token('dave', ARRAY['admin', NULL]);
SELECT inbox.create_token('dave', ARRAY['admin'], '');
SELECT inbox.create_token('dave', ARRAY['admin'], NULL, pg_catalog.now() - interval '1 minute');
SELECT count(*) AS dave_tokens FROM inbox.tokens WHERE user_id = 'dave';

SELECT inbox.token_scopes();

-- The token table is dumped with the extension's data.
SELECT c.relname FROM pg_catalog.pg_extension e, pg_catalog.unnest(e.extconfig) AS cfg(oid)
  JOIN pg_catalog.pg_class c ON c.oid = cfg.oid
 WHERE e.extname = 'pg_inbox' AND c.relname = 'tokens';
