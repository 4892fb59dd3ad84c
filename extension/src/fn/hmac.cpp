// SQL function inbox._hmac_sha256(key bytea, data bytea) -> bytea: unsubscribe links and
// webhook signatures (55_delivery.sql).

#include "pg/hmac.hpp"
#include "pg/pg.hpp"

namespace {

std::string_view bytea_arg(FunctionCallInfo fcinfo, int n) {
  bytea *b = nullptr;
  pgi::pg_call([&] { b = PG_GETARG_BYTEA_PP(n); });
  return std::string_view(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
}

}  // namespace

PGI_FUNCTION(pgi_hmac_sha256) {
  std::string mac = pgi::spi::hmac_sha256(bytea_arg(fcinfo, 0), bytea_arg(fcinfo, 1));
  bytea *out = nullptr;
  pgi::pg_call([&] {
    out = static_cast<bytea *>(palloc(VARHDRSZ + mac.size()));
    SET_VARSIZE(out, VARHDRSZ + mac.size());
    memcpy(VARDATA(out), mac.data(), mac.size());
  });
  PG_RETURN_BYTEA_P(out);
}
