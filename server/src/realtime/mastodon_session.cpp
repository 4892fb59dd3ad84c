#include "realtime/mastodon_session.hpp"

#include <algorithm>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <nlohmann/json.hpp>

#include "errors.hpp"
#include "log.hpp"
#include "realtime/service.hpp"
#include "realtime/statements.hpp"
#include "routes/dialect.hpp"

namespace pgi::server {

namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using Json = nlohmann::ordered_json;

constexpr const char *kNotification = "user:notification";
constexpr const char *kUser = "user";
// Pending batches of events for one stream, at most; beyond, the client is too slow: closed.
constexpr std::size_t kPendingBatches = 256;

constexpr const char *kSseHead =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream\r\n"
    "Cache-Control: no-store\r\n"
    "X-Accel-Buffering: no\r\n"
    "Connection: close\r\n"
    "\r\n"
    ":)\n";

// The token as Mastodon's streaming server reads it: the Authorization header (its "Bearer "
// taken off), else ?access_token=, else the Sec-WebSocket-Protocol header.
std::optional<std::string> mastodon_token(const HttpRequest &request) {
  if (std::optional<std::string> authorization = request.header("Authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization->compare(0, kBearer.size(), kBearer) == 0)
      return authorization->substr(kBearer.size());
    return authorization;
  }
  auto q = request.query().find("access_token");
  if (q != request.query().end() && !q->second.empty())
    return q->second;
  std::optional<std::string> protocol = request.header("Sec-WebSocket-Protocol");
  if (protocol && !protocol->empty())
    return protocol;
  return std::nullopt;
}

// The channel of an SSE path (a trailing slash is ignored, as the route table does).
std::string channel_of_path(std::string path) {
  if (path.size() > 1 && path.back() == '/')
    path.pop_back();
  return path == "/api/v1/streaming/user" ? kUser : kNotification;
}

// Mastodon's firstParam: a string, or the first of an array of them.
std::string first_param(const Json &value) {
  if (value.is_string())
    return value.get<std::string>();
  if (value.is_array() && !value.empty() && value.at(0).is_string())
    return value.at(0).get<std::string>();
  return "";
}

bool served(const std::string &channel) {
  return channel == kNotification || channel == kUser;
}

}  // namespace

MastodonSession::MastodonSession(RealtimeService &service, StreamHandoff &&handoff)
    : service_(service),
      websocket_(handoff.kind == StreamKind::kMastodonWebSocket),
      tcp_(std::make_shared<beast::tcp_stream>(std::move(handoff.stream))),
      buffer_(std::move(handoff.buffer)),
      upgrade_request_(std::move(handoff.message)),
      request_(std::move(handoff.request)),
      timer_(tcp_->get_executor()),
      outbox_(service.config().stream_buffer_bytes) {}

MastodonSession::~MastodonSession() {
  if (admitted_)
    service_.hub().leave();
}

std::string MastodonSession::token() const {
  std::lock_guard<std::mutex> lock(token_mutex_);
  return token_;
}

void MastodonSession::start() {
  tcp_->expires_never();
  if (!service_.hub().admit()) {
    HttpResponse out =
        kMastodon.write_error(http_error(503, "the server is at its stream limit; retry shortly"));
    out.headers = {{"Retry-After", "5"}};
    closed_ = true;
    return write_and_close(tcp_, out, service_.config().write_timeout_ms);
  }
  admitted_ = true;
  std::optional<std::string> token = mastodon_token(request_);
  if (!token) {
    MastodonStreamingError e = mastodon_streaming_error(http_error(401, ""), false);
    return refuse(e.status, e.message, e.body);
  }
  if (std::optional<std::string> protocol = request_.header("Sec-WebSocket-Protocol"))
    protocol_ = *protocol;
  {
    std::lock_guard<std::mutex> lock(token_mutex_);
    token_ = *token;
  }
  service_.call(tcp_->get_executor(), sql::kMastodonAuth, {token},
                [self = shared_from_this()](RealtimeService::Rows rows, const ApiError *error) {
                  if (error) {
                    MastodonStreamingError e = mastodon_streaming_error(*error, true);
                    return self->refuse(e.status, e.message, e.body);
                  }
                  const DbRow &row = rows.at(0);
                  self->opened(row.at(0).value_or(""), row.at(1), row.at(2) == "t");
                });
}

// An answer before the stream opens: SSE's {"error"} as Mastodon's error middleware writes it;
// a refused upgrade is an empty text/plain answer with X-Error-Message, as its upgrade handler.
void MastodonSession::refuse(int status, const std::string &message, const std::string &body) {
  closed_ = true;
  HttpResponse out;
  out.status = status;
  if (websocket_) {
    out.content_type = "text/plain";
    out.headers.emplace_back("X-Error-Message", message);
  } else {
    out.content_type = "application/json";
    out.body = body;
  }
  write_and_close(tcp_, out, service_.config().write_timeout_ms);
}

void MastodonSession::opened(const std::string &user, std::optional<std::string> workspace,
                             bool may_read) {
  user_ = user;
  workspace_ = std::move(workspace);
  may_read_ = may_read;
  if (websocket_)
    return upgrade();
  // SSE: the scope is checked before the stream opens, as Mastodon's middleware does.
  if (!may_read_) {
    MastodonStreamingError e = mastodon_streaming_error(http_error(403, ""), true);
    return refuse(e.status, e.message, e.body);
  }
  open_ = true;
  service_.hub().attach(shared_from_this());
  channels_.push_back(channel_of_path(request_.path()));
  follow(true);
  send(kSseHead);
  watch_client();
  heartbeat();
}

// --- WebSocket --------------------------------------------------------------------------------

void MastodonSession::upgrade() {
  ws_.emplace(std::move(*tcp_));
  ws_->read_message_max(service_.config().ws_max_message_bytes);
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::milliseconds(service_.config().write_timeout_ms);
  // Mastodon pings every socket every 30 s and drops one that did not answer the last ping:
  // Beast pings after half the idle time without a frame and closes after the whole.
  timeouts.idle_timeout = std::chrono::milliseconds(2LL * service_.config().ws_heartbeat_ms);
  timeouts.keep_alive_pings = true;
  ws_->set_option(timeouts);
  if (!protocol_.empty()) {
    // A browser fails the handshake unless the server names one of the offered protocols.
    ws_->set_option(websocket::stream_base::decorator(
        [protocol = protocol_](websocket::response_type &response) {
          response.set(beast::http::field::sec_websocket_protocol, protocol);
        }));
  }
  ws_->text(true);
  ws_->async_accept(upgrade_request_, [self = shared_from_this()](beast::error_code ec) {
    if (ec) {
      self->closed_ = true;
      return;
    }
    self->open_ = true;
    self->upgrade_request_ = {};
    self->service_.hub().attach(self->shared_from_this());
    auto stream = self->request_.query().find("stream");
    if (stream != self->request_.query().end())
      self->subscribe(stream->second);
    self->read();
  });
}

void MastodonSession::read() {
  buffer_.clear();
  ws_->async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) {
      // The client left or closed, went silent past the heartbeat, or sent a message over
      // --ws-max-message-bytes (Beast closes with 1009): the socket is done.
      if (!self->closed_) {
        self->closed_ = true;
        self->follow(false);
        self->service_.hub().detach(self.get());
        self->timer_.cancel();
      }
      return;
    }
    if (!self->ws_->got_text()) {
      // As Mastodon: binary messages close the socket (1003).
      self->reason_ =
          websocket::close_reason(websocket::close_code::unknown_data,
                                  "The mastodon streaming server does not support binary messages");
      return self->finish();
    }
    self->on_message(beast::buffers_to_string(self->buffer_.data()));
    if (!self->closed_)
      self->read();
  });
}

// Mastodon ignores what is not JSON and messages of another type.
void MastodonSession::on_message(const std::string &text) {
  Json message = Json::parse(text, nullptr, false);
  if (message.is_discarded() || !message.is_object())
    return;
  std::string type = message.value("type", Json()).is_string() ? message["type"].get<std::string>()
                                                               : std::string();
  std::string stream = first_param(message.value("stream", Json()));
  if (type == "subscribe")
    subscribe(stream);
  else if (type == "unsubscribe")
    unsubscribe(stream);
}

void MastodonSession::subscribe(const std::string &channel) {
  // Mastodon checks the scopes first, then the stream's name.
  if (!may_read_)
    return send_error("Access token does not have the required scopes", 401);
  if (!served(channel))
    return send_error("Unknown stream type", 400);
  if (std::find(channels_.begin(), channels_.end(), channel) != channels_.end())
    return;  // subscribed already: Mastodon ignores the repeat
  channels_.push_back(channel);
  follow(true);
}

void MastodonSession::unsubscribe(const std::string &channel) {
  if (!served(channel)) {
    Json frame = {{"error", "Error unsubscribing from channel"}};
    return send(frame.dump());
  }
  channels_.erase(std::remove(channels_.begin(), channels_.end(), channel), channels_.end());
  if (channels_.empty())
    follow(false);
}

void MastodonSession::send_error(const std::string &message, int status) {
  Json frame = {{"error", message}, {"status", status}};
  send(frame.dump());
}

// --- SSE ------------------------------------------------------------------------------------

void MastodonSession::heartbeat() {
  timer_.expires_after(std::chrono::milliseconds(service_.config().stream_ping_ms));
  timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->closed_)
      return;
    self->send(":thump\n");
    self->heartbeat();
  });
}

// The client sends nothing after its request; a read ends when it goes away.
void MastodonSession::watch_client() {
  if (buffer_.size() > 4096)
    buffer_.consume(buffer_.size());
  tcp_->socket().async_read_some(buffer_.prepare(4096),
                                 [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                   if (ec)
                                     return self->close();
                                   self->buffer_.commit(n);
                                   self->buffer_.consume(self->buffer_.size());
                                   self->watch_client();
                                 });
}

// --- events -----------------------------------------------------------------------------------

void MastodonSession::deliver(std::shared_ptr<const UserEvents> events) {
  net::post(timer_.get_executor(), [self = shared_from_this(), events = std::move(events)] {
    if (self->closed_ || self->finishing_)
      return;
    if (self->pending_.size() >= kPendingBatches) {
      ++self->service_.hub().stats.slow_disconnects;
      return self->close();
    }
    self->pending_.push_back(events);
    self->next_batch();
  });
}

// The oldest pending batch: its created notifications (the token's workspace only) read as
// Mastodon's entities in one call, then sent in id order.
void MastodonSession::next_batch() {
  while (!reading_ && !pending_.empty() && !closed_ && !finishing_) {
    std::shared_ptr<const UserEvents> batch = pending_.front();
    pending_.pop_front();
    Json keys = Json::array();
    for (const FeedEvent &e : batch->events) {
      if (e.event != "notification.created" || !e.key)
        continue;
      if (workspace_ && e.workspace_id != workspace_)
        continue;
      keys.push_back(std::to_string(*e.key));
    }
    if (keys.empty() || channels_.empty())
      continue;
    reading_ = true;
    service_.call(timer_.get_executor(), sql::kMastodonRead, {token(), keys.dump()},
                  [self = shared_from_this()](RealtimeService::Rows rows, const ApiError *error) {
                    self->reading_ = false;
                    if (self->closed_)
                      return;
                    if (error)  // the token went away, or the database: the client reconnects
                      return self->finish();
                    for (const DbRow &row : rows)
                      self->emit(row.at(0).value_or("null"));
                    self->next_batch();
                  });
  }
}

void MastodonSession::emit(const std::string &notification) {
  if (!websocket_) {
    send("event: notification\ndata: " + notification + "\n\n");
    ++service_.hub().stats.events_sent;
    return;
  }
  // One frame per subscribed channel, as Mastodon sends one per subscription.
  for (const std::string &channel : channels_) {
    Json frame = {
        {"stream", Json::array({channel})}, {"event", "notification"}, {"payload", notification}};
    send(frame.dump());
    ++service_.hub().stats.events_sent;
  }
}

// --- writing and closing ---------------------------------------------------------------------

void MastodonSession::send(std::string text) {
  if (closed_ || !open_)
    return;
  if (!outbox_.push(std::move(text))) {
    ++service_.hub().stats.slow_disconnects;
    log_line("mastodon stream of " + user_ + " closed: more than " +
             std::to_string(service_.config().stream_buffer_bytes) + " bytes unsent");
    return close();
  }
  flush();
}

void MastodonSession::flush() {
  auto done = [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->outbox_.written();
    if (ec)
      return self->close();
    self->flush();
  };
  if (websocket_) {
    const std::string *text = outbox_.take_one();
    if (text == nullptr) {
      if (finishing_ && outbox_.idle())
        close();
      return;
    }
    return ws_->async_write(net::buffer(*text), std::move(done));
  }
  const std::string *text = outbox_.take_all();
  if (text == nullptr) {
    if (finishing_ && outbox_.idle())
      close();
    return;
  }
  tcp_->expires_after(std::chrono::milliseconds(service_.config().write_timeout_ms));
  net::async_write(*tcp_, net::buffer(*text),
                   [self = shared_from_this(), done](beast::error_code ec, std::size_t n) {
                     self->tcp_->expires_never();
                     done(ec, n);
                   });
}

void MastodonSession::follow(bool on) {
  if (on && !following_) {
    service_.hub().subscribe(user_, shared_from_this());
    following_ = true;
  } else if (!on && following_) {
    service_.hub().unsubscribe(user_, this);
    following_ = false;
  }
}

// The token was revoked or expired, or the server stops: what is queued goes out, then the
// stream ends (a WebSocket with 1001 when the server stops, as Mastodon's sockets close).
void MastodonSession::end() {
  net::post(timer_.get_executor(), [self = shared_from_this()] {
    self->reason_ = websocket::close_code::going_away;
    self->finish();
  });
}

void MastodonSession::finish() {
  if (closed_)
    return;
  finishing_ = true;
  follow(false);
  if (outbox_.idle())
    close();
}

void MastodonSession::close() {
  if (closed_)
    return;
  closed_ = true;
  timer_.cancel();
  follow(false);
  service_.hub().detach(this);
  if (!websocket_ || !ws_) {
    beast::error_code ignored;
    tcp_->socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    tcp_->close();
    return;
  }
  if (!open_ || !outbox_.idle()) {
    // Not open yet, or a write is under way (a client past the buffer bound): no close frame.
    beast::get_lowest_layer(*ws_).close();
    return;
  }
  beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds(2));
  ws_->async_close(reason_, [self = shared_from_this()](beast::error_code) {
    beast::get_lowest_layer(*self->ws_).close();
  });
}

}  // namespace pgi::server
