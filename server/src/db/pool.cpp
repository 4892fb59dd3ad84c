#include "db/pool.hpp"

#include <utility>

#include <sys/socket.h>

#include <cerrno>

#include <pqxx/nontransaction>

namespace pgi::server {

Pool::Pool(std::string url, std::size_t size, std::vector<PreparedStatement> statements,
           std::vector<std::string> session_setup)
    : url_(std::move(url)),
      statements_(std::move(statements)),
      session_setup_(std::move(session_setup)),
      slots_(size) {
  for (std::size_t i = size; i > 0; --i)
    free_.push_back(i - 1);
  stats_.size = size;
}

Pool::~Pool() = default;

std::unique_ptr<pqxx::connection> Pool::connect() {
  auto connection = std::make_unique<pqxx::connection>(url_);
  // Verbose error texts start with the SQLSTATE ("ERROR:  42501: ..."): pqxx 6 leaves
  // sqlstate() empty for some errors, and the server's error mapping needs it.
  connection->set_verbosity(pqxx::connection::verbose);
  // (pqxx 6 can reactivate a broken connection by itself; the pool never lets it, since a
  // connection that broke is discarded and a closed one replaced before it is lent again.)
  {
    pqxx::nontransaction setup(*connection);
    for (const std::string &sql : session_setup_)
      setup.exec(sql);
  }
  for (const PreparedStatement &s : statements_)
    connection->prepare(s.name, s.sql);
  return connection;
}

namespace {

// Whether an idle connection is still usable, without a round trip. An idle connection has
// nothing to read; if its socket has data or end-of-file, PostgreSQL has closed it (a restart
// sends FATAL 57P01 then closes) or said something unexpected: better a fresh connection than
// an error for the request that would have used it.
bool alive(pqxx::connection *connection) {
  if (connection == nullptr || !connection->is_open())
    return false;
  char byte;
  ssize_t n = recv(connection->sock(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::optional<Pool::Lease> Pool::acquire(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  ++stats_.waiting;
  bool got = freed_.wait_for(lock, wait, [this] { return !free_.empty(); });
  --stats_.waiting;
  if (!got) {
    ++stats_.wait_timeouts;
    return std::nullopt;
  }
  std::size_t slot = free_.back();
  free_.pop_back();
  ++stats_.in_use;
  pqxx::connection *connection = slots_[slot].get();
  // Check and connect outside the lock: only this caller owns the slot meanwhile.
  lock.unlock();
  if (alive(connection))
    return Lease(this, slot, connection);

  std::unique_ptr<pqxx::connection> fresh;
  try {
    fresh = connect();
  } catch (...) {
    lock.lock();
    ++stats_.connect_failures;
    lock.unlock();
    release(slot, true);
    throw;
  }
  lock.lock();
  std::unique_ptr<pqxx::connection> old = std::move(slots_[slot]);
  if (old == nullptr)
    ++stats_.open;
  slots_[slot] = std::move(fresh);
  ++stats_.connects;
  connection = slots_[slot].get();
  lock.unlock();
  return Lease(this, slot, connection);  // `old` (closed) is destroyed outside the lock
}

void Pool::release(std::size_t slot, bool discard) {
  std::unique_ptr<pqxx::connection> closed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (discard && slots_[slot] != nullptr) {
      closed = std::move(slots_[slot]);
      --stats_.open;
      ++stats_.discarded;
    }
    free_.push_back(slot);
    --stats_.in_use;
  }
  freed_.notify_one();
}

PoolStats Pool::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

Pool::Lease::Lease(Lease &&other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      slot_(other.slot_),
      connection_(other.connection_) {}

Pool::Lease::~Lease() {
  if (pool_ != nullptr)
    pool_->release(slot_, false);
}

void Pool::Lease::discard() {
  if (pool_ != nullptr)
    std::exchange(pool_, nullptr)->release(slot_, true);
}

}  // namespace pgi::server
