#include "realtime/poller.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/prepared_statement>

#include "log.hpp"
#include "realtime/events.hpp"
#include "realtime/statements.hpp"

namespace pgi::server {

namespace {

// Events fetched for one user in one poll, at most; a user with more catches up by itself.
constexpr long long kFetchLimit = 1000;
constexpr int kPollLimit = 1000;
constexpr int kMaxReconnectPauseMs = 2000;
// The interval of the poller's polls while no stream is open (see run()).
constexpr int kIdlePollMs = 250;
// The memory of what was fetched, per user, is forgotten beyond this many users.
constexpr std::size_t kFetchedUsers = 100000;

pqxx::result exec(pqxx::nontransaction &tx, const char *statement,
                  const std::vector<std::optional<std::string>> &params) {
  std::vector<const char *> values;
  for (const auto &p : params)
    values.push_back(p ? p->c_str() : nullptr);
  return tx.exec_prepared(statement, pqxx::prepare::make_dynamic_params(values));
}

}  // namespace

Poller::Poller(const Config &config, Hub &hub) : config_(config), hub_(hub) {}

Poller::~Poller() {
  stop();
}

void Poller::start() {
  thread_ = std::thread([this] { run(); });
}

void Poller::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

bool Poller::pause(int milliseconds) {
  std::unique_lock<std::mutex> lock(mutex_);
  wake_.wait_for(lock, std::chrono::milliseconds(milliseconds), [this] { return stopping_; });
  return !stopping_;
}

void Poller::run() {
  using Clock = std::chrono::steady_clock;
  int backoff = 50;
  Clock::time_point next_token_check =
      Clock::now() + std::chrono::milliseconds(config_.stream_token_check_ms);
  while (true) {
    std::unique_ptr<pqxx::connection> db;
    try {
      db = std::make_unique<pqxx::connection>(config_.database_url);
      db->set_verbosity(pqxx::connection::verbose);
      {
        pqxx::nontransaction setup(*db);
        setup.exec("SET statement_timeout = " + std::to_string(config_.statement_timeout_ms));
        setup.exec("SET client_min_messages = warning");
        setup.exec("SET application_name = 'pg_inbox_server feed poller'");
      }
      for (const PreparedStatement &s : realtime_statements())
        db->prepare(s.name, s.sql);
      backoff = 50;
    } catch (const std::exception &e) {
      ++hub_.stats.poll_failures;
      log_line(std::string("feed poller: cannot connect: ") + e.what());
      if (!pause(backoff))
        return;
      backoff = std::min(backoff * 2, kMaxReconnectPauseMs);
      continue;
    }
    Clock::time_point next_poll = Clock::now();
    while (true) {
      // With no stream open nothing waits for the feed's events, but the cursor must stay
      // continuous: a stream that opens catches up by itself, and the poller's next poll must
      // not skip what committed meanwhile. So an idle poller still polls, every kIdlePollMs
      // (about a poll's worth of the database's time a second instead of a hundred), and goes
      // back to --feed-poll-ms at its next tick once a stream is open.
      if (hub_.open_streams() > 0 || Clock::now() >= next_poll) {
        if (!poll_once(*db))
          break;
        next_poll = Clock::now() + std::chrono::milliseconds(kIdlePollMs);
      }
      if (Clock::now() >= next_token_check) {
        check_tokens(*db);
        next_token_check = Clock::now() + std::chrono::milliseconds(config_.stream_token_check_ms);
      }
      if (!pause(config_.feed_poll_ms))
        return;
    }
    if (!pause(backoff))
      return;
  }
}

bool Poller::poll_once(pqxx::connection &db) {
  try {
    pqxx::nontransaction tx(db);
    pqxx::result rows = exec(tx, sql::kFeedPoll, {cursor_, std::to_string(kPollLimit)});
    ++hub_.stats.polls;
    // The last id of each user in the batch, and the lowest.
    std::map<std::string, std::pair<long long, long long>> users;  // user -> (min, max)
    std::optional<std::string> next = cursor_;
    for (const pqxx::row &r : rows) {
      if (!r[0].is_null())
        next = r[0].as<std::string>();
      if (r[1].is_null())
        continue;
      long long id = r[2].as<long long>();
      auto [it, fresh] = users.emplace(r[1].as<std::string>(), std::make_pair(id, id));
      if (!fresh) {
        it->second.first = std::min(it->second.first, id);
        it->second.second = std::max(it->second.second, id);
      }
    }
    if (users.empty()) {
      cursor_ = next;
      return true;
    }
    std::vector<std::string> names;
    std::vector<std::pair<std::string, long long>> heads;
    for (const auto &[user, range] : users) {
      names.push_back(user);
      heads.emplace_back(user, range.second);
    }
    // The payloads, for subscribed users only, in one statement.
    nlohmann::json wanted = nlohmann::json::array();
    for (const std::string &user : hub_.subscribed(names)) {
      const auto &[low, high] = users[user];
      auto known = fetched_.find(user);
      long long after = low - 1;
      if (known != fetched_.end())
        after = std::max(after, known->second);
      if (high <= after)
        continue;  // seen before (a poll may return a row again)
      wanted.push_back(
          {{"user_id", user}, {"after", after}, {"n", std::min(high - after, kFetchLimit)}});
    }
    std::vector<std::shared_ptr<const UserEvents>> batches;
    if (!wanted.empty()) {
      std::map<std::string, std::shared_ptr<UserEvents>> by_user;
      try {
        pqxx::result fetched = exec(tx, sql::kFeedFetch, {wanted.dump()});
        for (const pqxx::row &r : fetched) {
          std::string user = r[0].as<std::string>();
          auto &batch = by_user[user];
          if (!batch) {
            batch = std::make_shared<UserEvents>();
            batch->user_id = user;
          }
          batch->events.push_back(event_of(r, 1));
        }
      } catch (const pqxx::broken_connection &) {
        throw;
      } catch (const pqxx::sql_error &e) {
        // An `after` the feed can no longer resume (pruned under us): no payloads this time;
        // each subscriber sees its gap through `seen` and catches up by itself.
        if (!db.is_open())
          throw;
        log_line(std::string("feed poller: fetch failed: ") + e.what());
      }
      if (fetched_.size() > kFetchedUsers)
        fetched_.clear();
      for (auto &[user, batch] : by_user) {
        fetched_[user] = batch->events.back().id;
        batches.push_back(std::move(batch));
      }
    }
    hub_.publish(heads, batches);
    cursor_ = next;
    return true;
  } catch (const std::exception &e) {
    ++hub_.stats.poll_failures;
    log_line(std::string("feed poller: ") + e.what());
    return db.is_open();
  }
}

void Poller::check_tokens(pqxx::connection &db) {
  std::vector<std::string> tokens = hub_.tokens();
  if (tokens.empty())
    return;
  try {
    pqxx::nontransaction tx(db);
    pqxx::result gone = exec(tx, sql::kFeedTokens, {nlohmann::json(tokens).dump()});
    std::set<std::string> revoked;
    for (const pqxx::row &r : gone)
      revoked.insert(r[0].as<std::string>());
    if (!revoked.empty())
      hub_.revoke(revoked);
  } catch (const std::exception &e) {
    log_line(std::string("feed poller: token check failed: ") + e.what());
  }
}

}  // namespace pgi::server
