#include "routes.hpp"

#include <chrono>
#include <optional>

#include "db/call.hpp"
#include "directus_routes.hpp"
#include "errors.hpp"
#include "graphql_route.hpp"
#include "log.hpp"
#include "routes/openapi.hpp"
#include "http/request_input.hpp"

namespace pgi::server {

namespace {

// What a REST route binds to its SQL function's parameters, in order.
enum class Arg { kToken, kId, kQuery, kBody, kIdempotencyKey };

struct ApiRoute {
  const char *route;     // "METHOD /path"
  const char *function;  // inbox.<function>, also the prepared statement's name
  std::vector<Arg> args;
  int success_status;
  // Safe to run again on a fresh connection when the first broke mid-call: it changes nothing,
  // or running it twice has the effect and the answer of running it once.
  bool retry_safe;
};

const std::vector<ApiRoute> &api_routes() {
  using A = Arg;
  static const auto *const routes = new std::vector<ApiRoute>{
      {"GET /api/notifications", "rest_list", {A::kToken, A::kQuery}, 200, true},
      {"POST /api/notifications",
       "rest_create",
       {A::kToken, A::kBody, A::kIdempotencyKey, A::kQuery},
       201,
       false},
      {"GET /api/notifications/unread-count",
       "rest_unread_count",
       {A::kToken, A::kQuery},
       200,
       true},
      {"PUT /api/notifications/read-all", "rest_read_all", {A::kToken, A::kQuery}, 200, false},
      {"GET /api/notifications/groups", "rest_groups", {A::kToken, A::kQuery}, 200, true},
      {"GET /api/notification-types", "rest_types", {A::kToken, A::kQuery}, 200, true},
      {"GET /api/notifications/{id}", "rest_get", {A::kToken, A::kId, A::kQuery}, 200, true},
      {"PATCH /api/notifications/{id}",
       "rest_patch",
       {A::kToken, A::kId, A::kBody, A::kQuery},
       200,
       true},
      {"DELETE /api/notifications/{id}",
       "rest_soft_delete",
       {A::kToken, A::kId, A::kQuery},
       200,
       false},
      {"PUT /api/notifications/{id}/read",
       "rest_mark_read",
       {A::kToken, A::kId, A::kQuery},
       200,
       true},
      {"PUT /api/notifications/{id}/unread",
       "rest_mark_unread",
       {A::kToken, A::kId, A::kQuery},
       200,
       true},
      {"POST /api/notifications/{id}/restore",
       "rest_restore",
       {A::kToken, A::kId, A::kQuery},
       200,
       false},
      {"DELETE /api/notifications/{id}/purge",
       "rest_purge",
       {A::kToken, A::kId, A::kQuery},
       200,
       false},
  };
  return *routes;
}

// The operational routes and GraphQL follow the API routes in the router's table.
enum Builtin { kHealthz, kReadyz, kMetrics, kOpenApi, kGraphqlPost, kGraphqlGet };
constexpr const char *kBuiltinRoutes[] = {"GET /healthz",         "GET /readyz",
                                          "GET /metrics",         "GET /openapi.json",
                                          "POST /graphql/system", "GET /graphql/system"};

const char *const kReadyStatement = "ready";

std::vector<std::string> route_table() {
  std::vector<std::string> table;
  for (const ApiRoute &r : api_routes())
    table.emplace_back(r.route);
  for (const char *r : kBuiltinRoutes)
    table.emplace_back(r);
  return table;
}

std::string sql_for(const ApiRoute &r) {
  std::string sql = std::string("SELECT inbox.") + r.function + "(";
  for (std::size_t i = 0; i < r.args.size(); ++i) {
    sql += (i ? ", $" : "$") + std::to_string(i + 1);
  }
  return sql + ")";
}

HttpResponse error_response(const ApiError &error) {
  HttpResponse out;
  out.status = error.status;
  out.body = error_body(error);
  if (error.status == 401)
    out.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"pg_inbox\"");
  if (error.status == 503)
    out.headers.emplace_back("Retry-After", "1");
  return out;
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse out;
  out.status = status;
  out.body = std::move(body);
  return out;
}

}  // namespace

Routes::Routes(const Config &config, Pool &pool, const Metrics &metrics)
    : config_(config), pool_(pool), metrics_(metrics), router_(route_table()) {}

std::vector<PreparedStatement> Routes::prepared_statements() {
  std::vector<PreparedStatement> statements = DirectusRoutes::prepared_statements();
  for (const ApiRoute &r : api_routes())
    statements.push_back({r.function, sql_for(r)});
  for (PreparedStatement &s : graphql_statements())
    statements.push_back(std::move(s));
  statements.push_back({kReadyStatement,
                        "SELECT pg_catalog.count(*) FROM pg_catalog.pg_extension "
                        "WHERE extname OPERATOR(pg_catalog.=) 'pg_inbox'"});
  return statements;
}

std::string Routes::label(const std::string &method, const std::string &path) const {
  // The Directus routes route themselves (directus_routes.hpp): label them by their shape.
  if (path == "/notifications" || path.rfind("/notifications/", 0) == 0) {
    const std::string &m = method == "HEAD" ? std::string("GET") : method;
    return m + (path == "/notifications" ? " /notifications" : " /notifications/{id}");
  }
  Router::Match m = router_.match(method, path);
  if (m.outcome != Router::Outcome::kFound)
    return "unmatched";
  return router_.route(m.route);
}

HttpResponse Routes::handle(const HttpRequest &request) const {
  if (auto directus = DirectusRoutes(config_, pool_).handle(request))  // /notifications...
    return *directus;
  try {
    return dispatch(request);
  } catch (const ApiFailure &failure) {
    return error_response(failure.error());
  } catch (const std::exception &e) {
    log_line("unexpected error on " + request.method() + " " + request.path() + ": " + e.what());
    return error_response(http_error(500, "internal error"));
  }
}

HttpResponse Routes::dispatch(const HttpRequest &request) const {
  Router::Match match = router_.match(request.method(), request.path());
  if (request.method() == "OPTIONS" && match.outcome != Router::Outcome::kNotFound) {
    HttpResponse out;
    out.status = 204;
    out.headers.emplace_back("Allow", match.allow + ", OPTIONS");
    return out;
  }
  if (match.outcome == Router::Outcome::kNotFound) {
    throw ApiFailure(http_error(404, "no route " + request.method() + " " + request.path()));
  }
  if (match.outcome == Router::Outcome::kMethodNotAllowed) {
    HttpResponse out =
        error_response(http_error(405, request.method() + " is not allowed on " + request.path() +
                                           "; allowed: " + match.allow));
    out.headers.emplace_back("Allow", match.allow);
    return out;
  }

  const std::size_t api_count = api_routes().size();
  if (match.route < api_count)
    return call_api(match.route, match, request);
  switch (match.route - api_count) {
    case kHealthz:
      return json_response(200, R"({"status":"ok"})");
    case kReadyz:
      return ready();
    case kMetrics: {
      HttpResponse out = json_response(200, metrics_.render(pool_.stats()));
      out.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return out;
    }
    case kOpenApi:
      return json_response(200, openapi_document());
    default:
      return graphql_answer(pool_, std::chrono::milliseconds(config_.pool_wait_ms), request);
  }
}

HttpResponse Routes::ready() const {
  static const std::vector<std::optional<std::string>> no_params;
  std::string installed = call_database(pool_, std::chrono::milliseconds(config_.pool_wait_ms),
                                        DbCall{kReadyStatement, no_params, true});
  if (installed != "1") {
    ApiError error = http_error(503, "the pg_inbox extension is not installed in this database");
    error.code = "database_not_ready";
    throw ApiFailure(error);
  }
  return json_response(200, R"({"status":"ready"})");
}

HttpResponse Routes::call_api(std::size_t api_route, const Router::Match &match,
                              const HttpRequest &request) const {
  const ApiRoute &route = api_routes()[api_route];
  std::vector<std::optional<std::string>> params;
  bool retry_safe = route.retry_safe;
  for (Arg arg : route.args) {
    switch (arg) {
      case Arg::kToken:
        params.emplace_back(bearer_token(request.header("Authorization")));
        break;
      case Arg::kId:
        check_no_nul("id", match.params.at(0));
        params.emplace_back(match.params.at(0));
        break;
      case Arg::kQuery:
        params.emplace_back(query_json(request.query()));
        break;
      case Arg::kBody: {
        const std::string &body = request.body();
        if (body.empty()) {
          throw ApiFailure(http_error(400, "body: expected a JSON request body"));
        }
        std::optional<std::string> type = request.header("Content-Type");
        if (!type || !is_json_media_type(*type)) {
          throw ApiFailure(http_error(415, "body: expected Content-Type: application/json"));
        }
        check_no_nul("body", body);
        params.emplace_back(body);
        break;
      }
      case Arg::kIdempotencyKey: {
        std::optional<std::string> key = request.header("Idempotency-Key");
        if (key)
          check_no_nul("Idempotency-Key", *key);
        // A keyed create answers a repeat with its first response: safe to send again.
        retry_safe = retry_safe || key.has_value();
        params.emplace_back(std::move(key));
        break;
      }
    }
  }
  std::string body = call_database(pool_, std::chrono::milliseconds(config_.pool_wait_ms),
                                   DbCall{route.function, params, retry_safe});
  return json_response(route.success_status, std::move(body));
}

}  // namespace pgi::server
