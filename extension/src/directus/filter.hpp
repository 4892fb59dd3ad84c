// Directus filter rules -> the engine's filter tree (query/model.hpp). Pure C++.
//
//   filter   := { "_and": [filter, ...] } | { "_or": [filter, ...] } | { field: rule, ... }
//   rule     := { operator: value, ... }                 several operators: all must hold
//             | { column: rule, ... }                    on recipient/sender: the related row
//
// Operators (as Directus 11 names them): _eq _neq _lt _lte _gt _gte _in _nin _null _nnull
// _contains _ncontains _icontains _nicontains _starts_with _nstarts_with _istarts_with
// _nistarts_with _ends_with _nends_with _iends_with _niends_with _between _nbetween _empty
// _nempty. Values may be JSON or the strings of a query string ("9000", "true", "a,b" for
// _in and _between). "$CURRENT_USER" stands for the caller, "$NOW" for the current time.
//
// Semantics follow Directus (SQL's): the negative operators (_neq, _nin, _ncontains, ...,
// _nbetween) never match a row whose value is null; _empty matches null or "".
//
// Relational filters: recipient and sender lead to the table registered for their column with
// inbox.define_relation (`{"recipient": {"email": {"_eq": "a@b.c"}}}`, an EXISTS subquery).
// Without a registered relation, the related row's only column is `id`, which is the field's
// own value (`{"recipient": {"id": {"_eq": "$CURRENT_USER"}}}`).
//
// Errors name the path (filter.status._bogus): 22023 for a bad operator or value, 42501 for a
// field that is not there (Directus cannot tell a missing field from a forbidden one and
// answers 403 for both), 54001 past the engine's depth and clause bounds.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "query/model.hpp"

namespace pgi::directus {

struct FilterScope {
  // The relation behind a relational field, found by the Directus field name ("recipient"),
  // or nullptr when none is registered. May itself be nullptr (no relations at all).
  const query::RelationCatalog *relations = nullptr;
  // The caller's user id, for $CURRENT_USER.
  std::optional<std::string> current_user;
};

query::Node parse_directus_filter(const nlohmann::json &filter, const std::string &path,
                                  const FilterScope &scope);

// The error of a field that is not there or not readable (42501, Directus's 403); the hint
// lists the fields of `known`.
[[noreturn]] void unknown_field(const std::string &path, const std::string &name,
                                const query::FieldRegistry &known);

}  // namespace pgi::directus
