// Checks on what a request brings before any of it goes to PostgreSQL: the query string, the
// bearer token, the body's media type. Pure functions; each failure is an ApiFailure.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pgi::server {

// The query string as a JSON object of strings, the form the rest_* SQL functions take; a
// name ending in [] may repeat and gives an array of strings under the name without the [].
// 400 for another parameter given twice, a NUL character, or bytes that are not UTF-8.
std::string query_json(const std::multimap<std::string, std::string> &query);

// The token of an "Authorization: Bearer <token>" header; 401 when absent or malformed.
std::string bearer_token(const std::optional<std::string> &authorization);

// Whether a Content-Type names JSON: application/json or application/<x>+json, any parameters.
bool is_json_media_type(std::string_view content_type);

// Text bound to a SQL parameter must hold no NUL (libpq would cut it there); 400 otherwise.
void check_no_nul(std::string_view what, std::string_view value);

bool is_valid_utf8(std::string_view s);

}  // namespace pgi::server
