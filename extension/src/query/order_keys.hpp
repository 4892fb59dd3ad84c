// Orders: parsing pg_inbox's orderBy, completing an order with the id tiebreaker, and the
// canonical form a keyset cursor is bound to. Pure C++.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "query/marks.hpp"
#include "query/model.hpp"

namespace pgi::query {

// `[{"createdAt": "desc"}, {"title": "asc_nulls_last"}]` (a single object for one key is
// accepted too). Directions: asc, desc, asc_nulls_first, asc_nulls_last, desc_nulls_first,
// desc_nulls_last; plain asc puts NULLs last and plain desc first, as PostgreSQL does.
// Errors name the path (orderBy[1].title) with 22023.
std::vector<OrderKey> parse_native_order(const nlohmann::json &order, const std::string &path,
                                         const FieldRegistry &fields);

// The order actually applied: the requested keys (newest first when none) followed by the id,
// whose direction follows the last key. Keys after an id key are dropped (the id is unique),
// and the NULLs placement of a NOT NULL key is normalised to its direction's default so the
// indexes serve it and equal orders have equal fingerprints.
std::vector<OrderKey> complete_order(const std::vector<OrderKey> &requested);

// The same keys scanned the other way (for `before` pages and probes).
std::vector<OrderKey> reversed(std::vector<OrderKey> keys);

// A canonical text of a completed order ("created_at:desc:nulls_first,id:desc:nulls_first"),
// independent of the dialect's field names: a cursor made under one order is refused under any
// other.
std::string order_signature(const std::vector<OrderKey> &complete);

// The SQL expression of a key's value over the notification alias (`n.created_at`,
// `(n.read_at IS NOT NULL)` for a flag), read and seen state through the statement's marks.
std::string key_expression(const OrderKey &key, MarkRefs &marks);

// " DESC", " ASC NULLS FIRST"...: the ORDER BY suffix for a key.
std::string order_suffix(const OrderKey &key);

}  // namespace pgi::query
