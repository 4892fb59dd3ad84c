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
  int threads = 64;                      // HTTP worker threads (one per open client connection)
  int pool_size = 8;                     // PostgreSQL connections
  std::size_t max_body_bytes = 1 << 20;  // larger bodies answer 413
  std::size_t max_query_bytes = 4096;    // longer query strings answer 414
  std::size_t max_headers = 64;          // more request headers answer 431
  int statement_timeout_ms = 5000;       // PostgreSQL cancels a longer statement (503)
  int pool_wait_ms = 5000;               // longer waits for a free connection answer 503
};

// Parses the command line over the environment. Returns nullopt after writing the help to
// `out` for --help; throws std::invalid_argument naming the option for a bad or missing value.
std::optional<Config> parse_config(int argc, char **argv, std::ostream &out);

}  // namespace pgi::server
