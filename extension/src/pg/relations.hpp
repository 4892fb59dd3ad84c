// Relations from notification fields to the application's tables (inbox.define_relation),
// read from inbox.relations and checked against the catalog when a session first uses one, then
// kept for the session until PostgreSQL reports a change they depend on (pg/relations_cache.hpp).
//
// Embedding related rows (native expand=actor, Directus `fields=recipient.email`) loads
// relations through the same catalog: by name with find(), or every relation of a source column
// with for_column().
#pragma once

#include "pg/pg.hpp"

#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "query/model.hpp"

namespace pgi::spi {

// Valid for one SQL function call, with SPI connected. Loads each relation at most once (and
// not at all when the session's cache holds it).
class CatalogRelations : public query::RelationCatalog {
 public:
  // nullptr when no relation has this name. A relation whose table or column is gone raises
  // 42P01 / 42703 naming it.
  std::shared_ptr<const query::Relation> find(std::string_view name) const override;
  // The relations whose source is this notification column ("actor_id").
  std::vector<std::shared_ptr<const query::Relation>> for_column(
      std::string_view column) const override;
  // Every relation's name, sorted; none is loaded or checked.
  std::vector<std::string> names() const override;

 private:
  mutable std::map<std::string, std::shared_ptr<const query::Relation>, std::less<>> loaded_;
};

}  // namespace pgi::spi
