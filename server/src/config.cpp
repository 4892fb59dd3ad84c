#include "config.hpp"

#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace pgi::server {

namespace {

struct Option {
  const char *flag;  // without the leading --
  const char *env;
  const char *help;
  std::function<void(Config &, const std::string &)> set;
};

long long parse_number(const std::string &name, const std::string &text, long long min,
                       long long max) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < min || value > max) {
    throw std::invalid_argument(name + ": expected an integer from " + std::to_string(min) +
                                " to " + std::to_string(max) + ", got '" + text + "'");
  }
  return value;
}

std::vector<Option> options() {
  auto integer = [](int Config::*field, long long min, long long max, const char *name) {
    return [=](Config &c, const std::string &v) {
      c.*field = static_cast<int>(parse_number(name, v, min, max));
    };
  };
  auto size = [](std::size_t Config::*field, long long min, long long max, const char *name) {
    return [=](Config &c, const std::string &v) {
      c.*field = static_cast<std::size_t>(parse_number(name, v, min, max));
    };
  };
  return {
      {"database-url", "DATABASE_URL", "PostgreSQL connection URI (required)",
       [](Config &c, const std::string &v) { c.database_url = v; }},
      {"host", "HOST", "address to listen on (default 127.0.0.1)",
       [](Config &c, const std::string &v) { c.host = v; }},
      {"port", "PORT", "port to listen on (default 8080)",
       integer(&Config::port, 1, 65535, "--port")},
      {"threads", "THREADS",
       "ignored since 0.2.0 (the database calls are made on the event loop; accepted so that "
       "0.1.0's command lines still start)",
       integer(&Config::threads, 1, 1024, "--threads")},
      {"pool-size", "POOL_SIZE", "PostgreSQL connections (default 8)",
       integer(&Config::pool_size, 1, 1024, "--pool-size")},
      {"max-connections", "MAX_CONNECTIONS",
       "client connections; beyond, only the operations routes answer (default 10000)",
       integer(&Config::max_connections, 1, 1000000, "--max-connections")},
      {"max-body-bytes", "MAX_BODY_BYTES", "largest request body, else 413 (default 1048576)",
       size(&Config::max_body_bytes, 1, 1LL << 30, "--max-body-bytes")},
      {"max-query-bytes", "MAX_QUERY_BYTES", "longest query string, else 414 (default 4096)",
       size(&Config::max_query_bytes, 1, 8000, "--max-query-bytes")},
      {"max-headers", "MAX_HEADERS", "most request headers, else 431 (default 64)",
       size(&Config::max_headers, 1, 1000, "--max-headers")},
      {"max-header-bytes", "MAX_HEADER_BYTES",
       "largest request head (line and headers), else 431 (default 65536)",
       size(&Config::max_header_bytes, 1024, 1 << 20, "--max-header-bytes")},
      {"head-timeout-ms", "HEAD_TIMEOUT_MS",
       "time for a request head from its first byte, else 408 (default 10000)",
       integer(&Config::head_timeout_ms, 1, 3600000, "--head-timeout-ms")},
      {"body-timeout-ms", "BODY_TIMEOUT_MS",
       "time for a request body after its head, else 408 (default 30000)",
       integer(&Config::body_timeout_ms, 1, 3600000, "--body-timeout-ms")},
      {"idle-timeout-ms", "IDLE_TIMEOUT_MS",
       "a connection without a request for this long is closed (default 5000)",
       integer(&Config::idle_timeout_ms, 1, 3600000, "--idle-timeout-ms")},
      {"write-timeout-ms", "WRITE_TIMEOUT_MS",
       "a response not taken by the client in this time is dropped (default 10000)",
       integer(&Config::write_timeout_ms, 1, 3600000, "--write-timeout-ms")},
      {"statement-timeout-ms", "STATEMENT_TIMEOUT_MS",
       "PostgreSQL statement_timeout per request, else 503 (default 5000)",
       integer(&Config::statement_timeout_ms, 1, 3600000, "--statement-timeout-ms")},
      {"pool-wait-ms", "POOL_WAIT_MS",
       "longest wait for a free connection, else 503 (default 5000)",
       integer(&Config::pool_wait_ms, 1, 3600000, "--pool-wait-ms")},
      {"delivery-workers", "DELIVERY_WORKERS",
       "threads sending webhooks from the outbox; 0: an API-only process, nothing sent (default "
       "2)",
       integer(&Config::delivery_workers, 0, 64, "--delivery-workers")},
      {"smtp-workers", "SMTP_WORKERS",
       "threads sending e-mail from the outbox, with --smtp-url (default 1)",
       integer(&Config::smtp_workers, 1, 64, "--smtp-workers")},
      {"delivery-concurrency", "DELIVERY_CONCURRENCY",
       "deliveries in flight per worker (default 256)",
       integer(&Config::delivery_concurrency, 1, 10000, "--delivery-concurrency")},
      {"delivery-timeout-ms", "DELIVERY_TIMEOUT_MS",
       "a webhook call or e-mail taking longer is retried later (default 10000)",
       integer(&Config::delivery_timeout_ms, 100, 600000, "--delivery-timeout-ms")},
      {"delivery-lease-ms", "DELIVERY_LEASE_MS",
       "a claimed delivery not finished within this is claimed again (default 60000)",
       integer(&Config::delivery_lease_ms, 1000, 3600000, "--delivery-lease-ms")},
      {"delivery-poll-ms", "DELIVERY_POLL_MS",
       "how often an idle worker looks for due deliveries (default 200)",
       integer(&Config::delivery_poll_ms, 1, 60000, "--delivery-poll-ms")},
      {"smtp-url", "SMTP_URL", "SMTP server for e-mail, smtp://host:port (default: no e-mail)",
       [](Config &c, const std::string &v) { c.smtp_url = v; }},
      {"mail-from", "MAIL_FROM", "From of the e-mails: address or \"Name <address>\"",
       [](Config &c, const std::string &v) { c.mail_from = v; }},
      {"public-url", "PUBLIC_URL",
       "this server's URL as mail readers reach it, for unsubscribe links (default "
       "http://host:port)",
       [](Config &c, const std::string &v) { c.public_url = v; }},
      {"webhook-allow-private", "WEBHOOK_ALLOW_PRIVATE",
       "on: webhooks may reach loopback and private addresses (default off)",
       [](Config &c, const std::string &v) {
         if (v != "on" && v != "off")
           throw std::invalid_argument("--webhook-allow-private: expected on or off, got '" + v +
                                       "'");
         c.webhook_allow_private = v == "on";
       }},
      {"prune-interval", "PRUNE_INTERVAL",
       "seconds between retention runs (inbox.prune_step; default 0: never)",
       integer(&Config::prune_interval_s, 0, 604800, "--prune-interval")},
      {"feed-poll-ms", "FEED_POLL_MS",
       "interval of the one change-feed poller while a stream is open (default 10)",
       integer(&Config::feed_poll_ms, 1, 60000, "--feed-poll-ms")},
      {"stream-buffer-bytes", "STREAM_BUFFER_BYTES",
       "a stream whose client leaves more unsent bytes is closed (default 1048576)",
       size(&Config::stream_buffer_bytes, 4096, 1LL << 30, "--stream-buffer-bytes")},
      {"stream-ping-ms", "STREAM_PING_MS", "interval of the SSE \": ping\" comment (default 15000)",
       integer(&Config::stream_ping_ms, 10, 3600000, "--stream-ping-ms")},
      {"max-streams", "MAX_STREAMS",
       "open SSE streams and WebSockets; beyond, 503 with Retry-After (default 10000)",
       integer(&Config::max_streams, 0, 1000000, "--max-streams")},
      {"stream-token-check-ms", "STREAM_TOKEN_CHECK_MS",
       "streams of a revoked or expired token end within this (default 30000)",
       integer(&Config::stream_token_check_ms, 100, 3600000, "--stream-token-check-ms")},
      {"ws-auth-timeout-ms", "WS_AUTH_TIMEOUT_MS",
       "a WebSocket must authenticate within this (default 10000)",
       integer(&Config::ws_auth_timeout_ms, 10, 3600000, "--ws-auth-timeout-ms")},
      {"ws-heartbeat-ms", "WS_HEARTBEAT_MS",
       "WebSocket heartbeat: a ping this often, closed when unanswered (default 30000)",
       integer(&Config::ws_heartbeat_ms, 10, 3600000, "--ws-heartbeat-ms")},
      {"ws-max-message-bytes", "WS_MAX_MESSAGE_BYTES",
       "largest WebSocket message read; larger is an error frame (default 65536)",
       size(&Config::ws_max_message_bytes, 256, 1 << 20, "--ws-max-message-bytes")},
      {"ui-dir", "UI_DIR",
       "folder of the browser UI served at /demo and /ui/ (default: ui/ beside the server's "
       "folder, "
       "else share/pg_inbox/ui/ there)",
       [](Config &c, const std::string &v) { c.ui_dir = v; }},
  };
}

void write_help(std::ostream &out, const std::vector<Option> &all) {
  out << "usage: pg_inbox_server [options]\n\n"
         "The pg_inbox REST server. Each option can also be given as the environment variable\n"
         "shown; the command line wins.\n\n";
  auto line = [&out](const std::string &left, const char *help) {
    out << left << std::string(left.size() < 40 ? 40 - left.size() : 1, ' ') << help << "\n";
  };
  for (const Option &o : all)
    line(std::string("  --") + o.flag + " (" + o.env + ")", o.help);
  line("  --help", "print this help");
}

}  // namespace

std::optional<Config> parse_config(int argc, char **argv, std::ostream &out) {
  const std::vector<Option> all = options();
  Config config;
  for (const Option &o : all) {
    if (const char *value = std::getenv(o.env); value != nullptr && *value != '\0') {
      o.set(config, value);
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      write_help(out, all);
      return std::nullopt;
    }
    if (arg.substr(0, 2) != "--")
      throw std::invalid_argument("unexpected argument: " + std::string(arg));
    arg.remove_prefix(2);
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const Option *match = nullptr;
    for (const Option &o : all) {
      if (arg == o.flag)
        match = &o;
    }
    if (match == nullptr)
      throw std::invalid_argument("unknown option: --" + std::string(arg));
    if (!has_value) {
      if (i + 1 >= argc)
        throw std::invalid_argument("--" + std::string(arg) + ": missing value");
      value = argv[++i];
    }
    match->set(config, value);
  }
  if (config.database_url.empty()) {
    throw std::invalid_argument("--database-url (or DATABASE_URL) is required");
  }
  if (!config.smtp_url.empty() && config.mail_from.empty())
    throw std::invalid_argument("--smtp-url needs --mail-from");
  if (config.public_url.empty())
    config.public_url = "http://" + config.host + ":" + std::to_string(config.port);
  while (!config.public_url.empty() && config.public_url.back() == '/')
    config.public_url.pop_back();
  return config;
}

}  // namespace pgi::server
