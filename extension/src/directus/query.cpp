#include "directus/query.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

#include "directus/fields.hpp"
#include "directus/filter.hpp"
#include "core/errors.hpp"
#include "query/filter_values.hpp"

namespace pgi::directus {
namespace {

using nlohmann::json;
using query::AggregateFn;
using query::Direction;
using query::Field;
using query::Node;
using query::ValueKind;

constexpr const char *kParameters[] = {"filter", "search", "sort",      "limit",   "offset",
                                       "page",   "fields", "aggregate", "groupBy", "meta"};
constexpr const char *kUnsupported[] = {"deep", "alias", "export", "version", "backlink"};

// Directus's own fields, what `*` and a query without `fields` select: fields() less
// pg_inbox's extra ones (seen_at, expires_at), which a request must name.
std::vector<Field> directus_fields() {
  const std::vector<Field> &all = fields().fields();
  return {all.begin(), all.begin() + static_cast<std::ptrdiff_t>(directus_fields_count())};
}

struct AggregateName {
  const char *name;
  AggregateFn fn;
  bool numeric;  // only over number fields
};

constexpr AggregateName kAggregates[] = {
    {"count", AggregateFn::kCount, false},
    {"countDistinct", AggregateFn::kCountDistinct, false},
    {"countAll", AggregateFn::kCount, false},
    {"sum", AggregateFn::kSum, true},
    {"sumDistinct", AggregateFn::kSumDistinct, true},
    {"avg", AggregateFn::kAvg, true},
    {"avgDistinct", AggregateFn::kAvgDistinct, true},
    {"min", AggregateFn::kMin, false},
    {"max", AggregateFn::kMax, false},
};

std::string trim(std::string s) {
  auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  s.erase(s.begin(), std::find_if_not(s.begin(), s.end(), space));
  s.erase(std::find_if_not(s.rbegin(), s.rend(), space).base(), s.end());
  return s;
}

// A JSON value, or a string holding one (the query-string form).
json json_param(const json &v, const std::string &path) {
  if (!v.is_string())
    return v;
  json parsed = json::parse(v.get_ref<const std::string &>(), nullptr, false);
  if (parsed.is_discarded())
    throw invalid_value(path, "invalid JSON");
  return parsed;
}

// A list of names: an array of strings, or one comma-separated string (each entry trimmed,
// empty entries skipped).
std::vector<std::string> names(const json &v, const std::string &path) {
  std::vector<json> parts;
  if (v.is_array()) {
    parts.assign(v.begin(), v.end());
  } else if (v.is_string()) {
    parts.push_back(v);
  } else {
    throw invalid_value(path, "expected a comma-separated string or an array of strings, got " +
                                  query::json_kind(v));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!parts[i].is_string())
      throw invalid_value(path + "[" + std::to_string(i) + "]",
                          "expected a string, got " + query::json_kind(parts[i]));
    const std::string &s = parts[i].get_ref<const std::string &>();
    size_t start = 0;
    while (start <= s.size()) {
      size_t comma = s.find(',', start);
      std::string name =
          trim(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (!name.empty())
        out.push_back(std::move(name));
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
  }
  return out;
}

// An integer given as a JSON number or a numeric string, as Directus's "must be a number".
int64_t integer(const json &v, const std::string &path, int64_t min) {
  std::optional<int64_t> out;
  if (v.is_number_integer()) {
    out = v.get<int64_t>();
  } else if (v.is_number_unsigned() &&
             v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    out = static_cast<int64_t>(v.get<uint64_t>());
  } else if (v.is_string()) {
    const std::string &s = v.get_ref<const std::string &>();
    size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
    bool digits = s.size() > start && s.size() <= 18 &&
                  std::all_of(s.begin() + start, s.end(),
                              [](unsigned char c) { return std::isdigit(c) != 0; });
    if (digits)
      out = std::stoll(s);
  }
  if (!out)
    throw invalid_value(path, "expected a number");
  if (*out < min)
    throw invalid_value(path, "expected a number of at least " + std::to_string(min));
  return *out;
}

const Field &field_named(const std::string &name, const std::string &path) {
  const Field *f = fields().find(name);
  if (f == nullptr)
    unknown_field(path, name, fields());
  return *f;
}

class Translator {
 public:
  explicit Translator(const QueryScope &scope) : scope_(scope) {}

  DirectusQuery run(const json &params) {
    DirectusQuery out;
    out.query.want_total = false;
    out.query.paging.limit = 100;
    out.query.order = {id_ascending()};
    select_everything(out.fields);

    std::vector<Node> filters;
    std::optional<int64_t> page;
    std::vector<std::pair<Field, Direction>> sort;
    for (auto it = params.begin(); it != params.end(); ++it) {
      const std::string &key = it.key();
      const json &v = it.value();
      check_known(key);
      if (v.is_null())
        continue;
      if (key == "filter") {
        Node f = parse_directus_filter(json_param(v, key), key,
                                       FilterScope{scope_.relations, scope_.current_user});
        if (!f.is_true())
          filters.push_back(std::move(f));
      } else if (key == "search") {
        if (auto s = search(v))
          filters.push_back(std::move(*s));
      } else if (key == "sort") {
        sort = sort_keys(v);
        out.sorted = true;
      } else if (key == "limit") {
        int64_t limit = integer(v, key, -1);
        out.query.paging.limit = limit < 0 ? std::nullopt : std::optional<int64_t>(limit);
        out.limited = true;
      } else if (key == "offset") {
        out.query.paging.offset = integer(v, key, 0);
      } else if (key == "page") {
        page = integer(v, key, 1);
      } else if (key == "fields") {
        out.fields = selection(v);
      } else if (key == "aggregate") {
        aggregate(json_param(v, key), ensure(out.aggregate));
      } else if (key == "groupBy") {
        for (const std::string &name : names(v, key))
          ensure(out.aggregate).group_by.push_back(aggregated_field(field_named(name, key), key));
      } else if (key == "meta") {
        meta(v, out);
      }
    }

    if (!filters.empty()) {
      Node all;
      all.kind = Node::Kind::kAnd;
      all.children = std::move(filters);
      out.query.filter = all.children.size() == 1 ? std::move(all.children[0]) : std::move(all);
    }
    if (page && out.query.paging.limit)
      out.query.paging.offset = (*page - 1) * *out.query.paging.limit;
    if (out.aggregate) {
      group_order(sort, *out.aggregate);
    } else if (!sort.empty()) {
      out.query.order.clear();
      bool has_id = false;
      for (auto &[field, direction] : sort) {
        has_id = has_id || field.name == "id";
        out.query.order.push_back(order_key(field, direction));
      }
      if (!has_id)  // a stable order: equal keys by id, as the default order
        out.query.order.push_back(id_ascending());
    }
    return out;
  }

 private:
  static void check_known(const std::string &key) {
    for (const char *p : kParameters) {
      if (key == p)
        return;
    }
    for (const char *p : kUnsupported) {
      if (key == p)
        throw invalid_value(key,
                            "this query parameter is not supported by pg_inbox's Directus API");
    }
    std::string known;
    for (const char *p : kParameters)
      known += (known.empty() ? "" : ", ") + std::string(p);
    throw invalid_value(key, "unknown query parameter", "Query parameters: " + known + ".");
  }

  static Aggregation &ensure(std::optional<Aggregation> &a) {
    if (!a)
      a.emplace();
    return *a;
  }

  static query::OrderKey order_key(const Field &f, Direction d) {
    // Directus sorts status by its text: ascending "archived" before "inbox", that is the flag
    // (archived) first.
    if (f.kind == ValueKind::kFlag && f.true_label < f.false_label)
      d = d == Direction::kAsc ? Direction::kDesc : Direction::kAsc;
    query::OrderKey k;
    k.field = f;
    k.direction = d;
    k.nulls_first = d == Direction::kDesc;  // PostgreSQL's (and so Directus's) default
    return k;
  }

  static query::OrderKey id_ascending() { return order_key(fields().fields()[0], Direction::kAsc); }

  std::optional<Node> search(const json &v) {
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (text.empty())
      return std::nullopt;
    if (text.size() > query::kMaxStringBytes)
      throw invalid_value("search",
                          "longer than " + std::to_string(query::kMaxStringBytes) + " bytes");
    Node any;
    any.kind = Node::Kind::kOr;
    any.path = "search";
    for (const std::string &name : search_fields()) {
      Node n;
      n.kind = Node::Kind::kCompare;
      n.path = "search";
      n.comparison.field = *fields().find(name);
      n.comparison.op = query::Op::kContains;
      n.comparison.case_insensitive = true;
      n.comparison.values.push_back(text);
      n.comparison.path = "search";
      any.children.push_back(std::move(n));
    }
    // A number also finds the notification with that id, as Directus searches integer keys.
    bool numeric = text.size() <= 18 && std::all_of(text.begin(), text.end(), [](unsigned char c) {
                     return std::isdigit(c) != 0;
                   });
    if (numeric) {
      Node n;
      n.kind = Node::Kind::kCompare;
      n.path = "search";
      n.comparison.field = fields().fields()[0];
      n.comparison.op = query::Op::kEq;
      n.comparison.values.push_back(static_cast<int64_t>(std::stoll(text)));
      n.comparison.path = "search";
      any.children.push_back(std::move(n));
    }
    return any;
  }

  std::vector<std::pair<Field, Direction>> sort_keys(const json &v) {
    std::vector<std::pair<Field, Direction>> out;
    for (const std::string &entry : names(v, "sort")) {
      bool desc = entry[0] == '-';
      std::string name = desc ? entry.substr(1) : entry;
      if (name.find('.') != std::string::npos)
        throw invalid_value("sort", "sorting by a related field (" + name + ") is not supported");
      out.emplace_back(field_named(name, "sort"), desc ? Direction::kDesc : Direction::kAsc);
    }
    return out;
  }

  static void group_order(const std::vector<std::pair<Field, Direction>> &sort, Aggregation &a) {
    a.group_order.assign(a.group_by.size(), Direction::kAsc);
    for (const auto &[field, direction] : sort) {
      auto it = std::find_if(a.group_by.begin(), a.group_by.end(),
                             [&](const Field &g) { return g.name == field.name; });
      if (it == a.group_by.end())
        throw invalid_value(
            "sort", "an aggregate can be sorted by its groupBy fields only, not " + field.name);
      a.group_order[it - a.group_by.begin()] = direction;
    }
  }

  static void select_everything(Selection &s) {
    s.items.clear();
    for (const Field &f : directus_fields()) {
      Selection::Item item;
      item.field = f;
      s.items.push_back(std::move(item));
    }
    s.whole = true;
  }

  Selection selection(const json &v) {
    Selection s;
    s.whole = false;
    auto item_for = [&](const Field &f) -> Selection::Item & {
      for (Selection::Item &item : s.items) {
        if (item.field.name == f.name)
          return item;
      }
      Selection::Item item;
      item.field = f;
      s.items.push_back(std::move(item));
      return s.items.back();
    };
    std::vector<std::string> entries = names(v, "fields");
    for (const std::string &entry : entries) {
      std::string path = "fields." + entry;
      size_t dot = entry.find('.');
      if (entry == "*") {
        for (const Field &f : directus_fields())
          item_for(f);
        continue;
      }
      if (dot == std::string::npos) {
        item_for(field_named(entry, path));
        continue;
      }
      std::string head = entry.substr(0, dot), rest = entry.substr(dot + 1);
      if (rest.find('.') != std::string::npos)
        throw invalid_value(path, "fields nested more than one level deep are not supported");
      const Field &f = field_named(head, path);
      if (!is_relational(f.name))
        unknown_field(path, entry, fields());
      Selection::Item &item = item_for(f);
      item.nested = true;
      item.relation = scope_.relations ? scope_.relations->find(f.name) : nullptr;
      std::vector<Field> wanted;
      if (item.relation == nullptr) {
        if (rest != "*" && rest != "id")
          unknown_field(path, entry, fields());
        Field id = f;
        id.name = "id";
        wanted.push_back(id);
      } else if (rest == "*") {
        wanted = item.relation->columns.fields();
      } else if (const Field *column = item.relation->columns.find(rest)) {
        wanted.push_back(*column);
      } else {
        unknown_field(path, entry, item.relation->columns);
      }
      for (Field &c : wanted) {
        bool present = std::any_of(item.columns.begin(), item.columns.end(),
                                   [&](const Field &have) { return have.name == c.name; });
        if (!present)
          item.columns.push_back(std::move(c));
      }
    }
    if (s.items.empty())
      select_everything(s);
    bool whole = s.items.size() == directus_fields_count();
    for (size_t i = 0; whole && i < s.items.size(); ++i)
      whole = !s.items[i].nested && s.items[i].field.name == fields().fields()[i].name;
    s.whole = whole;
    return s;
  }

  static void aggregate(const json &v, Aggregation &a) {
    if (!v.is_object())
      throw invalid_value(
          "aggregate", "expected an object such as {\"count\": \"*\"}, got " + query::json_kind(v));
    for (auto it = v.begin(); it != v.end(); ++it) {
      std::string path = "aggregate." + it.key();
      const AggregateName *spec = nullptr;
      for (const AggregateName &candidate : kAggregates) {
        if (it.key() == candidate.name)
          spec = &candidate;
      }
      if (spec == nullptr)
        throw invalid_value(path, "unknown aggregate function",
                            "Functions: count, countDistinct, countAll, sum, sumDistinct, avg, "
                            "avgDistinct, min, max.");
      if (it.key() == "countAll") {
        a.terms.push_back(AggregateTerm{spec->fn, spec->name, std::nullopt});
        continue;
      }
      if (it.value().is_null())
        continue;
      std::vector<std::string> targets = names(it.value(), path);
      if (targets.empty())
        throw invalid_value(path, "expected at least one field, or *");
      for (const std::string &target : targets) {
        if (target == "*") {
          if (spec->fn != AggregateFn::kCount)
            throw invalid_value(path, "* applies to count only");
          a.terms.push_back(AggregateTerm{spec->fn, spec->name, std::nullopt});
          continue;
        }
        const Field &f = aggregated_field(field_named(target, path), path);
        if (spec->numeric && f.kind != ValueKind::kNumber)
          throw invalid_value(path,
                              std::string(spec->name) + " applies to number fields, not " + target);
        a.terms.push_back(AggregateTerm{spec->fn, spec->name, f});
      }
    }
  }

  static void meta(const json &v, DirectusQuery &out) {
    json list = v;
    if (v.is_string() && !v.get_ref<const std::string &>().empty() &&
        v.get_ref<const std::string &>()[0] == '[')
      list = json_param(v, "meta");
    for (const std::string &name : names(list, "meta")) {
      if (name == "*" || name == "total_count")
        out.total_count = true;
      if (name == "*" || name == "filter_count")
        out.filter_count = true;
      if (name != "*" && name != "total_count" && name != "filter_count")
        throw invalid_value("meta", "unknown meta \"" + name + "\"",
                            "Give total_count, filter_count or *.");
    }
  }

  const QueryScope &scope_;
};

// One bracket segment list: "filter[a][0][]" -> name "filter", segments {"a", "0", ""}.
bool split_brackets(const std::string &key, std::string &name, std::vector<std::string> &segments) {
  size_t open = key.find('[');
  if (open == std::string::npos || open == 0 || key.back() != ']')
    return false;
  name = key.substr(0, open);
  size_t i = open;
  while (i < key.size()) {
    if (key[i] != '[')
      return false;
    size_t close = key.find(']', i);
    if (close == std::string::npos)
      return false;
    segments.push_back(key.substr(i + 1, close - i - 1));
    i = close + 1;
  }
  return true;
}

const char *const kListMark = "\x01";

// Objects whose keys are all list marks become lists, in index order.
void lists_from_marks(json &v) {
  if (!v.is_object())
    return;
  for (auto &[key, child] : v.items()) {
    (void)key;
    lists_from_marks(child);
  }
  if (v.empty() || v.begin().key().rfind(kListMark, 0) != 0)
    return;
  json list = json::array();
  for (auto &[key, child] : v.items()) {  // std::map order: the padded indexes ascending
    (void)key;
    list.push_back(std::move(child));
  }
  v = std::move(list);
}

bool is_index(const std::string &segment) {
  return segment.empty() ||
         (segment.size() <= 4 && std::all_of(segment.begin(), segment.end(),
                                             [](unsigned char c) { return std::isdigit(c) != 0; }));
}

}  // namespace

json fold_brackets(const json &params) {
  if (params.is_null())
    return json::object();
  if (!params.is_object())
    throw invalid_value("query",
                        "expected an object of query parameters, got " + query::json_kind(params));
  // List elements are first collected under marked keys ("\x01" and the zero-padded index), so
  // that keys may arrive in any order ([10] sorts before [2]) and lists may have gaps, as in qs.
  json out = json::object();
  std::vector<std::string> plain;
  for (auto it = params.begin(); it != params.end(); ++it) {
    std::string name;
    std::vector<std::string> segments;
    if (!split_brackets(it.key(), name, segments)) {
      plain.push_back(it.key());
      continue;
    }
    // Repeated keys arrive as an array of their values: each is placed in turn.
    std::vector<json> values;
    if (it.value().is_array() && !segments.empty() && segments.back().empty())
      values.assign(it.value().begin(), it.value().end());
    else
      values.push_back(it.value());
    for (const json &value : values) {
      json *at = &out[name];
      std::string path = name;
      for (const std::string &segment : segments) {
        if (at->is_null())
          *at = json::object();
        if (!at->is_object())
          throw invalid_value(path, "given both as a value and as a list or object");
        std::string key = segment;
        if (is_index(segment)) {
          size_t index = segment.empty() ? at->size() : std::stoul(segment);
          std::string digits = std::to_string(index);
          key = kListMark + std::string(10 - digits.size(), '0') + digits;
        }
        bool list_key = key.rfind(kListMark, 0) == 0;
        for (auto &[existing, unused] : at->items()) {
          (void)unused;
          if ((existing.rfind(kListMark, 0) == 0) != list_key)
            throw invalid_value(path, "given both as a list and as an object");
        }
        at = &(*at)[key];
        path += "[" + segment + "]";
      }
      if (!at->is_null())
        throw invalid_value(path, "query parameter given more than once");
      *at = value;
    }
  }
  for (auto &[name, value] : out.items()) {
    (void)name;
    lists_from_marks(value);
  }
  for (const std::string &key : plain) {
    if (out.contains(key))
      throw invalid_value(key, "given both whole and in bracket form");
    out[key] = params.at(key);
  }
  return out;
}

DirectusQuery parse_directus_query(const json &params, const QueryScope &scope) {
  return Translator(scope).run(fold_brackets(params));
}

}  // namespace pgi::directus
