// Retention on a schedule (issue 19, --prune-interval): every interval, inbox.prune_step is
// called in a loop until it reports that it is done, each call in its own transaction on the
// pruner's own connection (never one of the pool's), and one log line says what it removed. A
// failed run (PostgreSQL down, a step refused) is logged and tried again at the next interval.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace pgi::server {

class Pruner {
 public:
  // interval_s 0: the pruner does nothing.
  Pruner(std::string database_url, int interval_s);
  ~Pruner();  // stops and joins
  Pruner(const Pruner &) = delete;
  Pruner &operator=(const Pruner &) = delete;

  void stop();

 private:
  void run();
  void prune_once();

  std::string url_;
  int interval_s_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace pgi::server
