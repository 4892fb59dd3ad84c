// What a request brings, read and checked before any of it goes to PostgreSQL: the caller's
// token, the query string as JSON, the body's media type, NUL characters and UTF-8. Each failure
// is an ApiFailure; the dialect of the route writes it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "http/http_server.hpp"

namespace pgi::server {

// Where a dialect takes the caller's token from.
enum class TokenSource {
  // "Authorization: Bearer <token>", required: 401 without it.
  kBearerHeader,
  // The bearer of the Authorization header, else ?access_token=, else none (the public role);
  // a header of another scheme is not a token.
  kBearerHeaderOrAccessToken,
};

// The one reader of the caller's token. Wherever it comes from, a token must be an RFC 6750
// b64token of at most 512 characters, or it is 401 "invalid or expired token". nullopt only
// for kBearerHeaderOrAccessToken without a token.
std::optional<std::string> caller_token(const HttpRequest &request, TokenSource source);

// How a query parameter given more than once is read.
enum class QueryRepeats {
  // Only a name ending in [] may repeat (Mastodon's types[]=a&types[]=b): its values become one
  // array under the name without the []. Any other repeat is 400.
  kListsOnly,
  // Any name may repeat and its values become an array under the name as given; bracket names
  // (filter[status][_eq], groupBy[]) are left for SQL to fold (Directus).
  kAny,
};

// The query string as a JSON object of strings (or arrays of strings), the form the SQL
// functions take; `skip` (when not empty) is left out: a token is the caller, not the query.
// 400 for a NUL character or bytes that are not UTF-8.
std::string query_json(const std::multimap<std::string, std::string> &query, QueryRepeats repeats,
                       std::string_view skip = {});

// Whether a Content-Type names JSON: application/json or application/<x>+json, any parameters.
bool is_json_media_type(std::string_view content_type);

// Text bound to a SQL parameter must hold no NUL (libpq would cut it there); 400 otherwise.
void check_no_nul(std::string_view what, std::string_view value);

bool is_valid_utf8(std::string_view s);

}  // namespace pgi::server
