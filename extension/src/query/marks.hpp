// The read and seen marks of issue 19, as the engine's SQL. Pure C++.
//
// inbox.marks holds per user a read mark (read_before: a read-all) and seen marks (per user and
// per workspace: a seen-all). A notification is read when its read_at is set or it is active and
// its last change (updated_at) is before the user's read mark, and then read at the first mark
// after that change (a change after the mark writes the mark into read_at); it is seen when its
// seen_at is set or it was created at or before the newer of its user's and its workspace's
// seen mark. Every predicate, sort key and value over read_at or seen_at goes through here, so
// the list, its filters and shorthands, its cursors and its counts agree with inbox.to_json.
//
// No statement reads inbox.marks for a row when the query names its user: the pg layer reads
// the user's marks once (Query::marks) and they are bound as parameters. On Citus a statement
// runs on the user's shard and may not read another distributed table per row.
#pragma once

#include <string>

#include "query/model.hpp"
#include "query/sql.hpp"

namespace pgi::query {

// Whether the installed schema has the lifecycle (inbox.marks, expires_at). The library also
// serves databases still on an older install script (0.1.0 before ALTER EXTENSION UPDATE),
// whose schema has neither: then every function below leaves them out. Set by the pg layer
// when it opens SPI (pg/spi_run.cpp), before any statement is compiled.
void set_lifecycle_schema(bool present);
bool lifecycle_schema();

// The statement that reads a user's marks and expired counts (UserMarks, in its field order):
// one row. A function scan of inbox._user_state, whose one statement over the marks and the
// expired rows Citus routes to the user's shard: one round trip.
Statement user_marks_statement(const std::string &user_id,
                               const std::optional<std::string> &workspace_id);

// The FROM item of a statement over the notification rows `alias` that uses MarkRefs: the
// table, and without the query's UserMarks (every user's rows: the admin listing) every user's
// marks joined set-wise, one row per user, never looked up for each row.
std::string notifications_from(const Query &query, const std::string &alias);

// The marks as SQL for one statement over the notification row `alias`. With the query's
// UserMarks (read by the pg layer), each is a parameter bound the first time a fragment needs
// it; without (every user's rows: the admin listing), a column of the marks that
// notifications_from joins.
class MarkRefs {
 public:
  MarkRefs(const Query &query, SqlBuilder &builder, std::string alias);
  // The last read mark (timestamptz), every read mark not settled yet (timestamptz[]), the
  // seen marks by workspace key (jsonb, '' the whole inbox).
  const std::string &read_before();
  const std::string &read_marks();
  const std::string &seen();
  const std::string &alias() const { return alias_; }
  // Known to have no read mark (the UserMarks say so): read state is read_at alone, and the
  // statements keep the plain predicates (the same text as without the lifecycle).
  bool no_read_mark() const { return marks_ && !marks_->read_before; }
  // Known to have one: the predicates compare with it directly (no COALESCE), so an unread
  // list can seek notifications_unread_changed_idx to the rows changed since.
  bool known_read_mark() const { return marks_ && marks_->read_before; }

 private:
  const UserMarks *marks_;
  SqlBuilder &b_;
  std::string alias_;
  std::string read_before_, read_marks_, seen_;
};

// The API shape of the row with the marks: the shape's marked function
// (RowShape::marked, taking the row, read_marks and seen), or its plain select.
std::string shape_sql(const RowShape &shape, MarkRefs &marks);

// The value of `field` on the row as the API shows it: the marks applied to read_at and seen_at,
// the plain column otherwise.
std::string field_value_sql(const Field &field, MarkRefs &marks);

// `read` (true) or unread (false) as the API shows it. Unread keeps the fragment
// `alias.read_at IS NULL`, so the partial indexes on unread rows apply.
std::string read_state_sql(bool read, MarkRefs &marks);

// Not expired at the statement's time (issue 19): every list, count and group keeps to it.
std::string not_expired_sql(const std::string &alias);

}  // namespace pgi::query
