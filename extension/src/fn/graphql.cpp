// inbox.graphql() and inbox.graphql_http(): GraphQL inside PostgreSQL (70_graphql.sql).
//
// The request is parsed, validated and executed in pure C++ (graphql/execute.hpp) by the
// Directus resolver (graphql/directus.hpp), whose database side is pg/graphql_directus.hpp: the
// token is authenticated once, queries read in-process as that caller, each root field in its
// own subtransaction. inbox.graphql returns the response; inbox.graphql_http takes the HTTP
// request's JSON as the server received it and returns the response with its HTTP status, so
// the server neither builds the call's arguments nor reads the response.

#include "pg/pg.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "graphql/directus.hpp"
#include "graphql/execute.hpp"
#include "pg/graphql_directus.hpp"
#include "pg/jsonb.hpp"
#include "pg/spi_run.hpp"

extern "C" {
#include "access/htup_details.h"
}

namespace pgi {
namespace {

// An argument the SQL declaration may not have: a database whose inbox.graphql() predates an
// argument still calls this library after an upgrade of the files.
std::optional<std::string> optional_text(FunctionCallInfo fcinfo, int n) {
  if (n >= PG_NARGS() || PG_ARGISNULL(n))
    return std::nullopt;
  return std::string(text_arg(fcinfo, n));
}

// One GraphQL request: the document, its variables (JSON null: none) and operation name, for
// the caller behind `token` (none: the public role); `get` refuses mutations.
gql::Response respond(const std::optional<std::string> &query, const nlohmann::json &variables,
                      const std::optional<std::string> &operation,
                      const std::optional<std::string> &token, bool get) {
  if (!query)
    return gql::request_error("Must provide query string.");
  if (!variables.is_null() && !variables.is_object())
    return gql::request_error(
        "Variables must be provided as an Object where each property is a variable value.");
  gql::Request request;
  request.query = *query;
  request.operation_name = operation;
  request.allow_mutations = !get;
  if (variables.is_object())
    request.variables = variables;
  gql::Response response;
  {
    spi::Connection connection;
    spi::GraphqlDirectusApi api(token);
    gql::DirectusResolver resolver(api, token);
    response = gql::execute_request(gql::Schema::directus_system(), request, resolver);
    connection.finish();
  }
  return response;
}

// A member of the request object as text, the way ->> reads it: a string's value, JSON null or
// no member as nothing, any other value as its JSON text.
std::optional<std::string> member_text(const nlohmann::json &request, const char *name) {
  auto it = request.find(name);
  if (it == request.end() || it->is_null())
    return std::nullopt;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace
}  // namespace pgi

// inbox.graphql(query text, variables jsonb, operation_name text, token text, method text)
// RETURNS json
PGI_FUNCTION(pgi_graphql) {
  std::optional<std::string> query = pgi::optional_text(fcinfo, 0);
  // Without a query the request stops before its variables are read.
  nlohmann::json variables = query ? pgi::jsonb::arg(fcinfo, 1, "variables") : nullptr;
  std::optional<std::string> operation = pgi::optional_text(fcinfo, 2);
  std::optional<std::string> token = pgi::optional_text(fcinfo, 3);
  std::optional<std::string> method = pgi::optional_text(fcinfo, 4);
  pgi::gql::Response response =
      pgi::respond(query, variables, operation, token, method && *method == "GET");
  return pgi::text_datum(response.body);
}

// inbox.graphql_http(token text, request jsonb, method text, OUT body text, OUT status integer)
//
// `request` is the POST body ({"query", "variables", "operationName"}) or, for GET, the query
// string's parameters as strings, where variables is JSON text (22P02 when it is not JSON).
PGI_FUNCTION(pgi_graphql_http) {
  std::optional<std::string> token = pgi::optional_text(fcinfo, 0);
  nlohmann::json request =
      PG_ARGISNULL(1) ? nlohmann::json::object() : pgi::jsonb::arg(fcinfo, 1, "request");
  std::optional<std::string> method = pgi::optional_text(fcinfo, 2);
  bool get = method && *method == "GET";
  if (!request.is_object())
    request = nlohmann::json::object();  // no member to read: "Must provide query string."
  nlohmann::json variables;
  auto v = request.find("variables");
  if (v != request.end()) {
    if (get && v->is_string())
      variables = pgi::jsonb::parse(v->get<std::string>(), "variables");
    else
      variables = *v;
  }
  pgi::gql::Response response =
      pgi::respond(pgi::member_text(request, "query"), variables,
                   pgi::member_text(request, "operationName"), token, get);

  const char *body = response.body.c_str();
  size_t length = response.body.size();
  int status = response.status;
  Datum result = 0;
  pgi::pg_call([&] {
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
      elog(ERROR, "pg_inbox: inbox.graphql_http must return a record (body, status)");
    desc = BlessTupleDesc(desc);
    Datum values[2] = {PointerGetDatum(cstring_to_text_with_len(body, static_cast<int>(length))),
                       Int32GetDatum(status)};
    bool nulls[2] = {false, false};
    result = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
  });
  return result;
}
