// One stream of Mastodon's streaming API (its streaming server's behaviour, streaming/index.js),
// a payload format of the one realtime hub: the change feed's `notification.created` events of
// the caller's user become Mastodon's `notification` events whose payload is the Notification
// entity GET /api/v1/notifications answers (inbox.mastodon_stream_notifications: the v1 list's
// shape, one read per batch of events).
//
//   SSE        GET /api/v1/streaming/user/notification, GET /api/v1/streaming/user:
//              `:)` first, then `event: notification` / `data: <Notification>` and a `:thump`
//              comment every --stream-ping-ms
//   WebSocket  GET /api/v1/streaming, ?stream=user:notification (or user) at the upgrade, and
//              {"type":"subscribe"|"unsubscribe","stream":...} messages; frames
//              {"stream":[name],"event":"notification","payload":"<Notification as text>"}, one
//              per subscribed channel; WebSocket pings every --ws-heartbeat-ms, and a socket
//              silent for two periods is closed
//
// Auth as Mastodon's: `Authorization: Bearer`, else ?access_token=, else the
// Sec-WebSocket-Protocol header (what browsers and masto.js send; echoed back at the upgrade).
// Errors as its streaming server writes them: 401 "Missing access token" / "Invalid access
// token" / "Access token does not have the required scopes" ({"error"} over SSE, an HTTP answer
// with X-Error-Message at a refused upgrade, {"error","status"} frames for a subscribe on an open
// socket), 400 "Unknown stream type" for a stream it does not serve. Scope: read or
// read:notifications, that is pg_inbox's notifications:read.
//
// Mastodon has no resume: a stream sends what is created while it is open. Bounds are the other
// streams': --max-streams, --stream-buffer-bytes, a revoked or expired token ends the stream, and
// SIGTERM ends it cleanly.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "http/stream_handoff.hpp"
#include "realtime/hub.hpp"
#include "realtime/outbox.hpp"

namespace pgi::server {

class RealtimeService;

class MastodonSession : public Subscriber, public std::enable_shared_from_this<MastodonSession> {
 public:
  MastodonSession(RealtimeService &service, StreamHandoff &&handoff);
  ~MastodonSession() override;

  void start();

  void deliver(std::shared_ptr<const UserEvents> events) override;
  void end() override;
  std::string token() const override;

 private:
  void refuse(int status, const std::string &message, const std::string &body);
  void opened(const std::string &user, std::optional<std::string> workspace, bool may_read);
  // WebSocket
  void upgrade();
  void read();
  void on_message(const std::string &text);
  void subscribe(const std::string &channel);
  void unsubscribe(const std::string &channel);
  void send_error(const std::string &message, int status);
  // SSE
  void heartbeat();
  void watch_client();
  // Both
  void next_batch();
  void emit(const std::string &notification);
  void send(std::string text);
  void flush();
  void follow(bool on);
  void finish();  // sends what is queued, then closes
  void close();

  RealtimeService &service_;
  const bool websocket_;
  std::shared_ptr<boost::beast::tcp_stream> tcp_;  // the SSE stream; the socket until the upgrade
  std::optional<boost::beast::websocket::stream<boost::beast::tcp_stream>> ws_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::request<boost::beast::http::string_body> upgrade_request_;
  HttpRequest request_;
  boost::asio::steady_timer timer_;
  Outbox outbox_;
  mutable std::mutex token_mutex_;
  std::string token_;
  std::string protocol_;  // the Sec-WebSocket-Protocol the client offered: echoed
  std::string user_;
  std::optional<std::string> workspace_;
  bool may_read_ = false;
  std::vector<std::string> channels_;  // subscribed, in order: "user:notification", "user"
  std::deque<std::shared_ptr<const UserEvents>> pending_;  // batches waiting for their read
  bool reading_ = false;
  bool following_ = false;
  bool admitted_ = false;
  bool open_ = false;
  bool finishing_ = false;
  // The close frame's status: 1001 when the stream is ended (its token revoked or expired, the
  // server stopping), 1003 after a binary message, none otherwise.
  boost::beast::websocket::close_reason reason_;
  bool closed_ = false;
};

}  // namespace pgi::server
