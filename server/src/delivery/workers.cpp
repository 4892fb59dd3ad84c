#include "delivery/workers.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include <sys/socket.h>

#include <curl/curl.h>
#include <pqxx/pqxx>

#include "delivery/transfer.hpp"
#include "log.hpp"

namespace pgi::server {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Results are acknowledged in batches (one inbox.finish_deliveries for many transfers): when this
// many are waiting, when the oldest has waited kReportWait, or when nothing else is in flight.
constexpr std::size_t kReportBatch = 500;
constexpr milliseconds kReportWait{100};

// An e-mail worker's SMTP connections, kept open between messages: each claimed e-mail waits in
// the multi handle for one of them and is sent on it as the next message of that session
// (MAIL FROM, RCPT, DATA: no connect, greeting, EHLO or QUIT of its own). libcurl (7.88) blocks
// the thread on the reply to each message's end of data anyway (curl#8555), so more sessions in
// parallel only overlap the commands' round trips; a connection per claimed row (up to
// --delivery-concurrency) cost the server and the SMTP server a session per e-mail and the
// worker's every wait a poll over all of their sockets. (A transfer waiting for a connection
// counts its --delivery-timeout-ms from its claim, curl#4486: against a hung SMTP server the
// waiting ones time out as soon as the connections they wait for do, and against one so slow
// that a claim's e-mails take longer than that, the last ones time out and are retried, as the
// blocking end of data made them before.)
constexpr long kSmtpConnections = 8;

struct DeliveryWorkers::Worker {
  // channel: "webhook" or "email", the one channel it claims; prunes: the worker that prunes.
  Worker(const Config &config, std::string channel, int index, bool prunes,
         std::atomic<bool> &stopping)
      : config(config),
        name((channel == "email" ? "e-mail worker " : "delivery worker ") + std::to_string(index)),
        prunes(prunes),
        stopping(stopping),
        multi(curl_multi_init()),
        channels("{" + channel + "}") {
    if (multi == nullptr)
      throw std::runtime_error("curl_multi_init failed");
    if (channel == "email") {
      curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, kSmtpConnections);
      curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, kSmtpConnections);
    }
  }
  ~Worker() { curl_multi_cleanup(multi); }

  void wake() { curl_multi_wakeup(multi); }
  void run();

 private:
  bool connected();
  void claim();
  void collect();
  // A claim is a statement: with transfers still in flight, it waits until a quarter of
  // --delivery-concurrency is free (the transfers finishing wake the loop).
  bool room_waits() const {
    std::size_t room = static_cast<std::size_t>(config.delivery_concurrency) - in_flight.size();
    return !in_flight.empty() && room < std::max<std::size_t>(1, config.delivery_concurrency / 4);
  }
  void finish(nlohmann::json result);
  void report();
  void prune();
  void lost_database(const std::exception &e);

  const Config &config;
  const std::string name;  // in the log
  const bool prunes;
  std::atomic<bool> &stopping;
  OpenSockets sockets;  // (before multi: its connections are closed into it)
  CURLM *multi;
  const std::string channels;  // claim_deliveries's channels: one
  std::optional<pqxx::connection> db;
  std::map<CURL *, std::unique_ptr<Transfer>> in_flight;
  nlohmann::json finished = nlohmann::json::array();
  Clock::time_point finished_since;  // when the oldest result in `finished` came
  Clock::time_point next_claim = Clock::now();
  Clock::time_point next_prune = Clock::now();
  Clock::time_point next_connect = Clock::now();
};

bool DeliveryWorkers::Worker::connected() {
  if (db && db->is_open())
    return true;
  if (Clock::now() < next_connect)
    return false;
  try {
    db.emplace(config.database_url);
    pqxx::nontransaction tx(*db);
    tx.exec("SET statement_timeout = " + std::to_string(config.statement_timeout_ms));
    tx.exec("SET application_name = 'pg_inbox delivery'");
    tx.exec("SET client_min_messages = warning");
    return true;
  } catch (const std::exception &e) {
    lost_database(e);
    return false;
  }
}

void DeliveryWorkers::Worker::lost_database(const std::exception &e) {
  log_line(name + ": " + e.what());
  db.reset();
  next_connect = Clock::now() + milliseconds(1000);
}

void DeliveryWorkers::Worker::claim() {
  if (room_waits() || Clock::now() < next_claim || !connected())
    return;
  std::size_t room = static_cast<std::size_t>(config.delivery_concurrency) - in_flight.size();
  std::size_t claimed = 0;
  try {
    pqxx::nontransaction tx(*db);
    pqxx::result rows = tx.exec_params(
        "SELECT user_id, id, lease, channel, target, headers, body, secret "
        "FROM inbox.claim_deliveries($1, $2::pg_catalog.interval, $3::pg_catalog.text[])",
        static_cast<int>(room), std::to_string(config.delivery_lease_ms) + " milliseconds",
        channels);
    for (const auto &r : rows) {
      Claimed c{r[0].as<std::string>(),
                r[1].as<std::string>(),
                r[2].as<std::string>(),
                r[3].as<std::string>(),
                r[4].is_null() ? "" : r[4].as<std::string>(),
                r[6].is_null() ? "" : r[6].as<std::string>(),
                r[7].is_null() ? "" : r[7].as<std::string>(),
                nlohmann::json::parse(r[5].is_null() ? "{}" : r[5].c_str())};
      auto transfer = std::make_unique<Transfer>(config, std::move(c), sockets);
      ++claimed;
      if (transfer->done()) {
        finish(transfer->report());
        continue;
      }
      CURL *easy = transfer->easy();
      in_flight.emplace(easy, std::move(transfer));
      curl_multi_add_handle(multi, easy);
    }
  } catch (const pqxx::broken_connection &e) {
    lost_database(e);
  } catch (const std::exception &e) {
    // (No pg_inbox in the database yet, or an older one: look again in a while, not every poll.)
    log_line(name + ": claim failed: " + e.what());
    next_claim = Clock::now() + milliseconds(5000);
    return;
  }
  // A full batch: there may be more at once; otherwise look again after the poll interval.
  next_claim =
      claimed == room ? Clock::now() : Clock::now() + milliseconds(config.delivery_poll_ms);
}

void DeliveryWorkers::Worker::collect() {
  int left = 0;
  while (CURLMsg *m = curl_multi_info_read(multi, &left)) {
    if (m->msg != CURLMSG_DONE)
      continue;
    auto found = in_flight.find(m->easy_handle);
    if (found == in_flight.end())
      continue;
    finish(found->second->report(m->data.result));
    curl_multi_remove_handle(multi, m->easy_handle);
    in_flight.erase(found);
  }
}

void DeliveryWorkers::Worker::finish(nlohmann::json result) {
  if (finished.empty())
    finished_since = Clock::now();
  finished.push_back(std::move(result));
}

void DeliveryWorkers::Worker::report() {
  if (finished.empty())
    return;
  if (finished.size() < kReportBatch && !in_flight.empty() && !stopping &&
      Clock::now() - finished_since < kReportWait)
    return;
  if (!connected())
    return;
  try {
    pqxx::nontransaction tx(*db);
    tx.exec_params("SELECT inbox.finish_deliveries($1::pg_catalog.jsonb)", finished.dump());
    finished = nlohmann::json::array();
  } catch (const pqxx::broken_connection &e) {
    lost_database(e);  // kept, reported once the connection is back (or the leases run out)
  } catch (const std::exception &e) {
    log_line(name + ": report failed: " + e.what());
    finished = nlohmann::json::array();  // the leases bring the rows back
  }
}

void DeliveryWorkers::Worker::prune() {
  if (!prunes || Clock::now() < next_prune || !connected())
    return;
  next_prune = Clock::now() + milliseconds(60000);
  try {
    pqxx::nontransaction tx(*db);
    tx.exec("SELECT inbox.prune_deliveries(10000)");
  } catch (const pqxx::broken_connection &e) {
    lost_database(e);
  } catch (const std::exception &e) {
    log_line(name + ": prune failed: " + e.what());
  }
}

void DeliveryWorkers::Worker::run() {
  while (!stopping) {
    claim();
    int running = 0;
    curl_multi_perform(multi, &running);
    collect();
    report();
    prune();
    // Wait for a socket, a timer of curl's, the next claim, or wake().
    auto until_claim = std::chrono::duration_cast<milliseconds>(next_claim - Clock::now()).count();
    int wait = static_cast<int>(std::clamp<long long>(until_claim, 0, config.delivery_poll_ms));
    if (room_waits())
      wait = config.delivery_poll_ms;
    if (!finished.empty())
      wait = std::min(wait, static_cast<int>(kReportWait.count()));  // a batch to report
    curl_multi_poll(multi, nullptr, 0, wait, nullptr);
  }
  // libcurl (7.88) ends an SMTP transfer removed in flight as if it were whole: it sends the end
  // of data (".") and waits for the reply, so the SMTP server would take a cut or empty message
  // and the lease would send it again. Cut every connection first: the send fails at once, the
  // server drops the unfinished message, and the lease brings the row back whole.
  for (curl_socket_t s : sockets)
    shutdown(s, SHUT_RDWR);
  for (auto &[easy, transfer] : in_flight)
    curl_multi_remove_handle(multi, easy);
  in_flight.clear();
  report();
}

DeliveryWorkers::DeliveryWorkers(const Config &config) : config_(config) {}

DeliveryWorkers::~DeliveryWorkers() {
  stop();
}

void DeliveryWorkers::start() {
  // E-mail has threads of its own: libcurl (7.88) waits for the SMTP server's reply to each
  // message's end of data blocking the thread (curl#8555, the SMTP "done" phase), so a slow SMTP
  // server holds up what shares its thread; it must never hold up webhooks.
  if (config_.delivery_workers == 0)
    return;
  for (int i = 0; i < config_.delivery_workers; ++i)
    launch("webhook", i);
  for (int i = 0; !config_.smtp_url.empty() && i < config_.smtp_workers; ++i)
    launch("email", i);
}

void DeliveryWorkers::launch(const std::string &channel, int index) {
  bool prunes = workers_.empty();  // the first worker prunes
  workers_.push_back(std::make_unique<Worker>(config_, channel, index, prunes, stopping_));
  Worker *worker = workers_.back().get();
  threads_.emplace_back([worker] {
    try {
      worker->run();
    } catch (const std::exception &e) {
      log_line(std::string("delivery worker stopped: ") + e.what());
    }
  });
}

void DeliveryWorkers::stop() {
  stopping_ = true;
  for (auto &w : workers_)
    w->wake();
  for (std::thread &t : threads_) {
    if (t.joinable())
      t.join();
  }
  threads_.clear();
  workers_.clear();
}

}  // namespace pgi::server
