// The filter tree -> an SQL boolean expression with bound parameters. Pure C++.
//
// The expression is TRUE exactly for the rows the filter matches (never NULL-as-unknown: NOT
// compiles to IS NOT TRUE), uses only pg_catalog-qualified operators and functions, and keeps
// the shapes the partial indexes need (`n.read_at IS NULL` for read=false).
#pragma once

#include <string>
#include <string_view>

#include "query/marks.hpp"
#include "query/model.hpp"
#include "query/sql.hpp"

namespace pgi::query {

// Over the notification row of `marks` ("n"), whose read and seen state it applies
// (query/marks.hpp).
std::string compile_filter(const Node &node, SqlBuilder &builder, MarkRefs &marks);

// A LIKE pattern matching `value` literally, anchored as the operator asks (contains: %v%,
// startsWith: v%, endsWith: %v, anything else: v).
std::string like_pattern(std::string_view value, Op op);

}  // namespace pgi::query
