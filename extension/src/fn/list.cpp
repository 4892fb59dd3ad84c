// The SQL functions of the query engine: inbox.list, inbox.list_all, inbox.list_explain and
// inbox.fields.

#include "pg/pg.hpp"

#include "pg/cursor_mac.hpp"
#include "pg/list_executor.hpp"
#include "pg/jsonb.hpp"
#include "pg/list_json.hpp"
#include "query/order_keys.hpp"
#include "query/compiler.hpp"
#include "query/params.hpp"
#include "pg/relations.hpp"
#include "pg/spi_run.hpp"

namespace {

std::optional<std::string> user_arg(FunctionCallInfo fcinfo, bool required) {
  if (PG_ARGISNULL(0)) {
    if (required)
      throw pgi::Error("22004", "user_id must not be null");
    return std::nullopt;
  }
  return std::string(pgi::text_arg(fcinfo, 0));
}

Datum list(FunctionCallInfo fcinfo, std::optional<std::string> user, int params_arg) {
  nlohmann::json params = pgi::jsonb::arg(fcinfo, params_arg, "params");
  pgi::spi::Connection spi;
  pgi::spi::CatalogRelations relations;
  pgi::query::Query q = pgi::query::parse_native_params(params, {user, &relations});
  pgi::spi::Page page = pgi::spi::run_page(q);
  spi.finish();
  return pgi::spi::page_json(page);
}

}  // namespace

PGI_FUNCTION(pgi_list) {
  return list(fcinfo, user_arg(fcinfo, true), 1);
}

PGI_FUNCTION(pgi_list_all) {
  return list(fcinfo, std::nullopt, 0);
}

// The plan of the page statement inbox.list would run, with the request's values bound; with
// `run`, executed, with buffer counts (timings left out so the output is repeatable).
PGI_FUNCTION(pgi_list_explain) {
  std::optional<std::string> user = user_arg(fcinfo, false);
  nlohmann::json params = pgi::jsonb::arg(fcinfo, 1, "params");
  bool analyze = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
  pgi::spi::Connection spi;
  pgi::spi::CatalogRelations relations;
  pgi::query::Query q = pgi::query::parse_native_params(params, {user, &relations});
  q.want_total = false;
  pgi::spi::InstallationSigner signer;
  pgi::query::PageStatements st = pgi::spi::plan_page(q, signer);
  std::string explain = analyze ? "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) "
                                : "EXPLAIN (COSTS OFF) ";
  uint64 n = pgi::spi::run_once(explain + st.page.sql, st.page.params);
  std::string plan;
  for (uint64 i = 0; i < n; ++i) {
    bool is_null;
    Datum line = pgi::spi::value(i, 1, is_null);
    plan += (i ? "\n" : "") +
            std::get<std::string>(pgi::spi::scalar(line, is_null, pgi::query::SqlType::kText));
  }
  spi.finish();
  return pgi::text_datum(plan);
}

// The native field registry: name, column, kind, sortable, nullable.
PGI_FUNCTION(pgi_fields) {
  const auto &fields = pgi::query::native_fields().fields();
  ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
  pgi::pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
  for (const auto &f : fields) {
    const char *name = f.name.c_str(), *column = f.column.c_str(),
               *kind = pgi::value_kind_name(f.kind);
    bool sortable = f.sortable, nullable = f.nullable;
    pgi::pg_call([&] {
      Datum values[5] = {CStringGetTextDatum(name), CStringGetTextDatum(column),
                         CStringGetTextDatum(kind), BoolGetDatum(sortable), BoolGetDatum(nullable)};
      bool nulls[5] = {false, false, false, false, false};
      tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    });
  }
  return (Datum)0;
}
