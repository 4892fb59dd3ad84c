#include "errors.hpp"

#include <nlohmann/json.hpp>

namespace pgi::server {

namespace {

struct StatusText {
  int status;
  const char *code;
  const char *message;  // when the caller has nothing more precise to say
};

constexpr StatusText kStatuses[] = {
    {400, "bad_request", "the request could not be parsed"},
    {401, "unauthorized", "missing bearer token"},
    {403, "forbidden", "not allowed"},
    {404, "not_found", "no such route"},
    {405, "method_not_allowed", "method not allowed"},
    {408, "request_timeout", "the request took too long to arrive"},
    {409, "conflict", "conflict"},
    {411, "length_required", "a request body needs a Content-Length"},
    {413, "payload_too_large", "the request body is larger than the limit"},
    {414, "uri_too_long", "the request line is too long"},
    {415, "unsupported_media_type", "unsupported media type"},
    {416, "range_not_satisfiable", "range not satisfiable"},
    {431, "too_many_headers", "too many request headers"},
    {503, "service_unavailable", "service unavailable"},
};

struct Mapping {
  const char *sqlstate;  // five characters, or two for a whole class
  int status;
  const char *code;
};

// Most specific first: an exact SQLSTATE, then its class.
constexpr Mapping kMappings[] = {
    {"28000", 401, "unauthorized"},  // invalid_authorization_specification: bad token
    {"28P01", 401, "unauthorized"},
    {"42501", 403, "forbidden"},  // insufficient_privilege: the token lacks a scope
    {"P0002", 404, "not_found"},
    {"55000", 409, "wrong_state"},  // restore of an active row, purge of an active row
    {"23505", 409, "conflict"},     // an Idempotency-Key reused with another body
    {"22023", 400, "invalid_parameter"},
    {"22004", 400, "null_value"},
    {"23502", 400, "null_value"},
    {"23514", 400, "check_violation"},  // a value over its bound
    {"22P02", 400, "invalid_input"},    // e.g. a body that is not JSON
    {"22P05", 400, "invalid_text"},     // e.g. \u0000 in JSON
    {"22021", 400, "invalid_text"},     // bytes that are not UTF-8
    {"54000", 400, "limit_exceeded"},
    {"54001", 400, "limit_exceeded"},
    {"57014", 503, "timeout"},  // statement_timeout
    {"40001", 503, "retry"},    // serialization failure, deadlock: transient
    {"40P01", 503, "retry"},
    {"57P01", 503, "database_unavailable"},  // shutting down
    {"57P02", 503, "database_unavailable"},
    {"57P03", 503, "database_unavailable"},  // starting up
    {"3F000", 503, "database_not_ready"},    // no inbox schema: extension not installed
    {"42883", 503, "database_not_ready"},    // a function missing: extension too old
    {"22", 400, "invalid_input"},
    {"23", 400, "constraint_violation"},
    {"08", 503, "database_unavailable"},  // connection exceptions
    {"53", 503, "database_unavailable"},  // insufficient resources
};

}  // namespace

ApiError http_error(int status, std::string message) {
  for (const StatusText &s : kStatuses) {
    if (s.status == status) {
      return ApiError{status, s.code, message.empty() ? s.message : std::move(message), {}, {}};
    }
  }
  bool client = status < 500;
  return ApiError{
      status,
      client ? "bad_request" : "internal_error",
      message.empty() ? (client ? "bad request" : "internal error") : std::move(message),
      {},
      {}};
}

ApiError sqlstate_error(const std::string &sqlstate, std::string message, std::string detail,
                        std::string hint) {
  for (const Mapping &m : kMappings) {
    if (sqlstate.compare(0, std::char_traits<char>::length(m.sqlstate), m.sqlstate) == 0) {
      return ApiError{m.status, m.code, std::move(message), std::move(detail), std::move(hint)};
    }
  }
  return ApiError{500, "internal_error", "internal error", {}, {}};
}

std::string error_body(const ApiError &error) {
  nlohmann::json inner = {{"code", error.code}, {"message", error.message}};
  if (!error.detail.empty())
    inner["detail"] = error.detail;
  if (!error.hint.empty())
    inner["hint"] = error.hint;
  // Replace, never throw, on bytes that are not UTF-8: an error must always be reportable.
  return nlohmann::json{{"error", inner}}.dump(-1, ' ', false,
                                               nlohmann::json::error_handler_t::replace);
}

std::string errors_envelope_body(const ApiError &error) {
  const char *code = error.status >= 500 ? "INTERNAL_SERVER_ERROR" : "INVALID_QUERY";
  switch (error.status) {
    case 400:
      code = "INVALID_PAYLOAD";
      break;
    case 401:
      code = "INVALID_CREDENTIALS";
      break;
    case 403:
      code = "FORBIDDEN";
      break;
    case 404:
      code = "ROUTE_NOT_FOUND";
      break;
    case 411:
    case 413:
      code = "CONTENT_TOO_LARGE";
      break;
    case 415:
      code = "UNSUPPORTED_MEDIA_TYPE";
      break;
    case 503:
      code = "SERVICE_UNAVAILABLE";
      break;
    default:
      break;
  }
  nlohmann::ordered_json extensions = {{"code", code}};
  if (!error.hint.empty())
    extensions["hint"] = error.hint;
  nlohmann::ordered_json entry = {{"message", error.message}, {"extensions", extensions}};
  return nlohmann::ordered_json{{"errors", nlohmann::ordered_json::array({entry})}}.dump(
      -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace pgi::server
