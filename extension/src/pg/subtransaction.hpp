// C++ work in an internal subtransaction.
//
// in_subtransaction(body) runs body() inside BeginInternalSubTransaction: the subtransaction is
// released when body returns and rolled back when it throws, after which the exception goes on
// unchanged. A PgError thrown inside keeps its data: pg_call copies it into the memory context
// that was current before the subtransaction began (the SPI connection's, which must be open
// before), and the rollback leaves that context alone. So a caller can catch the failure of one
// part of its work (a GraphQL root field), with everything that part did undone, and go on.
#pragma once

#include "pg/pg.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/resowner.h"
}

namespace pgi {

template <typename Body>
auto in_subtransaction(Body &&body) -> decltype(body()) {
  MemoryContext outer = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  pg_call([&] { BeginInternalSubTransaction(nullptr); });
  MemoryContextSwitchTo(outer);
  try {
    auto result = body();
    pg_call([&] { ReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(outer);
    CurrentResourceOwner = owner;
    return result;
  } catch (...) {
    pg_call([&] { RollbackAndReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(outer);
    CurrentResourceOwner = owner;
    throw;
  }
}

}  // namespace pgi
