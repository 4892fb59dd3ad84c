// The one route table: every route of every dialect, one row each (table.cpp). A row says
// what the route is, not how an HTTP library serves it:
//
//   pattern     "METHOD /path/{id}" (HEAD is answered by GET; SEARCH is a method like another)
//   dialect     how the request is read and errors are written (routes/dialect.hpp)
//   statement   the prepared statement it runs, if any, and the SQL of it
//   args        what is bound to the statement's $1, $2, ..., in order
//   retry       whether the call may run again on a fresh connection when the first broke
//   reply       how the statement's row becomes the response
//   status      the success status, for replies that pass the JSON through
//   transport   an exchange (one request, one response), a file of the browser UI
//               (routes/ui_files.hpp: answered from memory, no statement, no reply), or a stream
//               the realtime layer takes over after the head (server-sent events, a WebSocket;
//               server/src/realtime/): its row has no statement, the stream makes its own calls
//
// The metrics label a request with its row's pattern. The rows of one path share a dialect.
#pragma once

#include <string>
#include <vector>

#include "config.hpp"
#include "db/pool.hpp"
#include "http/http_server.hpp"
#include "metrics.hpp"
#include "routes/dialect.hpp"
#include "routes/ui_files.hpp"

namespace pgi::server {

// What a row binds to its statement's parameters.
enum class Arg {
  kToken,           // the caller's token, read as the dialect reads it; NULL for none
  kId,              // the {id} segment of the path
  kSubId,           // the second {...} segment of the path (/api/webhooks/{id}/deliveries/{id})
  kQuery,           // the query string as JSON, read as the dialect reads it
  kBody,            // the body, checked as the dialect checks it
  kIdempotencyKey,  // the Idempotency-Key header (NULL without); with one, a retry is safe
  kOrigin,          // "http://<Host>" ("https://" behind X-Forwarded-Proto: https), for links;
                    // NULL when the Host is not a plain host[:port]
};

enum class Retry {
  kUnsafe,
  // The statement changes nothing, or a second run has the effect and the answer of the first.
  kSafe,
};

enum class Transport {
  kExchange,
  kFile,               // one of the UI's files (routes/ui_files.hpp), by the row's pattern
  kSse,                // text/event-stream (realtime/sse_session.hpp)
  kWebSocket,          // Directus's realtime protocol (realtime/ws_session.hpp)
  kMastodonSse,        // Mastodon's streaming API over SSE (realtime/mastodon_session.hpp)
  kMastodonWebSocket,  // Mastodon's streaming API over a WebSocket (the same)
};

struct Statement {
  const char *name = nullptr;  // nullptr: the route answers without the database
  // Empty: "SELECT inbox.<name>($1, ..., $n)", one parameter per argument of the row, its
  // answer passed through the dialect's response_text.
  std::string sql = {};
};

// What a reply has to hand: the server's configuration, pool and metrics, and the UI's files.
struct Services {
  const Config &config;
  const Pool &db;
  const Metrics &metrics;
  const UiFiles &ui;
};

struct Route;
// The response, from the statement's row (empty for a route without a statement).
using Reply = HttpResponse (*)(const Route &route, std::vector<std::string> &&row,
                               const Services &services);

struct Route {
  const char *pattern;
  const Dialect *dialect;
  Statement statement;
  std::vector<Arg> args;
  Retry retry;
  Reply reply;
  int status = 200;
  Transport transport = Transport::kExchange;
};

const std::vector<Route> &route_table();

// The statements of the table, for every pooled connection to prepare.
std::vector<PreparedStatement> prepared_statements();

}  // namespace pgi::server
