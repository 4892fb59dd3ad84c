// inbox._relations_changed(): the statement trigger on inbox.relations (30_engine.sql) that tells
// every backend's relations cache (pg/relations_cache.hpp) to drop what it holds, through a
// relcache invalidation of the table: PostgreSQL's own transactional delivery (other backends
// at commit, this one at its next command, none of it when the change rolls back).

#include "pg/pg.hpp"

extern "C" {
#include "commands/trigger.h"
#include "utils/inval.h"
#include "utils/rel.h"
}

PGI_FUNCTION(pgi_relations_changed) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    throw pgi::Error("39P01", "inbox._relations_changed: must be called as trigger");
  Oid relid = RelationGetRelid(reinterpret_cast<TriggerData *>(fcinfo->context)->tg_relation);
  pgi::pg_call([&] { CacheInvalidateRelcacheByRelid(relid); });
  return PointerGetDatum(nullptr);
}
