#include "query/order_keyset.hpp"

#include <stdexcept>

#include "query/order_keys.hpp"

namespace pgi::query {
namespace {

bool is_null(const Scalar &v) {
  return std::holds_alternative<std::monostate>(v);
}

std::string op(Direction d, bool or_equal) {
  if (d == Direction::kAsc)
    return or_equal ? "OPERATOR(pg_catalog.>=)" : "OPERATOR(pg_catalog.>)";
  return or_equal ? "OPERATOR(pg_catalog.<=)" : "OPERATOR(pg_catalog.<)";
}

}  // namespace

std::string keyset_predicate(const std::vector<OrderKey> &keys, const std::vector<Scalar> &position,
                             bool inclusive, SqlBuilder &builder, MarkRefs &marks) {
  if (keys.empty() || keys.size() != position.size())
    throw std::logic_error("keyset position does not match the order");
  size_t n = keys.size();
  std::vector<std::string> expr(n), value(n);
  bool simple = true;
  for (size_t i = 0; i < n; ++i) {
    expr[i] = key_expression(keys[i], marks);
    if (!is_null(position[i]))
      value[i] = builder.bind(builtin(keys[i].field.value_type()), position[i]);
    if (keys[i].field.nullable || keys[i].direction != keys[0].direction)
      simple = false;
  }

  if (simple) {
    std::string left, right;
    for (size_t i = 0; i < n; ++i) {
      left += (i ? ", " : "") + expr[i];
      right += (i ? ", " : "") + value[i];
    }
    if (n == 1)
      return expr[0] + " " + op(keys[0].direction, inclusive) + " " + value[0];
    return "ROW(" + left + ") " + op(keys[0].direction, inclusive) + " ROW(" + right + ")";
  }

  // Position i decides: keys before it equal, key i after (or, for the last, at when inclusive).
  auto equal = [&](size_t i) {
    return is_null(position[i]) ? expr[i] + " IS NULL"
                                : expr[i] + " OPERATOR(pg_catalog.=) " + value[i];
  };
  // Key i alone is after (or at, when or_equal) its position value. "" means never, "true"
  // always.
  auto after = [&](size_t i, bool or_equal) -> std::string {
    const OrderKey &k = keys[i];
    if (is_null(position[i])) {
      if (k.nulls_first)
        return or_equal ? "true" : expr[i] + " IS NOT NULL";
      return or_equal ? expr[i] + " IS NULL" : "";
    }
    std::string cmp = expr[i] + " " + op(k.direction, or_equal) + " " + value[i];
    if (k.field.nullable && !k.nulls_first)
      return "(" + cmp + " OR " + expr[i] + " IS NULL)";
    return cmp;
  };

  std::string disjunction;
  std::string prefix;
  for (size_t i = 0; i < n; ++i) {
    bool last = i + 1 == n;
    std::string a = after(i, last && inclusive);
    if (a == "true" && prefix.empty())
      return "true";
    if (!a.empty()) {
      if (!disjunction.empty())
        disjunction += " OR ";
      disjunction += "(" + prefix + a + ")";
    }
    prefix += equal(i) + " AND ";
  }
  if (disjunction.empty())
    return "false";

  // The leading key is at or after its position value on every row the disjunction admits.
  std::string bound = after(0, true);
  if (bound == "true" || n == 1)
    return "(" + disjunction + ")";
  return "(" + bound + " AND (" + disjunction + "))";
}

}  // namespace pgi::query
