-- ---------------------------------------------------------------------------------------------
-- 40_tokens: bearer tokens for the HTTP APIs, and the one function that authenticates them.
--
-- A token is shown once, when it is created; the table keeps only its SHA-256, so a leaked
-- table (or dump) does not leak working tokens. A token is looked up by that hash alone: on a
-- Citus cluster inbox.tokens is a reference table (small, read on every request, written
-- rarely), so every node authenticates locally and then works on the caller's shard.
-- ---------------------------------------------------------------------------------------------

-- The scopes a token can carry. admin includes every other.
CREATE FUNCTION inbox.token_scopes()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ARRAY['notifications:read', 'notifications:write', 'notifications:send', 'admin']::text[]
$$;

COMMENT ON FUNCTION inbox.token_scopes() IS
    'The scopes a bearer token can carry: notifications:read, notifications:write, notifications:send and admin (which includes the others).';

CREATE TABLE inbox.tokens (
    token_hash   bytea       NOT NULL,
    user_id      text        NOT NULL,
    scopes       text[]      NOT NULL,
    workspace_id text,
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT tokens_pkey PRIMARY KEY (token_hash),
    CONSTRAINT tokens_hash_length CHECK (pg_catalog.length(token_hash) = 32),
    CONSTRAINT tokens_user_id_length CHECK (pg_catalog.length(user_id) BETWEEN 1 AND 255),
    CONSTRAINT tokens_workspace_id_length CHECK (pg_catalog.length(workspace_id) BETWEEN 1 AND 255),
    CONSTRAINT tokens_scopes_known CHECK (
        pg_catalog.cardinality(scopes) >= 1
        AND scopes OPERATOR(pg_catalog.<@) inbox.token_scopes())
);

-- Listing or revoking one user's tokens.
CREATE INDEX tokens_user_idx ON inbox.tokens (user_id);

COMMENT ON TABLE inbox.tokens IS
    'Bearer tokens of the HTTP APIs: the SHA-256 of each token (never the token), its user, scopes, optional workspace and expiry.';

SELECT pg_catalog.pg_extension_config_dump('inbox.tokens', '');

-- The one spelling of a token's hash, shared by create, revoke and authenticate. STABLE, as
-- convert_to is: PostgreSQL inlines a SQL function only when it is no less volatile than its
-- body. Declared IMMUTABLE it was never inlined, and so ran as a SQL function of its own,
-- parsed and planned again in every request's authenticate (about 40 us of a create).
CREATE FUNCTION inbox._token_hash(token text)
RETURNS bytea
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
    SELECT pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8'))
$$;

CREATE FUNCTION inbox.create_token(user_id text, scopes text[], workspace_id text DEFAULT NULL,
                                   expires_at timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    -- gen_random_uuid() draws from pg_strong_random: two of them give 244 random bits.
    token text := 'pgi_' || pg_catalog.encode(
        pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
        || pg_catalog.uuid_send(pg_catalog.gen_random_uuid()), 'hex');
    unknown text;
    known_scopes constant text := 'Scopes: ' || pg_catalog.array_to_string(inbox.token_scopes(), ', ') || '.';
BEGIN
    IF create_token.user_id IS NULL THEN
        RAISE EXCEPTION 'user_id: must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF scopes IS NULL OR pg_catalog.cardinality(scopes) = 0 THEN
        RAISE EXCEPTION 'scopes: expected at least one scope'
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = known_scopes;
    END IF;
    SELECT s INTO unknown FROM pg_catalog.unnest(scopes) AS s
     WHERE s IS NULL OR s <> ALL (inbox.token_scopes())
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'scopes: unknown scope %', coalesce(pg_catalog.quote_literal(unknown), 'null')
              USING ERRCODE = 'invalid_parameter_value',
                    HINT = known_scopes;
    END IF;
    IF expires_at <= pg_catalog.now() THEN
        RAISE EXCEPTION 'expires_at: must be in the future' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Computed before the INSERT: Citus refuses a subquery inside INSERT ... VALUES.
    scopes := ARRAY(SELECT DISTINCT s FROM pg_catalog.unnest(scopes) AS s ORDER BY s);
    INSERT INTO inbox.tokens (token_hash, user_id, scopes, workspace_id, expires_at)
    VALUES (inbox._token_hash(token), create_token.user_id, create_token.scopes,
            create_token.workspace_id, create_token.expires_at);
    RETURN token;
END
$$;

COMMENT ON FUNCTION inbox.create_token(text, text[], text, timestamptz) IS
    'Creates a bearer token for user_id with the given scopes (notifications:read, notifications:write, notifications:send, admin), optionally bound to one workspace and expiring; returns it once (only its SHA-256 is kept).';

-- PL/pgSQL, as every function with parameters that touches a table (see mark_all_read).
CREATE FUNCTION inbox.revoke_token(token text)
RETURNS boolean
LANGUAGE plpgsql STRICT
AS $$
BEGIN
    DELETE FROM inbox.tokens t WHERE t.token_hash = inbox._token_hash(revoke_token.token);
    RETURN FOUND;
END
$$;

COMMENT ON FUNCTION inbox.revoke_token(text) IS
    'Revokes a bearer token at once; returns whether it existed.';

CREATE FUNCTION inbox.revoke_tokens(user_id text)
RETURNS bigint
LANGUAGE plpgsql STRICT
AS $$
DECLARE
    gone bigint;
BEGIN
    DELETE FROM inbox.tokens t WHERE t.user_id = revoke_tokens.user_id;
    GET DIAGNOSTICS gone = ROW_COUNT;
    RETURN gone;
END
$$;

COMMENT ON FUNCTION inbox.revoke_tokens(text) IS
    'Revokes every bearer token of user_id; returns how many there were.';

-- Who is calling: what authenticate() returns to the API functions.
CREATE TYPE inbox.caller AS (
    user_id      text,
    scopes       text[],
    workspace_id text,
    admin        boolean
);

COMMENT ON TYPE inbox.caller IS
    'The authenticated caller of an HTTP API: the token''s user, its scopes, the workspace it is bound to (or null) and whether it is an admin.';

CREATE FUNCTION inbox.authenticate(token text, scope text DEFAULT NULL)
RETURNS inbox.caller
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    found_token inbox.tokens;
BEGIN
    IF token IS NOT NULL THEN
        SELECT * INTO found_token FROM inbox.tokens t WHERE t.token_hash = inbox._token_hash(token);
    END IF;
    -- One message for a missing, unknown, revoked or expired token: a caller probing tokens
    -- learns nothing from the difference.
    IF found_token.token_hash IS NULL OR found_token.expires_at <= pg_catalog.now() THEN
        RAISE EXCEPTION 'invalid or expired token' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    IF scope IS NOT NULL AND NOT ('admin' = ANY (found_token.scopes) OR scope = ANY (found_token.scopes)) THEN
        RAISE EXCEPTION 'this token lacks the % scope', scope
              USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN ROW(found_token.user_id, found_token.scopes, found_token.workspace_id,
               'admin' = ANY (found_token.scopes))::inbox.caller;
END
$$;

COMMENT ON FUNCTION inbox.authenticate(text, text) IS
    'The caller behind a bearer token; raises 28000 for a missing, unknown, revoked or expired token and 42501 when it lacks scope (admin has every scope).';
