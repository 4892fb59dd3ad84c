-- pg_inbox 0.1.0 -> 0.2.0

-- GraphQL in one pass (70_graphql.sql): the server's /graphql/system calls inbox.graphql_http,
-- which returns the response with its HTTP status. inbox.graphql keeps its declaration.
CREATE FUNCTION inbox.graphql_http(token text, request jsonb, method text DEFAULT 'POST',
                                   OUT body text, OUT status integer)
RETURNS record
AS 'MODULE_PATHNAME', 'pgi_graphql_http'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION inbox.graphql_http(text, jsonb, text) IS
    'POST or GET /graphql/system in one call: request is the POST body ({query, variables, operationName}) or the GET query parameters (variables as JSON text); returns the GraphQL response and its HTTP status (200 with data; 400 for a request error; 405 for a mutation over GET). Raises 28000 for a token that does not authenticate (HTTP 401) and 22P02 for GET variables that are not JSON.';
