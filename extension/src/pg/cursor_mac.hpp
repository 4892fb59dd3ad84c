// The installation's cursor key and HMAC-SHA256 over it (PostgreSQL's pg_hmac).
#pragma once

#include "pg/pg.hpp"

#include <string>

#include "query/cursor.hpp"

namespace pgi::spi {

// Reads the key from inbox.cursor_secrets (the oldest row: after a dump and restore, the restored
// key rather than the one the new CREATE EXTENSION made) on first use. SPI must be connected.
class InstallationSigner : public query::CursorSigner {
 public:
  std::string mac(std::string_view data) const override;

 private:
  mutable std::string key_;
};

}  // namespace pgi::spi
