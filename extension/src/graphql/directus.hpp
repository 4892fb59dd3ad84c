// The root fields of /graphql/system, answered as the Directus REST routes answer them.
//
// Pure C++. Each Query field is a Directus read: its arguments are the query parameters of the
// REST route (filter, sort, limit, offset, page, search, aggregate, groupBy), read through
// DirectusApi, which the database side implements in-process for the caller who authenticated
// once for the whole request (pg/graphql_directus.hpp). Each Mutation field is one call of the
// SQL function that serves the same REST route (60_directus.sql), with the caller's bearer
// token, so the Directus translator and the query engine do the work with the permissions of
// the REST routes. The answers ({"data": ...}) are reshaped where GraphQL differs: aggregated
// rows gain their `group` object, notifications their `timestamp_func` (when it is selected).
// Reads and mutations ask for Directus's own fields (the REST default) plus pg_inbox's extra
// ones (seen_at, expires_at) that the selection names, so a query without them costs nothing.
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

// A database error of one root field, with its SQLSTATE (the field's subtransaction is rolled
// back).
class DatabaseError : public std::runtime_error {
 public:
  DatabaseError(std::string sqlstate, const std::string &message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string &sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

// The database, as the resolver needs it. Implemented over SPI (pg/graphql_directus.hpp). Each
// call is a root field: it runs in its own subtransaction and throws DatabaseError after
// rolling it back.
class DirectusApi {
 public:
  virtual ~DirectusApi() = default;

  // The body of GET /notifications for the query parameters `params` ({"data": [...]}), as
  // the request's caller reads it (42501 without the notifications:read scope).
  virtual std::string read(const nlohmann::json &params) = 0;
  // The body of GET /notifications/:id ({"data": {...}}) for the query parameters `params`
  // (fields); P0002 when `id` is not a key or the caller may not see it.
  virtual std::string read_one(const std::string &id, const nlohmann::json &params) = 0;

  // SELECT inbox.<function>(args...) for a mutation: each argument is text (nullopt for NULL)
  // or JSON (bound as jsonb). `function` is always one of this module's constants. Returns the
  // result's text (nullopt for NULL or void).
  struct Arg {
    std::optional<std::string> text;
    std::optional<nlohmann::json> jsonb;  // set: a jsonb argument, `text` unused
  };
  virtual std::optional<std::string> call(const char *function, const std::vector<Arg> &args) = 0;
};

class DirectusResolver : public RootResolver {
 public:
  // `token`: the caller's bearer token; without one every notification field is FORBIDDEN
  // (Directus's public role may not use notifications), while introspection still answers.
  DirectusResolver(DirectusApi &api, std::optional<std::string> token)
      : api_(api), token_(std::move(token)) {}

  nlohmann::ordered_json resolve(const TypeDef &root, const FieldDef &field,
                                 const nlohmann::json &args,
                                 const SubSelection &selection) override;

 private:
  nlohmann::ordered_json read(const FieldDef &field, const nlohmann::json &args,
                              const SubSelection &selection);
  nlohmann::ordered_json mutate(const FieldDef &field, const nlohmann::json &args,
                                const SubSelection &selection);
  // The `data` member of a mutation's {"data": ...} answer.
  nlohmann::ordered_json call_data(const char *function, std::vector<DirectusApi::Arg> args);

  DirectusApi &api_;
  std::optional<std::string> token_;
};

// A Directus timestamp ("2026-11-22T01:58:23.073Z") as datetime_functions: year, month, week
// (ISO), day, weekday (0 = Sunday), hour, minute, second; null if it is not one.
nlohmann::ordered_json datetime_functions(const nlohmann::ordered_json &timestamp);

}  // namespace pgi::gql
