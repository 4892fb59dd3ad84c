// Prepared plans for repeated query shapes.
//
// The compiler emits the same SQL text for the same request shape, so a plan is prepared once
// per backend (SPI_prepare + SPI_keepplan) and reused by text and argument types. The cache is
// bounded (least recently used plans are freed with SPI_freeplan) and lives in a child of
// TopMemoryContext. PostgreSQL's plan cache revalidates kept plans when the objects they use
// change, so a dropped and recreated extension or relation target is picked up.
#pragma once

#include "pg/pg.hpp"

#include <string>

namespace pgi::spi {

inline constexpr long kPlanCacheSize = 256;

// A kept plan for `sql` with these argument types. SPI must be connected. cursor_options
// (SPI_prepare_cursor's, part of the key): CURSOR_OPT_GENERIC_PLAN for a statement run with
// different values many times a second, whose custom plans (the default's first five, and
// every one after when an array parameter makes the generic plan look dearer) would each be
// planned anew.
SPIPlanPtr cached_plan(const std::string &sql, int nargs, const Oid *types, int cursor_options = 0);

}  // namespace pgi::spi
