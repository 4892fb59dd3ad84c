#include "query/filter_parser.hpp"

#include <utility>

#include "core/errors.hpp"
#include "query/filter_values.hpp"

namespace pgi::query {
namespace {

using nlohmann::json;

using K = ValueKind;

// Each operator with the kinds of field it applies to.
struct OpName {
  const char *name;
  Op op;
  KindSet kinds;
};

constexpr KindSet kOrdered = {K::kString, K::kTimestamp, K::kNumber, K::kJson};
constexpr KindSet kListed = {K::kString,   K::kTimestamp, K::kNumber,
                             K::kPublicId, K::kJson,      K::kOther};
constexpr KindSet kTextual = {K::kString, K::kJson};

constexpr OpName kOps[] = {
    {"eq", Op::kEq, kAnyKind},
    {"neq", Op::kNeq, kAnyKind},
    {"in", Op::kIn, kListed},
    {"notIn", Op::kNotIn, kListed},
    {"lt", Op::kLt, kOrdered},
    {"lte", Op::kLte, kOrdered},
    {"gt", Op::kGt, kOrdered},
    {"gte", Op::kGte, kOrdered},
    {"contains", Op::kContains, kTextual},
    {"startsWith", Op::kStartsWith, kTextual},
    {"endsWith", Op::kEndsWith, kTextual},
    // A flag is never null; the public id is the key.
    {"isNull",
     Op::kIsNull,
     {K::kString, K::kTimestamp, K::kNumber, K::kBoolean, K::kJson, K::kOther}},
    {"hasKey", Op::kHasKey, {K::kJson}},
    {"hasAnyKey", Op::kHasAnyKey, {K::kJson}},
    {"hasAllKeys", Op::kHasAllKeys, {K::kJson}},
};

const char *op_name(Op op) {
  for (const OpName &o : kOps) {
    if (o.op == op)
      return o.name;
  }
  return "?";
}

std::string supported(ValueKind kind) {
  std::string out;
  for (const OpName &o : kOps) {
    if (o.kinds.has(kind))
      out += (out.empty() ? "" : ", ") + std::string(o.name);
  }
  if (kind == ValueKind::kString || kind == ValueKind::kJson)
    out += "; modifier mode";
  if (kind == ValueKind::kJson)
    out += ", path";
  return out;
}

bool case_sensitive_op(Op op) {
  return op == Op::kEq || op == Op::kNeq || op == Op::kIn || op == Op::kNotIn ||
         op == Op::kContains || op == Op::kStartsWith || op == Op::kEndsWith;
}

class Parser {
 public:
  explicit Parser(const RelationCatalog *relations) : relations_(relations) {}

  Node filter(const json &v, const std::string &path, int depth, const FieldRegistry &fields,
              bool allow_relations) {
    if (depth > kMaxFilterDepth)
      throw Error(sqlstate::kStatementTooComplex, path + ": filter nested deeper than " +
                                                      std::to_string(kMaxFilterDepth) + " levels");
    if (!v.is_object())
      throw invalid_value(path, "expected a filter object, got " + json_kind(v));
    std::vector<Node> parts;
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string &key = it.key();
      std::string at = path + "." + key;
      if (key == "AND" || key == "OR") {
        parts.push_back(junction(key == "AND" ? Node::Kind::kAnd : Node::Kind::kOr, it.value(), at,
                                 depth, fields, allow_relations));
      } else if (key == "NOT") {
        parts.push_back(negation(it.value(), at, depth, fields, allow_relations));
      } else if (const Field *f = fields.find(key)) {
        parts.push_back(field_filter(*f, it.value(), at));
      } else if (auto rel = allow_relations ? relation(key, at) : nullptr) {
        count(at);
        Node n;
        n.kind = Node::Kind::kRelation;
        n.relation = rel;
        n.path = at;
        n.children.push_back(filter(it.value(), at, depth + 1, rel->columns, false));
        parts.push_back(std::move(n));
      } else {
        throw invalid_value(at, "unknown field",
                            "Fields: " + fields.names() +
                                (allow_relations && relations_
                                     ? ". Relations defined with inbox.define_relation can be "
                                       "filtered on too."
                                     : "."));
      }
    }
    return Node::combine(Node::Kind::kAnd, std::move(parts), path);
  }

 private:
  // The relation named `key`, if any; a relation the catalog no longer supports is an error
  // at this path.
  std::shared_ptr<const Relation> relation(const std::string &key, const std::string &path) {
    if (relations_ == nullptr)
      return nullptr;
    try {
      return relations_->find(key);
    } catch (const Error &e) {
      throw Error(e.sqlstate(), path + ": " + e.what(), e.detail(), e.hint());
    }
  }

  void count(const std::string &path) {
    if (++clauses_ > kMaxFilterClauses)
      throw Error(
          sqlstate::kStatementTooComplex,
          path + ": filter has more than " + std::to_string(kMaxFilterClauses) + " clauses");
  }

  Node junction(Node::Kind kind, const json &v, const std::string &path, int depth,
                const FieldRegistry &fields, bool allow_relations) {
    std::vector<Node> parts;
    if (v.is_object() && kind == Node::Kind::kAnd) {
      parts.push_back(filter(v, path, depth + 1, fields, allow_relations));
    } else if (v.is_array() && !v.empty()) {
      for (size_t i = 0; i < v.size(); ++i)
        parts.push_back(
            filter(v[i], path + "[" + std::to_string(i) + "]", depth + 1, fields, allow_relations));
    } else {
      throw invalid_value(path, "expected a non-empty array of filters, got " +
                                    (v.is_array() ? std::string("an empty array") : json_kind(v)));
    }
    Node n;
    n.kind = kind;
    n.children = std::move(parts);
    n.path = path;
    return n;
  }

  // NOT f, or NOT [f1, f2]: none of them.
  Node negation(const json &v, const std::string &path, int depth, const FieldRegistry &fields,
                bool allow_relations) {
    if (v.is_object())
      return Node::negate(filter(v, path, depth + 1, fields, allow_relations), path);
    if (!v.is_array() || v.empty())
      throw invalid_value(path, "expected a filter object or a non-empty array of filters, got " +
                                    (v.is_array() ? std::string("an empty array") : json_kind(v)));
    std::vector<Node> parts;
    for (size_t i = 0; i < v.size(); ++i) {
      std::string at = path + "[" + std::to_string(i) + "]";
      parts.push_back(Node::negate(filter(v[i], at, depth + 1, fields, allow_relations), at));
    }
    Node n;
    n.kind = Node::Kind::kAnd;
    n.children = std::move(parts);
    n.path = path;
    return n;
  }

  Node field_filter(const Field &f, const json &v, const std::string &path) {
    if (!v.is_object())
      return comparison(f, Op::kEq, v, path, false, std::nullopt);
    if (v.empty())
      throw invalid_value(path, "expected at least one operator",
                          "Operators: " + supported(f.kind) + ".");
    bool insensitive = false;
    std::optional<std::vector<std::string>> json_path;
    if (auto m = v.find("mode"); m != v.end()) {
      if (f.kind != ValueKind::kString && f.kind != ValueKind::kJson)
        throw invalid_value(path + ".mode", "applies to string fields only");
      if (*m == "insensitive")
        insensitive = true;
      else if (*m != "default")
        throw invalid_value(path + ".mode", "expected \"insensitive\" or \"default\"");
    }
    if (auto p = v.find("path"); p != v.end()) {
      if (f.kind != ValueKind::kJson)
        throw invalid_value(path + ".path", "applies to JSON fields only");
      json_path = json_path_value(*p, path + ".path");
    }
    std::vector<Node> parts;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (it.key() == "mode" || it.key() == "path")
        continue;
      std::string at = path + "." + it.key();
      const OpName *found = nullptr;
      for (const OpName &o : kOps) {
        if (it.key() == o.name)
          found = &o;
      }
      if (found == nullptr)
        throw invalid_value(at, "unknown operator",
                            "Operators for " + f.name + ": " + supported(f.kind) + ".");
      if (!found->kinds.has(f.kind))
        throw invalid_value(at,
                            "operator " + std::string(found->name) + " does not apply to " + f.name,
                            "Operators for " + f.name + ": " + supported(f.kind) + ".");
      if (insensitive && !case_sensitive_op(found->op))
        throw invalid_value(at, "mode insensitive does not apply to " + std::string(found->name));
      parts.push_back(comparison(f, found->op, it.value(), at, insensitive, json_path));
    }
    if (parts.empty())
      throw invalid_value(path, "expected at least one operator",
                          "Operators: " + supported(f.kind) + ".");
    return Node::combine(Node::Kind::kAnd, std::move(parts), path);
  }

  static std::vector<std::string> json_path_value(const json &p, const std::string &path) {
    std::vector<std::string> out;
    if (p.is_string()) {
      const std::string &s = p.get_ref<const std::string &>();
      size_t start = 0;
      for (size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == '.') {
          out.push_back(s.substr(start, i - start));
          start = i + 1;
        }
      }
    } else if (p.is_array()) {
      for (size_t i = 0; i < p.size(); ++i) {
        std::string at = path + "[" + std::to_string(i) + "]";
        if (p[i].is_string())
          out.push_back(string_value(p[i], at));
        else if (p[i].is_number_unsigned() ||
                 (p[i].is_number_integer() && p[i].get<int64_t>() >= 0))
          out.push_back(p[i].dump());
        else
          throw invalid_value(at, "expected a key or an array index, got " + json_kind(p[i]));
      }
    } else {
      throw invalid_value(path,
                          "expected an array of keys or a dotted string, got " + json_kind(p));
    }
    if (out.empty())
      throw invalid_value(path, "expected at least one key");
    if (out.size() > kMaxJsonPathDepth)
      throw invalid_value(path, "longer than " + std::to_string(kMaxJsonPathDepth) + " keys");
    for (const std::string &k : out) {
      if (k.empty())
        throw invalid_value(path, "keys must not be empty");
    }
    return out;
  }

  static std::vector<Scalar> list(const Field &f, const json &v, const std::string &path,
                                  bool json_values) {
    if (!v.is_array() || v.empty())
      throw invalid_value(path, "expected a non-empty array, got " +
                                    (v.is_array() ? std::string("an empty array") : json_kind(v)));
    if (v.size() > kMaxListValues)
      throw Error(sqlstate::kProgramLimitExceeded,
                  path + ": more than " + std::to_string(kMaxListValues) + " values");
    std::vector<Scalar> out;
    for (size_t i = 0; i < v.size(); ++i) {
      std::string at = path + "[" + std::to_string(i) + "]";
      if (v[i].is_null())
        throw invalid_value(at, "null is not allowed in a list", "Use isNull.");
      if (json_values)
        out.push_back(v[i].dump());
      else
        out.push_back(field_value(f, v[i], at));
    }
    return out;
  }

  Node comparison(const Field &f, Op op, const json &v, const std::string &path, bool insensitive,
                  std::optional<std::vector<std::string>> json_path) {
    count(path);
    Node n = Node::compare(f, op, {}, path, insensitive);
    Comparison &c = n.comparison;
    c.json_path = std::move(json_path);
    bool is_json = f.kind == ValueKind::kJson;

    if ((op == Op::kEq || op == Op::kNeq) && v.is_null()) {
      if (f.kind == ValueKind::kFlag)
        throw invalid_value(path, "expected " + expected_value(f) + ", got null");
      c.op = Op::kIsNull;
      c.values.push_back(op == Op::kEq);
      return n;
    }
    switch (op) {
      case Op::kIsNull:
        if (!v.is_boolean())
          throw invalid_value(path, "expected true or false, got " + json_kind(v));
        c.values.push_back(v.get<bool>());
        break;
      case Op::kEq:
      case Op::kNeq:
        if (is_json && insensitive) {
          if (!v.is_string())
            throw invalid_value(path, "mode insensitive compares strings, got " + json_kind(v));
          c.json_type = "string";
          c.values.push_back(string_value(v, path));
        } else {
          c.values.push_back(is_json ? Scalar(v.dump()) : field_value(f, v, path));
        }
        break;
      case Op::kIn:
      case Op::kNotIn:
        if (is_json && insensitive)
          throw invalid_value(
              path, "mode insensitive does not apply to " + std::string(op_name(op)) + " on JSON");
        c.values = list(f, v, path, is_json);
        break;
      case Op::kLt:
      case Op::kLte:
      case Op::kGt:
      case Op::kGte:
        if (is_json) {
          if (v.is_number()) {
            c.json_type = "number";
            c.values.push_back(v.dump());
          } else if (v.is_string()) {
            c.json_type = "string";
            c.values.push_back(string_value(v, path));
          } else {
            throw invalid_value(path, "expected a number or a string, got " + json_kind(v));
          }
        } else {
          c.values.push_back(field_value(f, v, path));
        }
        break;
      case Op::kContains:
        if (is_json && (v.is_object() || v.is_array())) {
          if (insensitive)
            throw invalid_value(path, "mode insensitive compares strings, got " + json_kind(v));
          c.values.push_back(v.dump());
          break;
        }
        [[fallthrough]];
      case Op::kStartsWith:
      case Op::kEndsWith:
        if (is_json)
          c.json_type = "string";
        c.values.push_back(string_value(v, path));
        break;
      case Op::kHasKey:
        c.values.push_back(string_value(v, path));
        break;
      case Op::kHasAnyKey:
      case Op::kHasAllKeys: {
        if (!v.is_array() || v.empty())
          throw invalid_value(path,
                              "expected a non-empty array of keys, got " +
                                  (v.is_array() ? std::string("an empty array") : json_kind(v)));
        if (v.size() > kMaxListValues)
          throw Error(sqlstate::kProgramLimitExceeded,
                      path + ": more than " + std::to_string(kMaxListValues) + " values");
        for (size_t i = 0; i < v.size(); ++i)
          c.values.push_back(string_value(v[i], path + "[" + std::to_string(i) + "]"));
        break;
      }
    }
    return n;
  }

  const RelationCatalog *relations_;
  int clauses_ = 0;
};

}  // namespace

Node parse_native_filter(const json &filter, const std::string &path, const FieldRegistry &fields,
                         const RelationCatalog *relations) {
  if (filter.is_null())
    return Node::all();
  return Parser(relations).filter(filter, path, 1, fields, true);
}

}  // namespace pgi::query
