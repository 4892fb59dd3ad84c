// HMAC-SHA256 through PostgreSQL's pg_hmac (common/hmac.h): the one place the extension computes
// a MAC (keyset cursors, unsubscribe links, webhook signatures).
#pragma once

#include <string>
#include <string_view>

namespace pgi::spi {

// The 32-byte HMAC-SHA256 of `data` under `key`. Raises (through pg_call) when pg_hmac fails.
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace pgi::spi
