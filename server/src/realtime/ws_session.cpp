#include "realtime/ws_session.hpp"

#include <algorithm>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "http/request_input.hpp"
#include "log.hpp"
#include "realtime/service.hpp"
#include "realtime/statements.hpp"
#include "routes/dialect.hpp"

namespace pgi::server {

namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using Json = WsSession::Json;

constexpr const char *kCollection = "directus_notifications";
// Pending batches of events for one socket, at most; beyond, the socket is too slow: closed.
constexpr std::size_t kPendingBatches = 256;

// Directus echoes a subscription's uid as a string ("5" for 5), a ping's as it came.
Json uid_text(const Json &uid) {
  if (uid.is_number())
    return uid.dump();
  return uid;
}

// Directus's zod message for a value that is not an object.
std::string not_an_object(const Json &value) {
  const char *kind = value.is_array()     ? "array"
                     : value.is_string()  ? "string"
                     : value.is_number()  ? "number"
                     : value.is_boolean() ? "boolean"
                                          : "null";
  return std::string("Validation error: Expected object, received ") + kind;
}

// The Directus action of a feed event: create, update, delete, or none.
const char *action_of(const std::string &event) {
  if (event == "notification.created" || event == "notification.restored")
    return "create";
  if (event == "notification.updated")
    return "update";
  if (event == "notification.deleted" || event == "notification.purged")
    return "delete";
  return nullptr;  // summaries (read_all, bulk, seen): no Directus field names them
}

}  // namespace

WsSession::WsSession(RealtimeService &service, StreamHandoff &&handoff)
    : service_(service),
      ws_(std::move(handoff.stream)),
      upgrade_request_(std::move(handoff.message)),
      request_(std::move(handoff.request)),
      buffer_(std::move(handoff.buffer)),
      timer_(ws_.get_executor()),
      outbox_(service.config().stream_buffer_bytes) {}

WsSession::~WsSession() {
  if (admitted_)
    service_.hub().leave();
}

std::string WsSession::token() const {
  std::lock_guard<std::mutex> lock(token_mutex_);
  return token_;
}

void WsSession::start() {
  beast::get_lowest_layer(ws_).expires_never();
  if (!service_.hub().admit()) {
    ApiError e = http_error(503, "the server is at its stream limit; retry shortly");
    HttpResponse out = kDirectus.write_error(e);
    out.headers.emplace_back("Retry-After", "5");
    auto s = std::make_shared<beast::tcp_stream>(std::move(beast::get_lowest_layer(ws_)));
    return write_and_close(s, out, service_.config().write_timeout_ms);
  }
  admitted_ = true;
  std::optional<std::string> token;
  try {
    token = caller_token(request_, TokenSource::kBearerHeaderOrAccessToken);
  } catch (const ApiFailure &) {
    token = "";  // not a token: fails below as Directus does (401)
  }
  if (!token || token->empty()) {
    auto q = request_.query().find("access_token");
    if (q != request_.query().end() && !q->second.empty())
      token = q->second;
    else
      return upgrade();  // the handshake: an auth message must come
  }
  service_.call(
      ws_.get_executor(), sql::kWsAuth, {token},
      [self = shared_from_this(), token = *token](RealtimeService::Rows rows,
                                                  const ApiError *error) {
        if (error) {
          HttpResponse out;
          out.status = error->status >= 500 ? error->status : 401;
          out.body = "";
          auto s =
              std::make_shared<beast::tcp_stream>(std::move(beast::get_lowest_layer(self->ws_)));
          self->closed_ = true;
          return write_and_close(s, out, self->service_.config().write_timeout_ms);
        }
        const DbRow &row = rows.at(0);
        self->authenticated({row.at(0).value_or(""), row.at(1), row.at(2) == "t"}, token, nullptr);
        self->upgrade();
      });
}

void WsSession::upgrade() {
  ws_.read_message_max(service_.config().ws_max_message_bytes * 16);
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::milliseconds(service_.config().write_timeout_ms);
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.text(true);
  ws_.async_accept(upgrade_request_, [self = shared_from_this()](beast::error_code ec) {
    if (ec) {
      self->closed_ = true;
      return;
    }
    self->open_ = true;
    self->upgrade_request_ = {};
    self->service_.hub().attach(self->shared_from_this());
    if (self->caller_) {
      self->heartbeat();
    } else {
      self->timer_.expires_after(
          std::chrono::milliseconds(self->service_.config().ws_auth_timeout_ms));
      self->timer_.async_wait([self](beast::error_code waited) {
        if (waited || self->closed_ || self->caller_)
          return;
        self->error("auth", "AUTH_FAILED", "Authentication handshake failed.");
        self->close();
      });
    }
    self->read();
  });
}

void WsSession::read() {
  buffer_.clear();
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) {
      // The client left or closed, or sent a message over the hard limit (Beast closes with
      // 1009): the socket is done.
      if (!self->closed_) {
        self->closed_ = true;
        self->follow(false);
        self->service_.hub().detach(self.get());
        self->timer_.cancel();
      }
      return;
    }
    self->heard_ = true;
    if (!self->ws_.got_text()) {
      self->error("server", "INVALID_PAYLOAD", "Unable to parse the incoming message.");
    } else if (self->buffer_.size() > self->service_.config().ws_max_message_bytes) {
      self->error("server", "INVALID_PAYLOAD",
                  "The message is larger than " +
                      std::to_string(self->service_.config().ws_max_message_bytes) + " bytes.");
    } else {
      self->on_message(beast::buffers_to_string(self->buffer_.data()));
    }
    if (!self->closed_)
      self->read();
  });
}

void WsSession::on_message(const std::string &text) {
  Json message = Json::parse(text, nullptr, false);
  bool handshake = !caller_;
  if (message.is_discarded()) {
    if (handshake) {
      error("auth", "AUTH_FAILED", "Authentication handshake failed.");
      return close();
    }
    return error("server", "INVALID_PAYLOAD", "Unable to parse the incoming message.");
  }
  if (!message.is_object()) {
    if (handshake) {
      error("auth", "AUTH_FAILED", "Authentication handshake failed.");
      return close();
    }
    return error("server", "INVALID_PAYLOAD", not_an_object(message));
  }
  auto type = message.find("type");
  if (type == message.end() || !type->is_string()) {
    if (handshake) {
      error("auth", "AUTH_FAILED", "Authentication handshake failed.");
      return close();
    }
    return error("server", "INVALID_PAYLOAD", "Validation error: Required at \"type\"");
  }
  Json uid = message.value("uid", Json());
  if (!uid.is_null() && !uid.is_string() && !uid.is_number()) {
    return error("server", "INVALID_PAYLOAD",
                 "Validation error: Expected string, received object at \"uid\", or Expected "
                 "number, received object at \"uid\"");
  }
  const std::string kind = type->get<std::string>();
  if (kind == "auth")
    return authenticate(message, handshake);
  if (handshake) {
    error("auth", "AUTH_FAILED", "Authentication handshake failed.");
    return close();
  }
  if (kind == "ping") {
    Json pong = {{"type", "pong"}};
    if (!uid.is_null())
      pong["uid"] = uid;
    return send(pong);
  }
  if (kind == "pong")
    return;
  if (kind == "subscribe")
    return subscribe(message);
  if (kind == "unsubscribe")
    return unsubscribe(message);
  error(kind, "INVALID_PAYLOAD", "Unknown message type \"" + kind.substr(0, 64) + "\".", uid);
}

void WsSession::authenticate(const Json &message, bool handshake) {
  Json uid = message.value("uid", Json());
  auto token = message.find("access_token");
  auto fail = [this, handshake, uid] {
    Json frame = {
        {"type", "auth"},
        {"status", "error"},
        {"error",
         {{"code", "AUTH_FAILED"},
          {"message", handshake ? "Authentication handshake failed." : "Authentication failed."}}}};
    if (!handshake && !uid.is_null())
      frame["uid"] = uid;
    send(frame);
    close();
  };
  if (token == message.end() || !token->is_string() || token->get<std::string>().empty())
    return fail();
  std::string text = token->get<std::string>();
  service_.call(
      ws_.get_executor(), sql::kWsAuth, {text},
      [self = shared_from_this(), text, uid, fail](RealtimeService::Rows rows,
                                                   const ApiError *error) {
        if (self->closed_)
          return;
        if (error)
          return fail();
        const DbRow &row = rows.at(0);
        self->authenticated({row.at(0).value_or(""), row.at(1), row.at(2) == "t"}, text, uid);
      });
}

void WsSession::authenticated(Caller caller, const std::string &token, const Json &uid) {
  bool first = !caller_;
  bool moved = caller_ && (caller_->user_id != caller.user_id || caller_->admin != caller.admin);
  if (moved)
    follow(false);
  caller_ = std::move(caller);
  {
    std::lock_guard<std::mutex> lock(token_mutex_);
    token_ = token;
  }
  if (moved && !subscriptions_.empty())
    follow(true);
  if (!open_)
    return;  // ?access_token=: no frame, the socket is usable at once
  Json frame = {{"type", "auth"}, {"status", "ok"}};
  if (!uid.is_null())
    frame["uid"] = uid;
  send(frame);
  if (first) {
    timer_.cancel();
    heartbeat();
  }
}

void WsSession::follow(bool on) {
  if (on && !following_ && caller_) {
    followed_ = caller_->admin ? "" : caller_->user_id;
    service_.hub().subscribe(followed_, shared_from_this());
    following_ = true;
  } else if (!on && following_) {
    service_.hub().unsubscribe(followed_, this);
    following_ = false;
  }
}

void WsSession::subscribe(const Json &message) {
  Json uid = message.value("uid", Json());
  auto collection = message.find("collection");
  if (collection == message.end() || !collection->is_string())
    return error("subscribe", "INVALID_PAYLOAD", "Validation error: Required at \"collection\"");
  if (collection->get<std::string>() != kCollection) {
    return error("subscribe", "INVALID_COLLECTION",
                 "The provided collection does not exists or is not accessible.", uid_text(uid));
  }
  Subscription sub;
  sub.uid = uid;
  if (auto event = message.find("event"); event != message.end()) {
    std::string e = event->is_string() ? event->get<std::string>() : "";
    if (e != "create" && e != "update" && e != "delete") {
      return error("subscribe", "INVALID_PAYLOAD",
                   "Validation error: Invalid literal value, expected \"create\" at \"event\", or "
                   "Invalid literal value, expected \"update\" at \"event\", or Invalid literal "
                   "value, expected \"delete\" at \"event\"");
    }
    sub.event = e;
  }
  sub.query = message.value("query", Json::object());
  if (!sub.query.is_object())
    return error("subscribe", "INVALID_PAYLOAD",
                 "Validation error: " + not_an_object(sub.query).substr(18) + " at \"query\"");
  sub.item = message.value("item", Json());
  // The init read: the query as the REST route reads it (it also checks fields and filter).
  Json query = sub.query;
  if (!sub.item.is_null())
    query["filter"] = {{"_and", Json::array({sub.query.value("filter", Json::object()),
                                             {{"id", {{"_eq", sub.item}}}}})}};
  // Its place among the socket's subscriptions is taken now, so frames follow the order of the
  // subscribe messages whatever order the init reads finish in.
  std::string key = sub.uid.is_null() ? "\x01" + std::to_string(++anonymous_)
                                      : uid_text(sub.uid).get<std::string>();
  unsigned generation = ++generation_;
  sub.generation = generation;
  if (Subscription *same = find(key))
    *same = sub;  // a subscribe with the uid of another replaces it
  else
    subscriptions_.emplace_back(key, sub);
  // (An admin's socket follows every user's events, each user's ids their own: no one head.)
  std::optional<std::string> user;
  if (!caller_->admin)
    user = caller_->user_id;
  service_.call(ws_.get_executor(), sql::kWsRead, {token(), query.dump(), user},
                [self = shared_from_this(), sub = std::move(sub), key, generation](
                    RealtimeService::Rows rows, const ApiError *failure) mutable {
                  if (self->closed_)
                    return;
                  Subscription *placed = self->find(key);
                  if (placed == nullptr || placed->generation != generation)
                    return;  // unsubscribed or replaced meanwhile
                  if (failure) {
                    self->remove(key);
                    return self->error("subscribe", directus_name(failure->directus),
                                       failure->message);
                  }
                  Json frame = {{"type", "subscription"}, {"event", "init"}};
                  if (!sub.event) {
                    Json read = Json::parse(rows.at(0).at(0).value_or("{}"), nullptr, false);
                    Json data = read.value("data", Json::array());
                    if (!sub.item.is_null())
                      data = data.empty() ? Json() : data.at(0);
                    frame["data"] = data;
                    if (read.contains("meta"))
                      frame["meta"] = read["meta"];
                  }
                  if (!sub.uid.is_null())
                    frame["uid"] = uid_text(sub.uid);
                  placed->ready = true;
                  placed->since = std::stoll(rows.at(0).at(1).value_or("0"));
                  self->follow(true);
                  self->send(frame);
                });
}

void WsSession::remove(const std::string &key) {
  subscriptions_.erase(std::remove_if(subscriptions_.begin(), subscriptions_.end(),
                                      [&key](const auto &s) { return s.first == key; }),
                       subscriptions_.end());
  if (subscriptions_.empty())
    follow(false);
}

WsSession::Subscription *WsSession::find(const std::string &key) {
  for (auto &[k, sub] : subscriptions_) {
    if (k == key)
      return &sub;
  }
  return nullptr;
}

void WsSession::unsubscribe(const Json &message) {
  Json uid = message.value("uid", Json());
  if (uid.is_null()) {
    subscriptions_.clear();
    follow(false);
  } else {
    remove(uid_text(uid).get<std::string>());
  }
  Json frame = {{"type", "subscription"}, {"event", "unsubscribe"}};
  if (!uid.is_null())
    frame["uid"] = uid_text(uid);
  send(frame);
}

void WsSession::deliver(std::shared_ptr<const UserEvents> events) {
  net::post(ws_.get_executor(), [self = shared_from_this(), events = std::move(events)] {
    if (self->closed_)
      return;
    if (self->pending_.size() >= kPendingBatches) {
      ++self->service_.hub().stats.slow_disconnects;
      return self->close();
    }
    self->pending_.push_back(events);
    self->on_events();
  });
}

// The frames of the oldest pending batch: one database call reads every create and update for
// every subscription; the frames go out in the events' order.
void WsSession::on_events() {
  if (reading_events_ || pending_.empty() || closed_ || !caller_)
    return;
  std::shared_ptr<const UserEvents> batch = pending_.front();
  pending_.pop_front();
  struct Planned {
    std::string sub;
    const char *action;
    long long key;
    int read = -1;  // index of its read, for create and update
  };
  std::vector<Planned> plan;
  Json reads = Json::array();
  for (const FeedEvent &e : batch->events) {
    const char *action = action_of(e.event);
    if (action == nullptr || !e.key)
      continue;
    if (caller_->workspace_id && e.workspace_id != caller_->workspace_id)
      continue;
    for (const auto &[key, sub] : subscriptions_) {
      if (!sub.ready || e.id <= sub.since || (sub.event && *sub.event != action))
        continue;
      if (!sub.item.is_null() && sub.item.dump() != std::to_string(*e.key) &&
          sub.item != Json(std::to_string(*e.key)))
        continue;
      Planned p{key, action, *e.key};
      if (std::string(action) != "delete") {
        Json query = Json::object();
        if (sub.query.contains("fields"))
          query["fields"] = sub.query["fields"];
        Json id_filter = {{"id", {{"_eq", *e.key}}}};
        query["filter"] = sub.query.contains("filter")
                              ? Json{{"_and", Json::array({sub.query["filter"], id_filter})}}
                              : id_filter;
        p.read = static_cast<int>(reads.size());
        reads.push_back(query);
      }
      plan.push_back(std::move(p));
    }
  }
  if (plan.empty())
    return on_events();
  auto frames = [self = shared_from_this(),
                 plan = std::move(plan)](const std::vector<Json> &results) {
    for (const Planned &p : plan) {
      const Subscription *found = self->find(p.sub);
      if (found == nullptr)
        continue;
      const Subscription &sub = *found;
      Json frame = {{"type", "subscription"}, {"event", p.action}};
      if (p.read < 0) {
        Json key = std::to_string(p.key);
        frame["data"] = sub.item.is_null() ? Json::array({key}) : key;
      } else {
        const Json &data = results.at(static_cast<std::size_t>(p.read));
        if (!data.is_array() || data.empty())
          continue;  // the subscription's filter does not match it (any more)
        frame["data"] = sub.item.is_null() ? data : data.at(0);
      }
      if (!sub.uid.is_null())
        frame["uid"] = uid_text(sub.uid);
      self->send(frame);
      ++self->service_.hub().stats.events_sent;
    }
  };
  if (reads.empty()) {
    frames({});
    return on_events();
  }
  reading_events_ = true;
  service_.call(ws_.get_executor(), sql::kWsReadMany, {token(), reads.dump()},
                [self = shared_from_this(), frames = std::move(frames), n = reads.size()](
                    RealtimeService::Rows rows, const ApiError *failure) {
                  self->reading_events_ = false;
                  if (self->closed_)
                    return;
                  if (failure) {
                    // The token went away, or the database: end, the client reconnects.
                    return self->close();
                  }
                  std::vector<Json> results(n);
                  for (const DbRow &row : rows) {
                    std::size_t i = std::stoul(row.at(0).value_or("1")) - 1;
                    Json read = Json::parse(row.at(1).value_or("{}"), nullptr, false);
                    if (i < n)
                      results[i] = read.value("data", Json::array());
                  }
                  frames(results);
                  self->on_events();
                });
}

void WsSession::error(const std::string &type, const char *code, const std::string &message,
                      const Json &uid) {
  Json frame = {
      {"type", type}, {"status", "error"}, {"error", {{"code", code}, {"message", message}}}};
  if (!uid.is_null())
    frame["uid"] = uid;
  send(frame);
}

void WsSession::send(const Json &frame) {
  if (closed_ || !open_)
    return;
  if (!outbox_.push(frame.dump())) {
    ++service_.hub().stats.slow_disconnects;
    return close();
  }
  flush();
}

void WsSession::flush() {
  const std::string *text = outbox_.take_one();
  if (text == nullptr)
    return send_close();
  ws_.async_write(net::buffer(*text),
                  [self = shared_from_this()](beast::error_code ec, std::size_t) {
                    self->outbox_.written();
                    if (ec) {
                      self->closed_ = true;
                      self->close_pending_ = false;
                      self->follow(false);
                      beast::get_lowest_layer(self->ws_).close();
                      return;
                    }
                    self->flush();
                  });
}

// Every --ws-heartbeat-ms a ping; a socket that sent nothing during a whole period after it
// is gone.
void WsSession::heartbeat() {
  timer_.expires_after(std::chrono::milliseconds(service_.config().ws_heartbeat_ms));
  timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->closed_)
      return;
    if (self->pinged_ && !self->heard_)
      return self->close();
    self->heard_ = false;
    self->pinged_ = true;
    self->send({{"type", "ping"}});
    self->heartbeat();
  });
}

void WsSession::end() {
  net::post(ws_.get_executor(), [self = shared_from_this()] { self->close(true); });
}

void WsSession::close(bool going_away) {
  if (closed_)
    return;
  closed_ = true;
  follow(false);
  service_.hub().detach(this);
  timer_.cancel();
  if (!open_) {
    beast::get_lowest_layer(ws_).close();
    return;
  }
  // After what is queued (an error frame, say): the close frame, without a status as Directus
  // sends it, or 1001 when the server stops.
  close_pending_ = true;
  going_away_ = going_away;
  if (outbox_.idle())
    send_close();
}

void WsSession::send_close() {
  if (!close_pending_ || !outbox_.idle())
    return;
  close_pending_ = false;
  websocket::close_reason reason;
  if (going_away_)
    reason = websocket::close_code::going_away;
  beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(2));
  ws_.async_close(reason, [self = shared_from_this()](beast::error_code) {
    beast::get_lowest_layer(self->ws_).close();
  });
}

}  // namespace pgi::server
