// A fixed-size pool of PostgreSQL connections, each with the server's prepared statements.
//
// Connections are opened lazily, on the first lease of a slot, so the server starts (and
// answers 503) while PostgreSQL is down. A lease whose connection broke is discarded: its slot
// reconnects on its next lease, which is how the pool recovers after PostgreSQL restarts.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/connection>

namespace pgi::server {

struct PreparedStatement {
  std::string name;
  std::string sql;
};

struct PoolStats {
  std::size_t size = 0;
  std::size_t in_use = 0;
  std::size_t open = 0;     // slots holding a live connection
  std::size_t waiting = 0;  // callers waiting for a free slot
  unsigned long long connects = 0;
  unsigned long long connect_failures = 0;
  unsigned long long discarded = 0;
  unsigned long long wait_timeouts = 0;
};

class Pool {
 public:
  // `session_setup` statements run once on each new connection (SET statement_timeout ...).
  Pool(std::string url, std::size_t size, std::vector<PreparedStatement> statements,
       std::vector<std::string> session_setup);
  ~Pool();
  Pool(const Pool &) = delete;
  Pool &operator=(const Pool &) = delete;

  class Lease {
   public:
    Lease(Lease &&other) noexcept;
    Lease &operator=(Lease &&) = delete;
    ~Lease();

    pqxx::connection &connection() { return *connection_; }
    // The connection is unusable (PostgreSQL went away): close it; the slot reconnects later.
    void discard();

   private:
    friend class Pool;
    Lease(Pool *pool, std::size_t slot, pqxx::connection *connection)
        : pool_(pool), slot_(slot), connection_(connection) {}
    Pool *pool_;
    std::size_t slot_;
    pqxx::connection *connection_;
  };

  // A connected lease, or nullopt when no slot frees up within `wait`. Throws
  // pqxx::broken_connection (or another pqxx error) when PostgreSQL cannot be reached.
  std::optional<Lease> acquire(std::chrono::milliseconds wait);

  PoolStats stats() const;

 private:
  void release(std::size_t slot, bool discard);
  std::unique_ptr<pqxx::connection> connect();

  const std::string url_;
  const std::vector<PreparedStatement> statements_;
  const std::vector<std::string> session_setup_;

  mutable std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> slots_;
  std::vector<std::size_t> free_;  // slot numbers, used as a stack (the warmest slot first)
  PoolStats stats_;
};

}  // namespace pgi::server
