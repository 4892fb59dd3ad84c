#include "db/pool.hpp"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <deque>
#include <mutex>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <libpq-fe.h>

#include "log.hpp"

namespace pgi::server {

namespace net = boost::asio;
using Socket = net::posix::stream_descriptor;

namespace {

// A call from its first try to its answer.
struct Pending {
  DbCall call;
  std::chrono::milliseconds wait;
  Pool::Done done;
  int attempt = 1;
  std::unique_ptr<net::steady_timer> timer;  // its wait's bound, while it waits in line
  DbOutcome outcome;                         // what the statement answered so far
  bool answered = false;                     // outcome holds the statement's (first) result
};

struct Opened {
  PGconn *connection = nullptr;  // null: `error` says why
  std::string error;
};

// Connects and readies a connection of the pool (blocking: on the connect thread).
Opened open(const std::string &url, const std::vector<std::string> &setup,
            const std::vector<PreparedStatement> &statements) {
  Opened out;
  PGconn *c = PQconnectdb(url.c_str());
  auto fail = [&](const std::string &what) {
    out.error = what + (c != nullptr ? PQerrorMessage(c) : "out of memory");
    PQfinish(c);
    return out;
  };
  if (c == nullptr || PQstatus(c) != CONNECTION_OK)
    return fail("connect: ");
  // Verbose error texts carry the SQLSTATE ("ERROR:  42501: ..."), as statement_error reads them.
  PQsetErrorVerbosity(c, PQERRORS_VERBOSE);
  for (const std::string &sql : setup) {
    PGresult *r = PQexec(c, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
      return fail(sql + ": ");
  }
  for (const PreparedStatement &s : statements) {
    PGresult *r = PQprepare(c, s.name.c_str(), s.sql.c_str(), 0, nullptr);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
      return fail("prepare " + s.name + ": ");
  }
  if (PQsetnonblocking(c, 1) != 0)
    return fail("nonblocking: ");
  out.connection = c;
  return out;
}

// Whether an idle connection is still usable, without a round trip: an idle connection has
// nothing to read, so data or end-of-file on its socket means PostgreSQL closed it (a restart
// sends FATAL 57P01, then closes) or said something unexpected.
bool alive(PGconn *c) {
  if (PQstatus(c) != CONNECTION_OK)
    return false;
  char byte;
  ssize_t n = recv(PQsocket(c), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

class Pool::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(net::io_context &loop, std::string url, std::size_t size,
       std::vector<PreparedStatement> statements, std::vector<std::string> setup)
      : loop_(loop),
        url_(std::move(url)),
        statements_(std::move(statements)),
        setup_(std::move(setup)),
        slots_(size),
        connector_(1) {
    stats_.size = size;
  }

  void call(std::shared_ptr<Pending> p) {
    if (waiting_.empty()) {
      if (Slot *slot = idle())
        return send(*slot, std::move(p));
    }
    p->timer = std::make_unique<net::steady_timer>(loop_, p->wait);
    p->timer->async_wait([self = shared_from_this(), p](boost::system::error_code ec) {
      if (!ec)
        self->expire(p);
    });
    waiting_.push_back(std::move(p));
    count([](PoolStats &s) { ++s.waiting; });
    pump();
  }

  // At the server's end, with the loop no longer running calls: closes every connection.
  void close() {
    closed_ = true;
    connector_.join();
    for (Slot &slot : slots_)
      drop(slot);
  }

  net::io_context &loop() { return loop_; }

  PoolStats stats() const {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    return stats_;
  }

 private:
  struct Slot {
    PGconn *connection = nullptr;
    std::unique_ptr<Socket> socket;  // PQsocket, not owned (released)
    bool busy = false;
    bool connecting = false;
  };

  template <class F>
  void count(F f) {
    std::lock_guard<std::mutex> lock(stats_mutex_);
    f(stats_);
  }

  // A connection to send on: the lowest free slot (the warmest at low load) that is alive; a
  // dead one found on the way is closed.
  Slot *idle() {
    for (Slot &slot : slots_) {
      if (slot.connection == nullptr || slot.busy || slot.connecting)
        continue;
      if (alive(slot.connection))
        return &slot;
      discard(slot);
    }
    return nullptr;
  }

  // The waiting calls go to the connections that are free, and connections are opened for
  // those still waiting, as far as the pool's size allows.
  void pump() {
    while (!waiting_.empty()) {
      if (Slot *slot = idle()) {
        send(*slot, first_waiting());
        continue;
      }
      std::size_t connecting = 0;
      Slot *empty = nullptr;
      for (Slot &slot : slots_) {
        connecting += slot.connecting ? 1 : 0;
        if (empty == nullptr && slot.connection == nullptr && !slot.connecting)
          empty = &slot;
      }
      if (empty == nullptr || connecting >= waiting_.size())
        return;
      connect(*empty);
    }
  }

  // The call that has waited longest, out of the line (its wait's timer cancelled: the handler
  // then sees operation_aborted).
  std::shared_ptr<Pending> first_waiting() {
    std::shared_ptr<Pending> p = std::move(waiting_.front());
    waiting_.pop_front();
    count([](PoolStats &s) { --s.waiting; });
    p->timer.reset();
    return p;
  }

  void expire(const std::shared_ptr<Pending> &p) {
    for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
      if (*it != p)
        continue;
      waiting_.erase(it);
      count([](PoolStats &s) {
        --s.waiting;
        ++s.wait_timeouts;
      });
      ApiError error = http_error(503, "every database connection is busy; retry shortly");
      error.code = "pool_exhausted";
      return answer(p, DbOutcome{{}, std::move(error)});
    }
  }

  void connect(Slot &slot) {
    slot.connecting = true;
    std::size_t index = static_cast<std::size_t>(&slot - slots_.data());
    // The guard keeps the loop running until the connection is back.
    net::post(connector_,
              [self = shared_from_this(), index, guard = net::make_work_guard(loop_)]() mutable {
                Opened opened = self->closed_ ? Opened{nullptr, "the server is stopping"}
                                              : open(self->url_, self->setup_, self->statements_);
                net::post(self->loop_, [self, index, opened = std::move(opened)] {
                  self->connected(self->slots_[index], opened);
                });
                guard.reset();
              });
  }

  void connected(Slot &slot, const Opened &opened) {
    slot.connecting = false;
    if (opened.connection == nullptr) {
      count([](PoolStats &s) { ++s.connect_failures; });
      // The call that waits longest learns of it now, not when its wait runs out.
      if (!waiting_.empty()) {
        answer(first_waiting(), DbOutcome{{}, database_unavailable(opened.error)});
      }
      return pump();
    }
    if (closed_) {
      PQfinish(opened.connection);
      return;
    }
    slot.connection = opened.connection;
    slot.socket = std::make_unique<Socket>(loop_, PQsocket(slot.connection));
    count([](PoolStats &s) {
      ++s.open;
      ++s.connects;
    });
    pump();
  }

  void send(Slot &slot, std::shared_ptr<Pending> p) {
    slot.busy = true;
    count([](PoolStats &s) { ++s.in_use; });
    std::vector<const char *> values;
    values.reserve(p->call.params.size());
    for (const auto &v : p->call.params)
      values.push_back(v ? v->c_str() : nullptr);
    p->outcome = {};
    p->answered = false;
    if (PQsendQueryPrepared(slot.connection, p->call.statement.c_str(),
                            static_cast<int>(values.size()), values.data(), nullptr, nullptr,
                            0) == 0)
      return broken(slot, std::move(p));
    flush(slot, std::move(p));
  }

  // The query may not have left in one write (a large body): the rest goes when the socket
  // takes it.
  void flush(Slot &slot, std::shared_ptr<Pending> p) {
    int left = PQflush(slot.connection);
    if (left < 0)
      return broken(slot, std::move(p));
    if (left == 0)
      return await(slot, std::move(p), Socket::wait_read, &Impl::receive);
    await(slot, std::move(p), Socket::wait_write, &Impl::flush);
  }

  // Waits until the socket is ready (`ready`), then goes on with `next`.
  void await(Slot &slot, std::shared_ptr<Pending> p, Socket::wait_type ready,
             void (Impl::*next)(Slot &, std::shared_ptr<Pending>)) {
    slot.socket->async_wait(
        ready, [self = shared_from_this(), &slot, p, next](boost::system::error_code ec) {
          if (ec)
            return;  // the pool is closing
          ((*self).*next)(slot, p);
        });
  }

  void receive(Slot &slot, std::shared_ptr<Pending> p) {
    if (PQconsumeInput(slot.connection) == 0)
      return broken(slot, std::move(p));
    while (PQisBusy(slot.connection) == 0) {
      PGresult *result = PQgetResult(slot.connection);
      if (result == nullptr)
        return finish(slot, std::move(p));
      take(*p, result);
      PQclear(result);
    }
    await(slot, std::move(p), Socket::wait_read, &Impl::receive);
  }

  // One result of the statement (a call's statement gives one; any further is read and dropped).
  static void take(Pending &p, PGresult *result) {
    if (p.answered)
      return;
    p.answered = true;
    switch (PQresultStatus(result)) {
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK: {
        int rows = PQntuples(result), columns = PQnfields(result);
        p.outcome.rows.reserve(static_cast<std::size_t>(rows));
        for (int i = 0; i < rows; ++i) {
          DbRow &row = p.outcome.rows.emplace_back();
          for (int j = 0; j < columns; ++j) {
            if (PQgetisnull(result, i, j))
              row.emplace_back(std::nullopt);
            else
              row.emplace_back(std::string(PQgetvalue(result, i, j),
                                           static_cast<std::size_t>(PQgetlength(result, i, j))));
          }
        }
        return;
      }
      default: {
        const char *sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
        p.outcome.error = ApiError{};  // the text is read in finish(): the connection may be gone
        p.outcome.error->code = sqlstate != nullptr ? sqlstate : "";
        p.outcome.error->message = PQresultErrorMessage(result);
        return;
      }
    }
  }

  void finish(Slot &slot, std::shared_ptr<Pending> p) {
    release(slot);
    if (!p->outcome.error)
      return answer(p, std::move(p->outcome));
    std::string sqlstate = std::move(p->outcome.error->code);
    std::string text = std::move(p->outcome.error->message);
    if (PQstatus(slot.connection) != CONNECTION_OK) {
      discard(slot);
      // A server shutting down ends its connections with 57P01; a read may go to a fresh one.
      if (retry(p))
        return;
    }
    p->outcome.error = statement_error(sqlstate, text);
    answer(p, std::move(p->outcome));
  }

  // The connection broke mid-call: closed; the call runs again if it may, else 503.
  void broken(Slot &slot, std::shared_ptr<Pending> p) {
    std::string why = PQerrorMessage(slot.connection);
    release(slot);
    discard(slot);
    if (!retry(p))
      answer(p, DbOutcome{{}, database_unavailable(why)});
  }

  bool retry(const std::shared_ptr<Pending> &p) {
    if (!p->call.retry_safe || p->attempt > 1)
      return false;
    ++p->attempt;
    call(p);
    return true;
  }

  // The slot is free; the calls waiting for one are served once this call is answered (and,
  // if its connection broke, closed).
  void release(Slot &slot) {
    slot.busy = false;
    count([](PoolStats &s) { --s.in_use; });
    if (!waiting_.empty())
      net::post(loop_, [self = shared_from_this()] { self->pump(); });
  }

  void discard(Slot &slot) {
    if (slot.connection == nullptr)
      return;
    drop(slot);
    count([](PoolStats &s) {
      --s.open;
      ++s.discarded;
    });
  }

  static void drop(Slot &slot) {
    if (slot.socket) {
      slot.socket->release();  // libpq owns the descriptor
      slot.socket.reset();
    }
    PQfinish(slot.connection);
    slot.connection = nullptr;
  }

  void answer(const std::shared_ptr<Pending> &p, DbOutcome outcome) {
    net::post(loop_, [done = std::move(p->done), outcome = std::move(outcome)]() mutable {
      done(std::move(outcome));
    });
  }

  net::io_context &loop_;
  const std::string url_;
  const std::vector<PreparedStatement> statements_;
  const std::vector<std::string> setup_;
  std::vector<Slot> slots_;
  std::deque<std::shared_ptr<Pending>> waiting_;  // oldest first
  std::atomic<bool> closed_{false};
  net::thread_pool connector_;
  mutable std::mutex stats_mutex_;  // stats() is read from any thread
  PoolStats stats_;
};

Pool::Pool(net::io_context &loop, std::string url, std::size_t size,
           std::vector<PreparedStatement> statements, std::vector<std::string> session_setup)
    : impl_(std::make_shared<Impl>(loop, std::move(url), size, std::move(statements),
                                   std::move(session_setup))) {}

Pool::~Pool() {
  impl_->close();
}

void Pool::call(DbCall call, std::chrono::milliseconds wait, Done done) {
  auto p = std::make_shared<Pending>();
  p->call = std::move(call);
  p->wait = wait;
  p->done = std::move(done);
  // (At once when this is the loop's thread, as for every request.)
  net::dispatch(impl_->loop(),
                [impl = impl_, p = std::move(p)]() mutable { impl->call(std::move(p)); });
}

PoolStats Pool::stats() const {
  return impl_->stats();
}

}  // namespace pgi::server
