// The entry-point guard: catch in C++, report in PostgreSQL, never both at once.

#include "pg/pg.hpp"

#include <cstring>
#include <new>

extern "C" {
PG_MODULE_MAGIC;
}

namespace pgi {
namespace {

// What the guard knows after the catch block has ended. Plain data only: it outlives the
// exception object, and reporting it creates no C++ object that a longjmp could skip.
struct Failure {
  enum Kind { kNone, kPostgres, kExtension, kOutOfMemory, kUnknown } kind = kNone;
  ErrorData *pg = nullptr;
  char sqlstate[6] = {};
  char message[1024] = {};
  char detail[1024] = {};
  char hint[512] = {};
};

void copy_text(char *to, size_t size, const char *from) {
  std::strncpy(to, from, size - 1);
  to[size - 1] = '\0';
}

[[noreturn]] void report(const Failure &f) {
  switch (f.kind) {
    case Failure::kPostgres:
      ReThrowError(f.pg);
    case Failure::kExtension: {
      const char *s = f.sqlstate;
      ereport(ERROR, (errcode(MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4])),
                      errmsg_internal("%s", f.message),
                      f.detail[0] ? errdetail_internal("%s", f.detail) : 0,
                      f.hint[0] ? errhint("%s", f.hint) : 0));
      break;
    }
    case Failure::kOutOfMemory:
      ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory in pg_inbox")));
      break;
    default:
      ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                      errmsg("unexpected C++ exception in pg_inbox: %s", f.message)));
  }
  pg_unreachable();
}

}  // namespace

Datum guarded_call(FunctionCallInfo fcinfo, Datum (*body)(FunctionCallInfo)) {
  Failure failure;
  try {
    return body(fcinfo);
  } catch (const PgError &e) {
    failure.kind = Failure::kPostgres;
    failure.pg = e.data();
  } catch (const Error &e) {
    failure.kind = Failure::kExtension;
    copy_text(failure.sqlstate, sizeof failure.sqlstate, e.sqlstate());
    copy_text(failure.message, sizeof failure.message, e.what());
    copy_text(failure.detail, sizeof failure.detail, e.detail().c_str());
    copy_text(failure.hint, sizeof failure.hint, e.hint().c_str());
  } catch (const std::bad_alloc &) {
    failure.kind = Failure::kOutOfMemory;
  } catch (const std::exception &e) {
    failure.kind = Failure::kUnknown;
    copy_text(failure.message, sizeof failure.message, e.what());
  } catch (...) {
    failure.kind = Failure::kUnknown;
    copy_text(failure.message, sizeof failure.message, "(not a std::exception)");
  }
  // The exception and every C++ object of the body are destroyed here.
  report(failure);
}

std::string_view text_arg(FunctionCallInfo fcinfo, int n) {
  text *t = nullptr;
  pg_call([&] { t = PG_GETARG_TEXT_PP(n); });
  return std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

Datum text_datum(std::string_view s) {
  text *t = nullptr;
  pg_call([&] { t = cstring_to_text_with_len(s.data(), static_cast<int>(s.size())); });
  return PointerGetDatum(t);
}

}  // namespace pgi
