// Aggregates over the rows a Query selects: count, count distinct, sum, avg, min, max, grouped
// by expressions. Pure C++.
//
// The WHERE clause is the engine's own (compile_where), so an aggregate counts exactly the rows a
// list with the same query would page through. Front ends pass the SQL expressions to group by
// and aggregate: each is built from a field registry's whitelisted columns and fixed function
// calls (directus/fields.hpp: output_sql), never from request text.
//
// The statement returns one row per group:
//   group values..., aggregate values...     each as json (pg_catalog.to_json), in plan order
// ordered by the group values (as the plan says), cut by the query's limit and offset.
#pragma once

#include <string>
#include <vector>

#include "query/model.hpp"
#include "query/sql.hpp"

namespace pgi::query {

enum class AggregateFn {
  kCount,
  kCountDistinct,
  kSum,
  kSumDistinct,
  kAvg,
  kAvgDistinct,
  kMin,
  kMax
};

struct AggregateTerm {
  AggregateFn fn = AggregateFn::kCount;
  std::string expression;  // over the notification alias; empty: every row (count only)
  bool as_text = false;    // the value as its text (a JSON string), as Directus answers counts
};

struct GroupKey {
  std::string expression;  // over the notification alias
  Direction direction = Direction::kAsc;
};

struct AggregatePlan {
  std::vector<GroupKey> groups;  // none: one row for all the selected rows
  std::vector<AggregateTerm> terms;
};

// `alias` names the notification row in the plan's expressions.
Statement compile_aggregate(const Query &query, const AggregatePlan &plan,
                            const std::string &alias = "n");

}  // namespace pgi::query
