// The subscriptions of this server process, by user, and the fan-out of the change feed to them.
//
// One poller (realtime/poller.hpp) reads what committed across all users; for the users that
// have subscribers it fetches the events' payloads in one call per batch and publishes them
// here. The hub hands each user's events to that user's subscribers only (an admin WebSocket
// subscribes to every user, the key ""). A subscriber posts what it receives to its own strand
// and writes it into its own bounded buffer; nothing here blocks on a client.
//
// Per user, event ids are gapless and increase in commit order (the feed contract), so a
// subscriber knows its position exactly: an event at position + 1 is the next one, an event
// beyond it means the subscriber missed some (it was catching up, or the poller had no payload
// for them) and it catches up by itself with inbox.changes. `seen` is the highest id the poller
// has seen for a subscribed user: a subscriber ending a catch-up below it catches up again.
//
// Thread-safe: the poller publishes from its thread, sessions subscribe from their strands.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace pgi::server {

// One row of inbox.changes: the user's event `id`, its name, the workspace it belongs to (a
// summary's scope), the user's unread count after it when it moved, and the data as text (the
// notification in the API shape, the key order of inbox.http_json).
struct FeedEvent {
  long long id = 0;
  std::string event;
  std::optional<std::string> workspace_id;
  std::optional<long long> unread;
  std::string data;
  std::optional<long long> key;  // the notification's internal id (Directus's id), if any
};

// Consecutive events of one user, in id order.
struct UserEvents {
  std::string user_id;
  std::vector<FeedEvent> events;
};

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // New events of a user this subscriber follows; called from the poller's thread.
  virtual void deliver(std::shared_ptr<const UserEvents> events) = 0;
  // The stream must end (its token was revoked or expired, or the server stops).
  virtual void end() = 0;
  // The token the stream authenticated with, re-checked every --stream-token-check-ms.
  virtual std::string token() const = 0;
};

struct HubStats {
  std::atomic<unsigned long long> streams_opened{0};
  std::atomic<unsigned long long> streams_refused{0};   // beyond --max-streams
  std::atomic<unsigned long long> slow_disconnects{0};  // past --stream-buffer-bytes
  std::atomic<unsigned long long> events_sent{0};
  std::atomic<unsigned long long> polls{0};
  std::atomic<unsigned long long> poll_failures{0};
  std::atomic<unsigned long long> catch_ups{0};
  std::atomic<unsigned long long> resets{0};
  std::atomic<unsigned long long> tokens_ended{0};
};

class Hub {
 public:
  explicit Hub(std::size_t max_streams) : max_streams_(max_streams) {}

  // A stream slot under --max-streams; false when all are taken. leave() gives it back.
  bool admit();
  void leave();
  std::size_t open_streams() const { return open_; }

  // Every open stream, subscribed or not, for stop() and the token checks.
  void attach(const std::shared_ptr<Subscriber> &stream);
  void detach(const Subscriber *stream);

  // user "" follows every user (an admin's WebSocket).
  void subscribe(const std::string &user, const std::shared_ptr<Subscriber> &subscriber);
  void unsubscribe(const std::string &user, const Subscriber *subscriber);

  // Of `users`, those with a subscriber (all of them when someone follows every user).
  std::vector<std::string> subscribed(const std::vector<std::string> &users) const;
  // The highest event id the poller has seen for `user` since it had a subscriber (0: none).
  long long seen(const std::string &user) const;

  // A poll's outcome: the last id of each user it saw, and the events fetched for subscribed
  // users. Records `seen` and hands each user's events to that user's subscribers.
  void publish(const std::vector<std::pair<std::string, long long>> &heads,
               const std::vector<std::shared_ptr<const UserEvents>> &events);

  // The distinct tokens of the open streams; end() for the streams of `revoked`.
  std::vector<std::string> tokens() const;
  void revoke(const std::set<std::string> &revoked);
  // end() for every open stream.
  void end_all();

  HubStats stats;

 private:
  using Subscribers = std::vector<std::weak_ptr<Subscriber>>;
  std::vector<std::shared_ptr<Subscriber>> live(const Subscribers &list) const;

  const std::size_t max_streams_;
  std::atomic<std::size_t> open_{0};
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Subscribers> by_user_;
  std::unordered_map<std::string, long long> seen_;  // only for subscribed users
  std::unordered_map<const Subscriber *, std::weak_ptr<Subscriber>> streams_;
};

}  // namespace pgi::server
