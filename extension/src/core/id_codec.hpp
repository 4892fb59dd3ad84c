// Public notification ids: "ntf_" followed by 13 characters of lower-case Crockford base32.
//
// The internal bigint is first passed through a fixed 64-bit permutation, so public ids do
// not reveal how many notifications exist or in which order they were made. The encoding is
// canonical: every internal id has exactly one public spelling, and decode accepts only that
// spelling, so public ids can be compared as strings (idempotency keys, `ids` lists).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgi {

inline constexpr std::string_view kPublicIdPrefix = "ntf_";
inline constexpr size_t kPublicIdLength = 4 + 13;

std::string encode_public_id(int64_t internal_id);

// nullopt when `text` is not a public id this codec produced.
std::optional<int64_t> decode_public_id(std::string_view text);

// Decodes or throws pgi::Error (22023) naming `path` and the offending text.
int64_t decode_public_id_or_throw(std::string_view text, const std::string &path);

}  // namespace pgi
