// The Directus-compatible notifications API, served beside /api/ on the same rows:
//
//   GET    /notifications          list (Directus global query parameters)
//   SEARCH /notifications          the same, the query in the body: {"query": {...}}
//   POST   /notifications          create one (an object) or several (an array)      200
//   PATCH  /notifications          {"keys", "data"}, {"query", "data"} or a batch     200
//   DELETE /notifications          an array of keys, {"keys"} or {"query"}            204
//   GET    /notifications/:id      one notification
//   PATCH  /notifications/:id      change it                                          200
//   DELETE /notifications/:id      soft-delete it                                     204
//
// Each route is one call of an inbox.directus_* SQL function (60_directus.sql), whose JSON is
// the response body as PostgreSQL wrote it. The token comes from `Authorization: Bearer` or
// `?access_token=`; query-string parameters go to SQL as a JSON object (bracket keys such as
// filter[status][_eq] are folded there, repeated keys become arrays).
//
// Errors use Directus's envelope, {"errors": [{"message", "extensions": {"code"}}]}, with
// the status and code derived from the server's one SQLSTATE mapping (errors.hpp):
// 401 INVALID_CREDENTIALS, 403 FORBIDDEN (also for "not found": Directus does not say whether
// an item it will not show exists), 400 INVALID_QUERY / INVALID_PAYLOAD / FAILED_VALIDATION,
// 404 ROUTE_NOT_FOUND, 503 SERVICE_UNAVAILABLE, 500 INTERNAL_SERVER_ERROR.
#pragma once

#include <optional>
#include <vector>

#include "config.hpp"
#include "errors.hpp"
#include "http/http_server.hpp"
#include "db/pool.hpp"

namespace pgi::server {

// SEARCH is not a method cpp-httplib 0.11 parses. A server that accepts it hands the request on
// as a POST carrying this header (directus_search_method.hpp); the header from a client means
// nothing more than the method it names.
inline constexpr const char *kOriginalMethodHeader = "X-Pg-Inbox-Original-Method";

class DirectusRoutes {
 public:
  DirectusRoutes(const Config &config, Pool &pool) : config_(config), pool_(pool) {}

  // The statements every pooled connection prepares for these routes.
  static std::vector<PreparedStatement> prepared_statements();

  // The answer to a request for /notifications or a path below it; nullopt for any other path.
  // Never throws.
  std::optional<HttpResponse> handle(const HttpRequest &request) const;

 private:
  HttpResponse dispatch(const HttpRequest &request) const;

  const Config &config_;
  Pool &pool_;
};

// A server error as Directus reports it (exposed for tests of the mapping).
HttpResponse directus_error(const ApiError &error);

}  // namespace pgi::server
