// jsonb in and out of the list functions: params in, the page out. All jsonb construction of
// the engine is here (PostgreSQL 19 changes pushJsonbValue).
#pragma once

#include "pg/pg.hpp"

#include <nlohmann/json.hpp>

#include "pg/list_executor.hpp"

namespace pgi::spi {

// The jsonb argument `n` as nlohmann::json (SQL NULL: json null).
nlohmann::json json_arg(FunctionCallInfo fcinfo, int n);

// { "data": [rows], "pageInfo": { "total", "hasNextPage", "hasPreviousPage", "startCursor",
// "endCursor" } }, built in the current memory context. Cursors are null on an empty page; total
// is null when the query did not ask for it.
Datum page_json(const Page &page);

}  // namespace pgi::spi
