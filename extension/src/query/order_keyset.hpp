// Keyset predicates: "the rows after this position" in SQL an index can seek on. Pure C++.
#pragma once

#include <string>
#include <vector>

#include "query/marks.hpp"
#include "query/model.hpp"
#include "query/sql.hpp"

namespace pgi::query {

// The rows strictly after `position` in the order `keys` (completed, in the scan's direction;
// pass reversed() keys for "before"), or at-or-after when `inclusive`. `position` holds one
// value per key; only the last key (the id) is unique.
//
// All keys NOT NULL and in one direction: a row comparison, `(n.created_at, n.id) < ($1, $2)`,
// which a btree index seeks on directly. Otherwise the expanded lexicographic form, whose shape
// depends on which position values are NULL (values themselves are always bound), preceded by
// a bound on the leading key so the index still narrows the scan.
std::string keyset_predicate(const std::vector<OrderKey> &keys, const std::vector<Scalar> &position,
                             bool inclusive, SqlBuilder &builder, MarkRefs &marks);

}  // namespace pgi::query
