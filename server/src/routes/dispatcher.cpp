#include "routes/dispatcher.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <string_view>

#include "db/call.hpp"
#include "errors.hpp"
#include "http/request_input.hpp"
#include "log.hpp"

namespace pgi::server {

namespace {

std::vector<std::string> patterns() {
  std::vector<std::string> out;
  for (const Route &r : route_table())
    out.emplace_back(r.pattern);
  return out;
}

// The origin of links the answer carries: the scheme and the Host the client used. A Host that is
// not a plain host[:port] gives none (the links are then relative), so a header can never
// forge text into another header.
std::optional<std::string> origin(const HttpRequest &request) {
  std::optional<std::string> host = request.header("Host");
  if (!host || host->empty() || host->size() > 255)
    return std::nullopt;
  for (unsigned char c : *host) {
    bool ok = std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok)
      return std::nullopt;
  }
  std::optional<std::string> proto = request.header("X-Forwarded-Proto");
  return std::string(proto && *proto == "https" ? "https://" : "http://") + *host;
}

// What `make` answers, or what it threw in the dialect's shape: an ApiFailure's error, anything
// else 500 (logged with `where`).
template <class Make>
HttpResponse guarded(const Dialect &dialect, const std::string &where, Make make) {
  try {
    return make();
  } catch (const ApiFailure &failure) {
    return dialect.write_error(failure.error());
  } catch (const std::exception &e) {
    log_line("unexpected error on " + where + ": " + e.what());
    return dialect.write_error(http_error(500, "internal error"));
  }
}

}  // namespace

// --pool-wait-ms bounds the wait for a connection from the moment the request was complete: the
// time it waited for a worker counts.
std::chrono::milliseconds Dispatcher::pool_wait(const HttpRequest &request) const {
  using namespace std::chrono;
  milliseconds wait(services_.config.pool_wait_ms);
  if (request.arrived() == HttpRequest::Clock::time_point{})
    return wait;
  auto waited = duration_cast<milliseconds>(HttpRequest::Clock::now() - request.arrived());
  return std::max(milliseconds(0), wait - waited);
}

Dispatcher::Dispatcher(const Config &config, Pool &db, const Metrics &metrics, const UiFiles &ui)
    : db_(db), services_{config, db, metrics, ui}, router_(patterns()) {}

Dispatcher::Lookup Dispatcher::lookup(std::string_view method, std::string_view path) const {
  const Dialect &owner = dialect_of_path(path);
  if (owner.scope != nullptr && path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  Router::Match match = router_.match(method, path);
  const Dialect *dialect =
      match.outcome == Router::Outcome::kNotFound ? &owner : route_table()[match.route].dialect;
  return {std::move(match), dialect};
}

Dispatcher::Lookup Dispatcher::lookup(const HttpRequest &request) const {
  return lookup(request.method(), request.path());
}

bool Dispatcher::waits(const HttpRequest &request) const {
  Lookup found = lookup(request);
  return found.match.outcome == Router::Outcome::kFound &&
         route_table()[found.match.route].statement.name != nullptr;
}

bool Dispatcher::operational(const HttpRequest &request) const {
  Lookup found = lookup(request);
  if (found.match.outcome == Router::Outcome::kNotFound)
    return false;
  const std::vector<Arg> &args = route_table()[found.match.route].args;
  return std::find(args.begin(), args.end(), Arg::kToken) == args.end();
}

HttpResponse Dispatcher::refuse(std::string_view path, const ApiError &error) const {
  // A method no row has: the path's rows, whatever their method, name the dialect.
  HttpResponse out = lookup("", path).dialect->write_error(error);
  out.status = error.status;
  return out;
}

StreamKind Dispatcher::stream_kind(const HttpRequest &request) const {
  if (request.method() != "GET")
    return StreamKind::kNone;
  Lookup found = lookup(request);
  if (found.match.outcome != Router::Outcome::kFound)
    return StreamKind::kNone;
  switch (route_table()[found.match.route].transport) {
    case Transport::kExchange:
    case Transport::kFile:
      return StreamKind::kNone;
    case Transport::kSse:
      return StreamKind::kEventStream;
    case Transport::kMastodonSse:
      return StreamKind::kMastodonEventStream;
    case Transport::kWebSocket:
    case Transport::kMastodonWebSocket: {
      std::optional<std::string> upgrade = request.header("Upgrade");
      bool websocket = upgrade && upgrade->size() == 9 &&
                       std::equal(upgrade->begin(), upgrade->end(), "websocket",
                                  [](char a, char b) { return std::tolower(a) == b; });
      if (!websocket)
        return StreamKind::kNone;
      return route_table()[found.match.route].transport == Transport::kWebSocket
                 ? StreamKind::kWebSocket
                 : StreamKind::kMastodonWebSocket;
    }
  }
  return StreamKind::kNone;
}

const char *Dispatcher::label(const HttpRequest &request) const {
  Lookup found = lookup(request);
  if (found.match.outcome != Router::Outcome::kFound)
    return "unmatched";
  return route_table()[found.match.route].pattern;
}

HttpResponse Dispatcher::handle(const HttpRequest &request) const {
  Lookup found = lookup(request);
  return guarded(*found.dialect, request.method() + " " + request.path(),
                 [&] { return answer(found, request); });
}

void Dispatcher::start(const HttpRequest &request,
                       std::function<void(HttpResponse response)> reply) const {
  Lookup found = lookup(request);
  const Route &route = route_table()[found.match.route];
  const Dialect *dialect = found.dialect;
  std::optional<DbCall> call;
  HttpResponse refused = guarded(*dialect, request.method() + " " + request.path(), [&] {
    call = call_of(route, found.match, request);
    return HttpResponse{};
  });
  if (!call)
    return reply(std::move(refused));
  db_.call(std::move(*call), pool_wait(request),
           [this, &route, dialect, reply = std::move(reply)](DbOutcome outcome) {
             reply(guarded(*dialect, route.pattern, [&] {
               if (outcome.error)
                 return dialect->write_error(*outcome.error);
               return route.reply(route, one_row(std::move(outcome.rows)), services_);
             }));
           });
}

HttpResponse Dispatcher::answer(const Lookup &found, const HttpRequest &request) const {
  const Router::Match &match = found.match;
  if (match.outcome == Router::Outcome::kFound)
    return serve(route_table()[match.route], request);
  const Dialect &dialect = *found.dialect;
  if (match.outcome == Router::Outcome::kNotFound || !dialect.answers_405)
    throw ApiFailure(dialect.no_route(request));
  HttpResponse out;
  if (request.method() == "OPTIONS") {
    out.status = 204;
    out.headers.emplace_back("Allow", match.allow + ", OPTIONS");
    return out;
  }
  out = dialect.write_error(http_error(405, request.method() + " is not allowed on " +
                                                request.path() + "; allowed: " + match.allow));
  out.headers.emplace_back("Allow", match.allow);
  return out;
}

// A row without a statement: a file of the UI, or a reply from what the server knows.
HttpResponse Dispatcher::serve(const Route &route, const HttpRequest &request) const {
  if (route.transport == Transport::kFile)
    return services_.ui.respond(route.pattern, request);
  return route.reply(route, {}, services_);
}

// A row's statement with its arguments, as its dialect reads them from the request.
DbCall Dispatcher::call_of(const Route &route, const Router::Match &match,
                           const HttpRequest &request) const {
  const Dialect &dialect = *route.dialect;
  std::vector<std::optional<std::string>> params;
  params.reserve(route.args.size());
  bool retry_safe = route.retry == Retry::kSafe;
  for (Arg arg : route.args) {
    switch (arg) {
      case Arg::kToken:
        params.push_back(dialect.token(request));
        break;
      case Arg::kId:
        check_no_nul("id", match.params.at(0));
        params.emplace_back(match.params.at(0));
        break;
      case Arg::kSubId:
        check_no_nul("id", match.params.at(1));
        params.emplace_back(match.params.at(1));
        break;
      case Arg::kQuery:
        params.emplace_back(dialect.query(request));
        break;
      case Arg::kBody:
        params.emplace_back(dialect.read_body(request));
        break;
      case Arg::kOrigin:
        params.push_back(origin(request));
        break;
      case Arg::kIdempotencyKey: {
        std::optional<std::string> key = request.header("Idempotency-Key");
        if (key)
          check_no_nul("Idempotency-Key", *key);
        // A keyed create answers a repeat with its first response: safe to send again.
        retry_safe = retry_safe || key.has_value();
        params.push_back(std::move(key));
        break;
      }
    }
  }
  return DbCall{route.statement.name, std::move(params), retry_safe};
}

}  // namespace pgi::server
