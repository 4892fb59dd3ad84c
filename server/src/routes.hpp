// The server's routes: the REST API (each route one call of an inbox.rest_* SQL function,
// whose JSON is the response body as PostgreSQL wrote it) and the operational endpoints
// /healthz, /readyz, /metrics and /openapi.json.
#pragma once

#include <string>
#include <vector>

#include "config.hpp"
#include "http/http_server.hpp"
#include "metrics.hpp"
#include "db/pool.hpp"
#include "routes/router.hpp"

namespace pgi::server {

class Routes {
 public:
  Routes(const Config &config, Pool &pool, const Metrics &metrics);

  // Answers any request; never throws.
  HttpResponse handle(const HttpRequest &request) const;

  // The route a request matched, as the metrics label it ("GET /api/notifications/{id}").
  std::string label(const std::string &method, const std::string &path) const;

  // The statements every pooled connection prepares.
  static std::vector<PreparedStatement> prepared_statements();

 private:
  HttpResponse dispatch(const HttpRequest &request) const;
  HttpResponse call_api(std::size_t api_route, const Router::Match &match,
                        const HttpRequest &request) const;
  HttpResponse ready() const;

  const Config &config_;
  Pool &pool_;
  const Metrics &metrics_;
  Router router_;
};

}  // namespace pgi::server
