// One GET /api/notifications/stream: the change feed of one user as server-sent events.
//
//   opening    the token and the query are checked in SQL (scope notifications:read; user_id
//              for an admin; a workspace-bound token sees its workspace only); an error is the
//              REST error (401, 403, 400), and a malformed Last-Event-ID is 400
//   catching   the stream is subscribed in the hub, and reads with inbox.changes everything
//              after the client's Last-Event-ID (header, else ?last_event_id=), or learns the
//              head (inbox.feed_head) when it has none; live events are dropped meanwhile
//   live       the poller's events come in id order; the next id is sent, an older one is a
//              duplicate and dropped, a newer one means a gap: back to catching
//
// Per-user ids are gapless, so the stream's position is exact and a resume sends every event
// once, in order. An id the feed cannot resume from (older than the retention window, or
// beyond the user's last event: SQLSTATE 22023) becomes a `reset` event whose id is the head,
// and the stream goes on live from there. The position counts every event of the user; a
// workspace stream sends only its workspace's (and the summaries scoped to it or to none).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "http/stream_handoff.hpp"
#include "realtime/hub.hpp"
#include "realtime/outbox.hpp"

namespace pgi::server {

class RealtimeService;

class SseSession : public Subscriber, public std::enable_shared_from_this<SseSession> {
 public:
  SseSession(RealtimeService &service, StreamHandoff &&handoff);
  ~SseSession() override;

  void start();

  void deliver(std::shared_ptr<const UserEvents> events) override;
  void end() override;
  std::string token() const override;

 private:
  void refuse(const ApiError &error);
  void opened(const std::string &user, std::optional<std::string> workspace,
              std::optional<long long> after);
  void catch_up();
  void caught_up(std::vector<FeedEvent> events, bool more, std::optional<long long> reset_head,
                 const std::string &reset_reason, std::optional<long long> unread);
  void on_events(const UserEvents &events);
  // Queues one event if it is this stream's; notes its unread count.
  void take(const FeedEvent &event, std::optional<long long> &unread);
  void send(std::string text);
  void flush();
  void ping();
  void watch_client();
  void finish();  // sends what is queued, then closes
  void close();

  RealtimeService &service_;
  std::shared_ptr<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  HttpRequest request_;
  boost::asio::steady_timer ping_timer_;
  Outbox outbox_;
  mutable std::mutex token_mutex_;
  std::string token_;
  std::string user_;
  std::optional<std::string> workspace_;
  long long position_ = 0;                 // the last event id of the user processed
  std::optional<long long> resume_after_;  // the client's Last-Event-ID, until the first catch-up
  bool admitted_ = false;
  bool subscribed_ = false;
  bool catching_ = false;
  bool finishing_ = false;
  bool closed_ = false;
};

}  // namespace pgi::server
