// The HTTP layer: cpp-httplib behind one small class, so no other file sees it.
//
// Every request reaches the one handler, whatever its method and path (routing is the
// handler's business). What the library answers by itself (a body over the limit 413, an
// over-long request line 414, a request it cannot parse 400) gets the same JSON error body;
// an exception escaping the handler becomes a JSON 500. After each response the observer
// hears the method, path, status and duration (for the log line and the metrics).
// SEARCH, a method cpp-httplib 0.11 cannot parse, reaches the handler as POST with a marker
// header (directus_search_method.hpp).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"

namespace httplib {
struct Request;
class Server;
}  // namespace httplib

namespace pgi::server {

class HttpRequest {
 public:
  explicit HttpRequest(const httplib::Request &request) : request_(request) {}

  const std::string &method() const;
  const std::string &path() const;  // percent-decoded
  const std::string &body() const;
  const std::multimap<std::string, std::string> &query() const;  // percent-decoded
  std::size_t query_bytes() const;                               // of the raw query string
  std::size_t header_count() const;
  std::optional<std::string> header(const std::string &name) const;  // the first, if any

 private:
  const httplib::Request &request_;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest &)>;
  using Observer = std::function<void(const std::string &method, const std::string &path,
                                      int status, double seconds)>;

  HttpServer(const Config &config, Handler handler, Observer observer);
  ~HttpServer();

  // Serves until stop(); then finishes the requests in flight and returns. False if the
  // address could not be bound.
  bool listen(const std::string &host, int port);
  // Safe from another thread (the signal thread).
  void stop();

 private:
  std::unique_ptr<httplib::Server> server_;
};

}  // namespace pgi::server
