#include "realtime/statements.hpp"

#include <string>

namespace pgi::server {

namespace {

// The event columns of an inbox.changes row `c`.
const std::string kEventSelect =
    "c.id, c.event, c.workspace_id, c.unread, inbox.http_json(c.data), "
    "CASE WHEN c.data OPERATOR(pg_catalog.?) 'id' AND c.event OPERATOR(pg_catalog.<>) "
    "'notification.bulk' THEN inbox.internal_id(c.data OPERATOR(pg_catalog.->>) 'id') END";

}  // namespace

std::vector<PreparedStatement> realtime_statements() {
  return {
      {sql::kStreamOpen,
       "SELECT inbox._rest_user(s.c, s.p), inbox._rest_workspace(s.c, s.p) FROM (SELECT "
       "inbox.authenticate($1, 'notifications:read') AS c, "
       "inbox._rest_params($2::pg_catalog.jsonb, "
       "ARRAY['workspace_id', 'user_id', 'last_event_id']) AS p) s"},
      {sql::kStreamHead, "SELECT inbox.feed_head($1)"},
      {sql::kStreamChanges,
       "SELECT " + kEventSelect +
           " FROM inbox.changes($1, $2::pg_catalog.int8, $3::pg_catalog.int4) c"},
      {sql::kStreamUnread, "SELECT inbox.unread_count($1, $2)"},
      {sql::kWsAuth,
       "SELECT (s.c).user_id, (s.c).workspace_id, (s.c).admin FROM (SELECT "
       "inbox._directus_caller($1, 'notifications:read') AS c) s"},
      // (Both functions are STABLE: they read with the statement's one snapshot.)
      {sql::kWsRead,
       "SELECT inbox.directus_read($1, $2::pg_catalog.jsonb)::text, inbox.feed_head($3)"},
      {sql::kWsReadMany,
       "SELECT q.n, inbox.directus_read($1, q.query)::text FROM "
       "pg_catalog.jsonb_array_elements($2::pg_catalog.jsonb) WITH ORDINALITY AS q(query, n) "
       "ORDER BY q.n"},
      {sql::kMastodonAuth,
       "SELECT (s.c).user_id, (s.c).workspace_id, (s.c).admin OR 'notifications:read' "
       "OPERATOR(pg_catalog.=) ANY ((s.c).scopes) FROM (SELECT inbox.authenticate($1) AS c) s"},
      {sql::kMastodonRead,
       "SELECT e.n::text FROM pg_catalog.jsonb_array_elements("
       "inbox.mastodon_stream_notifications($1, $2::pg_catalog.jsonb)) AS e(n)"},
      {sql::kFeedPoll, "SELECT next_cursor, user_id, id FROM inbox.poll_events($1, $2)"},
      {sql::kFeedFetch,
       "SELECT u.user_id, " + kEventSelect +
           " FROM pg_catalog.jsonb_to_recordset($1::pg_catalog.jsonb) AS u(user_id text, after "
           "bigint, n integer) CROSS JOIN LATERAL inbox.changes(u.user_id, u.after, u.n) c"},
      {sql::kFeedTokens,
       "SELECT t.token FROM pg_catalog.jsonb_array_elements_text($1::pg_catalog.jsonb) AS "
       "t(token) WHERE NOT EXISTS (SELECT FROM inbox.tokens k WHERE k.token_hash "
       "OPERATOR(pg_catalog.=) inbox._token_hash(t.token) AND (k.expires_at IS NULL OR "
       "k.expires_at OPERATOR(pg_catalog.>) pg_catalog.now()))"},
  };
}

}  // namespace pgi::server
