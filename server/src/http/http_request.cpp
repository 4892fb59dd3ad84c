// HttpRequest: the request-target decoded into a path and query parameters; headers verbatim.
#include <algorithm>
#include <cctype>

#include "http/http_server.hpp"

namespace pgi::server {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// %XX becomes its byte (a % not followed by two hex digits stays as it is); in a query string,
// + is a space (application/x-www-form-urlencoded).
std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += plus_is_space && c == '+' ? ' ' : c;
  }
  return out;
}

// name=value pairs separated by &; a pair without = has an empty value; an empty name is
// nothing.
std::multimap<std::string, std::string> parse_query(std::string_view query) {
  std::multimap<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    auto eq = pair.find('=');
    std::string name = percent_decode(pair.substr(0, eq), true);
    if (name.empty())
      continue;
    std::string value =
        eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
    out.emplace(std::move(name), std::move(value));
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

HttpRequest::HttpRequest(std::string method, std::string_view target,
                         std::vector<std::pair<std::string, std::string>> headers, std::string body)
    : method_(std::move(method)), headers_(std::move(headers)), body_(std::move(body)) {
  // The absolute form (http://host/path?query), which a proxy may send: the path is what counts.
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.compare(0, scheme.size(), scheme) == 0) {
      target.remove_prefix(scheme.size());
      auto slash = target.find('/');
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
      break;
    }
  }
  auto mark = target.find('?');
  path_ = percent_decode(target.substr(0, mark), false);
  if (mark != std::string_view::npos) {
    std::string_view query = target.substr(mark + 1);
    query_bytes_ = query.size();
    query_ = parse_query(query);
  }
}

std::optional<std::string> HttpRequest::header(std::string_view name) const {
  for (const auto &[n, value] : headers_) {
    if (iequals(n, name))
      return value;
  }
  return std::nullopt;
}

void HttpRequest::set_body(std::string body) {
  body_ = std::move(body);
}

}  // namespace pgi::server
