// The delivery workers: threads that send what the outbox (inbox.deliveries) holds.
//
// --delivery-workers threads send webhooks and, with --smtp-url, --smtp-workers threads of their
// own send e-mail: libcurl 7.88 waits for an SMTP server's reply to the end of each message's
// data blocking the thread (curl#8555), and a slow SMTP server must not hold up webhooks. Each
// worker has its own PostgreSQL connection (never one of the REST pool's, so a slow receiver or a
// busy outbox never holds up a route) and one libcurl multi handle: every webhook call and SMTP
// session in flight is a socket in that handle, so a slow or dead receiver costs a socket, not a
// thread; an e-mail worker keeps at most 8 SMTP connections, open between messages. A worker
// claims due rows (inbox.claim_deliveries: FOR UPDATE SKIP LOCKED, under a lease) of its channel up
// to --delivery-concurrency in flight; the claim first expands the change-feed events committed
// since the last expansion into the outbox (inbox.expand_deliveries, one worker at a time), so
// --delivery-workers 0 processes never fill it. It reports each finished transfer back in batches
// (inbox.finish_deliveries), which decides between delivered, retry and failed. Rows it cannot
// report (it crashed, the database went away) come back when their lease runs out, under the same
// id: delivery is at least once. Several workers and several servers share one outbox. The first
// worker also prunes finished rows (inbox.prune_deliveries) once a minute.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"

namespace pgi::server {

class DeliveryWorkers {
 public:
  explicit DeliveryWorkers(const Config &config);
  ~DeliveryWorkers();  // stops and joins
  DeliveryWorkers(const DeliveryWorkers &) = delete;
  DeliveryWorkers &operator=(const DeliveryWorkers &) = delete;

  // Starts --delivery-workers webhook threads and, with --smtp-url, --smtp-workers e-mail threads
  // (none at all for --delivery-workers 0: an API-only process).
  void start();
  // Stops claiming; the transfers in flight are abandoned (their leases bring them back).
  void stop();

  struct Worker;

 private:
  void launch(const std::string &channel, int index);

  const Config &config_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace pgi::server
