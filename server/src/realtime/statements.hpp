// The SQL the realtime layer runs, in one place: prepared on every pooled connection (the
// streams' own calls) and on the poller's connection. Each is a call of the change feed's
// functions (inbox.changes, inbox.feed_head, inbox.poll_events) or of the routes' SQL (the
// caller checks of 50_rest.sql, the Directus reads of 60_directus.sql): no shape is decided
// here. Requests' values are bound parameters, never spliced.
#pragma once

#include <vector>

#include "db/pool.hpp"

namespace pgi::server {

// The columns every event-reading statement answers, in this order.
//   id, event, workspace_id, unread, data (inbox.http_json text), key (internal id or NULL)
inline constexpr int kEventColumns = 6;

namespace sql {
// SSE: (token, query json) -> user_id, workspace_id. 28000/42501/22023 as the REST routes.
inline constexpr const char *kStreamOpen = "stream_open";
// (user_id) -> the user's last event id.
inline constexpr const char *kStreamHead = "stream_head";
// (user_id, after, limit) -> the event columns, in id order; 22023 when `after` cannot resume.
inline constexpr const char *kStreamChanges = "stream_changes";
// (user_id, workspace_id) -> the unread count.
inline constexpr const char *kStreamUnread = "stream_unread";
// WebSocket: (token) -> user_id, workspace_id, admin ('t'/'f').
inline constexpr const char *kWsAuth = "ws_auth";
// (token, query json, user or NULL) -> inbox.directus_read's text: {"data": [...]}, and the
// user's last event in the feed as of the same snapshot (0 for NULL).
inline constexpr const char *kWsRead = "ws_read";
// (token, queries json array) -> (ordinality, directus_read text) for each query.
inline constexpr const char *kWsReadMany = "ws_read_many";
// Mastodon's streams: (token) -> user_id, workspace_id, whether the token may read
// notifications ('t'/'f'); 28000 for a token that does not authenticate.
inline constexpr const char *kMastodonAuth = "mastodon_stream_auth";
// (token, internal ids json array) -> the Notification entity of each, as text, in id order.
inline constexpr const char *kMastodonRead = "mastodon_stream_read";
// The poller: (cursor, limit) -> next_cursor, user_id, id.
inline constexpr const char *kFeedPoll = "feed_poll";
// ([{user_id, after, n}] json) -> user_id, then the event columns.
inline constexpr const char *kFeedFetch = "feed_fetch";
// (tokens json array) -> the tokens that no longer authenticate (unknown, revoked, expired).
inline constexpr const char *kFeedTokens = "feed_tokens";
}  // namespace sql

// Every statement above.
std::vector<PreparedStatement> realtime_statements();

}  // namespace pgi::server
