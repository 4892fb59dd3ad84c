#include "query/marks.hpp"

namespace pgi::query {
namespace {
bool lifecycle_present = true;
}

void set_lifecycle_schema(bool present) {
  lifecycle_present = present;
}
bool lifecycle_schema() {
  return lifecycle_present;
}

std::string read_mark_sql(const std::string &alias) {
  if (!lifecycle_present)
    return "NULL::pg_catalog.timestamptz";
  return "(SELECT mk.read_before FROM inbox.marks mk WHERE mk.user_id OPERATOR(pg_catalog.=) " +
         alias + ".user_id AND mk.workspace_key OPERATOR(pg_catalog.=) '')";
}

std::string read_mark_sql(SqlBuilder &b, const std::string &user_id) {
  if (!lifecycle_present)
    return "NULL::pg_catalog.timestamptz";
  return "(SELECT mk.read_before FROM inbox.marks mk WHERE mk.user_id OPERATOR(pg_catalog.=) " +
         b.bind(builtin(SqlType::kText), user_id, "user_id") +
         " AND mk.workspace_key OPERATOR(pg_catalog.=) '')";
}

std::string read_marks_sql(const std::string &alias) {
  return "(SELECT mk.read_marks FROM inbox.marks mk WHERE mk.user_id OPERATOR(pg_catalog.=) " +
         alias + ".user_id AND mk.workspace_key OPERATOR(pg_catalog.=) '')";
}

std::string seen_mark_sql(const std::string &alias) {
  return "(SELECT pg_catalog.max(mk.seen_before) FROM inbox.marks mk WHERE mk.user_id "
         "OPERATOR(pg_catalog.=) " +
         alias + ".user_id AND mk.workspace_key OPERATOR(pg_catalog.=) ANY (ARRAY['', " +
         "COALESCE(" + alias + ".workspace_id, '')]))";
}

std::string marks_row_sql(const std::string *user_id, SqlBuilder &b, const std::string &alias) {
  std::string user =
      user_id ? b.bind(builtin(SqlType::kText), *user_id, "user_id") : alias + ".user_id";
  // OFFSET 0: kept a subquery, so its columns reach inbox._shape as plain values and the
  // planner still inlines it (an argument holding a subquery, used twice, would stop that).
  return "(SELECT (SELECT x.read_marks FROM inbox.marks x WHERE x.user_id OPERATOR(pg_catalog.=) " +
         user +
         " AND x.workspace_key OPERATOR(pg_catalog.=) '') AS read_marks, "
         "(SELECT pg_catalog.jsonb_object_agg(x.workspace_key, x.seen_before) FROM inbox.marks x "
         "WHERE x.user_id OPERATOR(pg_catalog.=) " +
         user + " AND x.seen_before IS NOT NULL) AS seen OFFSET 0)";
}

std::string shape_sql(const std::string &alias, const std::string &marks) {
  return "inbox._shape(" + notification_row(alias) + ", " + marks + ".read_marks, GREATEST((" +
         marks + ".seen OPERATOR(pg_catalog.->>) '')::pg_catalog.timestamptz, (" + marks +
         ".seen OPERATOR(pg_catalog.->>) COALESCE(" + alias +
         ".workspace_id, ''))::pg_catalog.timestamptz))";
}

std::string field_value_sql(const Field &f, const std::string &alias,
                            const std::string &read_mark) {
  const std::string n = alias + ".";
  if (!lifecycle_present)
    return n + f.column;
  if (f.column == "read_at")
    return "COALESCE(" + n + "read_at, CASE WHEN " + n + "deleted_at IS NULL AND " + n +
           "updated_at OPERATOR(pg_catalog.<) " + read_mark + " THEN inbox._mark_after(" +
           read_marks_sql(alias) + ", " + n + "updated_at) END)";
  if (f.column == "seen_at") {
    std::string mark = seen_mark_sql(alias);
    return "COALESCE(" + n + "seen_at, CASE WHEN " + n + "created_at OPERATOR(pg_catalog.<=) " +
           mark + " THEN " + mark + " END)";
  }
  return n + f.column;
}

std::string read_state_sql(bool read, const std::string &alias, const std::string &read_mark) {
  const std::string n = alias + ".";
  if (!lifecycle_present)
    return n + (read ? "read_at IS NOT NULL" : "read_at IS NULL");
  std::string covered = "(" + n + "deleted_at IS NULL AND COALESCE(" + n +
                        "updated_at OPERATOR(pg_catalog.<) " + read_mark + ", false))";
  if (read)
    return "(" + n + "read_at IS NOT NULL OR " + covered + ")";
  return "(" + n + "read_at IS NULL AND NOT " + covered + ")";
}

std::string not_expired_sql(const std::string &alias) {
  if (!lifecycle_present)
    return "true";
  return "(" + alias + ".expires_at IS NULL OR " + alias +
         ".expires_at OPERATOR(pg_catalog.>) pg_catalog.now())";
}

}  // namespace pgi::query
