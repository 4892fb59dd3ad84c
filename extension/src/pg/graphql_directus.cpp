#include "pg/graphql_directus.hpp"

#include <new>

#include "core/errors.hpp"
#include "graphql/error.hpp"
#include "pg/jsonb.hpp"
#include "pg/plan_cache.hpp"
#include "pg/spi_run.hpp"
#include "pg/subtransaction.hpp"
#include "query/sql.hpp"

extern "C" {
#include "utils/array.h"
}

namespace pgi::spi {
namespace {

// One root field: `body` in its own subtransaction, any failure rolled back and thrown as
// DatabaseError (C++ failures with the SQLSTATE the entry-point guard would give them).
template <typename Body>
auto field(Body &&body) -> decltype(body()) {
  try {
    return in_subtransaction(body);
  } catch (const PgError &e) {
    const ErrorData *data = e.data();
    throw gql::DatabaseError(unpack_sql_state(data->sqlerrcode),
                             data->message ? data->message : "database error");
  } catch (const Error &e) {
    throw gql::DatabaseError(e.sqlstate(), e.what());
  } catch (const std::bad_alloc &) {
    throw gql::DatabaseError(sqlstate::kOutOfMemory, "out of memory in pg_inbox");
  } catch (const std::exception &e) {
    throw gql::DatabaseError(sqlstate::kInternalError,
                             std::string("unexpected C++ exception in pg_inbox: ") + e.what());
  }
}

// A Directus primary key as GraphQL's ID gives it: digits only, as inbox._directus_key takes
// them; anything else is "not found", as for the REST route.
int64_t directus_key(const std::string &id) {
  bool digits = !id.empty() && id.size() <= 18;
  for (char c : id)
    digits = digits && c >= '0' && c <= '9';
  if (!digits)
    throw Error(sqlstate::kNoDataFound, "notification " + id + " not found");
  return std::stoll(id);
}

}  // namespace

GraphqlDirectusApi::GraphqlDirectusApi(const std::optional<std::string> &token) {
  if (!token)
    return;
  query::Param t;
  t.type = query::builtin(query::SqlType::kText);
  t.values.emplace_back(*token);
  run(query::Statement{"SELECT inbox.authenticate($1)", {t}}, 1);
  bool is_null = false;
  Datum row = value(0, 1, is_null);
  // The inbox.caller row: user_id, scopes, workspace_id, admin. May the caller read? admin has
  // every scope, as inbox.authenticate has it.
  char *user = nullptr, *workspace = nullptr;
  bool admin = false, may_read = false;
  pg_call([&] {
    HeapTupleHeader caller = DatumGetHeapTupleHeader(row);
    bool null = false;
    user = TextDatumGetCString(GetAttributeByName(caller, "user_id", &null));
    Datum w = GetAttributeByName(caller, "workspace_id", &null);
    workspace = null ? nullptr : TextDatumGetCString(w);
    admin = DatumGetBool(GetAttributeByName(caller, "admin", &null));
    Datum *scopes = nullptr;
    bool *nulls = nullptr;
    int count = 0;
    deconstruct_array(DatumGetArrayTypeP(GetAttributeByName(caller, "scopes", &null)), TEXTOID, -1,
                      false, TYPALIGN_INT, &scopes, &nulls, &count);
    may_read = admin;
    for (int i = 0; i < count && !may_read; ++i)
      may_read = !nulls[i] && strcmp(TextDatumGetCString(scopes[i]), "notifications:read") == 0;
  });
  may_read_ = may_read;
  caller_.scope_user = admin ? std::nullopt : std::optional<std::string>(user);
  if (workspace != nullptr)
    caller_.workspace = workspace;
  caller_.current_user = user;
}

std::string GraphqlDirectusApi::read(const nlohmann::json &params) {
  return field([&] {
    // What the REST route's jsonb argument refused before the route ran.
    jsonb::check_text(params);
    if (!may_read_)
      throw Error(sqlstate::kInsufficientPrivilege,
                  "this token lacks the notifications:read scope");
    return directus_read(caller_, params, std::nullopt, false);
  });
}

std::string GraphqlDirectusApi::read_one(const std::string &id, const nlohmann::json &params) {
  return field([&] {
    if (!may_read_)
      throw Error(sqlstate::kInsufficientPrivilege,
                  "this token lacks the notifications:read scope");
    return directus_read(caller_, params, std::vector<int64_t>{directus_key(id)}, true);
  });
}

std::optional<std::string> GraphqlDirectusApi::call(const char *function,
                                                    const std::vector<Arg> &args) {
  // `function` is one of graphql/directus.cpp's constants, never request text.
  std::string sql = std::string("SELECT inbox.") + function + "(";
  std::vector<Oid> types;
  for (size_t i = 0; i < args.size(); ++i) {
    sql += (i ? ", $" : "$") + std::to_string(i + 1);
    types.push_back(args[i].jsonb ? JSONBOID : TEXTOID);
  }
  sql += ")::pg_catalog.text";
  return field([&] {
    std::vector<Datum> values;
    std::string nulls;
    for (const Arg &a : args) {
      if (a.jsonb)
        values.push_back(jsonb::from_json(*a.jsonb));
      else
        values.push_back(a.text ? text_datum(*a.text) : Datum(0));
      nulls += a.jsonb || a.text ? ' ' : 'n';
    }
    SPIPlanPtr plan = cached_plan(sql, static_cast<int>(types.size()), types.data());
    char *text = nullptr;
    pg_call([&] {
      int rc = SPI_execute_plan(plan, values.data(), nulls.c_str(), false, 1);
      if (rc != SPI_OK_SELECT)
        elog(ERROR, "pg_inbox: %s failed: %s", function, SPI_result_code_string(rc));
      if (SPI_processed == 1)
        text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    });
    return text != nullptr ? std::optional<std::string>(text) : std::nullopt;
  });
}

}  // namespace pgi::spi
