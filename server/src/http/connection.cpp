#include "http/connection.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/framing.hpp"
#include "http/stream_handoff.hpp"

namespace pgi::server {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::size_t kReadChunk = 4096;
// A connection beyond --max-connections has this long for its one request.
constexpr int kOverflowHeadMs = 2000;
// After a response that closes the connection: how long, and how much, the client's remaining
// bytes are read and dropped before the socket is closed.
constexpr int kLingerMs = 2000;
constexpr std::size_t kLingerBytes = 64 << 20;

// The head as the service sees it: method, target and headers, verbatim.
HttpRequest request_of(const http::request_header<> &head) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto &field : head)
    headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  return HttpRequest(std::string(head.method_string()),
                     std::string_view(head.target().data(), head.target().size()),
                     std::move(headers), {});
}

}  // namespace

Connection::Connection(tcp::socket socket, ConnectionShared &shared, bool overflow)
    : shared_(shared),
      stream_(std::move(socket)),
      buffer_(shared.config.max_header_bytes + kReadChunk),
      read_timer_(stream_.get_executor()),
      overflow_(overflow) {
  ++shared_.live;
}

Connection::~Connection() {
  {
    std::lock_guard<std::mutex> lock(shared_.mutex);
    shared_.connections.erase(this);
  }
  --shared_.live;
}

void Connection::start() {
  {
    std::lock_guard<std::mutex> lock(shared_.mutex);
    shared_.connections.emplace(this, weak_from_this());
  }
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->wait_for_request(); });
}

void Connection::stop() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->state_ != State::kHandling && self->state_ != State::kWriting)
      self->close_now();
  });
}

void Connection::deadline(int milliseconds) {
  stream_.expires_after(std::chrono::milliseconds(milliseconds));
}

void Connection::read_deadline(int milliseconds) {
  stream_.expires_never();
  read_expired_ = false;
  unsigned generation = ++read_generation_;
  read_timer_.expires_after(std::chrono::milliseconds(milliseconds));
  read_timer_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
    if (ec || generation != self->read_generation_)
      return;
    self->read_expired_ = true;
    beast::error_code ignored;
    self->stream_.socket().cancel(ignored);
  });
}

bool Connection::settle() {
  ++read_generation_;
  read_timer_.cancel();
  return read_expired_;
}

void Connection::wait_for_request() {
  state_ = State::kWaiting;
  if (shared_.stopping)
    return close_now();
  if (buffer_.size() > 0)  // the next request has begun to arrive (pipelined)
    return read_head();
  if (buffer_.capacity() > kReadChunk)
    buffer_.shrink_to_fit();  // an idle connection keeps no large buffer
  deadline(overflow_ ? kOverflowHeadMs : shared_.config.idle_timeout_ms);
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->buffer_.commit(n);
                            if (ec)
                              return self->close_now();  // idle too long, or the client left
                            self->read_head();
                          });
}

void Connection::read_head() {
  state_ = State::kReading;
  started_ = Clock::now();
  request_ = HttpRequest();
  version_ = 11;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(shared_.config.max_header_bytes));
  parser_->body_limit(shared_.config.max_body_bytes);
  read_deadline(overflow_ ? std::min(kOverflowHeadMs, shared_.config.head_timeout_ms)
                          : shared_.config.head_timeout_ms);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_head(ec); });
}

void Connection::on_head(beast::error_code ec) {
  if (settle())
    ec = beast::error::timeout;
  if (ec) {
    bool line_read = !parser_->get().target().empty();  // the parser sets it with the line
    if (line_read)  // the path names the dialect of the answer, and the log shows it
      request_ = request_of(parser_->get().base());
    std::optional<ApiError> error = head_failure(ec, line_read, shared_.config);
    if (!error || shared_.stopping)
      return close_now();
    return refuse(*error);
  }
  const http::request_header<> &head = parser_->get().base();
  version_ = head.version() == 10 ? 10 : 11;
  request_ = request_of(head);
  if (std::optional<ApiError> error = check_head(head, shared_.config))
    return refuse(*error);
  if (overflow_ && !shared_.service.operational(request_)) {
    ApiError error = http_error(503, "the server is at its connection limit; retry shortly");
    error.code = "too_many_connections";
    return refuse(error);
  }
  read_body();
}

void Connection::read_body() {
  if (parser_->is_done())
    return handle();
  auto read = [self = shared_from_this()] {
    self->read_deadline(self->shared_.config.body_timeout_ms);
    http::async_read(self->stream_, self->buffer_, *self->parser_,
                     [self](beast::error_code ec, std::size_t) { self->on_body(ec); });
  };
  std::optional<std::string> expect = request_.header("Expect");
  if (!expect || !beast::iequals(*expect, "100-continue"))
    return read();
  // The client waits for a word before it sends the body.
  auto proceed = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
  deadline(shared_.config.write_timeout_ms);
  http::async_write(stream_, *proceed,
                    [self = shared_from_this(), proceed, read](beast::error_code ec, std::size_t) {
                      if (ec)
                        return self->close_now();
                      read();
                    });
}

void Connection::on_body(beast::error_code ec) {
  if (settle())
    ec = beast::error::timeout;
  if (ec) {
    std::optional<ApiError> error = body_failure(ec, shared_.config);
    if (!error || shared_.stopping)
      return close_now();
    return refuse(*error);
  }
  handle();
}

void Connection::hand_over(StreamKind kind) {
  state_ = State::kClosing;
  auto handoff = std::unique_ptr<StreamHandoff>(new StreamHandoff{
      kind, std::move(stream_), std::move(buffer_), parser_->release(), std::move(request_)});
  parser_.reset();
  shared_.streams->take(std::move(handoff));
}

void Connection::handle() {
  if (StreamKind kind = shared_.service.stream_kind(request_);
      kind != StreamKind::kNone && shared_.streams != nullptr && !overflow_)
    return hand_over(kind);
  state_ = State::kHandling;
  keep_alive_ = parser_->keep_alive();
  request_.set_body(std::move(parser_->get().body()));
  parser_.reset();
  request_.set_arrived(Clock::now());
  if (!shared_.service.waits(request_))
    return reply(shared_.service.handle(request_), false);
  // (The answer's pending work keeps the connection, and the loop, alive until it comes.)
  shared_.service.start(request_, [self = shared_from_this()](HttpResponse response) {
    net::dispatch(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
      self->reply(std::move(response), false);
    });
  });
}

void Connection::refuse(const ApiError &error) {
  std::string_view path = request_.method().empty() ? std::string_view() : request_.path();
  reply(shared_.service.refuse(path, error), true);
}

void Connection::reply(HttpResponse out, bool close) {
  state_ = State::kWriting;
  keep_alive_ = keep_alive_ && !close && !overflow_ && !shared_.stopping;
  response_ = {};
  response_.version(version_);
  response_.result(static_cast<unsigned>(out.status));
  bool bodiless = out.status < 200 || out.status == 204 || out.status == 304;
  if (!bodiless)
    response_.set(http::field::content_type, out.content_type);
  for (const auto &[name, value] : out.headers)
    response_.insert(name, value);
  response_.keep_alive(keep_alive_);
  if (bodiless) {
    response_.prepare_payload();
  } else if (request_.method() == "HEAD") {
    response_.content_length(out.body.size());  // what GET would send, without it
  } else {
    response_.body() = std::move(out.body);
    response_.prepare_payload();
  }
  deadline(shared_.config.write_timeout_ms);
  http::async_write(
      stream_, response_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
}

void Connection::on_write(beast::error_code ec) {
  double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  shared_.observer(request_, response_.result_int(), seconds);
  if (ec)
    return close_now();
  if (!keep_alive_)
    return close();
  response_ = {};
  request_ = HttpRequest();
  wait_for_request();
}

void Connection::close() {
  state_ = State::kClosing;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec || shared_.stopping)
    return close_now();
  lingered_ = 0;
  buffer_.clear();
  deadline(kLingerMs);
  linger();
}

void Connection::linger() {
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                            self->lingered_ += n;
                            if (ec || self->lingered_ > kLingerBytes)
                              return self->close_now();
                            self->linger();
                          });
}

void Connection::close_now() {
  state_ = State::kClosing;
  settle();
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

}  // namespace pgi::server
