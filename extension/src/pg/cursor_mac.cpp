#include "pg/cursor_mac.hpp"

extern "C" {
#include "common/hmac.h"
}

#include "pg/spi_run.hpp"

namespace pgi::spi {

std::string InstallationSigner::mac(std::string_view data) const {
  if (key_.empty()) {
    query::Statement read{
        "SELECT s.secret FROM inbox.cursor_secrets s ORDER BY s.created_at, s.secret LIMIT 1", {}};
    if (run(read) != 1)
      throw Error(sqlstate::kObjectNotInPrerequisiteState, "pg_inbox has no cursor secret",
                  "inbox.cursor_secrets is empty.",
                  "INSERT INTO inbox.cursor_secrets DEFAULT VALUES;");
    bool is_null;
    Datum secret = value(0, 1, is_null);
    bytea *b = nullptr;
    pg_call([&] { b = DatumGetByteaPP(secret); });
    key_.assign(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
  }
  uint8 out[32];
  const uint8 *key = reinterpret_cast<const uint8 *>(key_.data());
  size_t key_len = key_.size();
  const uint8 *bytes = reinterpret_cast<const uint8 *>(data.data());
  size_t len = data.size();
  pg_call([&] {
    pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
    if (ctx == nullptr)
      ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
    if (pg_hmac_init(ctx, key, key_len) < 0 || pg_hmac_update(ctx, bytes, len) < 0 ||
        pg_hmac_final(ctx, out, sizeof out) < 0) {
      const char *reason = pg_hmac_error(ctx);
      pg_hmac_free(ctx);
      elog(ERROR, "pg_inbox: could not compute a cursor MAC: %s", reason);
    }
    pg_hmac_free(ctx);
  });
  return std::string(reinterpret_cast<const char *>(out), sizeof out);
}

}  // namespace pgi::spi
