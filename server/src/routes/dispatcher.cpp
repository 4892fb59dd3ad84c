#include "routes/dispatcher.hpp"

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

}  // namespace

Dispatcher::Dispatcher(const Config &config, Pool &pool, const Metrics &metrics)
    : services_{config, pool, metrics}, router_(patterns()) {}

Dispatcher::Lookup Dispatcher::lookup(const HttpRequest &request) const {
  std::string_view path = request.path();
  const Dialect &owner = dialect_of_path(path);
  if (owner.scope != nullptr && path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  Router::Match match = router_.match(request.method(), path);
  const Dialect *dialect =
      match.outcome == Router::Outcome::kNotFound ? &owner : route_table()[match.route].dialect;
  return {std::move(match), dialect};
}

const char *Dispatcher::label(const HttpRequest &request) const {
  Lookup found = lookup(request);
  if (found.match.outcome != Router::Outcome::kFound)
    return "unmatched";
  return route_table()[found.match.route].pattern;
}

HttpResponse Dispatcher::handle(const HttpRequest &request) const {
  Lookup found = lookup(request);
  try {
    return answer(found, request);
  } catch (const ApiFailure &failure) {
    return found.dialect->write_error(failure.error());
  } catch (const std::exception &e) {
    log_line("unexpected error on " + request.method() + " " + request.path() + ": " + e.what());
    return found.dialect->write_error(http_error(500, "internal error"));
  }
}

HttpResponse Dispatcher::answer(const Lookup &found, const HttpRequest &request) const {
  const Router::Match &match = found.match;
  if (match.outcome == Router::Outcome::kFound)
    return serve(route_table()[match.route], match, request);
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

HttpResponse Dispatcher::serve(const Route &route, const Router::Match &match,
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
      case Arg::kQuery:
        params.emplace_back(dialect.query(request));
        break;
      case Arg::kBody:
        params.emplace_back(dialect.read_body(request));
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
  std::vector<std::string> row;
  if (route.statement.name != nullptr) {
    row = call_database(services_.pool, std::chrono::milliseconds(services_.config.pool_wait_ms),
                        DbCall{route.statement.name, params, retry_safe});
  }
  return route.reply(route, std::move(row), services_);
}

}  // namespace pgi::server
