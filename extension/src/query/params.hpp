// pg_inbox's native list params (inbox.list, GET /api/notifications) -> a Query. Pure C++.
//
// Params may come typed from SQL or as the string map of a URL query string, so each accepts
// both forms:
//   limit            1-100 (default 100), a number or a numeric string
//   after, before    cursors (strings); at most one of them
//   ids              public ids: an array, or one comma-separated string
//   filter, orderBy  JSON, or a string holding JSON
//   workspace_id, user_id, type   strings
//   read             true/false or "true"/"false"
//   include_deleted  false (default) | true | "only", or their strings
//   total            true (default) | false: pageInfo.total is null and not computed (a filtered
//                    count over a large inbox costs far more than its page)
//   expand           related rows to embed under "expanded": relation names and `actors`, an
//                    array of strings or one comma-separated string (query/row_expand.hpp)
// and the shorthands of the social APIs (seeds 003 Diaspora, 004 Mastodon), each the filter
// clause it stands for, ANDed with `filter`:
//   types, exclude_types   type names (an array, or one comma-separated string): type in /
//                          not in the list (Mastodon's types[] and exclude_types[])
//   only_unread      true: read=false (Diaspora); false: no narrowing
//   only_after       ISO-8601 timestamp: updatedAt > it (Diaspora: changed since)
// A JSON null means "not given". Any other key is an error naming it, so a typo never silently
// widens a result.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "query/model.hpp"

namespace pgi::query {

struct ParamsScope {
  // The caller's user (inbox.list), or nullopt for the admin listing across users, where
  // user_id selects one user.
  std::optional<std::string> user_id;
  const RelationCatalog *relations = nullptr;
};

Query parse_native_params(const nlohmann::json &params, const ParamsScope &scope);

}  // namespace pgi::query
