// What a failed request answers, whatever its dialect. One table (errors.cpp) maps each
// PostgreSQL SQLSTATE, and each status the server produces by itself (404 route, 415 body, ...),
// to the HTTP status, the native code and the Directus code; a dialect (routes/dialect.hpp) only
// chooses the envelope the error is written in:
//
//   native    { "error": { "code": "snake_case_code", "message": "...", "detail"?: "...", "hint"?:
//   "..." } } Directus  { "errors": [ { "message": "...", "extensions": { "code": "FORBIDDEN",
//   "hint"?: "..." } } ] }
#pragma once

#include <stdexcept>
#include <string>

namespace pgi::server {

// Directus's error codes, each with the status Directus answers it with (directus_status).
enum class DirectusCode {
  kInvalidQuery,          // 400
  kInvalidPayload,        // 400
  kFailedValidation,      // 400
  kInvalidForeignKey,     // 400
  kInvalidCredentials,    // 401
  kForbidden,             // 403: also for an item the caller may not see, whether or not it exists
  kRouteNotFound,         // 404
  kMethodNotAllowed,      // 405
  kContentTooLarge,       // 413
  kUnsupportedMediaType,  // 415
  kRangeNotSatisfiable,   // 416
  kInternalServerError,   // 500
  kServiceUnavailable,    // 503
};

const char *directus_name(DirectusCode code);  // "INVALID_QUERY"
int directus_status(DirectusCode code);

struct ApiError {
  int status = 500;  // the HTTP status of the native dialect
  std::string code;  // the native code
  DirectusCode directus = DirectusCode::kInternalServerError;
  std::string message;
  std::string detail;  // optional: PostgreSQL's DETAIL
  std::string hint;    // optional: PostgreSQL's HINT
};

// Thrown by request handling to answer with an error; the dispatcher catches it.
class ApiFailure : public std::runtime_error {
 public:
  explicit ApiFailure(ApiError error)
      : std::runtime_error(error.message), error_(std::move(error)) {}
  const ApiError &error() const { return error_; }

 private:
  ApiError error_;
};

// An error with the server's usual codes for `status` (400 bad_request, 404 not_found, ...),
// and a generic message for it when `message` is empty.
ApiError http_error(int status, std::string message = {});

// The error a PostgreSQL error becomes. Errors that are not the client's fault and not a
// transient database condition become 500 internal_error with a generic message (the caller
// logs the original).
ApiError sqlstate_error(const std::string &sqlstate, std::string message, std::string detail = {},
                        std::string hint = {});

// The native JSON body of an error.
std::string error_body(const ApiError &error);

// The error as Mastodon answers it: {"error": "..."} with Mastodon's status. A request the
// SQL refused for its parameters (22xxx, 23xxx, 54xxx) is 422; 401, 403 and 404 carry
// Mastodon's own texts ("The access token is invalid", "This action is outside the authorized
// scopes", "Record not found"); anything else keeps its status and message.
struct MastodonError {
  int status;
  std::string body;
};
MastodonError mastodon_error(const ApiError &error);

// The error as Mastodon's streaming server answers it (streaming/errors.js): every token problem
// is 401 ("Missing access token" without one, "Invalid access token", "Access token does not
// have the required scopes" for 403); anything else keeps its status and message. `body` is
// {"error": "..."}; `message` is the text alone (a refused upgrade sends it as X-Error-Message).
struct MastodonStreamingError {
  int status;
  std::string message;
  std::string body;
};
MastodonStreamingError mastodon_streaming_error(const ApiError &error, bool token_given);

// The error as Diaspora's API answers it: {"code": status, "message": "..."}.
std::string diaspora_error_body(const ApiError &error);

// The error in Directus's envelope, with `code` (a dialect may refine the error's own code).
// The hint is left out of server errors (5xx), whose details stay in the log.
std::string directus_error_body(const ApiError &error, DirectusCode code);

}  // namespace pgi::server
