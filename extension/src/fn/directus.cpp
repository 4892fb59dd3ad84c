// The Directus functions in C++ that 60_directus.sql calls once it has checked the caller:
// inbox._directus_read and inbox._directus_keys (the reads themselves are pg/directus_read.hpp,
// which GraphQL shares) and inbox._directus_check_users.

#include "pg/pg.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "pg/directus_read.hpp"
#include "pg/jsonb.hpp"
#include "pg/spi_run.hpp"
#include "query/sql.hpp"

extern "C" {
#include "utils/array.h"
}

namespace pgi {
namespace {

std::optional<std::string> optional_text(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n))
    return std::nullopt;
  return std::string(text_arg(fcinfo, n));
}

// The Directus query argument: SQL NULL is no parameters.
nlohmann::json query_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n))
    return nlohmann::json::object();
  return jsonb::arg(fcinfo, n, "query");
}

std::optional<std::vector<int64_t>> keys_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n))
    return std::nullopt;
  Datum *values = nullptr;
  bool *nulls = nullptr;
  int count = 0;
  pg_call([&] {
    ArrayType *a = PG_GETARG_ARRAYTYPE_P(n);
    deconstruct_array(a, INT8OID, 8, true, TYPALIGN_DOUBLE, &values, &nulls, &count);
  });
  std::vector<int64_t> keys;
  for (int i = 0; i < count; ++i) {
    if (nulls[i])
      throw Error(sqlstate::kInvalidParameterValue, "keys[" + std::to_string(i) + "]: null");
    keys.push_back(DatumGetInt64(values[i]));
  }
  return keys;
}

// The first of `users` that has no row in the table registered for the Directus `field`
// (recipient or sender), or nullopt when all do or no relation is registered.
std::optional<std::string> unknown_user(const std::string &field,
                                        const std::vector<std::string> &users) {
  spi::DirectusRelations relations;
  auto relation = relations.find(field);
  if (relation == nullptr)
    return std::nullopt;
  // Compared as text, as filters compare keys: a value the key type cannot hold is simply absent.
  query::Statement check{
      "SELECT u FROM pg_catalog.unnest($1) AS u WHERE NOT EXISTS (SELECT 1 FROM " +
          relation->target + " t WHERE (t." + relation->key.column +
          ")::pg_catalog.text OPERATOR(pg_catalog.=) u) LIMIT 1",
      {query::text_array(users)}};
  // One user (a single create) is planned once for every user: a custom plan, which PostgreSQL
  // chose at every call for the array, cost more than the probe. Several are planned with their
  // count, and so is any on a Citus cluster, whose router needs the values to plan.
  check.generic_plan = users.size() == 1 && spi::generic_plan_allowed();
  if (spi::run(check, 1) == 0)
    return std::nullopt;
  return spi::column_text(0, 1).value_or("");
}

std::vector<std::string> text_array_arg(FunctionCallInfo fcinfo, int n) {
  std::vector<std::string> out;
  if (PG_ARGISNULL(n))
    return out;
  Datum *values = nullptr;
  bool *nulls = nullptr;
  int count = 0;
  pg_call([&] {
    ArrayType *a = PG_GETARG_ARRAYTYPE_P(n);
    deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, &count);
  });
  for (int i = 0; i < count; ++i) {
    if (nulls[i])
      continue;
    text *t = nullptr;
    Datum d = values[i];
    pg_call([&] { t = DatumGetTextPP(d); });
    out.emplace_back(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
  }
  return out;
}

spi::DirectusCaller caller_args(FunctionCallInfo fcinfo) {
  return spi::DirectusCaller{optional_text(fcinfo, 0), optional_text(fcinfo, 1),
                             optional_text(fcinfo, 2)};
}

}  // namespace
}  // namespace pgi

// inbox._directus_read(user_id text, workspace_id text, current_user text, query jsonb,
//                      keys bigint[], single boolean) RETURNS json
PGI_FUNCTION(pgi_directus_read) {
  pgi::spi::DirectusCaller caller = pgi::caller_args(fcinfo);
  nlohmann::json params = pgi::query_arg(fcinfo, 3);
  std::optional<std::vector<int64_t>> keys = pgi::keys_arg(fcinfo, 4);
  bool single = !PG_ARGISNULL(5) && PG_GETARG_BOOL(5);
  if (single && (!keys || keys->size() != 1))
    throw pgi::Error(pgi::sqlstate::kInvalidParameterValue, "single: expects exactly one key");
  std::string body;
  {
    pgi::spi::Connection connection;
    body = pgi::spi::directus_read(caller, params, keys, single);
    connection.finish();
  }
  return pgi::text_datum(body);
}

// inbox._directus_keys(user_id text, workspace_id text, current_user text, query jsonb)
// RETURNS bigint[]
PGI_FUNCTION(pgi_directus_keys) {
  pgi::spi::DirectusCaller caller = pgi::caller_args(fcinfo);
  nlohmann::json params = pgi::query_arg(fcinfo, 3);
  std::vector<int64_t> keys;
  {
    pgi::spi::Connection connection;
    keys = pgi::spi::directus_keys(caller, params);
    connection.finish();
  }
  Datum result = 0;
  std::vector<Datum> values(keys.size());
  for (size_t i = 0; i < keys.size(); ++i)
    values[i] = Int64GetDatum(keys[i]);
  Datum *data = values.data();
  int count = static_cast<int>(values.size());
  pgi::pg_call([&] {
    result = PointerGetDatum(construct_array(data, count, INT8OID, 8, true, TYPALIGN_DOUBLE));
  });
  return result;
}

// inbox._directus_check_users(field text, users text[]) RETURNS void: with a relation
// registered for recipient or sender (Directus's foreign keys onto directus_users), every user
// a create names must be a row of its table (23503 otherwise).
PGI_FUNCTION(pgi_directus_check_users) {
  std::string field(pgi::text_arg(fcinfo, 0));
  std::vector<std::string> users = pgi::text_array_arg(fcinfo, 1);
  // No users (a create without a sender): nothing to check, so no SPI connection and no
  // look-up of the relations either.
  if (users.empty())
    PG_RETURN_VOID();
  std::optional<std::string> unknown;
  {
    pgi::spi::Connection connection;
    unknown = pgi::unknown_user(field, users);
    connection.finish();
  }
  if (unknown)
    throw pgi::Error("23503", "payload." + field + ": no user \"" + *unknown + "\"", {},
                     "A relation is registered for " + field +
                         ": its users are the rows of that table (inbox.define_relation).");
  PG_RETURN_VOID();
}
