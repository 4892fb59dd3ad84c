#include "query/groups_compiler.hpp"

#include "core/errors.hpp"
#include "query/compiler.hpp"
#include "query/marks.hpp"
#include "query/order_keys.hpp"

namespace pgi::query {
namespace {

Field key_field(const char *name, const char *column, ValueKind kind, SqlType type) {
  Field f;
  f.name = name;
  f.column = column;
  f.kind = kind;
  f.type = builtin(type);
  f.nullable = false;
  f.sortable = true;
  return f;
}

// The two sources of groups, as one row type: (group_key, notifications_count, unread_count,
// type, latest_at, latest_id, sample_actor_ids). A NULL group_key marks an ungrouped row.
const char *const kSummaryColumns =
    "g.group_key, g.notifications_count, g.unread_count, g.type, g.latest_at, g.latest_id, "
    "g.sample_actor_ids";
std::string ungrouped_columns() {
  return "NULL::text, 1::bigint, (n.read_at IS NULL)::int::bigint, n.type, n.created_at, n.id, "
         "inbox._actors(" +
         notification_row("n") + ")";
}
const char *const kGroupJson =
    "inbox._group_json(u.group_key, u.notifications_count, u.unread_count, u.type, u.latest_at, "
    "u.latest_id, u.sample_actor_ids)";

// The position comparison for one side of a cursor, in display (descending) terms:
// after -> strictly later in display order -> smaller keys.
std::string seek(const std::string &at, const std::string &id, const char *op,
                 const std::string &cursor_at, const std::string &cursor_id) {
  return "(" + at + ", " + id + ") " + op + " (" + cursor_at + ", " + cursor_id + ")";
}

struct Bounds {
  std::string at, id;  // placeholders of the cursor position
};

Bounds bind_cursor(SqlBuilder &b, const std::vector<Scalar> &cursor) {
  return Bounds{b.bind(builtin(SqlType::kTimestamptz), cursor.at(0)),
                b.bind(builtin(SqlType::kBigint), cursor.at(1))};
}

// The rows of the summaries path on one side of a position (op "<", ">", "<=", ">=";
// "" for no bound), each source read in `dir` order and cut at `limit` when given.
std::string summary_rows(SqlBuilder &b, const Query &q, const char *op, const Bounds *at,
                         const char *dir, const std::string &limit) {
  std::string user = b.bind(builtin(SqlType::kText), *q.user_id);
  std::string groups = std::string("SELECT ") + kSummaryColumns +
                       " FROM inbox.notification_groups g WHERE g.user_id = " + user;
  std::string ungrouped = "SELECT " + ungrouped_columns() +
                          " FROM inbox.notifications n WHERE n.user_id = " + user +
                          " AND n.deleted_at IS NULL AND n.group_key IS NULL";
  if (at) {
    groups += " AND " + seek("g.latest_at", "g.latest_id", op, at->at, at->id);
    ungrouped += " AND " + seek("n.created_at", "n.id", op, at->at, at->id);
  }
  if (!limit.empty()) {
    groups +=
        std::string(" ORDER BY g.latest_at ") + dir + ", g.latest_id " + dir + " LIMIT " + limit;
    ungrouped += std::string(" ORDER BY n.created_at ") + dir + ", n.id " + dir + " LIMIT " + limit;
  }
  return "(" + groups + ") UNION ALL (" + ungrouped + ")";
}

// A row's group key at read time: its groupKey, unless grouped_types leaves its type out, in
// which case none (the row is a group of its own).
std::string group_key_sql(SqlBuilder &b, const Query &q) {
  if (!q.grouped_types)
    return "n.group_key";
  std::string types;
  for (const std::string &t : *q.grouped_types)
    types += (types.empty() ? "" : ", ") + b.bind(builtin(SqlType::kText), t);
  if (types.empty())
    return "NULL::text";
  return "CASE WHEN n.type IN (" + types + ") THEN n.group_key END";
}

// The matching rows grouped at read time.
std::string grouped_rows(SqlBuilder &b, const Query &q) {
  MarkRefs marks(q, b, "n");
  std::string key = group_key_sql(b, q);
  return "SELECT " + key +
         " AS group_key, count(*)::bigint AS notifications_count, "
         "count(*) FILTER (WHERE " +
         read_state_sql(false, marks) +
         ")::bigint AS unread_count, "
         "(pg_catalog.array_agg(n.type ORDER BY n.created_at DESC, n.id DESC))[1] AS type, "
         "max(n.created_at) AS latest_at, "
         "(pg_catalog.array_agg(n.id ORDER BY n.created_at DESC, n.id DESC))[1] AS latest_id, "
         "inbox._sample_actors(pg_catalog.jsonb_agg(inbox._actors(" +
         notification_row("n") +
         ") ORDER BY n.created_at DESC, "
         "n.id DESC)) AS sample_actor_ids "
         "FROM " +
         notifications_from(q, "n") + " WHERE " + compile_where(q, b, marks) + " GROUP BY " + key +
         ", CASE WHEN " + key + " IS NULL THEN n.id END";
}

}  // namespace

const std::vector<OrderKey> &group_order() {
  static const std::vector<OrderKey> *order = new std::vector<OrderKey>{
      OrderKey{key_field("latestAt", "latest_at", ValueKind::kTimestamp, SqlType::kTimestamptz),
               Direction::kDesc, false},
      OrderKey{
          key_field("mostRecentNotificationId", "latest_id", ValueKind::kNumber, SqlType::kBigint),
          Direction::kDesc, false},
  };
  return *order;
}

bool groups_from_summaries(const Query &q) {
  // Issue 19: the summaries describe the groups as the API shows them only while no read mark
  // waits to be settled and no expired row to be purged.
  bool exact = !q.marks || (!q.marks->read_before && q.marks->expired_active == 0 &&
                            q.marks->expired_deleted == 0);
  return q.user_id && exact && q.deleted == DeletedMode::kActive && !q.workspace_id && !q.read &&
         !q.type && !q.ids && !q.grouped_types && q.filter.is_true();
}

PageStatements compile_groups(const Query &q, CursorSide side, const std::vector<Scalar> &cursor) {
  if (!q.order.empty())
    throw invalid_value("orderBy", "groups are always ordered by their latest notification",
                        "Leave orderBy out: groups come newest activity first.");
  if (q.paging.offset != 0 || !q.paging.limit)
    throw invalid_value("limit", "groups are paged by keyset cursors");

  PageStatements st;
  st.keys = group_order();
  st.backward = side == CursorSide::kBefore;
  st.fetch_limit = *q.paging.limit + 1;
  const char *dir = st.backward ? "ASC" : "DESC";
  const char *page_op = st.backward ? ">" : "<";     // rows on the requested side
  const char *probe_op = st.backward ? "<=" : ">=";  // rows on the other side, cursor included
  bool summaries = groups_from_summaries(q);

  {
    SqlBuilder b;
    std::string limit = b.bind(builtin(SqlType::kBigint), *st.fetch_limit);
    std::optional<Bounds> at;
    if (side != CursorSide::kNone)
      at = bind_cursor(b, cursor);
    std::string rows;
    if (summaries) {
      rows = summary_rows(b, q, page_op, at ? &*at : nullptr, dir, limit);
    } else {
      rows = "SELECT * FROM (" + grouped_rows(b, q) + ") g";
      if (at)
        rows += " WHERE " + seek("g.latest_at", "g.latest_id", page_op, at->at, at->id);
    }
    st.page =
        b.finish(std::string("SELECT ") + kGroupJson + ", u.latest_at, u.latest_id FROM (" + rows +
                 ") u ORDER BY u.latest_at " + dir + ", u.latest_id " + dir + " LIMIT " + limit);
  }
  if (side != CursorSide::kNone) {
    SqlBuilder b;
    Bounds at = bind_cursor(b, cursor);
    std::string rows = summaries ? summary_rows(b, q, probe_op, &at, dir, "")
                                 : "SELECT * FROM (" + grouped_rows(b, q) + ") g WHERE " +
                                       seek("g.latest_at", "g.latest_id", probe_op, at.at, at.id);
    st.probe = b.finish("SELECT EXISTS (" + rows + ")");
  }
  if (q.want_total) {
    SqlBuilder b;
    if (summaries) {
      // Groups with a key, plus the active rows without one.
      std::string user = b.bind(builtin(SqlType::kText), *q.user_id);
      st.total = b.finish(
          "SELECT (SELECT count(*) FROM inbox.notification_groups g WHERE g.user_id = " + user +
          ") + coalesce((SELECT c.active FROM inbox.user_counters c WHERE c.user_id = " + user +
          "), 0) - (SELECT coalesce(sum(g.notifications_count), 0) FROM "
          "inbox.notification_groups g WHERE g.user_id = " +
          user + ")::bigint");
    } else {
      st.total = b.finish("SELECT count(*) FROM (" + grouped_rows(b, q) + ") g");
    }
  }
  return st;
}

}  // namespace pgi::query
