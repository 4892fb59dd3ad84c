// One GET /websocket: Directus 11's realtime protocol, for directus_notifications only
// (recorded frames: /work/shared/reference/directus-11.3.5/websocket/).
//
//   upgrade     with ?access_token= the token is checked first (an invalid one: 401, no
//               WebSocket); without, the first message must be {"type":"auth","access_token"}
//               within --ws-auth-timeout-ms, else AUTH_FAILED and the socket closes
//   auth        {"type":"auth","status":"ok"} (re-auth on an open socket is allowed)
//   subscribe   collection, optional event (create|update|delete), query (fields, filter, ...),
//               item, uid: the `init` reply carries what inbox.directus_read answers for the
//               query (no data with an event), then create/update/delete frames whose data is
//               each changed notification read back through inbox.directus_read with the
//               subscription's fields and filter (a row the filter no longer matches sends
//               nothing); delete sends the keys
//   unsubscribe one uid, or all without one
//   ping/pong   answered; the server pings every --ws-heartbeat-ms and closes a socket that did
//               not send anything since its last ping
//   errors      {"type": <the message's type or "server">, "status":"error", "error":{"code",
//               "message"}}: a message that is not JSON, not an object, without a type, of an
//               unknown type, over --ws-max-message-bytes, or a subscribe to another collection;
//               the socket stays open (but after a failed auth)
//
// Permissions are the REST routes': a user's socket receives that user's notifications only
// (an admin's, every user's), and a workspace-bound token's only its workspace's. The reads of
// one batch of events for one socket are one database call (inbox.directus_read per
// subscription and event, in one statement).
#pragma once

#include <deque>
#include <vector>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <nlohmann/json.hpp>

#include "http/stream_handoff.hpp"
#include "realtime/hub.hpp"
#include "realtime/outbox.hpp"

namespace pgi::server {

class RealtimeService;

class WsSession : public Subscriber, public std::enable_shared_from_this<WsSession> {
 public:
  using Json = nlohmann::ordered_json;

  WsSession(RealtimeService &service, StreamHandoff &&handoff);
  ~WsSession() override;

  void start();

  void deliver(std::shared_ptr<const UserEvents> events) override;
  void end() override;
  std::string token() const override;

 private:
  struct Subscription {
    Json uid;                          // null: none given
    std::optional<std::string> event;  // create, update or delete; nullopt: all
    Json query;                        // the client's query (an object)
    Json item;                         // null: the whole collection
    bool ready = false;                // its init reply went out: events follow
    // The user's last event as of the init read (a user's own socket): the events up to it are
    // in the init data already, and the feed can still bring them after it.
    long long since = 0;
    unsigned generation = 0;  // which subscribe message made it
  };
  struct Caller {
    std::string user_id;
    std::optional<std::string> workspace_id;
    bool admin = false;
  };

  void upgrade();
  void read();
  void on_message(const std::string &text);
  void authenticate(const Json &message, bool handshake);
  void authenticated(Caller caller, const std::string &token, const Json &uid);
  void subscribe(const Json &message);
  void unsubscribe(const Json &message);
  void on_events();
  void send(const Json &frame);
  void error(const std::string &type, const char *code, const std::string &message,
             const Json &uid = nullptr);
  void flush();
  void heartbeat();
  void close(bool going_away = false);
  void send_close();  // the close frame, once what is queued is written
  void follow(bool on);

  RealtimeService &service_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::http::request<boost::beast::http::string_body> upgrade_request_;
  HttpRequest request_;
  boost::beast::flat_buffer buffer_;
  boost::asio::steady_timer timer_;  // the auth deadline, then the heartbeat
  Outbox outbox_;
  mutable std::mutex token_mutex_;
  std::string token_;
  std::optional<Caller> caller_;
  // By uid (or a key of their own), in the order they were made: frames go out in that order.
  std::vector<std::pair<std::string, Subscription>> subscriptions_;
  Subscription *find(const std::string &key);
  void remove(const std::string &key);
  unsigned generation_ = 0;
  unsigned anonymous_ = 0;
  std::string followed_;  // the hub key followed ("" an admin's every user), when following
  bool following_ = false;
  std::deque<std::shared_ptr<const UserEvents>> pending_;  // events waiting for their reads
  bool reading_events_ = false;
  bool heard_ = true;    // a message since the last heartbeat ping
  bool pinged_ = false;  // a heartbeat ping went out
  bool close_pending_ = false;
  bool going_away_ = false;
  bool admitted_ = false;
  bool open_ = false;
  bool closed_ = false;
};

}  // namespace pgi::server
