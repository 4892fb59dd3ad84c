// The one door between pg_inbox's C++ and PostgreSQL.
//
// Only files that talk to PostgreSQL include this header; the PostgreSQL headers are
// included here, once, inside extern "C".
//
// Two rules hold the boundary:
//  - Every SQL-callable function is declared with PGI_FUNCTION. Its body may throw; the
//    guard catches everything and reports it with ereport only after the body's C++
//    objects are gone, so no exception reaches PostgreSQL and no longjmp skips a destructor.
//  - A call into PostgreSQL that can ereport, made while C++ objects are alive, goes through
//    pg_call(). It runs the call under PG_TRY and turns a PostgreSQL error into PgError,
//    which the guard re-raises unchanged (same SQLSTATE, message, detail and hint).
#pragma once

extern "C" {
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

#include <string>
#include <string_view>

#include "core/errors.hpp"

namespace pgi {

// A PostgreSQL error caught by pg_call, carried through C++ frames to the guard.
class PgError : public std::exception {
 public:
  explicit PgError(ErrorData *data) : data_(data) {}
  ErrorData *data() const { return data_; }
  const char *what() const noexcept override { return data_->message; }

 private:
  ErrorData *data_;  // palloc'd in the memory context that was current at pg_call
};

// Runs `call` (which must not create C++ objects with destructors) under PG_TRY.
template <typename Call>
void pg_call(Call &&call) {
  MemoryContext context = CurrentMemoryContext;
  ErrorData *volatile error = nullptr;
  PG_TRY();
  { call(); }
  PG_CATCH();
  {
    MemoryContextSwitchTo(context);
    error = CopyErrorData();
    FlushErrorState();
  }
  PG_END_TRY();
  if (error != nullptr)
    throw PgError(error);
}

// Implementation of PGI_FUNCTION: runs `body` and reports whatever it throws.
Datum guarded_call(FunctionCallInfo fcinfo, Datum (*body)(FunctionCallInfo));

// Text argument helpers. The returned views point into palloc'd memory that lives as long
// as the function call.
std::string_view text_arg(FunctionCallInfo fcinfo, int n);
Datum text_datum(std::string_view s);

}  // namespace pgi

#define PGI_FUNCTION(name)                           \
  static Datum name##_body(FunctionCallInfo fcinfo); \
  extern "C" {                                       \
  PG_FUNCTION_INFO_V1(name);                         \
  Datum name(PG_FUNCTION_ARGS) {                     \
    return pgi::guarded_call(fcinfo, name##_body);   \
  }                                                  \
  }                                                  \
  static Datum name##_body(FunctionCallInfo fcinfo)
