#include "delivery/signature.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <vector>

#include "delivery/message.hpp"

namespace pgi::server {

namespace {

// Standard base64 (with its padding) to bytes; nullopt when it is not.
std::optional<std::string> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > 1024)
    return std::nullopt;
  std::vector<unsigned char> out(text.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char *>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0)
    return std::nullopt;
  // EVP_DecodeBlock counts the bytes the padding stands for as zeros: drop them.
  std::size_t padding = text.back() == '=' ? (text[text.size() - 2] == '=' ? 2 : 1) : 0;
  return std::string(reinterpret_cast<const char *>(out.data()), n - padding);
}

}  // namespace

std::optional<std::string> webhook_signature(std::string_view secret, std::string_view id,
                                             std::string_view timestamp, std::string_view body) {
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.substr(0, kPrefix.size()) != kPrefix)
    return std::nullopt;
  std::optional<std::string> key = unbase64(secret.substr(kPrefix.size()));
  if (!key)
    return std::nullopt;
  std::string message;
  message.reserve(id.size() + timestamp.size() + body.size() + 2);
  message.append(id).append(".").append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
           reinterpret_cast<const unsigned char *>(message.data()), message.size(), mac,
           &length) == nullptr)
    return std::nullopt;
  return "v1," + base64(std::string_view(reinterpret_cast<const char *>(mac), length));
}

}  // namespace pgi::server
