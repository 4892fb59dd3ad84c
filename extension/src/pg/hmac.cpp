#include "pg/hmac.hpp"

#include "pg/pg.hpp"

extern "C" {
#include "common/hmac.h"
}

namespace pgi::spi {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  uint8 out[32];
  const uint8 *key_bytes = reinterpret_cast<const uint8 *>(key.data());
  const uint8 *bytes = reinterpret_cast<const uint8 *>(data.data());
  pg_call([&] {
    pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
    if (ctx == nullptr)
      ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
    if (pg_hmac_init(ctx, key_bytes, key.size()) < 0 ||
        pg_hmac_update(ctx, bytes, data.size()) < 0 || pg_hmac_final(ctx, out, sizeof out) < 0) {
      const char *reason = pg_hmac_error(ctx);
      pg_hmac_free(ctx);
      elog(ERROR, "pg_inbox: could not compute an HMAC-SHA256: %s", reason);
    }
    pg_hmac_free(ctx);
  });
  return std::string(reinterpret_cast<const char *>(out), sizeof out);
}

}  // namespace pgi::spi
