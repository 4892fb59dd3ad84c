#include "query/cursor.hpp"

#include "core/errors.hpp"
#include "query/order_keys.hpp"

namespace pgi::query {
namespace {

constexpr unsigned char kVersion = 1;
constexpr size_t kMacBytes = 16;
constexpr size_t kMaxCursorChars = 8192;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

enum Tag : unsigned char { kNull = 0, kFalse = 1, kTrue = 2, kInt = 3, kText = 4 };

uint64_t fingerprint(const std::string &signature) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char ch : signature) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  return h;
}

void put_u64(std::string &out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out += static_cast<char>((v >> shift) & 0xff);
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool byte(unsigned char &b) {
    if (at_ >= s_.size())
      return false;
    b = static_cast<unsigned char>(s_[at_++]);
    return true;
  }
  bool u64(uint64_t &v) {
    v = 0;
    for (int i = 0; i < 8; ++i) {
      unsigned char b;
      if (!byte(b))
        return false;
      v = (v << 8) | b;
    }
    return true;
  }
  bool varint(size_t &v) {
    v = 0;
    for (int shift = 0; shift < 28; shift += 7) {
      unsigned char b;
      if (!byte(b))
        return false;
      v |= static_cast<size_t>(b & 0x7f) << shift;
      if (!(b & 0x80))
        return true;
    }
    return false;
  }
  bool bytes(size_t n, std::string &out) {
    if (s_.size() - at_ < n)
      return false;
    out.assign(s_.substr(at_, n));
    at_ += n;
    return true;
  }
  bool done() const { return at_ == s_.size(); }

 private:
  std::string_view s_;
  size_t at_ = 0;
};

bool matches(const OrderKey &key, const Scalar &v) {
  if (std::holds_alternative<std::monostate>(v))
    return key.field.nullable;
  switch (key.field.value_type()) {
    case SqlType::kBoolean:
      return std::holds_alternative<bool>(v);
    case SqlType::kBigint:
    case SqlType::kTimestamptz:
      return std::holds_alternative<int64_t>(v);
    case SqlType::kText:
      return std::holds_alternative<std::string>(v);
    default:
      return false;
  }
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char ch : bytes) {
    buffer = (buffer << 8) | ch;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0)
    out += kAlphabet[(buffer << (6 - bits)) & 63];
  return out;
}

bool base64url_decode(std::string_view text, std::string &bytes) {
  bytes.clear();
  uint32_t buffer = 0;
  int bits = 0;
  for (char ch : text) {
    int v = -1;
    if (ch >= 'A' && ch <= 'Z')
      v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z')
      v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9')
      v = ch - '0' + 52;
    else if (ch == '-')
      v = 62;
    else if (ch == '_')
      v = 63;
    if (v < 0)
      return false;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero padding of the last character, and fewer than a byte: one
  // spelling per cursor.
  return bits < 6 && (buffer & ((1u << bits) - 1)) == 0;
}

std::string encode_cursor(const std::vector<OrderKey> &keys, const std::vector<Scalar> &position,
                          const CursorSigner &signer) {
  std::string out;
  out += static_cast<char>(kVersion);
  put_u64(out, fingerprint(order_signature(keys)));
  out += static_cast<char>(position.size());
  for (const Scalar &v : position) {
    if (std::holds_alternative<std::monostate>(v)) {
      out += static_cast<char>(kNull);
    } else if (auto b = std::get_if<bool>(&v)) {
      out += static_cast<char>(*b ? kTrue : kFalse);
    } else if (auto i = std::get_if<int64_t>(&v)) {
      out += static_cast<char>(kInt);
      put_u64(out, static_cast<uint64_t>(*i));
    } else {
      const std::string &s = std::get<std::string>(v);
      out += static_cast<char>(kText);
      size_t n = s.size();
      do {
        unsigned char b = n & 0x7f;
        n >>= 7;
        out += static_cast<char>(n ? b | 0x80 : b);
      } while (n);
      out += s;
    }
  }
  out += signer.mac(out).substr(0, kMacBytes);
  return base64url_encode(out);
}

std::vector<Scalar> decode_cursor(std::string_view text, const std::vector<OrderKey> &keys,
                                  const CursorSigner &signer, const std::string &path) {
  auto invalid = [&]() {
    return invalid_value(path, "not a valid cursor",
                         "Pass startCursor or endCursor exactly as a previous page returned it.");
  };
  std::string raw;
  if (text.empty() || text.size() > kMaxCursorChars || !base64url_decode(text, raw) ||
      raw.size() < 1 + 8 + 1 + kMacBytes)
    throw invalid();
  std::string_view body(raw.data(), raw.size() - kMacBytes);
  std::string expected = signer.mac(body).substr(0, kMacBytes);
  unsigned char diff = 0;  // constant time: the comparison leaks nothing about the MAC
  for (size_t i = 0; i < kMacBytes; ++i)
    diff |= expected[i] ^ raw[body.size() + i];
  if (diff != 0)
    throw invalid();

  Reader r(body);
  unsigned char version, count;
  uint64_t print;
  if (!r.byte(version) || version != kVersion || !r.u64(print) || !r.byte(count))
    throw invalid();
  if (print != fingerprint(order_signature(keys)) || count != keys.size())
    throw invalid_value(path, "cursor belongs to a different orderBy",
                        "A cursor only works with the orderBy of the page that returned it.");
  std::vector<Scalar> position;
  for (size_t i = 0; i < count; ++i) {
    unsigned char tag;
    if (!r.byte(tag))
      throw invalid();
    Scalar v;
    switch (tag) {
      case kNull:
        break;
      case kFalse:
      case kTrue:
        v = tag == kTrue;
        break;
      case kInt: {
        uint64_t u;
        if (!r.u64(u))
          throw invalid();
        v = static_cast<int64_t>(u);
        break;
      }
      case kText: {
        size_t n;
        std::string s;
        if (!r.varint(n) || !r.bytes(n, s))
          throw invalid();
        v = std::move(s);
        break;
      }
      default:
        throw invalid();
    }
    if (!matches(keys[i], v))
      throw invalid();
    position.push_back(std::move(v));
  }
  if (!r.done())
    throw invalid();
  return position;
}

}  // namespace pgi::query
