#include "directus/select.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "directus/fields.hpp"
#include "query/order_keys.hpp"
#include "query/aggregate.hpp"
#include "query/compiler.hpp"
#include "query/relation_join.hpp"

namespace pgi::directus {
namespace {

using query::Field;

std::string json_key(const std::string &key) {
  return nlohmann::json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string to_json(const std::string &expression) {
  return "pg_catalog.to_json(" + expression + ")";
}

class RowBuilder {
 public:
  RowBuilder(query::SqlBuilder &b, query::MarkRefs &marks, std::string &select, std::string &joins)
      : b_(b), marks_(marks), select_(select), joins_(joins) {}

  RowPlan::Part item(const Selection::Item &item) {
    RowPlan::Part part;
    part.key = item.field.name;
    if (!item.nested) {
      part.column = column(to_json(output_sql(item.field, marks_)));
      return part;
    }
    part.nested = true;
    if (item.relation == nullptr) {
      // The related row is known by its key alone: {"id": <the field's value>}, or null.
      std::string value = "n." + item.field.column;
      part.column = column(value + " IS NOT NULL");
      for (const Field &c : item.columns)
        part.children.push_back(leaf(c.name, to_json(value)));
      return part;
    }
    const query::Relation &r = *item.relation;
    std::string t = b_.alias();
    std::string inner = "SELECT true AS found";
    for (size_t i = 0; i < item.columns.size(); ++i)
      inner += ", " + to_json(t + "." + item.columns[i].column) + " AS c" + std::to_string(i + 1);
    joins_ += " LEFT JOIN LATERAL (" + inner + " FROM " + r.target + " " + t + " WHERE " +
              query::relation_key_matches(r, t, "n." + r.source_column) + " LIMIT 1) " + t +
              " ON true";
    part.column = column(t + ".found");
    for (size_t i = 0; i < item.columns.size(); ++i)
      part.children.push_back(leaf(item.columns[i].name, t + ".c" + std::to_string(i + 1)));
    return part;
  }

  int column(const std::string &expression) {
    select_ += ", " + expression;
    return ++columns_;
  }

 private:
  RowPlan::Part leaf(const std::string &key, const std::string &expression) {
    RowPlan::Part p;
    p.key = key;
    p.column = column(expression);
    return p;
  }

  query::SqlBuilder &b_;
  query::MarkRefs &marks_;
  std::string &select_, &joins_;
  int columns_ = 1;  // column 1 is the id
};

std::string order_by(const DirectusQuery &q, bool keys_order, query::SqlBuilder &b) {
  if (keys_order && q.query.ids) {
    query::Param p;
    p.type = query::builtin(query::SqlType::kBigint);
    p.array = true;
    p.values.assign(q.query.ids->begin(), q.query.ids->end());
    return "pg_catalog.array_position(" + b.bind(std::move(p)) + ", n.id)";
  }
  std::string out;
  query::MarkRefs marks(q.query, b, "n");
  for (const query::OrderKey &k : query::complete_order(q.query.order))
    out += (out.empty() ? "" : ", ") + query::key_expression(k, marks) + query::order_suffix(k);
  return out;
}

void paging(const query::Paging &p, query::SqlBuilder &b, std::string &sql) {
  if (p.limit)
    sql += " LIMIT " + b.bind(query::builtin(query::SqlType::kBigint), *p.limit);
  if (p.offset > 0)
    sql += " OFFSET " + b.bind(query::builtin(query::SqlType::kBigint), p.offset);
}

}  // namespace

PageStatement compile_rows(const DirectusQuery &q, bool ids_only, bool keys_order) {
  PageStatement out;
  query::SqlBuilder b;
  std::string select = "n.id", joins;
  if (!ids_only) {
    query::MarkRefs marks(q.query, b, "n");
    RowBuilder rows(b, marks, select, joins);
    if (q.fields.whole) {
      out.plan.whole_column =
          rows.column("inbox.to_directus(" + query::notification_row("n") + ")");
    } else {
      for (const Selection::Item &item : q.fields.items)
        out.plan.parts.push_back(rows.item(item));
    }
  }
  std::string sql = "SELECT " + select + " FROM " + query::notifications_from(q.query, "n") +
                    joins + " WHERE " + query::compile_where(q.query, b, "n") + " ORDER BY " +
                    order_by(q, keys_order, b);
  paging(q.query.paging, b, sql);
  out.statement = b.finish(std::move(sql));
  return out;
}

query::Statement compile_groups(const DirectusQuery &q) {
  const Aggregation &a = *q.aggregate;
  query::AggregatePlan plan;
  for (size_t i = 0; i < a.group_by.size(); ++i)
    plan.groups.push_back(query::GroupKey{aggregate_sql(a.group_by[i], "n"), a.group_order.at(i)});
  for (const AggregateTerm &t : a.terms) {
    query::AggregateTerm term;
    term.fn = t.fn;
    if (t.field)
      term.expression = aggregate_sql(*t.field, "n");
    // Directus answers counts, sums and averages as strings (PostgreSQL's bigint and numeric
    // reach it as text), min and max as the field's own value.
    term.as_text = t.fn != query::AggregateFn::kMin && t.fn != query::AggregateFn::kMax;
    plan.terms.push_back(std::move(term));
  }
  return query::compile_aggregate(q.query, plan, "n");
}

std::string render_row(const RowPlan &plan, const ColumnText &column) {
  if (plan.parts.empty()) {
    std::optional<std::string> whole = column(plan.whole_column);
    return whole ? *whole : "null";
  }
  std::string out = "{";
  for (const RowPlan::Part &p : plan.parts) {
    if (out.size() > 1)
      out += ',';
    out += json_key(p.key) + ':';
    std::optional<std::string> v = column(p.column);
    if (!p.nested) {
      out += v ? *v : "null";
    } else if (!v || *v != "t") {
      out += "null";
    } else {
      RowPlan inner;
      inner.parts = p.children;
      out += render_row(inner, column);
    }
  }
  return out + "}";
}

std::string render_aggregate_row(const Aggregation &a, const ColumnText &column) {
  std::string out = "{";
  int at = 1;
  auto add = [&](const std::string &key, const std::string &value) {
    if (out.size() > 1)
      out += ',';
    out += json_key(key) + ':' + value;
  };
  for (const Field &g : a.group_by) {
    std::optional<std::string> v = column(at++);
    add(g.name, v ? *v : "null");
  }
  // Terms of one function share an object ({"count": {"id": ..., "item": ...}}), except those
  // over every row, which are the value itself ({"count": "10000"}).
  std::vector<std::string> done;
  for (size_t i = 0; i < a.terms.size(); ++i) {
    const AggregateTerm &t = a.terms[i];
    std::optional<std::string> v = column(at + static_cast<int>(i));
    if (!t.field) {
      add(t.name, v ? *v : "null");
      continue;
    }
    if (std::find(done.begin(), done.end(), t.name) != done.end())
      continue;
    done.push_back(t.name);
    std::string inner = "{";
    for (size_t j = i; j < a.terms.size(); ++j) {
      if (a.terms[j].name != t.name || !a.terms[j].field)
        continue;
      std::optional<std::string> w = column(at + static_cast<int>(j));
      if (inner.size() > 1)
        inner += ',';
      inner += json_key(a.terms[j].field->name) + ':' + (w ? *w : "null");
    }
    add(t.name, inner + "}");
  }
  return out + "}";
}

}  // namespace pgi::directus
