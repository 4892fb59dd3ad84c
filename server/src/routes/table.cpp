#include "routes/table.hpp"

#include "errors.hpp"
#include "routes/openapi.hpp"

namespace pgi::server {

namespace {

// --- replies: how a row's answer becomes the response ------------------------------------------

HttpResponse respond(const Route &route, int status, std::string body) {
  HttpResponse out;
  out.status = status;
  out.content_type = route.dialect->content_type;
  out.body = std::move(body);
  return out;
}

// The statement's JSON, as PostgreSQL wrote it, with the row's status.
HttpResponse reply_json(const Route &route, std::vector<std::string> &&row, const Services &) {
  return respond(route, route.status, std::move(row.at(0)));
}

// (body, link): the JSON and, unless NULL, its Link header (Mastodon's and Diaspora's paging).
HttpResponse reply_linked(const Route &route, std::vector<std::string> &&row, const Services &) {
  HttpResponse out = respond(route, route.status, std::move(row.at(0)));
  if (row.at(1) != "null")
    out.headers.emplace_back("Link", std::move(row.at(1)));
  return out;
}

HttpResponse reply_no_content(const Route &route, std::vector<std::string> &&, const Services &) {
  return respond(route, 204, {});
}

// (response, status): the status is decided in SQL with the response, which is never parsed here
// (a create that stored nothing answers 200, not 201: inbox._rest_created_status).
HttpResponse reply_with_status(const Route &route, std::vector<std::string> &&row,
                               const Services &) {
  return respond(route, std::stoi(row.at(1)), std::move(row.at(0)));
}

// GraphQL over HTTP's status is decided in SQL (inbox.graphql_http) too. A mutation sent with GET
// is 405, and POST is the method that takes it.
HttpResponse reply_graphql(const Route &route, std::vector<std::string> &&row,
                           const Services &services) {
  HttpResponse out = reply_with_status(route, std::move(row), services);
  if (out.status == 405)
    out.headers.emplace_back("Allow", "POST");
  return out;
}

// A page for people (the unsubscribe link of an e-mail opened in a browser).
HttpResponse reply_html(const Route &route, std::vector<std::string> &&row, const Services &) {
  HttpResponse out = respond(route, route.status, std::move(row.at(0)));
  out.content_type = "text/html; charset=utf-8";
  return out;
}

HttpResponse reply_health(const Route &route, std::vector<std::string> &&, const Services &) {
  return respond(route, 200, R"({"status":"ok"})");
}

// Ready when the database answers and has the extension.
HttpResponse reply_ready(const Route &route, std::vector<std::string> &&row, const Services &) {
  if (row.at(0) != "1") {
    ApiError error = http_error(503, "the pg_inbox extension is not installed in this database");
    error.code = "database_not_ready";
    throw ApiFailure(error);
  }
  return respond(route, 200, R"({"status":"ready"})");
}

HttpResponse reply_metrics(const Route &route, std::vector<std::string> &&,
                           const Services &services) {
  HttpResponse out = respond(route, 200, services.metrics.render(services.db.stats()));
  out.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return out;
}

// A stream route answers only when its request is not a stream (HEAD, a GET without the
// upgrade): the stream itself is the realtime layer's.
HttpResponse reply_not_a_stream(const Route &route, std::vector<std::string> &&, const Services &) {
  bool websocket =
      route.transport == Transport::kWebSocket || route.transport == Transport::kMastodonWebSocket;
  ApiError error = http_error(
      400, websocket ? "expected a WebSocket upgrade request" : "expected GET for an event stream");
  throw ApiFailure(error);
}

// Mastodon's streaming server: its health check, and a channel it does not stream (checked
// before the token, as Mastodon's authentication middleware does).
HttpResponse reply_streaming_health(const Route &route, std::vector<std::string> &&,
                                    const Services &) {
  HttpResponse out = respond(route, 200, "OK");
  out.content_type = "text/plain";
  return out;
}

HttpResponse reply_unknown_channel(const Route &route, std::vector<std::string> &&,
                                   const Services &) {
  return respond(route, 400, R"({"error":"Unknown channel requested"})");
}

HttpResponse reply_openapi(const Route &route, std::vector<std::string> &&, const Services &) {
  return respond(route, 200, openapi_document());
}

// --- statements that are more than a call of one function --------------------------------------

// "SELECT inbox.<name>($1, ..., $n)", its answer passed through the dialect's response_text.
std::string call_sql(const Route &route) {
  std::string call = std::string("inbox.") + route.statement.name + "(";
  for (std::size_t i = 0; i < route.args.size(); ++i)
    call += (i ? ", $" : "$") + std::to_string(i + 1);
  call += ")";
  const char *text = route.dialect->response_text;
  return "SELECT " + (text ? std::string(text) + "(" + call + ")" : call);
}

}  // namespace

const std::vector<Route> &route_table() {
  using A = Arg;
  constexpr Retry kSafe = Retry::kSafe;
  constexpr Retry kUnsafe = Retry::kUnsafe;
  const Dialect *const native = &kNative;
  const Dialect *const directus = &kDirectus;
  const Dialect *const graphql = &kGraphql;
  const Dialect *const mastodon = &kMastodon;
  const Dialect *const mastodon_v2 = &kMastodonV2;
  const Dialect *const diaspora = &kDiaspora;
  static auto *const table = new std::vector<Route>{
      // The native API: each route one call of an inbox.rest_* function (50_rest.sql).
      {"GET /api/notifications", native, {"rest_list"}, {A::kToken, A::kQuery}, kSafe, reply_json},
      // 201, or 200 when nothing was stored (every recipient had in_app off).
      {"POST /api/notifications",
       native,
       {"rest_create",
        "SELECT inbox.http_json(r), inbox._rest_created_status(r) "
        "FROM inbox.rest_create($1, $2, $3, $4) AS r"},
       {A::kToken, A::kBody, A::kIdempotencyKey, A::kQuery},
       kUnsafe,
       reply_with_status},
      {"GET /api/notifications/unread-count",
       native,
       {"rest_unread_count"},
       {A::kToken, A::kQuery},
       kSafe,
       reply_json},
      {"PUT /api/notifications/read-all",
       native,
       {"rest_read_all"},
       {A::kToken, A::kQuery},
       kUnsafe,
       reply_json},
      {"PUT /api/notifications/seen",
       native,
       {"rest_seen"},
       {A::kToken, A::kQuery},
       kUnsafe,
       reply_json},
      {"GET /api/notifications/groups",
       native,
       {"rest_groups"},
       {A::kToken, A::kQuery},
       kSafe,
       reply_json},
      {"GET /api/notification-types",
       native,
       {"rest_types"},
       {A::kToken, A::kQuery},
       kSafe,
       reply_json},
      {"GET /api/notifications/{id}",
       native,
       {"rest_get"},
       {A::kToken, A::kId, A::kQuery},
       kSafe,
       reply_json},
      {"PATCH /api/notifications/{id}",
       native,
       {"rest_patch"},
       {A::kToken, A::kId, A::kBody, A::kQuery},
       kSafe,
       reply_json},
      {"DELETE /api/notifications/{id}",
       native,
       {"rest_soft_delete"},
       {A::kToken, A::kId, A::kQuery},
       kUnsafe,
       reply_json},
      {"PUT /api/notifications/{id}/read",
       native,
       {"rest_mark_read"},
       {A::kToken, A::kId, A::kQuery},
       kSafe,
       reply_json},
      {"PUT /api/notifications/{id}/unread",
       native,
       {"rest_mark_unread"},
       {A::kToken, A::kId, A::kQuery},
       kSafe,
       reply_json},
      {"POST /api/notifications/{id}/restore",
       native,
       {"rest_restore"},
       {A::kToken, A::kId, A::kQuery},
       kUnsafe,
       reply_json},
      {"DELETE /api/notifications/{id}/purge",
       native,
       {"rest_purge"},
       {A::kToken, A::kId, A::kQuery},
       kUnsafe,
       reply_json},

      // Delivery (55_delivery.sql): preferences, webhook endpoints and their log, and the
      // unsubscribe link of an e-mail (no token: the link carries its own MAC; a GET only shows
      // the page, a POST, RFC 8058's one-click, turns that type's e-mail off).
      {"GET /api/preferences",
       native,
       {"rest_preferences"},
       {A::kToken, A::kQuery},
       kSafe,
       reply_json},
      {"PUT /api/preferences",
       native,
       {"rest_set_preferences"},
       {A::kToken, A::kBody, A::kQuery},
       kSafe,
       reply_json},
      {"GET /api/webhooks", native, {"rest_webhooks"}, {A::kToken, A::kQuery}, kSafe, reply_json},
      {"POST /api/webhooks",
       native,
       {"rest_create_webhook"},
       {A::kToken, A::kBody, A::kQuery},
       kUnsafe,
       reply_json,
       201},
      {"DELETE /api/webhooks/{id}",
       native,
       {"rest_delete_webhook"},
       {A::kToken, A::kId, A::kQuery},
       kUnsafe,
       reply_json},
      {"GET /api/webhooks/{id}/deliveries",
       native,
       {"rest_webhook_deliveries"},
       {A::kToken, A::kId, A::kQuery},
       kSafe,
       reply_json},
      {"POST /api/webhooks/{id}/deliveries/{delivery}/retry",
       native,
       {"rest_retry_delivery"},
       {A::kToken, A::kId, A::kSubId, A::kQuery},
       kUnsafe,
       reply_json},
      {"GET /api/unsubscribe/{token}",
       native,
       {"unsubscribe_page", "SELECT inbox.unsubscribe_page($1)"},
       {A::kId},
       kSafe,
       reply_html},
      {"POST /api/unsubscribe/{token}", native, {"unsubscribe"}, {A::kId}, kSafe, reply_json},
      // Realtime (server/src/realtime/): the change feed as server-sent events.
      {"GET /api/notifications/stream",
       native,
       {},
       {A::kToken, A::kQuery},
       kSafe,
       reply_not_a_stream,
       200,
       Transport::kSse},

      // Operations.
      {"GET /healthz", native, {}, {}, kSafe, reply_health},
      {"GET /readyz",
       native,
       {"ready",
        "SELECT pg_catalog.count(*) FROM pg_catalog.pg_extension "
        "WHERE extname OPERATOR(pg_catalog.=) 'pg_inbox'"},
       {},
       kSafe,
       reply_ready},
      {"GET /metrics", native, {}, {}, kSafe, reply_metrics},
      {"GET /openapi.json", native, {}, {}, kSafe, reply_openapi},

      // Directus's /graphql/system: one call of inbox.graphql_http(), which answers the response
      // with its HTTP status. A POST may be a mutation; a GET cannot be one (405).
      {"POST /graphql/system",
       graphql,
       {"graphql_post",
        "SELECT body, status FROM inbox.graphql_http($1, $2::pg_catalog.jsonb, 'POST')"},
       {A::kToken, A::kBody},
       kUnsafe,
       reply_graphql},
      {"GET /graphql/system",
       graphql,
       {"graphql_get",
        "SELECT body, status FROM inbox.graphql_http($1, $2::pg_catalog.jsonb, 'GET')"},
       {A::kToken, A::kQuery},
       kSafe,
       reply_graphql},

      // Directus's notifications API: each route one call of an inbox.directus_* function
      // (60_directus.sql). Reads may be retried.
      {"GET /notifications",
       directus,
       {"directus_read"},
       {A::kToken, A::kQuery},
       kSafe,
       reply_json},
      {"SEARCH /notifications",
       directus,
       {"directus_search"},
       {A::kToken, A::kBody, A::kQuery},
       kSafe,
       reply_json},
      {"POST /notifications",
       directus,
       {"directus_create"},
       {A::kToken, A::kBody, A::kQuery},
       kUnsafe,
       reply_json},
      {"PATCH /notifications",
       directus,
       {"directus_update_many"},
       {A::kToken, A::kBody, A::kQuery},
       kUnsafe,
       reply_json},
      {"DELETE /notifications",
       directus,
       {"directus_delete_many"},
       {A::kToken, A::kBody},
       kUnsafe,
       reply_no_content},
      {"GET /notifications/{id}",
       directus,
       {"directus_read_one"},
       {A::kToken, A::kId, A::kQuery},
       kSafe,
       reply_json},
      {"PATCH /notifications/{id}",
       directus,
       {"directus_update_one"},
       {A::kToken, A::kId, A::kBody, A::kQuery},
       kUnsafe,
       reply_json},
      {"DELETE /notifications/{id}",
       directus,
       {"directus_delete_one"},
       {A::kToken, A::kId},
       kUnsafe,
       reply_no_content},

      // Mastodon's notifications API (65_mastodon.sql): v1, v2 grouped, markers. The lists
      // answer (body, link), the Link header built in SQL from the request's origin.
      {"GET /api/v1/notifications",
       mastodon,
       {"mastodon_notifications",
        "SELECT body, link FROM inbox.mastodon_notifications($1, $2::pg_catalog.jsonb, $3)"},
       {A::kToken, A::kQuery, A::kOrigin},
       kSafe,
       reply_linked},
      {"GET /api/v1/notifications/unread_count",
       mastodon,
       {"mastodon_unread_count"},
       {A::kToken, A::kQuery},
       kSafe,
       reply_json},
      {"POST /api/v1/notifications/clear",
       mastodon,
       {"mastodon_clear"},
       {A::kToken},
       kSafe,
       reply_json},
      {"GET /api/v1/notifications/{id}",
       mastodon,
       {"mastodon_notification"},
       {A::kToken, A::kId},
       kSafe,
       reply_json},
      {"POST /api/v1/notifications/{id}/dismiss",
       mastodon,
       {"mastodon_dismiss"},
       {A::kToken, A::kId},
       kUnsafe,
       reply_json},
      {"GET /api/v1/markers",
       mastodon,
       {"mastodon_markers"},
       {A::kToken, A::kQuery},
       kSafe,
       reply_json},
      {"POST /api/v1/markers",
       mastodon,
       {"mastodon_set_markers"},
       {A::kToken, A::kBody},
       kUnsafe,
       reply_json},
      {"GET /api/v2/notifications",
       mastodon_v2,
       {"mastodon_groups",
        "SELECT body, link FROM inbox.mastodon_groups($1, $2::pg_catalog.jsonb, $3)"},
       {A::kToken, A::kQuery, A::kOrigin},
       kSafe,
       reply_linked},
      {"GET /api/v2/notifications/unread_count",
       mastodon_v2,
       {"mastodon_unread_count_v2", "SELECT inbox.mastodon_unread_count($1, $2)"},
       {A::kToken, A::kQuery},
       kSafe,
       reply_json},
      {"GET /api/v2/notifications/{group_key}",
       mastodon_v2,
       {"mastodon_group"},
       {A::kToken, A::kId},
       kSafe,
       reply_json},
      {"POST /api/v2/notifications/{group_key}/dismiss",
       mastodon_v2,
       {"mastodon_group_dismiss"},
       {A::kToken, A::kId},
       kUnsafe,
       reply_json},
      {"GET /api/v2/notifications/{group_key}/accounts",
       mastodon_v2,
       {"mastodon_group_accounts"},
       {A::kToken, A::kId},
       kSafe,
       reply_json},

      // Diaspora's notifications API under /diaspora (66_diaspora.sql).
      {"GET /diaspora/api/v1/notifications",
       diaspora,
       {"diaspora_notifications",
        "SELECT body, link FROM inbox.diaspora_notifications($1, $2::pg_catalog.jsonb, $3)"},
       {A::kToken, A::kQuery, A::kOrigin},
       kSafe,
       reply_linked},
      {"GET /diaspora/api/v1/notifications/{guid}",
       diaspora,
       {"diaspora_notification"},
       {A::kToken, A::kId},
       kSafe,  // marks it read: a second run has the effect and the answer of the first
       reply_json},
      {"PATCH /diaspora/api/v1/notifications/{guid}",
       diaspora,
       {"diaspora_set_read"},
       {A::kToken, A::kId, A::kBody},
       kSafe,
       reply_json},
      // Mastodon's streaming API (realtime/mastodon_session.hpp): the notifications of the
      // change feed as Mastodon's `notification` events, over SSE and a WebSocket.
      {"GET /api/v1/streaming/user/notification",
       mastodon,
       {},
       {A::kToken},
       kSafe,
       reply_not_a_stream,
       200,
       Transport::kMastodonSse},
      {"GET /api/v1/streaming/user",
       mastodon,
       {},
       {A::kToken},
       kSafe,
       reply_not_a_stream,
       200,
       Transport::kMastodonSse},
      {"GET /api/v1/streaming",
       mastodon,
       {},
       {A::kToken},
       kSafe,
       reply_not_a_stream,
       200,
       Transport::kMastodonWebSocket},
      {"GET /api/v1/streaming/health", mastodon, {}, {}, kSafe, reply_streaming_health},
      {"GET /api/v1/streaming/{channel}", mastodon, {}, {}, kSafe, reply_unknown_channel},
      {"GET /api/v1/streaming/{channel}/{sub}", mastodon, {}, {}, kSafe, reply_unknown_channel},
      // Directus's realtime WebSocket for directus_notifications (realtime/ws_session.hpp).
      {"GET /websocket",
       directus,
       {},
       {A::kToken},
       kSafe,
       reply_not_a_stream,
       200,
       Transport::kWebSocket},
  };
  // The browser UI's files: one row each, from their one list (routes/ui_files.cpp).
  static const bool files_added = [] {
    for (std::size_t i = 0; i < kUiFileCount; ++i)
      table->push_back(
          {kUiFiles[i].route, &kNative, {}, {}, Retry::kSafe, nullptr, 200, Transport::kFile});
    return true;
  }();
  (void)files_added;
  return *table;
}

std::vector<PreparedStatement> prepared_statements() {
  std::vector<PreparedStatement> out;
  for (const Route &r : route_table()) {
    const Statement &s = r.statement;
    if (s.name != nullptr)
      out.push_back({s.name, s.sql.empty() ? call_sql(r) : s.sql});
  }
  return out;
}

}  // namespace pgi::server
