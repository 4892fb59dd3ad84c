// Running compiled statements through SPI.
#pragma once

#include "pg/pg.hpp"

#include <string>

#include "query/model.hpp"
#include "query/sql.hpp"

namespace pgi::spi {

// SPI_connect on construction; finish() on the success path. When an error unwinds instead,
// the connection is left to PostgreSQL's (sub)transaction abort, which closes it.
class Connection {
 public:
  Connection();
  ~Connection() = default;
  Connection(const Connection &) = delete;
  Connection &operator=(const Connection &) = delete;
  void finish();

 private:
  bool open_ = false;
};

// Executes `statement` read-only with a cached plan (at most `max_rows` rows, 0 for all).
// Results are in SPI_tuptable; returns SPI_processed.
uint64 run(const query::Statement &statement, long max_rows = 0);

// Whether a statement of one user's rows may be planned once for every value
// (Statement::generic_plan): not with Citus installed, whose router planner needs the user's
// value to plan it ("could not create distributed plan").
// Kept for the backend's life once Citus is known absent and cannot be created (not preloaded).
bool generic_plan_allowed();

// Whether the server preloads Citus (shared_preload_libraries), the only way Citus loads.
bool citus_preloaded();

// Executes `sql` once, not read-only and without caching its plan (EXPLAIN). A function calling
// it must be VOLATILE.
uint64 run_once(const std::string &sql, const std::vector<query::Param> &params);

// A column of row `row` of SPI_tuptable (1-based column).
Datum value(uint64 row, int column, bool &is_null);

// The value of a key column as the engine carries it (text, int64, bool or NULL).
query::Scalar scalar(Datum value, bool is_null, query::SqlType type);

}  // namespace pgi::spi
