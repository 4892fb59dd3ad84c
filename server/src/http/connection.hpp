// One client connection on the event loop, for all its keep-alive requests (http_server.hpp
// says what the layer does; this is how one connection goes through it).
//
//   waiting   no request yet: a read of the first bytes, under --idle-timeout-ms (then closed
//             without a word)
//   reading   the head under --head-timeout-ms, checked (http/framing.hpp); the body, whose
//             Content-Length was checked first, under --body-timeout-ms
//   handling  the service answers, at once or when its database call comes back; the connection
//             reads nothing meanwhile
//   writing   the response under --write-timeout-ms; then the next request, or a close
//   closing   after a response that ends the connection: the sending side is shut, and what
//             the client still sends is read and dropped for a moment (so that its unread bytes
//             do not turn the close into a reset that destroys the response), then closed
//
// Everything a connection does runs on its strand. What it holds between requests is its
// socket and its read buffer (bounded by --max-header-bytes plus one read).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "config.hpp"
#include "http/http_server.hpp"

namespace pgi::server {

class Connection;

// What every connection shares with the server.
struct ConnectionShared {
  ConnectionShared(const Config &config, const HttpService &service, HttpServer::Observer observer,
                   StreamService *streams)
      : config(config), service(service), observer(std::move(observer)), streams(streams) {}

  const Config &config;
  const HttpService &service;
  const HttpServer::Observer observer;
  StreamService *const streams;  // null: no stream routes
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> live{0};  // open client connections

  std::mutex mutex;  // guards `connections`
  std::unordered_map<const Connection *, std::weak_ptr<Connection>> connections;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `overflow`: accepted beyond --max-connections; it serves one request, and only an
  // operations route's.
  Connection(boost::asio::ip::tcp::socket socket, ConnectionShared &shared, bool overflow);
  ~Connection();
  Connection(const Connection &) = delete;
  Connection &operator=(const Connection &) = delete;

  // Registers the connection and starts reading, on its strand.
  void start();
  // The server is stopping: an idle or reading connection closes now; one with a request in
  // flight closes after writing its response. Safe from any thread.
  void stop();

 private:
  using Clock = std::chrono::steady_clock;
  enum class State { kWaiting, kReading, kHandling, kWriting, kClosing };

  void wait_for_request();
  void read_head();
  void on_head(boost::beast::error_code ec);
  void read_body();
  void on_body(boost::beast::error_code ec);
  void handle();
  // Hands the connection to the StreamService (http/stream_handoff.hpp).
  void hand_over(StreamKind kind);
  // Writes the response; `close` ends the connection after it whatever the request said.
  void reply(HttpResponse response, bool close);
  void refuse(const ApiError &error);
  void on_write(boost::beast::error_code ec);
  void close();
  void linger();
  void close_now();
  // The stream's own deadline (writes, waiting, lingering): on expiry the socket is closed.
  void deadline(int milliseconds);
  // A deadline for reading the head or the body: on expiry the read is cancelled and
  // answered 408. Ended by settle().
  void read_deadline(int milliseconds);
  // Ends the read deadline; true if it had expired.
  bool settle();

  ConnectionShared &shared_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  boost::asio::steady_timer read_timer_;
  unsigned read_generation_ = 0;  // a timer that fires for an earlier read does nothing
  bool read_expired_ = false;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  HttpRequest request_;  // the request being answered, as far as it was read
  Clock::time_point started_{};
  unsigned version_ = 11;
  bool keep_alive_ = false;
  const bool overflow_;
  State state_ = State::kWaiting;
  std::size_t lingered_ = 0;
};

}  // namespace pgi::server
