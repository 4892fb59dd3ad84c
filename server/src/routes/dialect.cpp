#include "routes/dialect.hpp"

#include <nlohmann/json.hpp>

namespace pgi::server {

namespace {

std::optional<std::string> content_type(const HttpRequest &request) {
  return request.header("Content-Type");
}

// --- native ------------------------------------------------------------------------------------

std::string native_body(const HttpRequest &request) {
  const std::string &body = request.body();
  if (body.empty())
    throw ApiFailure(http_error(400, "body: expected a JSON request body"));
  std::optional<std::string> type = content_type(request);
  if (!type || !is_json_media_type(*type))
    throw ApiFailure(http_error(415, "body: expected Content-Type: application/json"));
  check_no_nul("body", body);
  return body;
}

ApiError native_no_route(const HttpRequest &request) {
  return http_error(404, "no route " + request.method() + " " + request.path());
}

HttpResponse native_error(const ApiError &error) {
  HttpResponse out;
  out.status = error.status;
  out.body = error_body(error);
  if (error.status == 401)
    out.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"pg_inbox\"");
  if (error.status == 503)
    out.headers.emplace_back("Retry-After", "1");
  return out;
}

// --- directus ----------------------------------------------------------------------------------

constexpr const char *kDirectusJson = "application/json; charset=utf-8";

// Directus takes a body without a Content-Type as JSON, and checks that it is JSON.
std::string directus_body(const HttpRequest &request) {
  std::optional<std::string> type = content_type(request);
  if (type && !is_json_media_type(*type))
    throw ApiFailure(http_error(415, "payload: expected Content-Type: application/json"));
  const std::string &text = request.body();
  if (text.empty())
    throw ApiFailure(http_error(400, "payload: expected a JSON request body"));
  check_no_nul("payload", text);
  try {
    nlohmann::json parsed = nlohmann::json::parse(text);  // checked here, parsed again by SQL
    (void)parsed;
  } catch (const nlohmann::json::exception &e) {
    // A syntax error, or a number beyond a double's range (1e400: out_of_range): no field of a
    // Directus notification takes such a number.
    throw ApiFailure(http_error(400, std::string("payload: invalid JSON: ") + e.what()));
  }
  return text;
}

ApiError directus_no_route(const HttpRequest &request) {
  return http_error(404, "Route " + request.path() + " doesn't exist.");
}

HttpResponse directus_family_error(const ApiError &error, DirectusCode code, const char *type) {
  HttpResponse out;
  out.status = directus_status(code);
  out.content_type = type;
  out.body = directus_error_body(error, code);
  return out;
}

HttpResponse directus_error(const ApiError &error) {
  return directus_family_error(error, error.directus, kDirectusJson);
}

// --- graphql -----------------------------------------------------------------------------------

constexpr const char *kGraphqlJson = "application/json";

std::string graphql_body(const HttpRequest &request) {
  std::optional<std::string> type = content_type(request);
  if (!type || !is_json_media_type(*type))
    throw ApiFailure(http_error(415, "expected Content-Type: application/json"));
  const std::string &body = request.body();
  if (body.empty())
    throw ApiFailure(http_error(400, "expected a JSON body {\"query\": ...}"));
  check_no_nul("body", body);
  return body;
}

HttpResponse graphql_error(const ApiError &error) {
  // Everything a GraphQL request brings (its body, or a GET's query string) is the payload.
  DirectusCode code = error.directus == DirectusCode::kInvalidQuery ? DirectusCode::kInvalidPayload
                                                                    : error.directus;
  return directus_family_error(error, code, kGraphqlJson);
}

// --- mastodon, diaspora
// ---------------------------------------------------------------------------

constexpr const char *kSocialJson = "application/json; charset=utf-8";

// Mastodon's POST routes take a JSON body or none (dismiss, clear): no body is {}.
std::string social_body(const HttpRequest &request) {
  const std::string &body = request.body();
  if (body.empty())
    return "{}";
  std::optional<std::string> type = content_type(request);
  if (!type || !is_json_media_type(*type))
    throw ApiFailure(http_error(415, "body: expected Content-Type: application/json"));
  check_no_nul("body", body);
  return body;
}

ApiError social_no_route(const HttpRequest &request) {
  return http_error(404, "no route " + request.method() + " " + request.path());
}

HttpResponse mastodon_write_error(const ApiError &error) {
  MastodonError m = mastodon_error(error);
  HttpResponse out;
  out.status = m.status;
  out.content_type = kSocialJson;
  out.body = std::move(m.body);
  if (error.status == 503)
    out.headers.emplace_back("Retry-After", "1");
  return out;
}

HttpResponse diaspora_write_error(const ApiError &error) {
  HttpResponse out;
  out.status = error.status;
  out.content_type = kSocialJson;
  out.body = diaspora_error_body(error);
  if (error.status == 503)
    out.headers.emplace_back("Retry-After", "1");
  return out;
}

// Mastodon's paths: /api/v1 and /api/v2, one dialect each (a dialect has one scope).
constexpr Dialect mastodon_dialect(const char *name, const char *scope) {
  return Dialect{
      name,
      TokenSource::kBearerHeaderOrAccessToken,  // Mastodon (Doorkeeper) takes ?access_token= too
      QueryRepeats::kListsOnly,                 // types[]=a&types[]=b
      kSocialJson,
      scope,
      false,    // Rails answers a method it has no route for with 404
      nullptr,  // the mastodon_* functions build Mastodon's entities
      social_body,
      social_no_route,
      mastodon_write_error,
  };
}

}  // namespace

const Dialect kMastodon = mastodon_dialect("mastodon", "/api/v1");
const Dialect kMastodonV2 = mastodon_dialect("mastodon", "/api/v2");

const Dialect kDiaspora = {
    "diaspora",
    TokenSource::kBearerHeaderOrAccessToken,
    QueryRepeats::kListsOnly,
    kSocialJson,
    "/diaspora",
    false,
    nullptr,
    native_body,
    social_no_route,
    diaspora_write_error,
};

const Dialect kNative = {
    "native",
    TokenSource::kBearerHeader,
    QueryRepeats::kListsOnly,
    "application/json",
    nullptr,  // takes every path no other dialect claims
    true,     // 405 with Allow
    "inbox.http_json",
    native_body,
    native_no_route,
    native_error,
};

const Dialect kDirectus = {
    "directus",
    TokenSource::kBearerHeaderOrAccessToken,
    QueryRepeats::kAny,
    kDirectusJson,
    "/notifications",
    false,    // Directus has no 405: ROUTE_NOT_FOUND
    nullptr,  // directus_* build json in Directus's own order
    directus_body,
    directus_no_route,
    directus_error,
};

const Dialect kGraphql = {
    "graphql",
    TokenSource::kBearerHeaderOrAccessToken,
    QueryRepeats::kListsOnly,
    kGraphqlJson,
    nullptr,  // /graphql/system only: other paths below /graphql are the native dialect's
    true,     // 405 with Allow, as GraphQL over HTTP says
    nullptr,  // the GraphQL rows write their own statements
    graphql_body,
    native_no_route,
    graphql_error,
};

std::optional<std::string> Dialect::token(const HttpRequest &request) const {
  return caller_token(request, token_source);
}

std::string Dialect::query(const HttpRequest &request) const {
  bool token_in_query = token_source == TokenSource::kBearerHeaderOrAccessToken;
  return query_json(request.query(), query_repeats, token_in_query ? "access_token" : "");
}

bool Dialect::owns(std::string_view path) const {
  if (scope == nullptr)
    return false;
  std::string_view s = scope;
  return path.compare(0, s.size(), s) == 0 && (path.size() == s.size() || path[s.size()] == '/');
}

const Dialect &dialect_of_path(std::string_view path) {
  for (const Dialect *d : {&kDirectus, &kGraphql, &kMastodon, &kMastodonV2, &kDiaspora}) {
    if (d->owns(path))
      return *d;
  }
  return kNative;
}

}  // namespace pgi::server
