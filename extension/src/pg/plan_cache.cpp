#include "pg/plan_cache.hpp"

extern "C" {
#include "common/hashfn.h"
#include "lib/ilist.h"
#include "utils/hsearch.h"
}

namespace pgi::spi {
namespace {

// Entries are found by a 64-bit hash of text, types and cursor options; the full key is kept to
// tell a collision from a hit (a collision replaces the entry).
struct Entry {
  uint64 hash;  // the dynahash key: first member
  char *key;    // sql text, NUL, the argument types, then the cursor options
  Size key_len;
  SPIPlanPtr plan;
  dlist_node lru;  // most recently used at the head
};

struct Cache {
  MemoryContext context;
  HTAB *entries;
  dlist_head lru;
  long count;
};

// Plain data in TopMemoryContext, created on first use.
Cache *cache = nullptr;

void init_cache() {
  MemoryContext context =
      AllocSetContextCreate(TopMemoryContext, "pg_inbox plan cache", ALLOCSET_SMALL_SIZES);
  HASHCTL ctl;
  memset(&ctl, 0, sizeof ctl);
  ctl.keysize = sizeof(uint64);
  ctl.entrysize = sizeof(Entry);
  ctl.hcxt = context;
  Cache *c = static_cast<Cache *>(MemoryContextAllocZero(context, sizeof(Cache)));
  c->context = context;
  c->entries = hash_create("pg_inbox plans", kPlanCacheSize * 2, &ctl,
                           HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
  dlist_init(&c->lru);
  cache = c;
}

// dlist_container's type check is C-only.
Entry *entry_of(dlist_node *node) {
  return reinterpret_cast<Entry *>(reinterpret_cast<char *>(node) - offsetof(Entry, lru));
}

void forget(Entry *e) {
  SPIPlanPtr plan = e->plan;
  dlist_delete(&e->lru);
  pfree(e->key);
  hash_search(cache->entries, &e->hash, HASH_REMOVE, nullptr);
  cache->count--;
  if (plan != nullptr)
    SPI_freeplan(plan);
}

}  // namespace

SPIPlanPtr cached_plan(const std::string &sql, int nargs, const Oid *types, int cursor_options) {
  std::string key = sql;
  key.push_back('\0');
  key.append(reinterpret_cast<const char *>(types), sizeof(Oid) * nargs);
  key.append(reinterpret_cast<const char *>(&cursor_options), sizeof cursor_options);
  SPIPlanPtr plan = nullptr;
  const char *key_data = key.data();
  Size key_len = key.size();
  const char *sql_text = sql.c_str();
  pg_call([&] {
    if (cache == nullptr)
      init_cache();
    uint64 hash = hash_bytes_extended(reinterpret_cast<const unsigned char *>(key_data),
                                      static_cast<int>(key_len), 0);
    Entry *e = static_cast<Entry *>(hash_search(cache->entries, &hash, HASH_FIND, nullptr));
    if (e != nullptr && e->key_len == key_len && memcmp(e->key, key_data, key_len) == 0) {
      dlist_move_head(&cache->lru, &e->lru);
      plan = e->plan;
      return;
    }
    if (e != nullptr)
      forget(e);

    // Prepare before touching the cache: a failure leaves it as it was.
    SPIPlanPtr fresh =
        SPI_prepare_cursor(sql_text, nargs, const_cast<Oid *>(types), cursor_options);
    if (fresh == nullptr)
      elog(ERROR, "pg_inbox: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    if (SPI_keepplan(fresh) != 0)
      elog(ERROR, "pg_inbox: SPI_keepplan failed");

    while (cache->count >= kPlanCacheSize)
      forget(entry_of(dlist_tail_node(&cache->lru)));
    char *copy = static_cast<char *>(MemoryContextAlloc(cache->context, key_len));
    memcpy(copy, key_data, key_len);
    bool found;
    e = static_cast<Entry *>(hash_search(cache->entries, &hash, HASH_ENTER, &found));
    e->key = copy;
    e->key_len = key_len;
    e->plan = fresh;
    dlist_push_head(&cache->lru, &e->lru);
    cache->count++;
    plan = fresh;
  });
  return plan;
}

}  // namespace pgi::spi
