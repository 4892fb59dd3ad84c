#include "query/order_keys.hpp"

#include "core/errors.hpp"
#include "query/filter_values.hpp"
#include "query/marks.hpp"

namespace pgi::query {
namespace {

struct DirectionName {
  const char *name;
  Direction direction;
  bool nulls_first;
};

constexpr DirectionName kDirections[] = {
    {"asc", Direction::kAsc, false},
    {"desc", Direction::kDesc, true},
    {"asc_nulls_first", Direction::kAsc, true},
    {"asc_nulls_last", Direction::kAsc, false},
    {"desc_nulls_first", Direction::kDesc, true},
    {"desc_nulls_last", Direction::kDesc, false},
};

bool default_nulls_first(Direction d) {
  return d == Direction::kDesc;
}

// Two keys sort by the same value when they read the same column the same way.
bool same_value(const Field &a, const Field &b) {
  return a.column == b.column && (a.kind == ValueKind::kFlag) == (b.kind == ValueKind::kFlag);
}

}  // namespace

std::vector<OrderKey> parse_native_order(const nlohmann::json &order, const std::string &path,
                                         const FieldRegistry &fields) {
  std::vector<OrderKey> keys;
  if (order.is_null())
    return keys;
  nlohmann::json list = order.is_object() ? nlohmann::json::array({order}) : order;
  if (!list.is_array())
    throw invalid_value(
        path, "expected an array of {\"field\": \"direction\"} objects, got " + json_kind(order));
  if (list.size() > 16)
    throw invalid_value(path, "more than 16 keys");
  for (size_t i = 0; i < list.size(); ++i) {
    std::string at = order.is_object() ? path : path + "[" + std::to_string(i) + "]";
    const nlohmann::json &item = list[i];
    if (!item.is_object() || item.size() != 1)
      throw invalid_value(
          at,
          "expected an object with exactly one field, got " +
              (item.is_object() ? std::to_string(item.size()) + " fields" : json_kind(item)),
          "Give several keys as an array: [{\"type\": \"asc\"}, {\"createdAt\": "
          "\"desc\"}].");
    const std::string &name = item.begin().key();
    at += "." + name;
    const Field *f = fields.find(name);
    if (f == nullptr)
      throw invalid_value(at, "unknown field", "Sortable fields: " + fields.names(true) + ".");
    if (!f->sortable)
      throw invalid_value(at, "cannot sort by " + name,
                          "Sortable fields: " + fields.names(true) + ".");
    const nlohmann::json &dir = item.begin().value();
    const DirectionName *found = nullptr;
    for (const DirectionName &d : kDirections) {
      if (dir.is_string() && dir == d.name)
        found = &d;
    }
    if (found == nullptr)
      throw invalid_value(at, "expected a direction",
                          "Directions: asc, desc, asc_nulls_first, asc_nulls_last, "
                          "desc_nulls_first, desc_nulls_last.");
    for (const OrderKey &k : keys) {
      if (same_value(k.field, *f))
        throw invalid_value(at, "sorts by a field already sorted by");
    }
    keys.push_back(OrderKey{*f, found->direction, found->nulls_first});
  }
  return keys;
}

std::vector<OrderKey> complete_order(const std::vector<OrderKey> &requested) {
  std::vector<OrderKey> keys;
  const Field &id = *notification_column("id");
  if (requested.empty()) {
    keys.push_back(OrderKey{*notification_column("created_at"), Direction::kDesc, true});
  }
  bool has_id = false;
  for (const OrderKey &k : requested) {
    keys.push_back(k);
    if (k.field.column == id.column) {
      has_id = true;
      break;
    }
  }
  if (!has_id) {
    Direction d = keys.back().direction;
    keys.push_back(OrderKey{id, d, default_nulls_first(d)});
  }
  for (OrderKey &k : keys) {
    if (!k.field.nullable)
      k.nulls_first = default_nulls_first(k.direction);
  }
  // The tiebreaker is read as the bigint it is, whatever the dialect shows (a public id).
  keys.back().field = id;
  keys.back().field.sortable = true;
  return keys;
}

std::vector<OrderKey> reversed(std::vector<OrderKey> keys) {
  for (OrderKey &k : keys) {
    k.direction = k.direction == Direction::kAsc ? Direction::kDesc : Direction::kAsc;
    k.nulls_first = !k.nulls_first;
  }
  return keys;
}

std::string order_signature(const std::vector<OrderKey> &complete) {
  std::string out;
  for (const OrderKey &k : complete) {
    if (!out.empty())
      out += ",";
    out += k.field.column;
    if (k.field.kind == ValueKind::kFlag)
      out += "?";
    out += k.direction == Direction::kAsc ? ":asc" : ":desc";
    out += k.nulls_first ? ":nulls_first" : ":nulls_last";
  }
  return out;
}

std::string key_expression(const OrderKey &key, MarkRefs &marks) {
  // read/readAt/seenAt as the API shows them (the marks of issue 19).
  if (key.field.kind == ValueKind::kFlag && key.field.column == "read_at")
    return read_state_sql(true, marks);
  if (key.field.kind == ValueKind::kFlag)
    return "(" + marks.alias() + "." + key.field.column + " IS NOT NULL)";
  return field_value_sql(key.field, marks);
}

std::string order_suffix(const OrderKey &key) {
  std::string out = key.direction == Direction::kAsc ? " ASC" : " DESC";
  if (key.nulls_first != default_nulls_first(key.direction))
    out += key.nulls_first ? " NULLS FIRST" : " NULLS LAST";
  return out;
}

}  // namespace pgi::query
