#include "query/marks.hpp"

namespace pgi::query {
namespace {
bool lifecycle_present = true;

// A row's marks looked up for the row (no UserMarks: every user's rows).
std::string row_lookup(const std::string &column, const std::string &alias) {
  return "(SELECT mk." + column + " FROM inbox.marks mk WHERE mk.user_id OPERATOR(pg_catalog.=) " +
         alias + ".user_id AND mk.workspace_key OPERATOR(pg_catalog.=) '')";
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
      "e.active, e.unread, e.deleted FROM inbox._user_marks(" +
      user + ") m, inbox._expired_counts(" + user + ", " + workspace + ") e");
}

MarkRefs::MarkRefs(const Query &q, SqlBuilder &b, std::string alias)
    : marks_(q.user_id && q.marks ? &*q.marks : nullptr), b_(b), alias_(std::move(alias)) {}

const std::string &MarkRefs::read_before() {
  if (read_before_.empty())
    read_before_ = marks_
                       ? b_.bind(builtin(SqlType::kTimestamptz), text_or_null(marks_->read_before))
                       : row_lookup("read_before", alias_);
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
      read_marks_ = row_lookup("read_marks", alias_);
    }
  }
  return read_marks_;
}

const std::string &MarkRefs::seen() {
  if (seen_.empty())
    seen_ = marks_ ? b_.bind(builtin(SqlType::kJsonb), text_or_null(marks_->seen))
                   : "(SELECT pg_catalog.jsonb_object_agg(mk.workspace_key, mk.seen_before) FROM "
                     "inbox.marks mk WHERE mk.user_id OPERATOR(pg_catalog.=) " +
                         alias_ + ".user_id AND mk.seen_before IS NOT NULL)";
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
  if (!lifecycle_present)
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
  if (!lifecycle_present)
    return n + (read ? "read_at IS NOT NULL" : "read_at IS NULL");
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
