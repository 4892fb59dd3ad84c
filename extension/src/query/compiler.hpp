// A Query -> the statements that answer it. Pure C++.
//
// A page is up to three statements over inbox.notifications n, all sharing one WHERE clause:
//   page   SELECT <shape> AS row, <key 1>, ..., <id> ... ORDER BY <keys> LIMIT <limit + 1>
//   probe  SELECT EXISTS (...): does any row lie on the other side of the cursor?
//   total  one bigint: count(*) with the same WHERE, or O(1) from the counters when the
//          request is only the shorthands the counters track (workspace_id, read,
//          include_deleted)
// Front ends that need other statements over the same rows (Directus aggregates) use
// compile_where and add their own SELECT list.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "query/marks.hpp"
#include "query/model.hpp"
#include "query/sql.hpp"

namespace pgi::query {

enum class CursorSide { kNone, kAfter, kBefore };

struct PageStatements {
  std::vector<OrderKey> keys;  // the completed display order; page columns 2.. hold these keys
  bool backward = false;       // the page rows arrive in reverse display order
  std::optional<int64_t> fetch_limit;  // rows the page statement may return (limit + 1)
  Statement page;
  std::optional<Statement> probe;  // only with a cursor
  std::optional<Statement> total;  // only when the query wants it
};

// `keys` is complete_order(query.order); `cursor` the decoded position when side != kNone.
PageStatements compile_page(const Query &query, const std::vector<OrderKey> &keys, CursorSide side,
                            const std::vector<Scalar> &cursor);

// The WHERE condition of every statement of the query, over `alias`: scope, soft-delete mode,
// expiry, shorthands, ids and filter (read state through the read mark, query/marks.hpp).
std::string compile_where(const Query &query, SqlBuilder &builder, const std::string &alias);
// The same, sharing the statement's marks (bound once however many fragments use them).
std::string compile_where(const Query &query, SqlBuilder &builder, MarkRefs &marks);

}  // namespace pgi::query
