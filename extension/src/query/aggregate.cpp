#include "query/aggregate.hpp"

#include <stdexcept>

#include "query/compiler.hpp"

namespace pgi::query {
namespace {

std::string aggregate_sql(const AggregateTerm &t) {
  if (t.expression.empty()) {
    if (t.fn != AggregateFn::kCount)
      throw std::logic_error("only count aggregates every row");
    return "pg_catalog.count(*)";
  }
  const std::string &e = t.expression;
  switch (t.fn) {
    case AggregateFn::kCount:
      return "pg_catalog.count(" + e + ")";
    case AggregateFn::kCountDistinct:
      return "pg_catalog.count(DISTINCT " + e + ")";
    case AggregateFn::kSum:
      return "pg_catalog.sum(" + e + ")";
    case AggregateFn::kSumDistinct:
      return "pg_catalog.sum(DISTINCT " + e + ")";
    case AggregateFn::kAvg:
      return "pg_catalog.avg(" + e + ")";
    case AggregateFn::kAvgDistinct:
      return "pg_catalog.avg(DISTINCT " + e + ")";
    case AggregateFn::kMin:
      return "pg_catalog.min(" + e + ")";
    case AggregateFn::kMax:
      return "pg_catalog.max(" + e + ")";
  }
  throw std::logic_error("unknown aggregate");
}

}  // namespace

Statement compile_aggregate(const Query &query, const AggregatePlan &plan,
                            const std::string &alias) {
  SqlBuilder b;
  std::string select, group_by, order_by;
  for (const GroupKey &g : plan.groups) {
    select +=
        (select.empty() ? "" : ", ") + std::string("pg_catalog.to_json(") + g.expression + ")";
    group_by += (group_by.empty() ? "" : ", ") + g.expression;
    order_by += (order_by.empty() ? "" : ", ") + g.expression +
                (g.direction == Direction::kAsc ? " ASC" : " DESC");
  }
  for (const AggregateTerm &t : plan.terms) {
    std::string value = aggregate_sql(t);
    if (t.as_text)
      value = "(" + value + ")::pg_catalog.text";
    select += (select.empty() ? "" : ", ") + std::string("pg_catalog.to_json(") + value + ")";
  }
  if (select.empty())
    throw std::logic_error("an aggregate plan needs at least one group or term");
  std::string sql = "SELECT " + select + " FROM " + notifications_from(query, alias) + " WHERE " +
                    compile_where(query, b, alias);
  if (!group_by.empty())
    sql += " GROUP BY " + group_by + " ORDER BY " + order_by;
  if (query.paging.limit)
    sql += " LIMIT " + b.bind(builtin(SqlType::kBigint), *query.paging.limit);
  if (query.paging.offset > 0)
    sql += " OFFSET " + b.bind(builtin(SqlType::kBigint), query.paging.offset);
  return b.finish(std::move(sql));
}

}  // namespace pgi::query
