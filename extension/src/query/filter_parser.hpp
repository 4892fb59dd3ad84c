// pg_inbox's native filter language -> the engine's filter tree (query/model.hpp). Pure C++.
//
//   filter     := { key: ..., ... }                  several keys: all must hold
//   key        := "AND": [filter, ...] | "OR": [filter, ...] | "NOT": filter | [filter, ...]
//               | field: operators | field: value     (a bare value means eq; null means isNull)
//               | relation: filter                    (over the relation's target columns)
//   operators  := { op: value, ..., "mode": "insensitive", "path": [...] }
//
// Operators: eq, neq, in, notIn, lt, lte, gt, gte, contains, startsWith, endsWith, isNull;
// on `data` also hasKey, hasAnyKey, hasAllKeys and `path` (compare the member at that path).
// Bounds: kMaxFilterDepth nesting, kMaxFilterClauses comparisons, non-empty in-lists of at most
// kMaxListValues. Every error is a pgi::Error naming the path (22023; 54001 for the bounds).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "query/model.hpp"

namespace pgi::query {

// `relations` may be null (no relation traversal). It is consulted only for keys that are not
// fields, so a filter without relations never touches the catalog.
Node parse_native_filter(const nlohmann::json &filter, const std::string &path,
                         const FieldRegistry &fields, const RelationCatalog *relations);

}  // namespace pgi::query
