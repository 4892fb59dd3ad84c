#include "query/marks.hpp"

namespace pgi::query {
namespace {
bool lifecycle_present = true;

// The alias of the marks joined to the notification row `alias` (no UserMarks: every user's
// rows; see notifications_from).
std::string joined_marks(const std::string &alias) {
  return alias + "_marks";
}

Scalar text_or_null(const std::optional<std::string> &v) {
  return v ? Scalar(*v) : Scalar();
}
}  // namespace

void set_lifecycle_schema(bool present) {
  lifecycle_present = present;
}
bool lifecycle_schema() {
  return lifecycle_present;
}

Statement user_marks_statement(const std::string &user_id,
                               const std::optional<std::string> &workspace_id) {
  SqlBuilder b;
  std::string user = b.bind(builtin(SqlType::kText), user_id);
  std::string workspace = b.bind(builtin(SqlType::kText), text_or_null(workspace_id));
  return b.finish(
      "SELECT m.read_marks[pg_catalog.array_upper(m.read_marks, 1)]::pg_catalog.text, "
      "pg_catalog.array_to_string(m.read_marks, ' | '), m.seen::pg_catalog.text, "
      "m.expired_active, m.expired_unread, m.expired_deleted FROM inbox._user_state(" +
      user + ", " + workspace + ") m");
}

std::string notifications_from(const Query &q, const std::string &alias) {
  std::string from = "inbox.notifications " + alias;
  if ((q.user_id && q.marks) || !lifecycle_present)
    return from;
  // Every user's marks, one row per user, joined set-wise on the distribution column (on
  // Citus a colocated join). A statement that uses none of them loses the join in the planner
  // (a LEFT JOIN to a subquery unique on its key).
  const std::string m = joined_marks(alias);
  return from +
         " LEFT JOIN (SELECT mk.user_id, pg_catalog.max(mk.read_before) FILTER (WHERE "
         "mk.workspace_key OPERATOR(pg_catalog.=) '') AS read_before, "
         "pg_catalog.max(mk.read_marks) "
         "FILTER (WHERE mk.workspace_key OPERATOR(pg_catalog.=) '') AS read_marks, "
         "pg_catalog.jsonb_object_agg(mk.workspace_key, mk.seen_before) FILTER (WHERE "
         "mk.seen_before IS NOT NULL) AS seen FROM inbox.marks mk GROUP BY mk.user_id) " +
         m + " ON " + m + ".user_id OPERATOR(pg_catalog.=) " + alias + ".user_id";
}

MarkRefs::MarkRefs(const Query &q, SqlBuilder &b, std::string alias)
    : marks_(q.user_id && q.marks ? &*q.marks : nullptr), b_(b), alias_(std::move(alias)) {}

const std::string &MarkRefs::read_before() {
  if (read_before_.empty())
    read_before_ = marks_
                       ? b_.bind(builtin(SqlType::kTimestamptz), text_or_null(marks_->read_before))
                       : joined_marks(alias_) + ".read_before";
  return read_before_;
}

const std::string &MarkRefs::read_marks() {
  if (read_marks_.empty()) {
    if (marks_) {
      Param p;
      p.type = builtin(SqlType::kTimestamptz);
      p.array = true;
      for (const std::string &m : marks_->read_marks)
        p.values.push_back(m);
      read_marks_ = b_.bind(std::move(p));
    } else {
      read_marks_ = joined_marks(alias_) + ".read_marks";
    }
  }
  return read_marks_;
}

const std::string &MarkRefs::seen() {
  if (seen_.empty())
    seen_ = marks_ ? b_.bind(builtin(SqlType::kJsonb), text_or_null(marks_->seen))
                   : joined_marks(alias_) + ".seen";
  return seen_;
}

std::string shape_sql(const RowShape &shape, MarkRefs &m) {
  if (shape.marked.empty() || !lifecycle_present)
    return shape.select;
  return shape.marked + "(" + notification_row(m.alias()) + ", " + m.read_marks() + ", " +
         m.seen() + ")";
}

std::string field_value_sql(const Field &f, MarkRefs &m) {
  const std::string n = m.alias() + ".";
  if (!lifecycle_present || (f.column == "read_at" && m.no_read_mark()))
    return n + f.column;
  if (f.column == "read_at")
    return "COALESCE(" + n + "read_at, CASE WHEN " + n + "deleted_at IS NULL AND " + n +
           "updated_at OPERATOR(pg_catalog.<) " + m.read_before() + " THEN inbox._mark_after(" +
           m.read_marks() + ", " + n + "updated_at) END)";
  if (f.column == "seen_at")
    return "inbox._seen_at(" + n + "seen_at, " + n + "created_at, inbox._seen_before(" + m.seen() +
           ", " + n + "workspace_id))";
  return n + f.column;
}

std::string read_state_sql(bool read, MarkRefs &m) {
  const std::string n = m.alias() + ".";
  if (!lifecycle_present || m.no_read_mark())
    return n + (read ? "read_at IS NOT NULL" : "read_at IS NULL");
  if (m.known_read_mark()) {
    // updated_at is NOT NULL: "not covered" is deleted, or changed at or after the mark.
    if (read)
      return "(" + n + "read_at IS NOT NULL OR (" + n + "deleted_at IS NULL AND " + n +
             "updated_at OPERATOR(pg_catalog.<) " + m.read_before() + "))";
    return "(" + n + "read_at IS NULL AND (" + n + "deleted_at IS NOT NULL OR " + n +
           "updated_at OPERATOR(pg_catalog.>=) " + m.read_before() + "))";
  }
  std::string covered = "(" + n + "deleted_at IS NULL AND COALESCE(" + n +
                        "updated_at OPERATOR(pg_catalog.<) " + m.read_before() + ", false))";
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
