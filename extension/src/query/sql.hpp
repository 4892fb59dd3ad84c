// What the compiler produces: SQL text whose every value is a bound parameter, and the
// parameters with their types. Pure C++; pg/spi_params.hpp turns the parameters into Datums.
//
// SQL text is built only from constants, whitelisted column names and catalog identifiers
// already passed through quote_identifier; a request's strings reach PostgreSQL only as
// parameter values. Two requests of the same shape produce the same text, so the text (with the
// parameter types) keys the plan cache.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "query/model.hpp"

namespace pgi::query {

struct Param {
  TypeRef type;                // element type for an array
  bool array = false;          // bind values as one array of `type`
  std::vector<Scalar> values;  // exactly one unless `array`
  // For a value the type's input function rejects: the error names `path` and says
  // `expected` ("filter.createdAt.gte: expected an ISO-8601 timestamp").
  std::string path;
  std::string expected;
};

struct Statement {
  std::string sql;
  std::vector<Param> params;
  // Plan once for every value (the executor prepares it with CURSOR_OPT_GENERIC_PLAN) instead
  // of PostgreSQL's first five custom plans: for a statement whose custom plan, made with one
  // user's value, can take a worse index than the plan that holds for every user (the id-ordered
  // seek: compiler.cpp).
  bool generic_plan = false;
};

// Collects parameters while SQL text is assembled.
class SqlBuilder {
 public:
  // Adds a parameter and returns its placeholder ("$3").
  std::string bind(Param param) {
    params_.push_back(std::move(param));
    return "$" + std::to_string(params_.size());
  }
  std::string bind(TypeRef type, Scalar value, std::string path = {}, std::string expected = {}) {
    Param p;
    p.type = std::move(type);
    p.values.push_back(std::move(value));
    p.path = std::move(path);
    p.expected = std::move(expected);
    return bind(std::move(p));
  }
  // A fresh table alias for a subquery ("r1", "r2", ...).
  std::string alias() { return "r" + std::to_string(++aliases_); }

  Statement finish(std::string sql) { return Statement{std::move(sql), std::move(params_)}; }

 private:
  std::vector<Param> params_;
  int aliases_ = 0;
};

inline TypeRef builtin(SqlType t) {
  TypeRef r;
  r.sql = t;
  return r;
}

// Strings bound as one text[] parameter (`path` names it in errors).
inline Param text_array(const std::vector<std::string> &values, std::string path = {}) {
  Param p;
  p.type = builtin(SqlType::kText);
  p.array = true;
  p.values.assign(values.begin(), values.end());
  p.path = std::move(path);
  return p;
}

}  // namespace pgi::query
