// Directus's GraphQL endpoint, /graphql/system: POST with a JSON body {query, variables,
// operationName}, or GET with those as query parameters. One call of inbox.graphql() (the
// GraphQL implementation lives in the extension) whose JSON response is passed through: 200
// when it carries "data", 400 when it is a request error (no "data"), 405 for a mutation sent
// with GET, as GraphQL over HTTP says. The token comes from Authorization: Bearer or
// ?access_token=; without one the request runs as Directus's public role. Transport errors (401,
// 413, 415, 503, ...) come in GraphQL's own error shape.
#pragma once

#include <chrono>
#include <vector>

#include "http/http_server.hpp"
#include "db/pool.hpp"

namespace pgi::server {

std::vector<PreparedStatement> graphql_statements();

// Answers a request routed to /graphql/system; never throws.
HttpResponse graphql_answer(Pool &pool, std::chrono::milliseconds wait, const HttpRequest &request);

}  // namespace pgi::server
