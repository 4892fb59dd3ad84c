#include "db/pruner.hpp"

#include <chrono>
#include <map>
#include <optional>

#include <pqxx/pqxx>

#include "log.hpp"

namespace pgi::server {

Pruner::Pruner(std::string database_url, int interval_s)
    : url_(std::move(database_url)), interval_s_(interval_s) {
  if (interval_s_ > 0)
    thread_ = std::thread([this] { run(); });
}

Pruner::~Pruner() {
  stop();
  if (thread_.joinable())
    thread_.join();
}

void Pruner::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_ = true;
  wake_.notify_all();
}

void Pruner::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, std::chrono::seconds(interval_s_), [this] { return stopping_; })) {
    lock.unlock();
    prune_once();
    lock.lock();
  }
}

void Pruner::prune_once() {
  std::map<std::string, long long> removed;
  int steps = 0;
  try {
    pqxx::connection connection(url_);
    std::optional<std::string> cursor;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_)
          break;
      }
      pqxx::work step(connection);
      pqxx::row r =
          step.exec_params1("SELECT kind, removed, next_cursor FROM inbox.prune_step($1)", cursor);
      step.commit();
      ++steps;
      removed[r[0].as<std::string>()] += r[1].as<long long>();
      if (r[2].is_null())
        break;
      cursor = r[2].as<std::string>();
    }
  } catch (const std::exception &e) {
    log_line(std::string("prune: failed after ") + std::to_string(steps) + " steps: " + e.what());
    return;
  }
  std::string line = "prune: " + std::to_string(steps) + " steps";
  for (const auto &[kind, n] : removed) {
    if (kind != "done")
      line += ", " + kind + " " + std::to_string(n);
  }
  log_line(line);
}

}  // namespace pgi::server
