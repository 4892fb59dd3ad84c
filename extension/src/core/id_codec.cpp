#include "core/id_codec.hpp"

#include "core/errors.hpp"

namespace pgi {
namespace {

constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr uint64_t kKey = 0x5be0cd19137e2179ULL;
constexpr uint64_t kMul1 = 0xbf58476d1ce4e5b9ULL;
constexpr uint64_t kMul2 = 0x94d049bb133111ebULL;

// The inverse of an odd number modulo 2^64, by Newton's iteration.
constexpr uint64_t inverse(uint64_t a) {
  uint64_t x = a;
  for (int i = 0; i < 6; ++i)
    x *= 2 - a * x;
  return x;
}
static_assert(kMul1 * inverse(kMul1) == 1 && kMul2 * inverse(kMul2) == 1);

// x ^= x >> s is its own kind of bijection; this undoes it.
constexpr uint64_t unxorshift(uint64_t y, int s) {
  uint64_t x = y;
  for (int i = s; i < 64; i += s)
    x = y ^ (x >> s);
  return x;
}

constexpr uint64_t permute(uint64_t x) {
  x ^= kKey;
  x = (x ^ (x >> 30)) * kMul1;
  x = (x ^ (x >> 27)) * kMul2;
  return x ^ (x >> 31);
}

constexpr uint64_t unpermute(uint64_t x) {
  x = unxorshift(x, 31) * inverse(kMul2);
  x = unxorshift(x, 27) * inverse(kMul1);
  x = unxorshift(x, 30);
  return x ^ kKey;
}
static_assert(unpermute(permute(1)) == 1 && unpermute(permute(~0ULL)) == ~0ULL);

int digit_value(char c) {
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c)
      return i;
  }
  return -1;
}

}  // namespace

std::string encode_public_id(int64_t internal_id) {
  uint64_t v = permute(static_cast<uint64_t>(internal_id));
  std::string out(kPublicIdLength, '0');
  out.replace(0, kPublicIdPrefix.size(), kPublicIdPrefix);
  for (size_t i = kPublicIdLength; i > kPublicIdPrefix.size(); --i) {
    out[i - 1] = kAlphabet[v & 31];
    v >>= 5;
  }
  return out;
}

std::optional<int64_t> decode_public_id(std::string_view text) {
  if (text.size() != kPublicIdLength || text.substr(0, kPublicIdPrefix.size()) != kPublicIdPrefix)
    return std::nullopt;
  uint64_t v = 0;
  for (size_t i = kPublicIdPrefix.size(); i < kPublicIdLength; ++i) {
    int d = digit_value(text[i]);
    if (d < 0)
      return std::nullopt;
    // 13 digits carry 65 bits: the first may use only its low four.
    if (i == kPublicIdPrefix.size() && d > 15)
      return std::nullopt;
    v = (v << 5) | static_cast<uint64_t>(d);
  }
  return static_cast<int64_t>(unpermute(v));
}

int64_t decode_public_id_or_throw(std::string_view text, const std::string &path) {
  if (auto id = decode_public_id(text))
    return *id;
  std::string shown(text.substr(0, 64));
  throw invalid_value(path, "\"" + shown + "\" is not a notification id",
                      "Notification ids look like ntf_ followed by 13 letters and digits.");
}

}  // namespace pgi
