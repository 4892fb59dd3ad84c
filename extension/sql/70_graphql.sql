-- ---------------------------------------------------------------------------------------------
-- 70_graphql: GraphQL inside PostgreSQL, Directus's `/graphql/system` for notifications.
--
-- The request is parsed, validated and executed by the extension's C++ (graphql_*.cpp): the
-- October 2021 specification for what the schema needs, introspection included. The schema is
-- the notifications part of Directus 11's system schema (Query.notifications,
-- notifications_by_id, notifications_aggregated; create/update/delete mutations). Every
-- notification field is answered by the Directus API of 60_directus.sql with the caller's
-- token, so GraphQL has exactly the permissions, filters and shapes of the Directus REST
-- routes.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION inbox.graphql(query text, variables jsonb DEFAULT NULL,
                              operation_name text DEFAULT NULL, token text DEFAULT NULL,
                              method text DEFAULT 'POST')
RETURNS json
AS 'MODULE_PATHNAME', 'pgi_graphql'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION inbox.graphql(text, jsonb, text, text, text) IS
    'POST (or GET) /graphql/system: runs a GraphQL request ({query, variables, operationName}) for the caller behind token (a bearer token; NULL: the public role, which sees the schema but no notifications) and returns the GraphQL response. A response without "data" is a request error (HTTP 400; 405 when its code is METHOD_NOT_ALLOWED: a mutation sent with method GET); a token that does not authenticate raises 28000 (HTTP 401).';
