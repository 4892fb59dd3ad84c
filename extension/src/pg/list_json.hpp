// The page of the list functions as jsonb (built through pg/jsonb.hpp).
#pragma once

#include "pg/pg.hpp"

#include "pg/list_executor.hpp"

namespace pgi::spi {

// { "data": [rows], "pageInfo": { "total", "hasNextPage", "hasPreviousPage", "startCursor",
// "endCursor" } }, built in the current memory context. Cursors are null on an empty page; total
// is null when the query did not ask for it.
Datum page_json(const Page &page);

}  // namespace pgi::spi
