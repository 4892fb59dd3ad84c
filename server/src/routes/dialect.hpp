// A dialect: the conventions one family of routes keeps on the wire, whatever the route. Each
// row of the route table (routes/table.hpp) names its dialect; the dispatcher reads the request
// and writes errors through it, so no route handles them by itself.
//
//   native    /api/... and the operations routes: the bearer header only; a query parameter
//             repeats only as name[]; {"error": {...}} with WWW-Authenticate on 401 and
//             Retry-After on 503; 405 with Allow.
//   directus  /notifications...: the bearer header or ?access_token= (none: the public role);
//             any query parameter may repeat; the body is the "payload"; Directus's envelope
//             with charset=utf-8; no 405 (a method it has no route for is ROUTE_NOT_FOUND), and
//             a trailing slash is ignored, as Directus's router (Express) does.
//   graphql   /graphql/system: the token as Directus takes it; the GraphQL request (the body,
//             or the query string of a GET) is the payload, so a bad one is INVALID_PAYLOAD;
//             errors in GraphQL's (Directus's) envelope; 405 with Allow.
//   mastodon  /api/v1, /api/v2 (two dialects, one a scope): the bearer header or
//             ?access_token=; lists as name[]; a POST body is JSON or none; errors as Mastodon
//             writes them ({"error": "..."}, 422 for bad parameters); no 405, as Rails.
//   diaspora  /diaspora (Diaspora's API under a prefix): the bearer header or ?access_token=;
//             errors as {"code": status, "message": "..."}; no 405.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "errors.hpp"
#include "http/http_server.hpp"
#include "http/request_input.hpp"

namespace pgi::server {

struct Dialect {
  const char *name;
  TokenSource token_source;
  QueryRepeats query_repeats;
  const char *content_type;  // of the dialect's responses
  // Paths at or below `scope` are the dialect's even when no route matches them, and a trailing
  // slash is ignored there. nullptr: no such paths (the native dialect takes what no one claims).
  const char *scope;
  // Whether a method the path has no route for is 405 with Allow (and OPTIONS is 204 with
  // Allow), or no route at all.
  bool answers_405;
  // The SQL function that turns a route function's jsonb answer into the response text, or
  // nullptr to send the answer as PostgreSQL prints it. The native dialect's, inbox.http_json,
  // writes each notification's keys in the documented order (jsonb keeps its own).
  const char *response_text;

  // The request body, checked as the dialect says it (415 for a media type that is not JSON,
  // 400 for an empty body, ...), ready to bind.
  std::string (*read_body)(const HttpRequest &request);
  // The error for a path the dialect has no route for.
  ApiError (*no_route)(const HttpRequest &request);
  // An error, written as the dialect writes errors.
  HttpResponse (*write_error)(const ApiError &error);

  // The caller's token (nullopt: none, where the dialect allows that).
  std::optional<std::string> token(const HttpRequest &request) const;
  // The query string as the dialect's SQL functions take it (without the token).
  std::string query(const HttpRequest &request) const;
  // Whether `path` is in the dialect's scope.
  bool owns(std::string_view path) const;
};

extern const Dialect kNative;
extern const Dialect kDirectus;
extern const Dialect kGraphql;
extern const Dialect kMastodon;
extern const Dialect kMastodonV2;
extern const Dialect kDiaspora;

// The dialect that answers for `path` when no route matches it.
const Dialect &dialect_of_path(std::string_view path);

}  // namespace pgi::server
