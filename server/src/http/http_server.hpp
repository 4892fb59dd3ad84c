// The HTTP layer: Boost.Beast on one event loop, behind a small interface, so no other file sees
// Beast or Asio.
//
// The loop accepts connections, reads and frames each request with Beast's strict HTTP/1.1
// parser, enforces the limits and deadlines of the configuration, and writes the responses.
// Reading a request costs its connection a socket and a bounded buffer, never a thread: a slow,
// idle or hostile client holds no worker. A complete request goes to the HttpService, on the
// loop: it answers at once when answering cannot wait (health, metrics, a 404), else it starts
// the answer (a database call, made on the same loop: db/pool.hpp) and hands it back to
// the connection, which writes it. No request holds a thread while it waits.
//
// What the layer refuses by itself, it answers with an ApiError that the service writes in the
// dialect of the path, and closes the connection: 400 for anything that is not well-framed
// HTTP/1.1 (a garbled line, a bad or repeated Content-Length, a control character in a header,
// a repeated Host, Authorization, Content-Type or Idempotency-Key), 408 when the head or the body
// does not arrive within its deadline, 411 for a Transfer-Encoding (bodies need a
// Content-Length), 413 as soon as Content-Length exceeds the body limit (nothing of the body is
// read), 414 for a request line or query string over its limit, 431 for too many or too large
// headers. Only HTTP/1.0 and 1.1 are served (any other version is a 400). Header values are taken
// verbatim: nothing is percent-decoded but the path and the query string.
//
// Beyond --max-connections the loop still accepts a small reserve of connections, each for one
// request with a short deadline: the operations routes (HttpService::operational) answer, any
// other request is 503 and closed. Beyond the reserve a connection is closed at once.
//
// For the realtime routes (server-sent events, WebSocket), a connection is a strand, a
// tcp_stream and the parser's buffer: after the head of a request the service names a stream
// (HttpService::stream_kind), the connection hands them to the StreamService
// (http/stream_handoff.hpp) instead of answering one response.
#pragma once

#include <chrono>
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
#include "errors.hpp"

namespace boost::asio {
class io_context;
}

namespace pgi::server {

class HttpRequest {
 public:
  using Clock = std::chrono::steady_clock;

  HttpRequest() = default;
  // `target` is the request-target as sent; the path and query string are decoded from it.
  HttpRequest(std::string method, std::string_view target,
              std::vector<std::pair<std::string, std::string>> headers, std::string body);

  const std::string &method() const { return method_; }  // "GET", "SEARCH", ...
  const std::string &path() const { return path_; }      // percent-decoded
  const std::string &body() const { return body_; }
  void set_body(std::string body);
  const std::multimap<std::string, std::string> &query() const { return query_; }  // decoded
  std::size_t query_bytes() const { return query_bytes_; }  // of the raw query string
  std::size_t header_count() const { return headers_.size(); }
  // The value of the first header of that name (any case), verbatim.
  std::optional<std::string> header(std::string_view name) const;
  // When the request was complete and handed to the service (a worker may have waited since).
  Clock::time_point arrived() const { return arrived_; }
  void set_arrived(Clock::time_point at) { arrived_ = at; }

 private:
  std::string method_;
  std::string path_;
  std::multimap<std::string, std::string> query_;
  std::size_t query_bytes_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string body_;
  Clock::time_point arrived_{};
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// The long-lived routes: the route table's transport of a request.
// kEventStream / kWebSocket: pg_inbox's SSE and Directus's realtime protocol; kMastodon*:
// Mastodon's streaming API (the same feed, Mastodon's payloads and framing).
enum class StreamKind { kNone, kEventStream, kWebSocket, kMastodonEventStream, kMastodonWebSocket };

class StreamService;  // http/stream_handoff.hpp

// What the server asks of the application; all of it is about routes, none about HTTP.
class HttpService {
 public:
  virtual ~HttpService() = default;
  // Whether the answer to a complete request waits (on the database): start() then gives it,
  // else handle().
  virtual bool waits(const HttpRequest &request) const = 0;
  // The response to a request that does not wait; never throws.
  virtual HttpResponse handle(const HttpRequest &request) const = 0;
  // Starts the answer to a request that waits: `reply` is called once with it, on the loop's
  // thread (at once when the request is refused before any call). The request need not outlive
  // start(). Never throws.
  virtual void start(const HttpRequest &request,
                     std::function<void(HttpResponse response)> reply) const = 0;
  // Whether the request is for an operations route, which answers even beyond
  // --max-connections.
  virtual bool operational(const HttpRequest &request) const = 0;
  // An error the HTTP layer found, written as the dialect that owns `path` writes errors
  // (`path` is empty when the request line could not be read).
  virtual HttpResponse refuse(std::string_view path, const ApiError &error) const = 0;
  // Whether the request opens a stream, which the StreamService takes over.
  virtual StreamKind stream_kind(const HttpRequest &) const { return StreamKind::kNone; }
};

class HttpServer {
 public:
  // Heard after each response is written: the request (as much of it as was read), the status
  // and the time from the request's head to its response (seconds < 0: unknown).
  using Observer = std::function<void(const HttpRequest &request, int status, double seconds)>;

  // `loop` is the event loop it serves on (one thread: listen()'s), which the service's
  // asynchronous work shares; it outlives the server. `streams` (may be null) takes the
  // connections of stream routes; stop() stops it too.
  HttpServer(boost::asio::io_context &loop, const Config &config, const HttpService &service,
             Observer observer, StreamService *streams = nullptr);
  ~HttpServer();

  // Serves until stop(); then refuses new connections, closes idle ones, finishes and writes
  // the requests in flight, and returns. False if the address could not be bound.
  bool listen(const std::string &host, int port);
  // Safe from another thread (the signal thread).
  void stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgi::server
