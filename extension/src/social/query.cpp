#include "social/query.hpp"

#include "core/errors.hpp"

namespace pgi::social {

namespace {

// Mastodon's id: the notification's internal id, compared as the bigint it is.
const query::Field &id_field() {
  static const query::FieldRegistry *const fields =
      &(new query::FieldRegistry())->add("id", "id", true, ValueKind::kNumber);
  return *fields->find("id");
}

query::Node id_bound(query::Op op, int64_t value, const char *path) {
  return query::Node::compare(id_field(), op, {query::Scalar(value)}, path);
}

}  // namespace

query::RowShape row_shape(std::string_view dialect) {
  const std::string row = query::notification_row("n");
  if (dialect == "mastodon")
    return {"inbox.mastodon_json(" + row + ")", ""};
  if (dialect == "diaspora")
    return {"inbox.diaspora_json(" + row + ")", "inbox._diaspora_json"};
  throw Error(sqlstate::kInvalidParameterValue,
              "shape: unknown dialect \"" + std::string(dialect) + "\"");
}

query::RowShape group_scan_shape() {
  const std::string row = query::notification_row("n");
  // Several columns: the compiler names the last one `row` and adds the order keys after it.
  return {
      "n.id, n.type, n.group_key, inbox.directus_time(n.created_at), n.item,"
      " pg_catalog.to_jsonb(inbox._actors(" +
          row + "))",
      ""};
}

bool apply_id_range(query::Query &q, const IdRange &range) {
  if (range.max_id)
    q.filter.narrow(id_bound(query::Op::kLt, *range.max_id, "max_id"));
  if (range.since_id)
    q.filter.narrow(id_bound(query::Op::kGt, *range.since_id, "since_id"));
  if (range.min_id)
    q.filter.narrow(id_bound(query::Op::kGt, *range.min_id, "min_id"));
  bool oldest_first = range.min_id.has_value();
  q.order = {query::OrderKey{
      id_field(), oldest_first ? query::Direction::kAsc : query::Direction::kDesc, !oldest_first}};
  return oldest_first;
}

query::Statement group_rows_statement(const std::string &user_id,
                                      const std::vector<std::string> &keys, int64_t hi,
                                      const std::string &engine, bool unfiltered, bool top,
                                      int64_t now) {
  query::SqlBuilder b;
  const std::string user = b.bind(query::builtin(query::SqlType::kText), user_id);
  const std::string key_list = b.bind(query::text_array(keys));
  const std::string top_id = b.bind(query::builtin(query::SqlType::kBigint), hi);
  const std::string params = b.bind(query::builtin(query::SqlType::kJsonb), engine);
  const std::string summary = b.bind(query::builtin(query::SqlType::kBoolean), unfiltered);
  const std::string first = b.bind(query::builtin(query::SqlType::kBoolean), top);
  // Without a filter every row counts: the condition is left out (one statement text each way).
  const std::string counted =
      unfiltered ? "true"
                 : "inbox._mastodon_counted(" + params + ", n.type, n.actor_id, n.workspace_id)";
  // The time bound as a value, the statement's start: Citus cannot plan now() inside the
  // count's COALESCE. The expired rows' read compares with now() itself (the same time), which
  // the planner estimates: against a parameter its plan for every value takes
  // notifications_group_id_idx and reads all the user's grouped rows.
  const std::string at = b.bind(query::builtin(query::SqlType::kTimestamptz), now);
  const std::string live = "(n.expires_at IS NULL OR n.expires_at > " + at + ")";
  query::Statement st = b.finish(
      // The user's expired rows not pruned yet, by group: one read of notifications_expires_idx.
      "WITH e AS MATERIALIZED (SELECT n.group_key, pg_catalog.count(*) AS rows FROM "
      "inbox.notifications n WHERE " +
      summary + " AND n.user_id = " + user +
      " AND n.expires_at <= pg_catalog.now() AND n.deleted_at IS NULL AND n.group_key IS NOT NULL"
      " GROUP BY n.group_key) "
      "SELECT k.key, s.latest_id, inbox.directus_time(s.latest_at), s.sample, c.notifications_count"
      " FROM pg_catalog.unnest(" +
      key_list +
      ") WITH ORDINALITY AS k(key, o)"
      // The group's most recent matching rows up to the top, newest first.
      " CROSS JOIN LATERAL (WITH x AS (SELECT n.id, n.created_at, inbox._actors(" +
      query::notification_row("n") + ") AS actors FROM inbox.notifications n WHERE n.user_id = " +
      user + " AND n.group_key = k.key AND n.deleted_at IS NULL AND n.id <= " + top_id + " AND " +
      live + " AND " + counted +
      " ORDER BY n.id DESC LIMIT 8)"
      " SELECT pg_catalog.max(x.id) AS latest_id,"
      " (pg_catalog.array_agg(x.created_at ORDER BY x.id DESC))[1] AS latest_at,"
      // Mastodon's sample: the distinct actors of these rows, by the newest row an actor is in,
      // its first place in a row, then its id (inbox._sample_actors).
      " pg_catalog.to_jsonb(ARRAY(SELECT a.actor FROM x x1, pg_catalog.unnest(x1.actors) WITH "
      "ORDINALITY AS a(actor, k) GROUP BY a.actor ORDER BY pg_catalog.max(x1.id) DESC, "
      "pg_catalog.min(a.k), a.actor LIMIT 8)) AS sample FROM x) s"
      // The summary less what the request does not count; without one, or with a filter, the
      // matching rows up to the top are counted.
      " CROSS JOIN LATERAL (SELECT COALESCE(CASE WHEN " +
      summary +
      " THEN (SELECT g.notifications_count FROM inbox.notification_groups g WHERE g.user_id = " +
      user + " AND g.group_key = k.key) - CASE WHEN " + first +
      " THEN 0 ELSE (SELECT pg_catalog.count(*) FROM inbox.notifications n WHERE n.user_id = " +
      user + " AND n.group_key = k.key AND n.deleted_at IS NULL AND n.id > " + top_id + " AND " +
      live +
      ") END - COALESCE((SELECT e.rows FROM e WHERE e.group_key = k.key), 0) END,"
      " (SELECT pg_catalog.count(*) FROM inbox.notifications n WHERE n.user_id = " +
      user + " AND n.group_key = k.key AND n.deleted_at IS NULL AND n.id <= " + top_id + " AND " +
      live + " AND " + counted + ")) AS notifications_count) c ORDER BY k.o");
  st.generic_plan = true;
  return st;
}

}  // namespace pgi::social
