// The relations catalog as this backend last loaded it (pg/relations.hpp: inbox.relations and,
// per relation, its target's columns), kept across calls and transactions, so that a request
// that uses a relation (a Directus create's recipient check, expand, Mastodon accounts) runs
// its own statement only.
//
// Cleared, never trusted, whenever it may be stale, through PostgreSQL's invalidation machinery
// (as Citus keeps its metadata cache):
//  - inbox.relations changed: its statement trigger (inbox._relations_changed, fn/) sends a
//    relcache invalidation of the table, seen by other backends at commit, by this one at its
//    next command, and replayed here when the change rolls back;
//  - a cached target table altered, renamed or dropped (a relcache invalidation of its oid), any
//    schema or type changed (NAMESPACEOID, TYPEOID: the quoted names and format_type it holds),
//    or a cache reset (InvalidOid);
//  - a search_path or quote_all_identifiers other than the one it was filled under.
// A load reads with the latest snapshot after taking the pending invalidations, and publishes
// only when none arrived meanwhile; one that raised publishes nothing.
//
// Off (every call loads, as before) in a REPEATABLE READ or SERIALIZABLE transaction, whose
// snapshot may predate what a load reads, and on a server that preloads Citus: a reference
// table's rows change on a worker through its shard, whose statements send no invalidation of
// inbox.relations there.
#pragma once

#include "pg/pg.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "query/model.hpp"

namespace pgi::spi::relations_cache {

// Whether this backend caches now. With it, takes the invalidations pending for this backend and
// clears what the current search_path or quote_all_identifiers makes stale; call it before the
// look-ups below (CatalogRelations does, before each of its look-ups: a cheap check when nothing
// is pending).
bool usable();

// What is cached: nullopt when nothing is. find's value may be nullptr (no relation of that
// name).
std::optional<std::shared_ptr<const query::Relation>> find(std::string_view name);
std::optional<std::vector<std::string>> for_column(std::string_view column);
std::optional<std::vector<std::string>> names();

// A load from the catalog: from construction to destruction, its statements read with the
// latest snapshot, taken after the pending invalidations. What it read is published by the
// store_* calls unless an invalidation arrived since it began.
class Load {
 public:
  Load();
  ~Load();
  Load(const Load &) = delete;
  Load &operator=(const Load &) = delete;

  // `target` is the oid of the relation's table (InvalidOid when `relation` is nullptr).
  void store_relation(std::string_view name, std::shared_ptr<const query::Relation> relation,
                      Oid target) const;
  void store_column(std::string_view column, const std::vector<std::string> &names) const;
  void store_names(const std::vector<std::string> &names) const;

 private:
  bool current() const;

  uint64_t generation_ = 0;
  Snapshot pushed_ = nullptr;
};

}  // namespace pgi::spi::relations_cache
