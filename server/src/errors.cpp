#include "errors.hpp"

#include <nlohmann/json.hpp>

namespace pgi::server {

namespace {

using D = DirectusCode;

struct DirectusCodeText {
  DirectusCode code;
  const char *name;
  int status;
};

constexpr DirectusCodeText kDirectusCodes[] = {
    {D::kInvalidQuery, "INVALID_QUERY", 400},
    {D::kInvalidPayload, "INVALID_PAYLOAD", 400},
    {D::kFailedValidation, "FAILED_VALIDATION", 400},
    {D::kInvalidForeignKey, "INVALID_FOREIGN_KEY", 400},
    {D::kInvalidCredentials, "INVALID_CREDENTIALS", 401},
    {D::kForbidden, "FORBIDDEN", 403},
    {D::kRouteNotFound, "ROUTE_NOT_FOUND", 404},
    {D::kMethodNotAllowed, "METHOD_NOT_ALLOWED", 405},
    {D::kContentTooLarge, "CONTENT_TOO_LARGE", 413},
    {D::kUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", 415},
    {D::kRangeNotSatisfiable, "RANGE_NOT_SATISFIABLE", 416},
    {D::kInternalServerError, "INTERNAL_SERVER_ERROR", 500},
    {D::kServiceUnavailable, "SERVICE_UNAVAILABLE", 503},
};

const DirectusCodeText &directus_text(DirectusCode code) {
  for (const DirectusCodeText &t : kDirectusCodes) {
    if (t.code == code)
      return t;
  }
  return directus_text(D::kInternalServerError);
}

// The statuses the server answers by itself.
struct StatusText {
  int status;
  const char *code;
  const char *message;  // when the caller has nothing more precise to say
  DirectusCode directus;
};

constexpr StatusText kStatuses[] = {
    {400, "bad_request", "the request could not be parsed", D::kInvalidQuery},
    {401, "unauthorized", "missing bearer token", D::kInvalidCredentials},
    {403, "forbidden", "not allowed", D::kForbidden},
    {404, "not_found", "no such route", D::kRouteNotFound},
    {405, "method_not_allowed", "method not allowed", D::kMethodNotAllowed},
    {408, "request_timeout", "the request took too long to arrive", D::kInvalidPayload},
    {409, "conflict", "conflict", D::kInvalidPayload},
    {411, "length_required", "a request body needs a Content-Length", D::kInvalidPayload},
    {413, "payload_too_large", "the request body is larger than the limit", D::kContentTooLarge},
    {414, "uri_too_long", "the request line is too long", D::kInvalidQuery},
    {415, "unsupported_media_type", "unsupported media type", D::kUnsupportedMediaType},
    {416, "range_not_satisfiable", "range not satisfiable", D::kRangeNotSatisfiable},
    {431, "too_many_headers", "too many request headers", D::kInvalidQuery},
    {503, "service_unavailable", "service unavailable", D::kServiceUnavailable},
};

// What a PostgreSQL error answers, in every dialect.
struct Mapping {
  const char *sqlstate;  // five characters, or two for a whole class
  int status;
  const char *code;
  DirectusCode directus;
};

// Most specific first: an exact SQLSTATE, then its class.
constexpr Mapping kMappings[] = {
    // invalid_authorization_specification: a token that is not one, expired or revoked
    {"28000", 401, "unauthorized", D::kInvalidCredentials},
    {"28P01", 401, "unauthorized", D::kInvalidCredentials},
    {"42501", 403, "forbidden", D::kForbidden},  // insufficient_privilege: the token lacks a scope
    // Directus does not say whether an item it will not show exists.
    {"P0002", 404, "not_found", D::kForbidden},
    {"55000", 409, "wrong_state", D::kInvalidPayload},  // restore or purge of an active row
    {"23505", 409, "conflict", D::kInvalidPayload},     // an Idempotency-Key reused, another body
    {"22023", 400, "invalid_parameter", D::kInvalidQuery},
    {"22004", 400, "null_value", D::kFailedValidation},
    {"23502", 400, "null_value", D::kFailedValidation},
    {"23514", 400, "check_violation", D::kFailedValidation},  // a value over its bound
    {"22P02", 400, "invalid_input", D::kInvalidQuery},        // e.g. a body that is not JSON
    {"22P05", 400, "invalid_text", D::kInvalidQuery},         // e.g. \u0000 in JSON
    {"22021", 400, "invalid_text", D::kInvalidQuery},         // bytes that are not UTF-8
    {"54000", 400, "limit_exceeded", D::kInvalidQuery},
    {"54001", 400, "limit_exceeded", D::kInvalidQuery},
    {"57014", 503, "timeout", D::kServiceUnavailable},  // statement_timeout
    {"40001", 503, "retry", D::kServiceUnavailable},    // serialization failure, deadlock
    {"40P01", 503, "retry", D::kServiceUnavailable},
    {"57P01", 503, "database_unavailable", D::kServiceUnavailable},  // shutting down
    {"57P02", 503, "database_unavailable", D::kServiceUnavailable},
    {"57P03", 503, "database_unavailable", D::kServiceUnavailable},  // starting up
    // No inbox schema (the extension is not installed), a function missing (it is too old).
    {"3F000", 503, "database_not_ready", D::kServiceUnavailable},
    {"42883", 503, "database_not_ready", D::kServiceUnavailable},
    {"22", 400, "invalid_input", D::kInvalidQuery},
    // Class 23 beyond those above: a foreign key (23503), a recipient that is not a user.
    {"23", 400, "constraint_violation", D::kInvalidForeignKey},
    {"08", 503, "database_unavailable", D::kServiceUnavailable},  // connection exceptions
    {"53", 503, "database_unavailable", D::kServiceUnavailable},  // insufficient resources
};

// Directus tells a bad payload (the body) from a bad query. The SQL functions and the server's
// body checks name the body "payload" first in their messages ("payload.recipient: ...").
DirectusCode blame(DirectusCode code, const std::string &message) {
  if (code == D::kInvalidQuery && message.rfind("payload", 0) == 0)
    return D::kInvalidPayload;
  return code;
}

// The native codes of a request the SQL refused for what it asked (Mastodon: 422).
constexpr const char *kUnprocessable[] = {
    "invalid_parameter", "null_value",     "check_violation",      "invalid_input",
    "invalid_text",      "limit_exceeded", "constraint_violation",
};

std::string dump_json(const nlohmann::ordered_json &j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

MastodonError mastodon_error(const ApiError &error) {
  switch (error.status) {
    case 401:
      return {401, dump_json({{"error", "The access token is invalid"}})};
    case 403:
      return {403, dump_json({{"error", "This action is outside the authorized scopes"}})};
    case 404:
      return {404, dump_json({{"error", "Record not found"}})};
    default:
      break;
  }
  int status = error.status;
  for (const char *code : kUnprocessable) {
    if (error.code == code)
      status = 422;
  }
  return {status, dump_json({{"error", error.message}})};
}

MastodonStreamingError mastodon_streaming_error(const ApiError &error, bool token_given) {
  int status = error.status;
  std::string message = error.message;
  if (!token_given) {
    status = 401;
    message = "Missing access token";
  } else if (error.status == 401) {
    message = "Invalid access token";
  } else if (error.status == 403) {
    status = 401;
    message = "Access token does not have the required scopes";
  }
  std::string body = dump_json({{"error", message}});
  return {status, std::move(message), std::move(body)};
}

std::string diaspora_error_body(const ApiError &error) {
  return dump_json({{"code", error.status}, {"message", error.message}});
}

const char *directus_name(DirectusCode code) {
  return directus_text(code).name;
}

int directus_status(DirectusCode code) {
  return directus_text(code).status;
}

ApiError http_error(int status, std::string message) {
  for (const StatusText &s : kStatuses) {
    if (s.status == status) {
      if (message.empty())
        message = s.message;
      DirectusCode directus = blame(s.directus, message);
      return ApiError{status, s.code, directus, std::move(message), {}, {}};
    }
  }
  bool client = status < 500;
  if (message.empty())
    message = client ? "bad request" : "internal error";
  DirectusCode directus = client ? blame(D::kInvalidQuery, message) : D::kInternalServerError;
  return ApiError{
      status, client ? "bad_request" : "internal_error", directus, std::move(message), {}, {}};
}

ApiError sqlstate_error(const std::string &sqlstate, std::string message, std::string detail,
                        std::string hint) {
  for (const Mapping &m : kMappings) {
    if (sqlstate.compare(0, std::char_traits<char>::length(m.sqlstate), m.sqlstate) == 0) {
      DirectusCode directus = blame(m.directus, message);
      return ApiError{m.status,          m.code,         directus, std::move(message),
                      std::move(detail), std::move(hint)};
    }
  }
  return ApiError{500, "internal_error", D::kInternalServerError, "internal error", {}, {}};
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

std::string directus_error_body(const ApiError &error, DirectusCode code) {
  nlohmann::ordered_json extensions = {{"code", directus_name(code)}};
  if (!error.hint.empty() && directus_status(code) < 500)
    extensions["hint"] = error.hint;
  nlohmann::ordered_json entry = {{"message", error.message}, {"extensions", extensions}};
  return nlohmann::ordered_json{{"errors", nlohmann::ordered_json::array({entry})}}.dump(
      -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace pgi::server
