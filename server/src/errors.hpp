// What a failed request answers: an HTTP status and the JSON error body
//   { "error": { "code": "snake_case_code", "message": "...", "detail"?: "...", "hint"?: "..." } }
//
// The mapping from a PostgreSQL SQLSTATE to (status, code) lives here and nowhere else; so does
// the code of each status the server produces by itself (404 route, 413 body, ...).
#pragma once

#include <stdexcept>
#include <string>

namespace pgi::server {

struct ApiError {
  int status = 500;
  std::string code;
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

// An error with the server's usual code for `status` (400 bad_request, 404 not_found, ...),
// and a generic message for it when `message` is empty.
ApiError http_error(int status, std::string message = {});

// The error a PostgreSQL error becomes. Errors that are not the client's fault and not a
// transient database condition become 500 internal_error with a generic message (the caller
// logs the original).
ApiError sqlstate_error(const std::string &sqlstate, std::string message, std::string detail = {},
                        std::string hint = {});

// The JSON body of an error response.
std::string error_body(const ApiError &error);

// The same error in the envelope GraphQL (and Directus) responses use,
//   { "errors": [ { "message": "...", "extensions": { "code": "FORBIDDEN" } } ] },
// with Directus's code for the status: 400 INVALID_PAYLOAD, 401 INVALID_CREDENTIALS,
// 403 FORBIDDEN, 404 ROUTE_NOT_FOUND, 413 CONTENT_TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE,
// 503 SERVICE_UNAVAILABLE, 500 INTERNAL_SERVER_ERROR.
std::string errors_envelope_body(const ApiError &error);

}  // namespace pgi::server
