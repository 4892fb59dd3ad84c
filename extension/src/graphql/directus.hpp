// The root fields of /graphql/system, answered by the Directus API of 60_directus.sql.
//
// Pure C++. Each Query or Mutation field becomes one call of the SQL function that serves the
// same Directus REST route, with the caller's bearer token: the GraphQL arguments are that
// route's query parameters and body (filter, sort, limit, offset, page, search, aggregate,
// groupBy; data, keys), so the Directus translator and the query engine do the work, with the
// permissions of the REST routes. The answers ({"data": ...}) are reshaped where GraphQL
// differs: aggregated rows gain their `group` object, notifications their `timestamp_func`.
//
// Database errors become field errors as Directus reports them: a notification the caller may
// not see or change (P0002, 42501) is FORBIDDEN ("You don't have permission to access this."),
// a bad value is INVALID_PAYLOAD (mutations) or INVALID_QUERY (queries).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "graphql/execute.hpp"

namespace pgi::gql {

// A PostgreSQL error, as the SQL API raised it (the call's subtransaction is rolled back).
class DatabaseError : public std::runtime_error {
 public:
  DatabaseError(std::string sqlstate, const std::string &message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string &sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

// Calls one function of the inbox schema. Implemented over SPI (fn/graphql.cpp).
class SqlApi {
 public:
  virtual ~SqlApi() = default;
  // SELECT inbox.<function>(args...): each argument is text (nullopt for NULL) or JSON (bound
  // as text, cast to jsonb). `function` is always one of this module's constants. Runs in its
  // own subtransaction; returns the result's text (nullopt for NULL or void), or throws
  // DatabaseError after rolling the subtransaction back.
  struct Arg {
    std::optional<std::string> text;
    bool jsonb = false;
  };
  virtual std::optional<std::string> call(const char *function, const std::vector<Arg> &args) = 0;
};

class DirectusResolver : public RootResolver {
 public:
  // `token`: the caller's bearer token; without one every notification field is FORBIDDEN
  // (Directus's public role may not use notifications), while introspection still answers.
  DirectusResolver(SqlApi &sql, std::optional<std::string> token)
      : sql_(sql), token_(std::move(token)) {}

  nlohmann::ordered_json resolve(const TypeDef &root, const FieldDef &field,
                                 const nlohmann::json &args,
                                 const SubSelection &selection) override;

 private:
  nlohmann::ordered_json read(const FieldDef &field, const nlohmann::json &args,
                              const SubSelection &selection);
  nlohmann::ordered_json mutate(const FieldDef &field, const nlohmann::json &args);
  // The `data` member of a call's {"data": ...} answer.
  nlohmann::ordered_json call_data(const char *function, std::vector<SqlApi::Arg> args);

  SqlApi &sql_;
  std::optional<std::string> token_;
};

// A Directus timestamp ("2026-11-22T01:58:23.073Z") as datetime_functions: year, month, week
// (ISO), day, weekday (0 = Sunday), hour, minute, second; null if it is not one.
nlohmann::ordered_json datetime_functions(const nlohmann::ordered_json &timestamp);

}  // namespace pgi::gql
