// The Directus reads, in-process: a Directus query (directus/query.hpp) translated into the
// query engine for one caller and run through SPI, answered with the body Directus writes.
//
// Both Directus front ends read here: the REST routes through inbox._directus_read and
// inbox._directus_keys (fn/directus.cpp, called by 60_directus.sql once it has checked the
// caller), and GraphQL's queries directly, for the caller it authenticated once
// (pg/graphql_directus.hpp). SPI must be connected.
#pragma once

#include "pg/pg.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pg/relations.hpp"
#include "query/model.hpp"

namespace pgi::spi {

// Whose rows, and for whom.
struct DirectusCaller {
  std::optional<std::string> scope_user;    // nullopt: every user's rows (an admin)
  std::optional<std::string> workspace;     // a workspace-bound token's workspace
  std::optional<std::string> current_user;  // $CURRENT_USER
};

// Directus names a relation by its field (recipient); pg_inbox registers relations by name over
// a notification column. The relation of a Directus field is the one over its column named as
// the field, or else the only one over that column (22023 when there are several).
class DirectusRelations : public query::RelationCatalog {
 public:
  std::shared_ptr<const query::Relation> find(std::string_view name) const override;

 private:
  CatalogRelations catalog_;
};

// The body of a Directus read for the query parameters `params`: {"data": [...]} (and "meta"
// when asked). With `keys`, only those rows (in the keys' order unless `sort` is given, all of
// them unless `limit` is); `single`: {"data": {...}} for the one key, P0002 when the caller may
// not see it. Errors of the query are pgi::Error (22023, 42501 for an unknown field).
std::string directus_read(const DirectusCaller &caller, const nlohmann::json &params,
                          const std::optional<std::vector<int64_t>> &keys, bool single);

// The keys of the rows a query selects (a PATCH or DELETE by query), in its order.
std::vector<int64_t> directus_keys(const DirectusCaller &caller, const nlohmann::json &params);

// Column `column` (1-based) of row `row` of SPI_tuptable as text; nullopt for NULL.
std::optional<std::string> column_text(uint64 row, int column);

}  // namespace pgi::spi
