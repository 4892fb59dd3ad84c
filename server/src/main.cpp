// pg_inbox_server: the REST API of pg_inbox. See config.hpp for the options, routes/table.hpp
// for what it answers.
//
// Shutdown: SIGTERM or SIGINT stops accepting connections and closes idle ones; the requests
// in flight finish, their responses are written, and the process exits 0. The signals are blocked
// in every thread and taken by one thread with sigwait, so no work happens in a signal handler.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <curl/curl.h>
#include <pthread.h>

#include "config.hpp"
#include "db/pool.hpp"
#include "delivery/workers.hpp"
#include "db/pruner.hpp"
#include "http/http_server.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "realtime/service.hpp"
#include "realtime/statements.hpp"
#include "routes/dispatcher.hpp"
#include "routes/table.hpp"
#include "routes/ui_files.hpp"

using namespace pgi::server;

int main(int argc, char **argv) {
  std::optional<Config> parsed;
  try {
    parsed = parse_config(argc, argv, std::cout);
  } catch (const std::exception &e) {
    std::cerr << "pg_inbox_server: " << e.what() << "\n(--help lists the options)\n";
    return 2;
  }
  if (!parsed)
    return 0;
  const Config config = *parsed;

  // Before any thread starts, so that every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A client that hangs up mid-response must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  // A PostgreSQL host that does not answer must not hold a request for the OS's TCP timeout.
  setenv("PGCONNECT_TIMEOUT", "3", 0);
  // libcurl (the delivery workers) is set up once, before any thread.
  curl_global_init(CURL_GLOBAL_DEFAULT);

  std::vector<PreparedStatement> statements = prepared_statements();
  for (PreparedStatement &s : realtime_statements())
    statements.push_back(std::move(s));
  // The event loop, on listen()'s thread: first, so that it outlives all that is bound to it.
  boost::asio::io_context loop(1);
  // The connections of the routes and the streams, driven from the loop.
  Pool pool(loop, config.database_url, static_cast<std::size_t>(config.pool_size),
            std::move(statements),
            {"SET statement_timeout = " + std::to_string(config.statement_timeout_ms),
             "SET client_min_messages = warning"});
  RealtimeService realtime(config, pool);
  Metrics metrics(&realtime.stats());
  UiFiles ui(config.ui_dir);
  log_line("browser UI: " + std::to_string(ui.loaded()) + " of " + std::to_string(kUiFileCount) +
           " files from " + ui.dir() + (ui.loaded() == kUiFileCount ? "" : " (see --ui-dir)"));
  Dispatcher dispatcher(config, pool, metrics, ui);
  Pruner pruner(config.database_url, config.prune_interval_s);
  HttpServer server(
      loop, config, dispatcher,
      [&dispatcher, &metrics](const HttpRequest &request, int status, double seconds) {
        metrics.record(dispatcher.label(request), status, seconds);
        char duration[32] = "-";
        if (seconds >= 0)
          std::snprintf(duration, sizeof duration, "%.3fms", seconds * 1000);
        // (A request whose line could not be read has no method and no path.)
        const std::string &method = request.method();
        log_line((method.empty() ? "-" : method) + " " + (method.empty() ? "-" : request.path()) +
                 " " + std::to_string(status) + " " + duration);
      },
      &realtime);

  std::thread signals([&server, stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    log_line(std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
             ": finishing the requests in flight");
    server.stop();
  });

  log_line("listening on http://" + config.host + ":" + std::to_string(config.port) + " (pool " +
           std::to_string(config.pool_size) + ", max connections " +
           std::to_string(config.max_connections) + ", delivery workers " +
           std::to_string(config.delivery_workers) +
           (config.smtp_url.empty() || config.delivery_workers == 0
                ? ", no e-mail"
                : ", e-mail workers " + std::to_string(config.smtp_workers)) +
           ")");
  if (config.threads != 0)
    log_line("--threads is ignored since 0.2.0: no thread waits on a database call");
  DeliveryWorkers delivery(config);
  delivery.start();
  bool served = server.listen(config.host, config.port);
  delivery.stop();
  if (!served) {
    log_line("cannot listen on " + config.host + ":" + std::to_string(config.port));
    // Wake the signal thread so it can be joined.
    pthread_kill(signals.native_handle(), SIGTERM);
  }
  signals.join();
  pruner.stop();
  log_line("stopped");
  return served ? 0 : 1;
}
