// One delivery in flight: a libcurl easy handle for a webhook POST or an SMTP session, set up
// from a claimed row, and what it came to.
#pragma once

#include <chrono>
#include <set>
#include <string>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "config.hpp"

namespace pgi::server {

// A claimed row of inbox.claim_deliveries (secret: a webhook endpoint's, to sign the call).
struct Claimed {
  std::string user_id, id, lease, channel, target, body, secret;
  nlohmann::json headers;
};

// The sockets a worker's transfers opened and libcurl has not closed yet (connections in flight
// and in the multi handle's cache), so that a worker that stops can cut them: see
// DeliveryWorkers::Worker::run. Owned by the worker; it must outlive the multi handle.
using OpenSockets = std::set<curl_socket_t>;

class Transfer {
 public:
  // Sets the easy handle up; a transfer that cannot start (a bad address) is finished at once:
  // see done(). Every socket it opens is kept in `sockets` until libcurl closes it.
  Transfer(const Config &config, Claimed row, OpenSockets &sockets);
  ~Transfer();
  Transfer(const Transfer &) = delete;
  Transfer &operator=(const Transfer &) = delete;

  CURL *easy() const { return easy_; }
  // Finished before it started (the report is ready).
  bool done() const { return done_; }
  // After curl finished the transfer with `code`: the report for inbox.finish_deliveries.
  nlohmann::json report(CURLcode code);
  // The report of a transfer that never started.
  nlohmann::json report() const { return early_; }

 private:
  static size_t read_body(char *buffer, size_t size, size_t count, void *self);
  static size_t discard(char *buffer, size_t size, size_t count, void *self);
  static size_t header_line(char *buffer, size_t size, size_t count, void *self);
  static curl_socket_t open_socket(void *self, curlsocktype purpose, struct curl_sockaddr *address);
  static int close_socket(void *sockets, curl_socket_t socket);
  nlohmann::json result(long status, const std::string &error) const;

  Claimed row_;
  OpenSockets &sockets_;
  CURL *easy_ = nullptr;
  curl_slist *headers_ = nullptr;
  curl_slist *recipients_ = nullptr;
  std::string upload_;
  std::size_t uploaded_ = 0;
  long retry_after_ = 0;
  bool refused_address_ = false;
  bool allow_private_ = false;
  bool done_ = false;
  nlohmann::json early_;
  char error_[CURL_ERROR_SIZE] = {};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace pgi::server
