#include "query/filter_compiler.hpp"

#include <stdexcept>

#include "query/filter_values.hpp"
#include "query/marks.hpp"
#include "query/relation_join.hpp"

namespace pgi::query {
namespace {

const char *comparison_operator(Op op) {
  switch (op) {
    case Op::kLt:
      return "OPERATOR(pg_catalog.<)";
    case Op::kLte:
      return "OPERATOR(pg_catalog.<=)";
    case Op::kGt:
      return "OPERATOR(pg_catalog.>)";
    case Op::kGte:
      return "OPERATOR(pg_catalog.>=)";
    default:
      return "OPERATOR(pg_catalog.=)";
  }
}

const char *like_operator(bool insensitive) {
  return insensitive ? "OPERATOR(pg_catalog.~~*)" : "OPERATOR(pg_catalog.~~)";
}

class Compiler {
 public:
  Compiler(SqlBuilder &b, MarkRefs &marks) : b_(b), marks_(marks) {}

  std::string node(const Node &n, const std::string &alias) {
    switch (n.kind) {
      case Node::Kind::kAnd:
      case Node::Kind::kOr: {
        if (n.children.empty())
          return n.kind == Node::Kind::kAnd ? "true" : "false";
        std::string out;
        for (const Node &c : n.children) {
          if (!out.empty())
            out += n.kind == Node::Kind::kAnd ? " AND " : " OR ";
          out += node(c, alias);
        }
        return n.children.size() == 1 ? out : "(" + out + ")";
      }
      case Node::Kind::kNot:
        return "(" + node(n.children.at(0), alias) + ") IS NOT TRUE";
      case Node::Kind::kCompare:
        return compare(n.comparison, alias);
      case Node::Kind::kRelation:
        return relation(*n.relation, n.children.at(0), alias);
    }
    throw std::logic_error("unknown filter node");
  }

 private:
  std::string bind_values(const Comparison &c, TypeRef type, bool array) {
    Param p;
    p.type = std::move(type);
    p.array = array;
    p.values = c.values;
    p.path = c.path;
    p.expected = expected_value(c.field);
    return b_.bind(std::move(p));
  }

  std::string bind_patterns(const Comparison &c, bool array) {
    Param p;
    p.type = builtin(SqlType::kText);
    p.array = array;
    for (const Scalar &v : c.values)
      p.values.push_back(like_pattern(std::get<std::string>(v), c.op));
    p.path = c.path;
    return b_.bind(std::move(p));
  }

  // `expr` holds for the value; neq/notIn match where it does not (NULLs included).
  static std::string negate_if(const Comparison &c, std::string expr, bool nullable) {
    if (c.op != Op::kNeq && c.op != Op::kNotIn)
      return expr;
    return nullable ? "(" + expr + ") IS NOT TRUE" : "NOT (" + expr + ")";
  }

  std::string compare(const Comparison &c, const std::string &alias) {
    const Field &f = c.field;
    // The notification row's own fields as the API shows them (read and seen marks); a
    // relation target's columns as they are.
    bool own = alias == marks_.alias();
    std::string e = own ? field_value_sql(f, marks_) : alias + "." + f.column;
    if (c.op == Op::kIsNull && f.kind != ValueKind::kJson)
      return e + (std::get<bool>(c.values.at(0)) ? " IS NULL" : " IS NOT NULL");
    switch (f.kind) {
      case ValueKind::kFlag: {
        // Fixed fragments, so the partial indexes (read_at IS NULL) apply.
        bool set = std::get<bool>(c.values.at(0)) == (c.op == Op::kEq);
        if (own && f.column == "read_at")
          return read_state_sql(set, marks_);
        return alias + "." + f.column + (set ? " IS NOT NULL" : " IS NULL");
      }
      case ValueKind::kJson:
        return json(c, e);
      case ValueKind::kPublicId:
        return scalar(c, e, builtin(SqlType::kBigint));
      default:
        return scalar(c, e, f.type);
    }
  }

  std::string scalar(const Comparison &c, const std::string &e, const TypeRef &type) {
    bool nullable = c.field.nullable;
    switch (c.op) {
      case Op::kEq:
      case Op::kNeq:
        if (c.case_insensitive)
          return negate_if(c, e + " " + like_operator(true) + " " + bind_patterns(c, false),
                           nullable);
        return negate_if(c, e + " OPERATOR(pg_catalog.=) " + bind_values(c, type, false), nullable);
      case Op::kIn:
      case Op::kNotIn:
        if (c.case_insensitive)
          return negate_if(
              c, e + " " + like_operator(true) + " ANY (" + bind_patterns(c, true) + ")", nullable);
        return negate_if(c, e + " OPERATOR(pg_catalog.=) ANY (" + bind_values(c, type, true) + ")",
                         nullable);
      case Op::kLt:
      case Op::kLte:
      case Op::kGt:
      case Op::kGte:
        return e + " " + comparison_operator(c.op) + " " + bind_values(c, type, false);
      case Op::kContains:
      case Op::kStartsWith:
      case Op::kEndsWith:
        return e + " " + like_operator(c.case_insensitive) + " " + bind_patterns(c, false);
      default:
        throw std::logic_error("operator does not apply to a scalar field");
    }
  }

  // `doc` is the jsonb document; with a path the member at the path is compared.
  std::string json(const Comparison &c, const std::string &doc) {
    std::string x = doc, text = "(" + doc + " OPERATOR(pg_catalog.#>>) '{}'::pg_catalog.text[])";
    if (c.json_path) {
      std::string path = b_.bind(text_array(*c.json_path, c.path));
      x = "(" + doc + " OPERATOR(pg_catalog.#>) " + path + ")";
      text = "(" + doc + " OPERATOR(pg_catalog.#>>) " + path + ")";
    }
    auto typed = [&](const char *type, const std::string &test) {
      return "CASE WHEN pg_catalog.jsonb_typeof(" + x + ") OPERATOR(pg_catalog.=) '" + type +
             "' THEN " + test + " END";
    };
    switch (c.op) {
      case Op::kIsNull:
        if (std::get<bool>(c.values.at(0)))
          return "COALESCE(pg_catalog.jsonb_typeof(" + x +
                 "), 'null') OPERATOR(pg_catalog.=) 'null'";
        return "pg_catalog.jsonb_typeof(" + x + ") OPERATOR(pg_catalog.<>) 'null'";
      case Op::kEq:
      case Op::kNeq:
        if (c.case_insensitive)
          return negate_if(
              c, typed("string", text + " " + like_operator(true) + " " + bind_patterns(c, false)),
              true);
        return negate_if(
            c, x + " OPERATOR(pg_catalog.=) " + bind_values(c, builtin(SqlType::kJsonb), false),
            true);
      case Op::kIn:
      case Op::kNotIn:
        return negate_if(c,
                         x + " OPERATOR(pg_catalog.=) ANY (" +
                             bind_values(c, builtin(SqlType::kJsonb), true) + ")",
                         true);
      case Op::kLt:
      case Op::kLte:
      case Op::kGt:
      case Op::kGte:
        if (c.json_type == "number")
          return typed("number", "(" + x + ")::pg_catalog.numeric " + comparison_operator(c.op) +
                                     " " + bind_number(c));
        return typed("string", text + " " + comparison_operator(c.op) + " " +
                                   bind_values(c, builtin(SqlType::kText), false));
      case Op::kContains:
        if (c.json_type.empty())
          return x + " OPERATOR(pg_catalog.@>) " + bind_values(c, builtin(SqlType::kJsonb), false);
        [[fallthrough]];
      case Op::kStartsWith:
      case Op::kEndsWith:
        return typed("string", text + " " + like_operator(c.case_insensitive) + " " +
                                   bind_patterns(c, false));
      case Op::kHasKey:
        return x + " OPERATOR(pg_catalog.?) " + bind_values(c, builtin(SqlType::kText), false);
      case Op::kHasAnyKey:
        return x + " OPERATOR(pg_catalog.?|) " + bind_values(c, builtin(SqlType::kText), true);
      case Op::kHasAllKeys:
        return x + " OPERATOR(pg_catalog.?&) " + bind_values(c, builtin(SqlType::kText), true);
    }
    throw std::logic_error("unknown JSON operator");
  }

  std::string bind_number(const Comparison &c) {
    Param p;
    p.type = builtin(SqlType::kNumeric);
    p.values = c.values;
    p.path = c.path;
    p.expected = "a number";
    return b_.bind(std::move(p));
  }

  std::string relation(const Relation &r, const Node &filter, const std::string &alias) {
    std::string t = b_.alias();
    std::string where = relation_key_matches(r, t, alias + "." + r.source_column);
    if (!filter.is_true())
      where += " AND " + node(filter, t);
    return "EXISTS (SELECT 1 FROM " + r.target + " " + t + " WHERE " + where + ")";
  }

  SqlBuilder &b_;
  MarkRefs &marks_;  // over the notification row: its fields go through query/marks.hpp
};

}  // namespace

std::string like_pattern(std::string_view value, Op op) {
  std::string out;
  if (op == Op::kContains || op == Op::kEndsWith)
    out += '%';
  for (char ch : value) {
    if (ch == '%' || ch == '_' || ch == '\\')
      out += '\\';
    out += ch;
  }
  if (op == Op::kContains || op == Op::kStartsWith)
    out += '%';
  return out;
}

std::string compile_filter(const Node &node, SqlBuilder &builder, MarkRefs &marks) {
  return Compiler(builder, marks).node(node, marks.alias());
}

}  // namespace pgi::query
