// The read and seen marks of issue 19, as the engine's SQL. Pure C++.
//
// inbox.marks holds per user a read mark (read_before: a read-all) and seen marks (per user and
// per workspace: a seen-all). A notification is read when its read_at is set or it is active and
// its last change (updated_at) is before the user's read mark, and then read at the mark (a
// change after the mark writes the mark into read_at); it is seen when its
// seen_at is set or it was created at or before the newer of its user's and its workspace's
// seen mark. Every predicate, sort key and value over read_at or seen_at goes through here, so
// the list, its filters and shorthands, its cursors and its counts agree with inbox.to_json.
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

// The user's last read mark (a timestamptz, NULL without one). With `user_id` bound: one lookup
// for the statement (an InitPlan); without (list_all): correlated with the row `alias`.
std::string read_mark_sql(const std::string &alias);
std::string read_mark_sql(SqlBuilder &builder, const std::string &user_id);

// Every read mark of the user not settled yet, in order (a timestamptz[]): a covered row was
// read at the first after its last change.
std::string read_marks_sql(const std::string &alias);

// The seen mark in force for the row `alias` (correlated: it depends on the row's workspace).
std::string seen_mark_sql(const std::string &alias);

// A one-row subquery of the user's marks for the API shape: read_marks (timestamptz[]) and seen
// (jsonb: workspace key -> seen mark). With `user_id` bound: read once for the statement;
// without: for each row of `alias` (put it in a LATERAL join).
std::string marks_row_sql(const std::string *user_id, SqlBuilder &builder,
                          const std::string &alias);

// The API shape of the row `alias` with the marks of the marks_row_sql subquery `marks`.
std::string shape_sql(const std::string &alias, const std::string &marks);

// The value of `field` on the row as the API shows it: the marks applied to read_at and seen_at,
// the plain column otherwise. `read_mark` is a read_mark_sql.
std::string field_value_sql(const Field &field, const std::string &alias,
                            const std::string &read_mark);

// `read` (true) or unread (false) as the API shows it. Unread keeps the fragment
// `alias.read_at IS NULL`, so the partial indexes on unread rows apply.
std::string read_state_sql(bool read, const std::string &alias, const std::string &read_mark);

// Not expired at the statement's time (issue 19): every list, count and group keeps to it.
std::string not_expired_sql(const std::string &alias);

}  // namespace pgi::query
