// The HTTP layer: cpp-httplib behind one small class, so no other file sees it.
//
// Every request reaches the one handler, whatever its method and path (routing is the
// handler's business). What the library answers by itself (a body over the limit 413, an
// over-long request line 414, a request it cannot parse 400) gets the same JSON error body;
// an exception escaping the handler becomes a JSON 500. After each response the observer
// hears the request, the status and the duration (for the log line and the metrics).
// SEARCH, a method cpp-httplib 0.11 cannot parse, is read by http/search_method.hpp; the
// request's method() says SEARCH all the same.
//
// Nothing here knows a route: the handler gets an HttpRequest and gives back an HttpResponse,
// which is all another HTTP library would have to provide. (What the library refuses before
// the handler runs is written in the native error shape.)
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
  explicit HttpRequest(const httplib::Request &request);

  const std::string &method() const { return *method_; }  // "GET", "SEARCH", ...
  const std::string &path() const;                        // percent-decoded
  const std::string &body() const;
  const std::multimap<std::string, std::string> &query() const;  // percent-decoded
  std::size_t query_bytes() const;                               // of the raw query string
  std::size_t header_count() const;
  std::optional<std::string> header(const std::string &name) const;  // the first, if any

 private:
  const httplib::Request &request_;
  const std::string *method_;
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
  using Observer = std::function<void(const HttpRequest &request, int status, double seconds)>;

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
