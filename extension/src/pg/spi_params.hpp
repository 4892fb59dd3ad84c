// Compiled parameters -> Datums for SPI, each converted by its type's input function.
//
// A value PostgreSQL rejects (a timestamp out of range, a malformed uuid for a relation column)
// becomes a 22023 error naming the parameter's path with its expectation
// ("filter.createdAt.gte: expected an ISO-8601 timestamp"), not a raw cast error.
#pragma once

#include "pg/pg.hpp"

#include <vector>

#include "query/sql.hpp"

namespace pgi::spi {

// palloc'd in the current memory context, parallel arrays of `count`.
struct BoundParams {
  int count = 0;
  Oid *types = nullptr;
  Datum *values = nullptr;
  char *nulls = nullptr;  // ' ' or 'n', as SPI wants
};

Oid type_oid(const query::TypeRef &type);

BoundParams bind_params(const std::vector<query::Param> &params);

}  // namespace pgi::spi
