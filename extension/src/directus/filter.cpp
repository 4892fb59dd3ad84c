#include "directus/filter.hpp"

#include <stdexcept>
#include <utility>
#include <vector>

#include "directus/fields.hpp"
#include "core/errors.hpp"
#include "query/filter_values.hpp"

namespace pgi::directus {
namespace {

using nlohmann::json;
using query::Comparison;
using query::Field;
using query::FieldRegistry;
using query::Node;
using query::Op;
using query::Scalar;
using query::ValueKind;

// What a Directus operator means in the engine's terms.
enum class Form {
  kCompare,  // `op` on one value (negated: its complement, nulls excluded)
  kList,     // `op` (in) on a list
  kNull,     // _null / _nnull
  kBetween,  // _between / _nbetween
  kEmpty,    // _empty / _nempty
};

using K = ValueKind;

// Which kinds of field an operator applies to, as Directus types them: strings take every
// operator, numbers and timestamps the comparisons, status (a string in Directus, a flag here)
// equality and lists, the others equality.
constexpr KindSet kStrings = {K::kString};
constexpr KindSet kOrdered = {K::kString, K::kNumber, K::kTimestamp};
constexpr KindSet kListed = {K::kString, K::kNumber, K::kTimestamp, K::kFlag, K::kOther};

struct OpSpec {
  const char *name;
  Form form;
  Op op;
  bool negated;
  bool insensitive;
  KindSet kinds;
};

constexpr OpSpec kOps[] = {
    {"_eq", Form::kCompare, Op::kEq, false, false, kAnyKind},
    {"_neq", Form::kCompare, Op::kEq, true, false, kAnyKind},
    {"_lt", Form::kCompare, Op::kLt, false, false, kOrdered},
    {"_lte", Form::kCompare, Op::kLte, false, false, kOrdered},
    {"_gt", Form::kCompare, Op::kGt, false, false, kOrdered},
    {"_gte", Form::kCompare, Op::kGte, false, false, kOrdered},
    {"_in", Form::kList, Op::kIn, false, false, kListed},
    {"_nin", Form::kList, Op::kIn, true, false, kListed},
    {"_null", Form::kNull, Op::kIsNull, false, false, kAnyKind},
    {"_nnull", Form::kNull, Op::kIsNull, true, false, kAnyKind},
    {"_contains", Form::kCompare, Op::kContains, false, false, kStrings},
    {"_ncontains", Form::kCompare, Op::kContains, true, false, kStrings},
    {"_icontains", Form::kCompare, Op::kContains, false, true, kStrings},
    {"_nicontains", Form::kCompare, Op::kContains, true, true, kStrings},
    {"_starts_with", Form::kCompare, Op::kStartsWith, false, false, kStrings},
    {"_nstarts_with", Form::kCompare, Op::kStartsWith, true, false, kStrings},
    {"_istarts_with", Form::kCompare, Op::kStartsWith, false, true, kStrings},
    {"_nistarts_with", Form::kCompare, Op::kStartsWith, true, true, kStrings},
    {"_ends_with", Form::kCompare, Op::kEndsWith, false, false, kStrings},
    {"_nends_with", Form::kCompare, Op::kEndsWith, true, false, kStrings},
    {"_iends_with", Form::kCompare, Op::kEndsWith, false, true, kStrings},
    {"_niends_with", Form::kCompare, Op::kEndsWith, true, true, kStrings},
    {"_between", Form::kBetween, Op::kGte, false, false, kOrdered},
    {"_nbetween", Form::kBetween, Op::kGte, true, false, kOrdered},
    {"_empty", Form::kEmpty, Op::kEq, false, false, kStrings},
    {"_nempty", Form::kEmpty, Op::kEq, true, false, kStrings},
};

std::string kind_name(const Field &f) {
  switch (f.kind) {
    case ValueKind::kString:
      return "a string field";
    case ValueKind::kNumber:
      return "a number field";
    case ValueKind::kTimestamp:
      return "a timestamp field";
    case ValueKind::kFlag:
      return "a status field";
    case ValueKind::kBoolean:
      return "a boolean field";
    case ValueKind::kJson:
      return "a JSON field";
    default:
      return "a field of type " + (f.type.name.empty() ? std::string("text") : f.type.name);
  }
}

std::string operators_of(ValueKind kind) {
  std::string out;
  for (const OpSpec &o : kOps) {
    if (o.kinds.has(kind))
      out += (out.empty() ? "" : ", ") + std::string(o.name);
  }
  return out;
}

Node constant(bool value, const std::string &path) {
  Node n;
  n.kind = value ? Node::Kind::kAnd : Node::Kind::kOr;
  n.path = path;
  return n;
}

class Parser {
 public:
  explicit Parser(const FilterScope &scope) : scope_(scope) {}

  // `owner` prefixes field names in messages: "recipient." inside a relational filter.
  Node filter(const json &v, const std::string &path, int depth, const FieldRegistry &fields,
              bool top, const std::string &owner = {}) {
    if (depth > query::kMaxFilterDepth)
      throw Error(sqlstate::kStatementTooComplex, path + ": filter nested deeper than " +
                                                      std::to_string(query::kMaxFilterDepth) +
                                                      " levels");
    if (!v.is_object())
      throw invalid_value(path, "expected a filter object, got " + query::json_kind(v));
    std::vector<Node> parts;
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string &key = it.key();
      std::string at = path + "." + key;
      if (key == "_and" || key == "_or") {
        parts.push_back(junction(key == "_and" ? Node::Kind::kAnd : Node::Kind::kOr, it.value(), at,
                                 depth, fields, top, owner));
      } else if (const Field *f = fields.find(key)) {
        parts.push_back(rule(*f, it.value(), at, depth, top));
      } else {
        unknown_field(at, owner + key, fields);
      }
    }
    return Node::combine(Node::Kind::kAnd, std::move(parts), path);
  }

 private:
  Node junction(Node::Kind kind, const json &v, const std::string &path, int depth,
                const FieldRegistry &fields, bool top, const std::string &owner) {
    if (!v.is_array())
      throw invalid_value(path, "expected an array of filters, got " + query::json_kind(v));
    Node n;
    n.kind = kind;
    n.path = path;
    for (size_t i = 0; i < v.size(); ++i)
      n.children.push_back(
          filter(v[i], path + "[" + std::to_string(i) + "]", depth + 1, fields, top, owner));
    return n;
  }

  // `{ operator: value, ..., column: rule }` for one field.
  Node rule(const Field &f, const json &v, const std::string &path, int depth, bool top) {
    if (!v.is_object())
      throw invalid_value(path,
                          "expected an object of filter operators, got " + query::json_kind(v),
                          "For example {\"_eq\": value}. Operators for " + f.name + ": " +
                              operators_of(f.kind) + ".");
    std::vector<Node> parts;
    json related = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string &key = it.key();
      std::string at = path + "." + key;
      if (!key.empty() && key[0] == '_') {
        parts.push_back(operation(f, key, it.value(), at));
      } else if (top && is_relational(f.name)) {
        related[key] = it.value();
      } else {
        unknown_field(at, f.name + "." + key, fields());
      }
    }
    if (!related.empty())
      parts.push_back(relational(f, related, path, depth));
    if (parts.empty())
      throw invalid_value(path, "expected at least one filter operator",
                          "Operators for " + f.name + ": " + operators_of(f.kind) + ".");
    return Node::combine(Node::Kind::kAnd, std::move(parts), path);
  }

  // The related row of recipient/sender, through the registered relation if there is one.
  Node relational(const Field &f, const json &rules, const std::string &path, int depth) {
    auto relation = scope_.relations ? scope_.relations->find(f.name) : nullptr;
    if (relation == nullptr) {
      // No relation: the related row is known only by its key, the field's own value.
      std::vector<Node> parts;
      for (auto it = rules.begin(); it != rules.end(); ++it) {
        std::string at = path + "." + it.key();
        if (it.key() != "id")
          unknown_field(at, f.name + "." + it.key(), fields());
        parts.push_back(rule(f, it.value(), at, depth + 1, false));
      }
      return Node::combine(Node::Kind::kAnd, std::move(parts), path);
    }
    count(path);
    Node n;
    n.kind = Node::Kind::kRelation;
    n.relation = relation;
    n.path = path;
    n.children.push_back(filter(rules, path, depth + 1, relation->columns, false, f.name + "."));
    return n;
  }

  Node operation(const Field &f, const std::string &name, const json &v, const std::string &path) {
    const OpSpec *o = nullptr;
    for (const OpSpec &candidate : kOps) {
      if (name == candidate.name)
        o = &candidate;
    }
    if (o == nullptr)
      throw invalid_value(path, "unknown filter operator",
                          "Operators for " + f.name + ": " + operators_of(f.kind) + ".");
    if (!o->kinds.has(f.kind))
      throw invalid_value(
          path, "the " + name + " operator does not apply to " + f.name + ", " + kind_name(f),
          "Operators for " + f.name + ": " + operators_of(f.kind) + ".");
    switch (o->form) {
      case Form::kCompare:
        return compare(f, *o, v, path);
      case Form::kList:
        return list(f, *o, v, path);
      case Form::kNull: {
        // _null: false and _nnull: false mean the opposite, as in Directus.
        bool want_null = flag(v, path) != o->negated;
        if (f.kind == ValueKind::kFlag)  // status is never null
          return constant(!want_null, path);
        return null_test(f, want_null, path);
      }
      case Form::kBetween:
        return between(f, *o, v, path);
      case Form::kEmpty: {
        bool want_empty = flag(v, path) != o->negated;
        count(path);
        Node blank = leaf(f, Op::kEq, {std::string()}, false, path);
        if (want_empty)
          return Node::combine(Node::Kind::kOr, {null_test(f, true, path), std::move(blank)}, path);
        return Node::combine(Node::Kind::kAnd,
                             {null_test(f, false, path), Node::negate(std::move(blank), path)},
                             path);
      }
    }
    throw std::logic_error("unknown filter form");
  }

  Node compare(const Field &f, const OpSpec &o, const json &v, const std::string &path) {
    if (v.is_null()) {
      if (o.op == Op::kEq)  // {"_eq": null} / {"_neq": null}: the null test
        return f.kind == ValueKind::kFlag ? constant(o.negated, path)
                                          : null_test(f, !o.negated, path);
      throw invalid_value(path, "expected " + query::expected_value(f) + ", got null");
    }
    Node n = leaf(f, o.op, {value(f, v, path)}, o.insensitive, path);
    return o.negated ? excluding_nulls(f, Node::negate(std::move(n), path), path) : n;
  }

  Node list(const Field &f, const OpSpec &o, const json &v, const std::string &path) {
    std::vector<json> items = elements(v, path);
    if (items.empty())  // Directus: _in [] matches nothing, _nin [] everything
      return constant(o.negated, path);
    if (items.size() > query::kMaxListValues)
      throw Error(sqlstate::kProgramLimitExceeded,
                  path + ": more than " + std::to_string(query::kMaxListValues) + " values");
    std::vector<Scalar> values;
    for (size_t i = 0; i < items.size(); ++i) {
      std::string at = path + "[" + std::to_string(i) + "]";
      if (items[i].is_null())
        throw invalid_value(at, "null is not allowed in a list", "Use _null.");
      values.push_back(value(f, items[i], at));
    }
    Node n;
    if (f.kind == ValueKind::kFlag) {  // the engine compares a flag with one value at a time
      std::vector<Node> alternatives;
      for (Scalar &s : values)
        alternatives.push_back(leaf(f, Op::kEq, {std::move(s)}, false, path));
      n = Node::combine(Node::Kind::kOr, std::move(alternatives), path);
    } else {
      n = leaf(f, Op::kIn, std::move(values), false, path);
    }
    return o.negated ? excluding_nulls(f, Node::negate(std::move(n), path), path) : n;
  }

  Node between(const Field &f, const OpSpec &o, const json &v, const std::string &path) {
    std::vector<json> bounds = elements(v, path);
    if (bounds.size() != 2)
      throw invalid_value(path, "expected two values, got " + std::to_string(bounds.size()),
                          "Give [low, high] or \"low,high\".");
    Scalar low = value(f, bounds[0], path + "[0]"), high = value(f, bounds[1], path + "[1]");
    if (o.negated)  // lt and gt never match null, as NOT BETWEEN does not
      return Node::combine(
          Node::Kind::kOr,
          {leaf(f, Op::kLt, {low}, false, path), leaf(f, Op::kGt, {high}, false, path)}, path);
    return Node::combine(
        Node::Kind::kAnd,
        {leaf(f, Op::kGte, {low}, false, path), leaf(f, Op::kLte, {high}, false, path)}, path);
  }

  // A list operand: a JSON array, or the comma-separated string of a query string.
  static std::vector<json> elements(const json &v, const std::string &path) {
    std::vector<json> out;
    if (v.is_array()) {
      for (const json &e : v)
        out.push_back(e);
    } else if (v.is_string()) {
      const std::string &s = v.get_ref<const std::string &>();
      size_t start = 0;
      while (!s.empty() && start <= s.size()) {
        size_t comma = s.find(',', start);
        out.emplace_back(s.substr(start, comma == std::string::npos ? comma : comma - start));
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
    } else if (v.is_number()) {
      out.push_back(v);
    } else {
      throw invalid_value(
          path, "expected an array or a comma-separated string, got " + query::json_kind(v));
    }
    return out;
  }

  static bool flag(const json &v, const std::string &path) {
    if (v.is_boolean())
      return v.get<bool>();
    if (v == "true" || v == "1" || v == 1)
      return true;
    if (v == "false" || v == "0" || v == 0)
      return false;
    throw invalid_value(path, "expected true or false, got " + query::json_kind(v));
  }

  // One value for `f`: the caller for $CURRENT_USER, the statement time for $NOW, and the
  // strings of a query string for numbers and booleans.
  Scalar value(const Field &f, const json &v, const std::string &path) const {
    if (v == "$CURRENT_USER") {
      if (!scope_.current_user)
        throw invalid_value(path, "$CURRENT_USER needs an authenticated caller");
      return query::field_value(f, *scope_.current_user, path);
    }
    if (v == "$NOW" && f.kind == ValueKind::kTimestamp)
      return std::string("now");  // timestamptz input: the transaction's start time
    if (f.kind == ValueKind::kString && (v.is_number() || v.is_boolean()))
      return v.dump();
    if (f.kind == ValueKind::kBoolean && v.is_string())
      return flag(v, path);
    return query::field_value(f, v, path);
  }

  Node leaf(const Field &f, Op op, std::vector<Scalar> values, bool insensitive,
            const std::string &path) {
    count(path);
    return Node::compare(f, op, std::move(values), path, insensitive);
  }

  Node null_test(const Field &f, bool is_null, const std::string &path) {
    return leaf(f, Op::kIsNull, {is_null}, false, path);
  }

  // SQL's NOT (x op v) is not true for a null x: the negative operators skip nulls.
  Node excluding_nulls(const Field &f, Node negation, const std::string &path) {
    if (!f.nullable)
      return negation;
    return Node::combine(Node::Kind::kAnd, {null_test(f, false, path), std::move(negation)}, path);
  }

  void count(const std::string &path) {
    if (++clauses_ > query::kMaxFilterClauses)
      throw Error(
          sqlstate::kStatementTooComplex,
          path + ": filter has more than " + std::to_string(query::kMaxFilterClauses) + " clauses");
  }

  const FilterScope &scope_;
  int clauses_ = 0;
};

}  // namespace

void unknown_field(const std::string &path, const std::string &name,
                   const query::FieldRegistry &known) {
  throw Error(sqlstate::kInsufficientPrivilege,
              path + ": no field \"" + name + "\" in " + kCollection + " that this caller may read",
              {}, "Fields: " + known.names() + ".");
}

query::Node parse_directus_filter(const json &filter, const std::string &path,
                                  const FilterScope &scope) {
  if (filter.is_null())
    return Node::all();
  return Parser(scope).filter(filter, path, 1, fields(), true);
}

}  // namespace pgi::directus
