#include "graphql_route.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>

#include "db/call.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "http/request_input.hpp"

namespace pgi::server {

namespace {

// Both statements answer (response, HTTP status): the status is decided in SQL, so the
// response is never parsed here.
const char *const kPost = "graphql_post";
const char *const kGet = "graphql_get";
constexpr const char *kStatusOf =
    "SELECT answer.r, CASE WHEN pg_catalog.jsonb_typeof(answer.r::jsonb) = 'object' "
    "AND (answer.r::jsonb) ? 'data' THEN 200 "
    "WHEN (answer.r::jsonb) #>> '{errors,0,extensions,code}' = 'METHOD_NOT_ALLOWED' THEN 405 "
    "ELSE 400 END FROM ";

// The caller's token: the bearer of Authorization, else ?access_token=; none is the public role.
std::optional<std::string> token(const HttpRequest &request) {
  if (std::optional<std::string> header = request.header("Authorization")) {
    std::string scheme = header->substr(0, 7);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (scheme == "bearer ")
      return bearer_token(header);
  }
  auto it = request.query().find("access_token");
  if (it == request.query().end())
    return std::nullopt;
  check_no_nul("access_token", it->second);
  return it->second;
}

}  // namespace

std::vector<PreparedStatement> graphql_statements() {
  return {
      {kPost,
       std::string(kStatusOf) +
           "(SELECT inbox.graphql(b->>'query', NULLIF(b->'variables', 'null'::jsonb), "
           "b->>'operationName', $1) AS r FROM (SELECT $2::jsonb AS b) AS request) AS answer"},
      {kGet, std::string(kStatusOf) +
                 "(SELECT inbox.graphql(q->>'query', (q->>'variables')::jsonb, "
                 "q->>'operationName', $1, 'GET') AS r FROM (SELECT $2::jsonb AS q) AS request) "
                 "AS answer"},
  };
}

HttpResponse graphql_answer(Pool &pool, std::chrono::milliseconds wait,
                            const HttpRequest &request) {
  HttpResponse out;
  try {
    std::vector<std::optional<std::string>> params{token(request)};
    bool post = request.method() == "POST";
    if (post) {
      const std::string &body = request.body();
      std::optional<std::string> type = request.header("Content-Type");
      if (!type || !is_json_media_type(*type)) {
        throw ApiFailure(http_error(415, "expected Content-Type: application/json"));
      }
      if (body.empty())
        throw ApiFailure(http_error(400, "expected a JSON body {\"query\": ...}"));
      check_no_nul("body", body);
      params.emplace_back(body);
    } else {
      std::multimap<std::string, std::string> query = request.query();
      query.erase("access_token");
      params.emplace_back(query_json(query));
    }
    // A POST may be a mutation: never sent twice. A GET cannot be one (inbox.graphql refuses
    // mutations for method GET: 405).
    std::vector<std::string> row =
        call_database_row(pool, wait, DbCall{post ? kPost : kGet, params, !post});
    out.status = std::stoi(row.at(1));
    out.body = std::move(row.at(0));
    if (out.status == 405)
      out.headers.emplace_back("Allow", "POST");
  } catch (const ApiFailure &failure) {
    out.status = failure.error().status;
    out.body = errors_envelope_body(failure.error());
  } catch (const std::exception &e) {
    log_line(std::string("unexpected error on /graphql/system: ") + e.what());
    ApiError error = http_error(500, "internal error");
    out.status = error.status;
    out.body = errors_envelope_body(error);
  }
  return out;
}

}  // namespace pgi::server
