-- ---------------------------------------------------------------------------------------------
-- 70_graphql: GraphQL inside PostgreSQL, Directus's `/graphql/system` for notifications.
--
-- The request is parsed, validated and executed by the extension's C++ (src/graphql/): the
-- October 2021 specification for what the schema needs, introspection included. The schema is
-- the notifications part of Directus 11's system schema (Query.notifications,
-- notifications_by_id, notifications_aggregated; create/update/delete mutations). The token is
-- authenticated once per request; queries read through the same C++ as the Directus REST
-- routes (inbox._directus_read), as that caller, in-process; mutations call the Directus API of
-- 60_directus.sql with the token. So GraphQL has exactly the permissions, filters and shapes
-- of the Directus REST routes.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.graphql(query text, variables jsonb DEFAULT NULL,
                              operation_name text DEFAULT NULL, token text DEFAULT NULL,
                              method text DEFAULT 'POST')
RETURNS json
AS 'MODULE_PATHNAME', 'pgi_graphql'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION inbox.graphql(text, jsonb, text, text, text) IS
    'POST (or GET) /graphql/system: runs a GraphQL request ({query, variables, operationName}) for the caller behind token (a bearer token; NULL: the public role, which sees the schema but no notifications) and returns the GraphQL response. A response without "data" is a request error (HTTP 400; 405 when its code is METHOD_NOT_ALLOWED: a mutation sent with method GET); a token that does not authenticate raises 28000 (HTTP 401).';

-- What the server's /graphql/system calls: the request as it arrived, the response with its
-- HTTP status, in one call.
CREATE FUNCTION inbox.graphql_http(token text, request jsonb, method text DEFAULT 'POST',
                                   OUT body text, OUT status integer)
RETURNS record
AS 'MODULE_PATHNAME', 'pgi_graphql_http'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION inbox.graphql_http(text, jsonb, text) IS
    'POST or GET /graphql/system in one call: request is the POST body ({query, variables, operationName}) or the GET query parameters (variables as JSON text); returns the GraphQL response and its HTTP status (200 with data; 400 for a request error; 405 for a mutation over GET). Raises 28000 for a token that does not authenticate (HTTP 401) and 22P02 for GET variables that are not JSON.';
