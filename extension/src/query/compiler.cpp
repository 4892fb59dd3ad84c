#include "query/compiler.hpp"

#include "core/errors.hpp"
#include "query/filter_compiler.hpp"
#include "query/marks.hpp"
#include "query/order_keys.hpp"
#include "query/order_keyset.hpp"
#include "query/row_expand.hpp"

namespace pgi::query {
namespace {

// The total from the counters, or nullopt when they do not track this request.
std::optional<Statement> counter_total(const Query &q) {
  if (!q.user_id || q.ids || !q.filter.is_true() || q.type ||
      (q.read && q.deleted != DeletedMode::kActive))
    return std::nullopt;
  std::string value;
  // The same count of the expired rows not purged yet (issue 19): the counters count them until
  // a purge, so the total subtracts them.
  int64_t expired = 0;
  const UserMarks *m = q.marks ? &*q.marks : nullptr;
  switch (q.deleted) {
    case DeletedMode::kActive:
      value = !q.read   ? "c.active"
              : *q.read ? "c.active OPERATOR(pg_catalog.-) c.unread"
                        : "c.unread";
      if (m)
        expired = !q.read   ? m->expired_active
                  : *q.read ? m->expired_active - m->expired_unread
                            : m->expired_unread;
      break;
    case DeletedMode::kWithDeleted:
      value = "c.active OPERATOR(pg_catalog.+) c.deleted";
      if (m)
        expired = m->expired_active + m->expired_deleted;
      break;
    case DeletedMode::kOnlyDeleted:
      value = "c.deleted";
      if (m)
        expired = m->expired_deleted;
      break;
  }
  SqlBuilder b;
  std::string user = b.bind(builtin(SqlType::kText), *q.user_id);
  std::string where = "c.user_id OPERATOR(pg_catalog.=) " + user;
  std::string table = "inbox.user_counters";
  std::string workspace = "NULL::pg_catalog.text";
  if (q.workspace_id) {
    table = "inbox.workspace_counters";
    workspace = b.bind(builtin(SqlType::kText), *q.workspace_id);
    where += " AND c.workspace_id OPERATOR(pg_catalog.=) " + workspace;
  }
  std::string sql =
      "SELECT COALESCE((SELECT " + value + " FROM " + table + " c WHERE " + where + "), 0)";
  if (m)
    sql += " OPERATOR(pg_catalog.-) " + b.bind(builtin(SqlType::kBigint), expired);
  else if (lifecycle_schema())
    sql += " OPERATOR(pg_catalog.-) (SELECT " + value + " FROM inbox._expired_counts(" + user +
           ", " + workspace + ") c)";
  return b.finish(std::move(sql));
}

}  // namespace

std::string compile_where(const Query &q, SqlBuilder &b, const std::string &alias) {
  MarkRefs marks(q, b, alias);
  return compile_where(q, b, marks);
}

std::string compile_where(const Query &q, SqlBuilder &b, MarkRefs &marks) {
  std::vector<std::string> parts;
  const std::string &alias = marks.alias();
  const std::string n = alias + ".";
  if (q.user_id)
    parts.push_back(n + "user_id OPERATOR(pg_catalog.=) " +
                    b.bind(builtin(SqlType::kText), *q.user_id, "user_id"));
  if (q.deleted == DeletedMode::kActive)
    parts.push_back(n + "deleted_at IS NULL");
  if (q.deleted == DeletedMode::kOnlyDeleted)
    parts.push_back(n + "deleted_at IS NOT NULL");
  if (lifecycle_schema())
    parts.push_back(not_expired_sql(alias));
  if (q.workspace_id)
    parts.push_back(n + "workspace_id OPERATOR(pg_catalog.=) " +
                    b.bind(builtin(SqlType::kText), *q.workspace_id, "workspace_id"));
  if (q.read)
    parts.push_back(read_state_sql(*q.read, marks));
  if (q.type)
    parts.push_back(n + "type OPERATOR(pg_catalog.=) " +
                    b.bind(builtin(SqlType::kText), *q.type, "type"));
  if (q.ids) {
    Param p;
    p.type = builtin(SqlType::kBigint);
    p.array = true;
    p.values.assign(q.ids->begin(), q.ids->end());
    p.path = "ids";
    parts.push_back(n + "id OPERATOR(pg_catalog.=) ANY (" + b.bind(std::move(p)) + ")");
  }
  if (!q.filter.is_true())
    parts.push_back(compile_filter(q.filter, b, marks));
  if (parts.empty())
    return "true";
  std::string out;
  for (const std::string &p : parts)
    out += (out.empty() ? "" : " AND ") + p;
  return out;
}

PageStatements compile_page(const Query &q, const std::vector<OrderKey> &keys, CursorSide side,
                            const std::vector<Scalar> &cursor) {
  if (q.grouped_types)
    throw invalid_value("grouped_types", "only groups take grouped_types",
                        "A list has no groups: leave grouped_types out, or ask for the groups.");
  PageStatements out;
  out.keys = keys;
  out.backward = side == CursorSide::kBefore;
  std::vector<OrderKey> scan = out.backward ? reversed(keys) : keys;
  // One user's rows in id order (Mastodon's and Diaspora's pages, the v2 scan): the primary key
  // (user_id, id) serves it for every user. A custom plan, made with the user's value, takes the
  // cross-user notifications_id_idx for a user holding many of the table's oldest rows (it
  // expects the LIMIT to be met early in id order: 32,867 buffers where the primary key reads a
  // few), and PostgreSQL makes five custom plans before it tries the generic one.
  const bool id_seek = q.user_id && keys.size() == 1;

  {
    SqlBuilder b;
    // The API shape with the marks of issue 19, bound as values (query/marks.hpp).
    MarkRefs marks(q, b, "n");
    std::string sql =
        "SELECT " + expanded_shape(shape_sql(q.shape, marks), q.expand, b, "n") + " AS row";
    for (const OrderKey &k : keys)
      sql += ", " + key_expression(k, marks);
    sql += " FROM " + notifications_from(q, "n") + " WHERE " + compile_where(q, b, marks);
    if (side != CursorSide::kNone)
      sql += " AND " + keyset_predicate(scan, cursor, false, b, marks);
    sql += " ORDER BY ";
    for (size_t i = 0; i < scan.size(); ++i)
      sql += (i ? ", " : "") + key_expression(scan[i], marks) + order_suffix(scan[i]);
    if (q.paging.limit) {
      out.fetch_limit = *q.paging.limit + 1;
      sql += " LIMIT " + b.bind(builtin(SqlType::kBigint), *out.fetch_limit);
    }
    if (q.paging.offset > 0)
      sql += " OFFSET " + b.bind(builtin(SqlType::kBigint), q.paging.offset);
    out.page = b.finish(std::move(sql));
    out.page.generic_plan = id_seek;
  }

  if (side != CursorSide::kNone) {
    // The other side of the cursor, the cursor's own row included: after a cursor the previous
    // page holds it; before a cursor the next page does.
    SqlBuilder b;
    MarkRefs marks(q, b, "n");
    std::string sql =
        "SELECT EXISTS (SELECT 1 FROM " + notifications_from(q, "n") + " WHERE " +
        compile_where(q, b, marks) + " AND " +
        keyset_predicate(out.backward ? keys : reversed(keys), cursor, true, b, marks) + ")";
    out.probe = b.finish(std::move(sql));
    out.probe->generic_plan = id_seek;
  }

  if (q.want_total) {
    out.total = counter_total(q);
    if (!out.total) {
      SqlBuilder b;
      std::string sql = "SELECT pg_catalog.count(*) FROM " + notifications_from(q, "n") +
                        " WHERE " + compile_where(q, b, "n");
      out.total = b.finish(std::move(sql));
    }
  }
  return out;
}

}  // namespace pgi::query
