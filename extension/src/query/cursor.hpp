// Keyset cursors: opaque, authenticated positions in one order. Pure C++.
//
// A cursor is base64url (no padding) of
//   version (1 byte) | order fingerprint (8) | key count (1) | keys | HMAC-SHA256 (first 16)
// where each key is a tag (0 NULL, 1 false, 2 true, 3 int64 big-endian, 4 text: varint length
// and UTF-8 bytes). Timestamps travel as PostgreSQL's int64 microseconds, so a position is exact.
// The MAC covers everything before it and is keyed by the installation's secret
// (inbox.cursor_secrets): a cursor cannot be forged or edited, and one made under another order
// is refused.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "query/model.hpp"

namespace pgi::query {

// Computes HMAC-SHA256 over `data` with the installation's key (pg/cursor_mac.hpp).
class CursorSigner {
 public:
  virtual ~CursorSigner() = default;
  virtual std::string mac(std::string_view data) const = 0;  // 32 raw bytes
};

// `keys` is the completed order; `position` one value per key.
std::string encode_cursor(const std::vector<OrderKey> &keys, const std::vector<Scalar> &position,
                          const CursorSigner &signer);

// The position a cursor holds, or a 22023 pgi::Error naming `path` when it is malformed,
// tampered with, or made under another order.
std::vector<Scalar> decode_cursor(std::string_view text, const std::vector<OrderKey> &keys,
                                  const CursorSigner &signer, const std::string &path);

std::string base64url_encode(std::string_view bytes);
// false when `text` is not unpadded base64url.
bool base64url_decode(std::string_view text, std::string &bytes);

}  // namespace pgi::query
