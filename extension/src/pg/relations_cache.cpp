#include "pg/relations_cache.hpp"

#include "pg/spi_run.hpp"

#include <algorithm>
#include <map>

extern "C" {
#include "access/xact.h"
#include "utils/inval.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

namespace pgi::spi::relations_cache {
namespace {

// Owned by a static object; the invalidation callbacks only clear it (nothing there throws or
// raises: clearing std containers and resetting a memory context).
struct State {
  bool callbacks = false;
  uint64_t generation = 1;  // one more at every clear: a load publishes only in its own
  Oid relations = InvalidOid;
  std::map<std::string, std::shared_ptr<const query::Relation>, std::less<>> found;
  std::map<std::string, std::vector<std::string>, std::less<>> columns;
  std::optional<std::vector<std::string>> names;
  std::vector<Oid> targets;  // the cached relations' tables
  // What the cached names and types were formatted under (format_type qualifies a type not on
  // the search_path; quote_identifier quotes every name under quote_all_identifiers).
  MemoryContext context = nullptr;
  OverrideSearchPath *path = nullptr;
  bool quote_all = false;

  bool empty() const { return found.empty() && columns.empty() && !names; }

  void clear() noexcept {
    ++generation;
    relations = InvalidOid;
    found.clear();
    columns.clear();
    names.reset();
    targets.clear();
    path = nullptr;
    if (context != nullptr)
      MemoryContextReset(context);
  }
};

State &state() {
  static State s;
  return s;
}

void relcache_changed(Datum, Oid relid) {
  State &s = state();
  if (!OidIsValid(relid) || relid == s.relations ||
      std::find(s.targets.begin(), s.targets.end(), relid) != s.targets.end())
    s.clear();
}

void syscache_changed(Datum, int, uint32) {
  state().clear();
}

// The first time: the callbacks (registered for the backend's life, as PostgreSQL allows) and
// the memory context of the search path.
void prepare(State &s) {
  if (s.callbacks)
    return;
  pg_call([&] {
    s.context =
        AllocSetContextCreate(CacheMemoryContext, "pg_inbox relations cache", ALLOCSET_SMALL_SIZES);
    CacheRegisterRelcacheCallback(relcache_changed, Datum(0));
    CacheRegisterSyscacheCallback(NAMESPACEOID, syscache_changed, Datum(0));
    CacheRegisterSyscacheCallback(TYPEOID, syscache_changed, Datum(0));
  });
  s.callbacks = true;
}

// Before the first entry: the oid of inbox.relations and what names were formatted under.
void note_filled(State &s) {
  if (!s.empty())
    return;
  Oid relations = InvalidOid;
  OverrideSearchPath *path = nullptr;
  MemoryContext context = s.context;
  pg_call([&] {
    Oid inbox = LookupExplicitNamespace("inbox", true);
    if (OidIsValid(inbox))
      relations = get_relname_relid("relations", inbox);
    path = GetOverrideSearchPath(context);
  });
  s.relations = relations;
  s.path = path;
  s.quote_all = quote_all_identifiers;
}

}  // namespace

bool usable() {
  static const bool enabled = !citus_preloaded();  // pg/spi_run.hpp
  // A transaction with one snapshot for all its statements reads the relations with it, as
  // before: a load reads the latest committed state, which that transaction must not see.
  if (!enabled || IsolationUsesXactSnapshot())
    return false;
  State &s = state();
  prepare(s);
  pg_call([] { AcceptInvalidationMessages(); });
  if (s.empty())
    return true;
  bool same_path = false;
  OverrideSearchPath *path = s.path;
  pg_call([&] { same_path = path != nullptr && OverrideSearchPathMatchesCurrent(path); });
  if (!same_path || s.quote_all != quote_all_identifiers)
    s.clear();
  return true;
}

std::optional<std::shared_ptr<const query::Relation>> find(std::string_view name) {
  const State &s = state();
  if (auto it = s.found.find(name); it != s.found.end())
    return it->second;
  return std::nullopt;
}

std::optional<std::vector<std::string>> for_column(std::string_view column) {
  const State &s = state();
  if (auto it = s.columns.find(column); it != s.columns.end())
    return it->second;
  return std::nullopt;
}

std::optional<std::vector<std::string>> names() {
  return state().names;
}

Load::Load() {
  // The invalidations sent before this point are taken, and the snapshot sees every change
  // they report; one sent later either comes during the load (the generation moves on: not
  // published) or after it, and clears what was published.
  pg_call([&] {
    AcceptInvalidationMessages();
    PushActiveSnapshot(GetLatestSnapshot());
    pushed_ = GetActiveSnapshot();
  });
  generation_ = state().generation;
}

Load::~Load() {
  // When an error unwinds through here, (sub)transaction abort pops it instead.
  if (pushed_ != nullptr && ActiveSnapshotSet() && GetActiveSnapshot() == pushed_)
    PopActiveSnapshot();
}

bool Load::current() const {
  return state().generation == generation_;
}

void Load::store_relation(std::string_view name, std::shared_ptr<const query::Relation> relation,
                          Oid target) const {
  State &s = state();
  note_filled(s);  // first: its catalog look-ups may take invalidations
  if (!current())
    return;
  if (OidIsValid(target) &&
      std::find(s.targets.begin(), s.targets.end(), target) == s.targets.end())
    s.targets.push_back(target);
  s.found.insert_or_assign(std::string(name), std::move(relation));
}

void Load::store_column(std::string_view column, const std::vector<std::string> &names) const {
  State &s = state();
  note_filled(s);  // first: its catalog look-ups may take invalidations
  if (!current())
    return;
  s.columns.insert_or_assign(std::string(column), names);
}

void Load::store_names(const std::vector<std::string> &names) const {
  State &s = state();
  note_filled(s);  // first: its catalog look-ups may take invalidations
  if (!current())
    return;
  s.names = names;
}

}  // namespace pgi::spi::relations_cache
