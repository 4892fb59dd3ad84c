#include "directus_routes.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "db/call.hpp"
#include "log.hpp"
#include "http/request_input.hpp"

namespace pgi::server {

namespace {

const char *const kPrefix = "/notifications";
const char *const kJsonType = "application/json; charset=utf-8";

// The SQL function behind each route, and what it takes: (token, [id], [body], [query]).
struct Statement {
  const char *name;
  const char *sql;
};

constexpr Statement kStatements[] = {
    {"directus_read", "SELECT inbox.directus_read($1, $2)"},
    {"directus_search", "SELECT inbox.directus_search($1, $2, $3)"},
    {"directus_create", "SELECT inbox.directus_create($1, $2, $3)"},
    {"directus_update_many", "SELECT inbox.directus_update_many($1, $2, $3)"},
    {"directus_delete_many", "SELECT inbox.directus_delete_many($1, $2)"},
    {"directus_read_one", "SELECT inbox.directus_read_one($1, $2, $3)"},
    {"directus_update_one", "SELECT inbox.directus_update_one($1, $2, $3, $4)"},
    {"directus_delete_one", "SELECT inbox.directus_delete_one($1, $2)"},
};

using Params = std::vector<std::optional<std::string>>;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Directus's code for an error the server's mapping produced.
struct Code {
  int status;
  const char *code;
};

Code directus_code(const ApiError &e) {
  switch (e.status) {
    case 401:
      return {401, "INVALID_CREDENTIALS"};
    case 403:
    case 404:  // an item the caller may not see, whether or not it exists
      return {403, "FORBIDDEN"};
    case 409:
      return {400, "INVALID_PAYLOAD"};
    case 413:
      return {413, "CONTENT_TOO_LARGE"};
    case 415:
      return {415, "UNSUPPORTED_MEDIA_TYPE"};
    case 503:
      return {503, "SERVICE_UNAVAILABLE"};
    default:
      break;
  }
  if (e.status >= 500)
    return {500, "INTERNAL_SERVER_ERROR"};
  if (e.code == "check_violation" || e.code == "null_value")
    return {400, "FAILED_VALIDATION"};
  if (e.code == "constraint_violation")  // class 23 beyond those: a foreign key (23503)
    return {400, "INVALID_FOREIGN_KEY"};
  // The SQL functions name the part of a request body they reject "payload...".
  if (e.message.rfind("payload", 0) == 0)
    return {400, "INVALID_PAYLOAD"};
  return {400, "INVALID_QUERY"};
}

HttpResponse envelope(int status, const std::string &code, const std::string &message,
                      const std::string &hint = {}) {
  nlohmann::ordered_json extensions;
  extensions["code"] = code;
  if (!hint.empty())
    extensions["hint"] = hint;
  nlohmann::ordered_json error;
  error["message"] = message;
  error["extensions"] = std::move(extensions);
  HttpResponse out;
  out.status = status;
  out.content_type = kJsonType;
  out.body = nlohmann::ordered_json{{"errors", nlohmann::ordered_json::array({error})}}.dump(
      -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return out;
}

ApiFailure payload_error(const std::string &message) {
  ApiError e = http_error(400, message);
  return ApiFailure(e);
}

// The token: the bearer of an Authorization header, else ?access_token=. Anything else is no
// token (Directus's public role).
std::optional<std::string> token(const HttpRequest &request) {
  if (std::optional<std::string> header = request.header("Authorization")) {
    if (header->size() > 7 && lower(header->substr(0, 7)) == "bearer ") {
      std::string t = header->substr(7);
      t.erase(0, t.find_first_not_of(' '));
      t.erase(t.find_last_not_of(' ') + 1);
      check_no_nul("Authorization", t);
      return t;
    }
  }
  auto it = request.query().find("access_token");
  if (it != request.query().end()) {
    check_no_nul("access_token", it->second);
    return it->second;
  }
  return std::nullopt;
}

// The query string as JSON: repeated keys become arrays (groupBy[]=a&groupBy[]=b), brackets
// are left for SQL to fold. access_token is the caller, not the query.
std::string query_json(const HttpRequest &request) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto &[name, value] : request.query()) {
    if (name == "access_token")
      continue;
    if (!is_valid_utf8(name) || !is_valid_utf8(value))
      throw ApiFailure(http_error(400, "query string: not valid UTF-8"));
    check_no_nul("query string", name);
    check_no_nul(name, value);
    nlohmann::json &slot = object[name];
    if (slot.is_null()) {
      slot = value;
    } else {
      if (!slot.is_array())
        slot = nlohmann::json::array({slot});
      slot.push_back(value);
    }
  }
  return object.dump();
}

// The request body: JSON, or a 400 INVALID_PAYLOAD saying why not.
std::string body(const HttpRequest &request) {
  std::optional<std::string> type = request.header("Content-Type");
  if (type && !is_json_media_type(*type))
    throw ApiFailure(http_error(415, "payload: expected Content-Type: application/json"));
  const std::string &text = request.body();
  if (text.empty())
    throw payload_error("payload: expected a JSON request body");
  check_no_nul("payload", text);
  try {
    nlohmann::json parsed = nlohmann::json::parse(text);  // checked here, parsed again by SQL
    (void)parsed;
  } catch (const nlohmann::json::parse_error &e) {
    throw payload_error(std::string("payload: invalid JSON: ") + e.what());
  }
  return text;
}

}  // namespace

std::vector<PreparedStatement> DirectusRoutes::prepared_statements() {
  std::vector<PreparedStatement> out;
  for (const Statement &s : kStatements)
    out.push_back({s.name, s.sql});
  return out;
}

HttpResponse directus_error(const ApiError &error) {
  Code c = directus_code(error);
  // A server error's detail stays in the log; its message is already generic.
  return envelope(c.status, c.code, error.message, c.status >= 500 ? std::string() : error.hint);
}

std::optional<HttpResponse> DirectusRoutes::handle(const HttpRequest &request) const {
  const std::string &path = request.path();
  std::string prefix = kPrefix;
  if (path.compare(0, prefix.size(), prefix) != 0 ||
      (path.size() > prefix.size() && path[prefix.size()] != '/'))
    return std::nullopt;
  try {
    return dispatch(request);
  } catch (const ApiFailure &failure) {
    return directus_error(failure.error());
  } catch (const std::exception &e) {
    log_line("unexpected error on " + request.method() + " " + path + ": " + e.what());
    return directus_error(http_error(500, "internal error"));
  }
}

HttpResponse DirectusRoutes::dispatch(const HttpRequest &request) const {
  std::string rest = request.path().substr(std::char_traits<char>::length(kPrefix));
  if (rest == "/")
    rest.clear();
  std::optional<std::string> id;
  if (!rest.empty()) {
    id = rest.substr(1);
    if (id->empty() || id->find('/') != std::string::npos)
      return envelope(404, "ROUTE_NOT_FOUND", "Route " + request.path() + " doesn't exist.");
    check_no_nul("id", *id);
  }
  std::string method = request.method();
  if (method == "HEAD")
    method = "GET";
  if (method == "POST" && request.header(kOriginalMethodHeader).value_or("") == "SEARCH")
    method = "SEARCH";

  const char *statement = nullptr;
  Params params{token(request)};
  bool reads = method == "GET" || method == "SEARCH";
  bool no_content = method == "DELETE";
  if (!id) {
    if (method == "GET") {
      statement = "directus_read";
      params.push_back(query_json(request));
    } else if (method == "SEARCH" || method == "POST" || method == "PATCH") {
      statement = method == "SEARCH" ? "directus_search"
                  : method == "POST" ? "directus_create"
                                     : "directus_update_many";
      params.push_back(body(request));
      params.push_back(query_json(request));
    } else if (method == "DELETE") {
      statement = "directus_delete_many";
      params.push_back(body(request));
    }
  } else {
    if (method == "GET") {
      statement = "directus_read_one";
      params.push_back(*id);
      params.push_back(query_json(request));
    } else if (method == "PATCH") {
      statement = "directus_update_one";
      params.push_back(*id);
      params.push_back(body(request));
      params.push_back(query_json(request));
    } else if (method == "DELETE") {
      statement = "directus_delete_one";
      params.push_back(*id);
    }
  }
  if (statement == nullptr)
    return envelope(404, "ROUTE_NOT_FOUND", "Route " + request.path() + " doesn't exist.");

  std::string answer = call_database(pool_, std::chrono::milliseconds(config_.pool_wait_ms),
                                     DbCall{statement, params, reads});
  HttpResponse out;
  out.content_type = kJsonType;
  if (no_content) {
    out.status = 204;
  } else {
    out.status = 200;
    out.body = std::move(answer);
  }
  return out;
}

}  // namespace pgi::server
