// The one change-feed poller of a server process: a thread with its own PostgreSQL connection
// (never one of the pool's) that calls inbox.poll_events every --feed-poll-ms while a stream is
// open (every 250 ms while none is), so the database's work is the same whatever the number of
// connected clients.
//
// Each poll returns the (user, event id) pairs that committed since its cursor (the SQL bounds
// its reads by the oldest running transaction, so an event that commits late is not skipped; a
// pair may come twice). For the users that have subscribers, the poller fetches the payloads in
// ONE call per batch (inbox.changes per user, joined in one statement) and publishes them to the
// hub. Every --stream-token-check-ms it checks the open streams' tokens, in one statement, and
// ends the streams of tokens that no longer authenticate.
//
// When PostgreSQL goes away the poller keeps its cursor, reconnects with a growing pause (at most
// 2 s), and goes on from the cursor: nothing committed is skipped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <optional>
#include <thread>
#include <unordered_map>

#include <pqxx/connection>

#include "config.hpp"
#include "realtime/hub.hpp"

namespace pgi::server {

class Poller {
 public:
  Poller(const Config &config, Hub &hub);
  ~Poller();  // stops and joins
  Poller(const Poller &) = delete;
  Poller &operator=(const Poller &) = delete;

  void start();
  void stop();

 private:
  void run();
  // One poll and its fan-out; false when the connection failed.
  bool poll_once(pqxx::connection &db);
  void check_tokens(pqxx::connection &db);
  bool pause(int milliseconds);  // false when stopping

  const Config &config_;
  Hub &hub_;
  std::optional<std::string> cursor_;                   // nullopt: start from now
  std::unordered_map<std::string, long long> fetched_;  // per subscribed user: last id fetched
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace pgi::server
