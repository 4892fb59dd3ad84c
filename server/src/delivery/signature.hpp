// Standard Webhooks 1.0 signatures, made in the server (the claim hands it the endpoint's
// secret), so the database does not sign row by row: pure functions over OpenSSL's HMAC.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgi::server {

// The webhook-signature header: "v1," and the base64 HMAC-SHA256, keyed with the secret's
// bytes (whsec_ + base64), of "id.timestamp.body". nullopt for a secret that is not whsec_ and
// base64 (the database checks it when the endpoint is registered: only a damaged row fails).
std::optional<std::string> webhook_signature(std::string_view secret, std::string_view id,
                                             std::string_view timestamp, std::string_view body);

}  // namespace pgi::server
