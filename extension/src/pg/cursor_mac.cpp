#include "pg/cursor_mac.hpp"

#include "pg/hmac.hpp"
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
  return hmac_sha256(key_, data);
}

}  // namespace pgi::spi
