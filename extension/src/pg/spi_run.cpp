#include "pg/spi_run.hpp"

#include "pg/plan_cache.hpp"
#include "pg/spi_params.hpp"
#include "query/marks.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace pgi::spi {

Connection::Connection() {
  pg_call([&] {
    if (SPI_connect() != SPI_OK_CONNECT)
      elog(ERROR, "pg_inbox: SPI_connect failed");
    // Issue 19: is this the schema with the lifecycle (query/marks.hpp)? A syscache look-up.
    Oid inbox = LookupExplicitNamespace("inbox", true);
    query::set_lifecycle_schema(OidIsValid(inbox) && OidIsValid(get_relname_relid("marks", inbox)));
  });
  open_ = true;
}

void Connection::finish() {
  if (!open_)
    return;
  open_ = false;
  pg_call([&] { SPI_finish(); });
}

bool citus_preloaded() {
  // Citus refuses to load other than from shared_preload_libraries, so its settings exist in a
  // backend exactly when the server preloads it, for the server's life.
  static const bool preloaded = [] {
    const char *version = nullptr;
    pg_call([&] { version = GetConfigOption("citus.version", true, false); });
    return version != nullptr;
  }();
  return preloaded;
}

bool generic_plan_allowed() {
  // Without Citus preloaded, CREATE EXTENSION citus fails: an absent extension stays absent for
  // the backend's life (and its database's), so that answer is kept. A present one may be
  // dropped, so it is looked up again each time (a catalog scan of pg_extension).
  static bool absent_for_good = false;
  if (absent_for_good)
    return true;
  Oid citus = InvalidOid;
  pg_call([&] { citus = get_extension_oid("citus", true); });
  if (!OidIsValid(citus) && !citus_preloaded())
    absent_for_good = true;
  return !OidIsValid(citus);
}

uint64 run(const query::Statement &statement, long max_rows) {
  BoundParams params = bind_params(statement.params);
  SPIPlanPtr plan = cached_plan(statement.sql, params.count, params.types,
                                statement.generic_plan ? CURSOR_OPT_GENERIC_PLAN : 0);
  uint64 processed = 0;
  pg_call([&] {
    int rc = SPI_execute_plan(plan, params.values, params.nulls, true, max_rows);
    if (rc != SPI_OK_SELECT)
      elog(ERROR, "pg_inbox: query failed: %s", SPI_result_code_string(rc));
    processed = SPI_processed;
  });
  return processed;
}

uint64 run_once(const std::string &sql, const std::vector<query::Param> &param_list) {
  BoundParams params = bind_params(param_list);
  const char *text = sql.c_str();
  uint64 processed = 0;
  pg_call([&] {
    // Not read-only: SPI refuses EXPLAIN there.
    int rc = SPI_execute_with_args(text, params.count, params.types, params.values, params.nulls,
                                   false, 0);
    if (rc < 0)
      elog(ERROR, "pg_inbox: query failed: %s", SPI_result_code_string(rc));
    processed = SPI_processed;
  });
  return processed;
}

Datum value(uint64 row, int column, bool &is_null) {
  Datum d = 0;
  pg_call(
      [&] { d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &is_null); });
  return d;
}

query::Scalar scalar(Datum value, bool is_null, query::SqlType type) {
  if (is_null)
    return std::monostate{};
  switch (type) {
    case query::SqlType::kBoolean:
      return static_cast<bool>(DatumGetBool(value));
    case query::SqlType::kBigint:
    case query::SqlType::kTimestamptz:
      return static_cast<int64_t>(DatumGetInt64(value));
    default: {
      text *t = nullptr;
      pg_call([&] { t = DatumGetTextPP(value); });
      return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    }
  }
}

}  // namespace pgi::spi
