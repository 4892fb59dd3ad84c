// The server's PostgreSQL connections for the routes and the streams, driven from the event
// loop with libpq's asynchronous interface: a request waiting on PostgreSQL holds a connection
// and a wait on its socket, never a thread, and its answer comes back to the loop that read it.
// (Handing each call to a worker thread and its answer back to the loop cost two thread wake-ups
// per request: at one client, a tenth of a create's time.)
//
// A fixed number of connections (--pool-size), each with the routes' prepared statements and
// the session settings, opened on first need. Opening one blocks (libpq's connect, the SET and
// PREPARE statements), so that runs on a thread of the pool's own, and the connection joins the
// loop when it is ready. A call waits in order for a free connection, at most its `wait` (then
// 503 pool_exhausted). An idle connection that PostgreSQL closed (a restart) is replaced before
// it is used; one that breaks mid-call is closed, its slot reconnects on its next use, and a
// call that may run twice (DbCall::retry_safe) runs once more.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db/call.hpp"
#include "errors.hpp"

namespace boost::asio {
class io_context;
}

namespace pgi::server {

struct PreparedStatement {
  std::string name;
  std::string sql;
};

struct PoolStats {
  std::size_t size = 0;
  std::size_t in_use = 0;
  std::size_t open = 0;     // slots holding a live connection
  std::size_t waiting = 0;  // calls waiting for a free connection
  unsigned long long connects = 0;
  unsigned long long connect_failures = 0;
  unsigned long long discarded = 0;
  unsigned long long wait_timeouts = 0;
};

// What a call came to: the statement's rows, or the error to answer with (errors.hpp's mapping
// of what PostgreSQL said; 503 when it could not be reached or no connection freed up in time).
struct DbOutcome {
  std::vector<DbRow> rows;
  std::optional<ApiError> error;
};

class Pool {
 public:
  // `loop` runs on one thread and outlives the pool; `session_setup` runs once on each new
  // connection, before its statements are prepared.
  Pool(boost::asio::io_context &loop, std::string url, std::size_t size,
       std::vector<PreparedStatement> statements, std::vector<std::string> session_setup);
  ~Pool();
  Pool(const Pool &) = delete;
  Pool &operator=(const Pool &) = delete;

  using Done = std::function<void(DbOutcome outcome)>;
  // From any thread (the call itself is made on the loop). `done` is called once, on the loop's
  // thread, after call() has returned.
  void call(DbCall call, std::chrono::milliseconds wait, Done done);

  // Safe from any thread.
  PoolStats stats() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace pgi::server
