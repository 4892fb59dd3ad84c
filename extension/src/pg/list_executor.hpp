// Runs a Query: the page, the probe for the other direction and the total, and the cursors.
//
// This is the executor every front end shares. It decodes and checks the query's cursors
// (22023 for a malformed, tampered or other-order cursor), compiles (query/compiler.hpp), runs
// the statements through the plan cache, and returns the rows in display order.
#pragma once

#include "pg/pg.hpp"

#include <optional>
#include <string>
#include <vector>

#include "query/cursor.hpp"
#include "query/compiler.hpp"
#include "query/model.hpp"

namespace pgi::spi {

struct Page {
  // The row objects (jsonb, from query.shape) in display order, copied to the memory context
  // that was current before SPI_connect, so they outlive the SPI connection.
  std::vector<Datum> rows;
  bool has_next = false;
  bool has_previous = false;
  std::optional<int64_t> total;
  // Cursors of the first and last rows; empty on an empty page.
  std::string start_cursor, end_cursor;
};

// SPI must be connected (pg/spi_run.hpp: Connection).
Page run_page(const query::Query &query);

// Issue 19: reads the marks and expired counts of the query's user into query.marks (one
// statement), for the compiler to bind (query/marks.hpp). Nothing without a user, when read
// already, or on a schema without the lifecycle. plan_page calls it; a front end that compiles
// its own statements (groups, Directus) calls it before compiling.
void read_marks(query::Query &query);

// The statements run_page would run: the query's cursor decoded and checked, then compiled.
query::PageStatements plan_page(const query::Query &query, const query::CursorSigner &signer);

// The part of run_page after compiling, for front ends that compile their own statements over
// other rows (grouped notifications): runs them, and signs the cursors of the first and last
// rows from page columns 2.. (st.keys). `offset` is the query's offset (offset paging).
Page run_statements(const query::PageStatements &st, query::CursorSide side, int64_t offset,
                    const query::CursorSigner &signer);

}  // namespace pgi::spi
