// inbox.graphql(): the GraphQL endpoint inside PostgreSQL (70_graphql.sql).
//
// The request is parsed, validated and executed in pure C++ (graphql/execute.hpp); the root
// fields call the Directus SQL API through SpiSqlApi below, each call in its own internal
// subtransaction, so that a field that fails (a missing notification, a bad value) is rolled
// back alone and reported as a field error while the other fields keep their data, as the
// specification's partial results want.

#include "pg/pg.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "graphql/directus.hpp"
#include "graphql/execute.hpp"
#include "pg/plan_cache.hpp"
#include "pg/spi_run.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/resowner.h"
}

namespace pgi {
namespace {

class SpiSqlApi : public gql::SqlApi {
 public:
  std::optional<std::string> call(const char *function, const std::vector<Arg> &args) override {
    // `function` is one of graphql/directus.cpp's constants, never request text.
    std::string sql = std::string("SELECT inbox.") + function + "(";
    std::vector<Oid> types;
    std::vector<Datum> values;
    std::string nulls;
    for (size_t i = 0; i < args.size(); ++i) {
      sql +=
          (i ? ", $" : "$") + std::to_string(i + 1) + (args[i].jsonb ? "::pg_catalog.jsonb" : "");
      types.push_back(TEXTOID);
      values.push_back(args[i].text ? text_datum(*args[i].text) : Datum(0));
      nulls += args[i].text ? ' ' : 'n';
    }
    sql += ")::pg_catalog.text";

    MemoryContext outer = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    pg_call([&] { BeginInternalSubTransaction(nullptr); });
    MemoryContextSwitchTo(outer);
    std::optional<std::string> result;
    try {
      SPIPlanPtr plan = spi::cached_plan(sql, static_cast<int>(types.size()), types.data());
      char *text = nullptr;
      pg_call([&] {
        int rc = SPI_execute_plan(plan, values.data(), nulls.c_str(), false, 1);
        if (rc != SPI_OK_SELECT)
          elog(ERROR, "pg_inbox: %s failed: %s", function, SPI_result_code_string(rc));
        if (SPI_processed == 1)
          text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
      });
      if (text != nullptr)
        result = std::string(text);
      pg_call([&] { ReleaseCurrentSubTransaction(); });
      MemoryContextSwitchTo(outer);
      CurrentResourceOwner = owner;
    } catch (const PgError &e) {
      // The error data lives in `outer`, which the rollback leaves alone.
      ErrorData *data = e.data();
      pg_call([&] { RollbackAndReleaseCurrentSubTransaction(); });
      MemoryContextSwitchTo(outer);
      CurrentResourceOwner = owner;
      throw gql::DatabaseError(unpack_sql_state(data->sqlerrcode),
                               data->message ? data->message : "database error");
    }
    return result;
  }
};

// An argument the SQL declaration may not have: a database whose inbox.graphql() predates an
// argument still calls this library after an upgrade of the files.
std::optional<std::string> optional_text(FunctionCallInfo fcinfo, int n) {
  if (n >= PG_NARGS() || PG_ARGISNULL(n))
    return std::nullopt;
  return std::string(text_arg(fcinfo, n));
}

std::string jsonb_text(FunctionCallInfo fcinfo, int n) {
  char *text = nullptr;
  pg_call([&] {
    Jsonb *jb = PG_GETARG_JSONB_P(n);
    text = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
  });
  return text;
}

// A request that cannot start, in the response's shape.
std::string request_error(const std::string &message) {
  nlohmann::ordered_json error;
  error["message"] = message;
  error["extensions"] = {{"code", gql::code::kExecution}};
  return nlohmann::ordered_json{{"errors", nlohmann::ordered_json::array({error})}}.dump();
}

// Raises 28000 for a token that does not authenticate, before anything runs: the server
// answers 401, as Directus does for a bad token whatever the document.
void authenticate(const std::string &token) {
  Datum arg = text_datum(token);
  Oid type = TEXTOID;
  pg_call([&] {
    if (SPI_execute_with_args("SELECT inbox.authenticate($1)", 1, &type, &arg, nullptr, true, 1) !=
        SPI_OK_SELECT)
      elog(ERROR, "pg_inbox: authentication failed to run");
  });
}

}  // namespace
}  // namespace pgi

// inbox.graphql(query text, variables jsonb, operation_name text, token text, method text)
// RETURNS json
PGI_FUNCTION(pgi_graphql) {
  std::optional<std::string> query = pgi::optional_text(fcinfo, 0);
  std::optional<std::string> operation = pgi::optional_text(fcinfo, 2);
  std::optional<std::string> token = pgi::optional_text(fcinfo, 3);
  std::optional<std::string> method = pgi::optional_text(fcinfo, 4);
  if (!query)
    return pgi::text_datum(pgi::request_error("Must provide query string."));

  pgi::gql::Request request;
  request.query = *query;
  request.operation_name = operation;
  request.allow_mutations = !method || *method != "GET";
  if (!PG_ARGISNULL(1)) {
    nlohmann::json variables = nlohmann::json::parse(pgi::jsonb_text(fcinfo, 1));
    if (!variables.is_null() && !variables.is_object())
      return pgi::text_datum(pgi::request_error(
          "Variables must be provided as an Object where each property is a variable value."));
    if (variables.is_object())
      request.variables = std::move(variables);
  }

  std::string response;
  {
    pgi::spi::Connection connection;
    if (token)
      pgi::authenticate(*token);
    pgi::SpiSqlApi sql;
    pgi::gql::DirectusResolver resolver(sql, token);
    response = pgi::gql::execute_request(pgi::gql::Schema::directus_system(), request, resolver);
    connection.finish();
  }
  return pgi::text_datum(response);
}
