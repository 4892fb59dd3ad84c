// Answers every request from the one route table (routes/table.hpp): finds the row, binds its
// arguments as its dialect reads them, runs its statement, and writes its reply, or the error
// in its dialect's shape. A path no row has is answered by the dialect whose scope it is in
// (the native one otherwise); a method a path has no row for is 405 with Allow where the dialect
// answers 405, and OPTIONS lists the methods there.
//
// It is the HTTP layer's service (http/http_server.hpp): it tells the layer which requests wait
// on the database (a row with a statement: its call is made through the routes' pool on the
// event loop, db/pool.hpp), which are the operations routes
// (a row without a token, the UI's files included: answered even beyond --max-connections), and
// writes the layer's own refusals (400, 408, 413, ...) in the dialect of their path.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "config.hpp"
#include "db/pool.hpp"
#include "http/http_server.hpp"
#include "metrics.hpp"
#include "routes/router.hpp"
#include "routes/table.hpp"

namespace pgi::server {

class Dispatcher : public HttpService {
 public:
  Dispatcher(const Config &config, Pool &db, const Metrics &metrics, const UiFiles &ui);

  // A found row with a statement.
  bool waits(const HttpRequest &request) const override;
  // Answers a request that does not wait; never throws.
  HttpResponse handle(const HttpRequest &request) const override;
  // Binds the row's arguments and calls its statement; the reply is the row's, or the error in
  // the path's dialect.
  void start(const HttpRequest &request,
             std::function<void(HttpResponse response)> reply) const override;
  bool operational(const HttpRequest &request) const override;
  // The error with the HTTP layer's status, in the envelope of the path's dialect.
  HttpResponse refuse(std::string_view path, const ApiError &error) const override;
  // A GET of a kSse row, or a WebSocket upgrade of a kWebSocket row.
  StreamKind stream_kind(const HttpRequest &request) const override;

  // The metrics' label for a request: its row's pattern ("GET /api/notifications/{id}"), or
  // "unmatched".
  const char *label(const HttpRequest &request) const;

 private:
  struct Lookup {
    Router::Match match;
    const Dialect *dialect;
  };
  Lookup lookup(std::string_view method, std::string_view path) const;
  Lookup lookup(const HttpRequest &request) const;
  HttpResponse answer(const Lookup &found, const HttpRequest &request) const;
  std::chrono::milliseconds pool_wait(const HttpRequest &request) const;
  HttpResponse serve(const Route &route, const HttpRequest &request) const;
  DbCall call_of(const Route &route, const Router::Match &match, const HttpRequest &request) const;

  Pool &db_;
  Services services_;
  Router router_;
};

}  // namespace pgi::server
