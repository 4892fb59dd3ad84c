#include "delivery/message.hpp"

#include <ctime>

namespace pgi::server {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// A header value on one line: control characters (CR, LF, ...) become spaces.
std::string one_line(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value)
    out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
  return out;
}

bool plain_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e)
      return false;
  }
  return s.find("=?") == std::string_view::npos;
}

// RFC 2047: "=?UTF-8?B?...?=" words of at most 45 bytes each (75 characters encoded), never
// splitting a UTF-8 sequence, folded onto continuation lines.
std::string encoded_words(std::string_view s) {
  std::string out;
  std::size_t at = 0;
  while (at < s.size()) {
    std::size_t end = std::min(s.size(), at + 45);
    while (end < s.size() && end > at + 1 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
      --end;
    if (!out.empty())
      out += "\r\n ";
    out += "=?UTF-8?B?" + base64(s.substr(at, end - at)) + "?=";
    at = end;
  }
  return out;
}

std::string now_rfc5322() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buffer;
}

}  // namespace

std::string base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size())
      v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> mail_address(std::string_view text) {
  if (auto open = text.rfind('<'); open != std::string_view::npos) {
    auto close = text.find('>', open);
    if (close == std::string_view::npos || close != text.size() - 1)
      return std::nullopt;
    text = text.substr(open + 1, close - open - 1);
  }
  if (text.empty() || text.size() > 254)
    return std::nullopt;
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == '"')
      return std::nullopt;
  }
  auto at = text.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == text.size() ||
      text.find('@', at + 1) != std::string_view::npos)
    return std::nullopt;
  return std::string(text);
}

std::string render_email(const Email &email) {
  std::string domain = "pg_inbox.invalid";
  if (auto from = mail_address(email.from))
    domain = from->substr(from->find('@') + 1);
  std::string subject = one_line(email.subject);
  std::string out;
  auto header = [&out](const char *name, const std::string &value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  };
  header("Date", email.date.empty() ? now_rfc5322() : one_line(email.date));
  header("From", one_line(email.from));
  header("To", "<" + one_line(email.to) + ">");
  header("Subject",
         plain_ascii(subject) && subject.size() <= 900 ? subject : encoded_words(subject));
  header("Message-ID", "<" + one_line(email.message_id) + "@" + domain + ">");
  if (!email.unsubscribe.empty()) {
    header("List-Unsubscribe", "<" + one_line(email.unsubscribe) + ">");
    header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
  }
  header("MIME-Version", "1.0");
  header("Content-Type", "text/plain; charset=utf-8");
  header("Content-Transfer-Encoding", "base64");
  out += "\r\n";
  std::string body = base64(email.text);
  for (std::size_t i = 0; i < body.size(); i += 76) {
    out += body.substr(i, 76);
    out += "\r\n";
  }
  return out;
}

}  // namespace pgi::server
