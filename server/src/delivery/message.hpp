// The e-mail a delivery sends, as text (RFC 5322 with MIME): pure functions, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgi::server {

// The address inside "Name <address>", or the whole text; nullopt when it is not a plain
// address (no control characters, spaces, angle brackets; one @ with text on both sides).
std::optional<std::string> mail_address(std::string_view text);

struct Email {
  std::string from;         // the From header as configured ("Name <address>" or address)
  std::string to;           // the recipient's address (checked with mail_address)
  std::string subject;      // UTF-8; encoded as RFC 2047 words when it needs to be
  std::string message_id;   // the local part; "@" and the From's domain are added
  std::string unsubscribe;  // the unsubscribe URL (List-Unsubscribe, RFC 8058 one-click)
  std::string text;         // the plain-text body, UTF-8
  std::string date;         // the Date header (RFC 5322); empty: now
};

// The message with CRLF line ends: headers, then the body in base64 (so no line is too long and
// no line is a lone "."). Header values have CR and LF removed.
std::string render_email(const Email &email);

std::string base64(std::string_view bytes);

}  // namespace pgi::server
