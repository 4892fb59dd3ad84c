// The server's options. Each comes from a command-line flag or, when the flag is absent, from
// an environment variable of the same name in upper case (--pool-size / POOL_SIZE).
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>

namespace pgi::server {

struct Config {
  std::string database_url;  // libpq URI or key=value string; required
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 0;    // 0.1.0's worker threads: accepted and ignored (no thread waits on a call)
  int pool_size = 8;  // PostgreSQL connections
  int max_connections = 10000;                // client connections; beyond, see http_server.hpp
  std::size_t max_body_bytes = 1 << 20;       // a larger Content-Length answers 413
  std::size_t max_query_bytes = 4096;         // longer query strings answer 414
  std::size_t max_request_line_bytes = 8192;  // a longer request target answers 414
  std::size_t max_headers = 64;               // more request headers answer 431
  std::size_t max_header_bytes = 65536;       // a larger head (line and headers) answers 431
  int head_timeout_ms = 10000;   // the head must arrive within this from its first byte, else 408
  int body_timeout_ms = 30000;   // the body must arrive within this after the head, else 408
  int idle_timeout_ms = 5000;    // a connection without a request for this long is closed
  int write_timeout_ms = 10000;  // a response the client does not take within this is dropped
  int statement_timeout_ms = 5000;  // PostgreSQL cancels a longer statement (503)
  int pool_wait_ms = 5000;          // longer waits for a free connection answer 503

  // Delivery (delivery/workers.hpp): e-mail and webhooks from the outbox.
  int delivery_workers = 2;         // webhook threads, each with its own connection; 0: none
  int smtp_workers = 1;             // e-mail threads (with smtp_url), each with its own connection
  int delivery_concurrency = 256;   // transfers in flight per worker
  int delivery_timeout_ms = 10000;  // a webhook or SMTP transfer taking longer is retried
  int delivery_lease_ms = 60000;    // a claimed delivery not finished within this comes back
  int delivery_poll_ms = 200;       // how often an idle worker looks for due deliveries
  std::string smtp_url;             // smtp://host:port (or smtps://); empty: e-mail is not sent
  std::string mail_from;            // the From of every e-mail: "Name <address>" or address
  std::string public_url;           // the base of the unsubscribe links (default http://host:port)
  bool webhook_allow_private = false;  // let webhooks reach loopback and private addresses
  int prune_interval_s = 0;  // run inbox.prune_step to the end this often (0: never; issue 19)
  // Realtime (server/src/realtime/): the feed poller, the SSE and WebSocket streams.
  int feed_poll_ms = 10;                      // the one poller's interval
  std::size_t stream_buffer_bytes = 1 << 20;  // a client with more unsent bytes is dropped
  int stream_ping_ms = 15000;                 // SSE ": ping" comment interval
  int max_streams = 10000;                    // SSE streams and WebSockets; beyond, 503
  int stream_token_check_ms = 30000;          // revoked or expired tokens end their streams
  int ws_auth_timeout_ms = 10000;             // a WebSocket must authenticate within this
  int ws_heartbeat_ms = 30000;                // WebSocket heartbeat ping interval
  std::size_t ws_max_message_bytes = 65536;   // larger client messages: an error frame
  std::string ui_dir;  // the browser UI's files (routes/ui_files.hpp); "" = beside the server
};

// Parses the command line over the environment. Returns nullopt after writing the help to
// `out` for --help; throws std::invalid_argument naming the option for a bad or missing value.
std::optional<Config> parse_config(int argc, char **argv, std::ostream &out);

}  // namespace pgi::server
