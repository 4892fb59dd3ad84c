#include "http/request_input.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "errors.hpp"

namespace pgi::server {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

ApiError unauthorized(std::string message) {
  return http_error(401, std::move(message));
}

// RFC 6750's b64token: the only characters a bearer token can have, so anything else cannot be
// one of ours and need not reach the database.
std::string checked_token(std::string_view token) {
  bool well_formed = !token.empty() && token.size() <= 512 &&
                     std::all_of(token.begin(), token.end(), [](unsigned char c) {
                       return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
                              c == '+' || c == '/' || c == '=';
                     });
  if (!well_formed)
    throw ApiFailure(unauthorized("invalid or expired token"));
  return std::string(token);
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra;
    unsigned min;
    unsigned code;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80, code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800, code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000, code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size())
      return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80)
        return false;
      code = (code << 6) | (cc & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += extra + 1;
  }
  return true;
}

void check_no_nul(std::string_view what, std::string_view value) {
  if (value.find('\0') != std::string_view::npos) {
    throw ApiFailure(http_error(400, std::string(what) + ": contains a NUL character"));
  }
}

std::string query_json(const std::multimap<std::string, std::string> &query, QueryRepeats repeats,
                       std::string_view skip) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto &[name, value] : query) {
    if (!skip.empty() && name == skip)
      continue;
    if (!is_valid_utf8(name) || !is_valid_utf8(value)) {
      throw ApiFailure(http_error(400, "query string: not valid UTF-8"));
    }
    check_no_nul("query string", name);
    check_no_nul(name, value);
    bool list = repeats == QueryRepeats::kListsOnly && name.size() > 2 &&
                name.compare(name.size() - 2, 2, "[]") == 0;
    std::string key = list ? name.substr(0, name.size() - 2) : name;
    auto found = object.find(key);
    if (found == object.end()) {
      object[key] = list ? nlohmann::json::array({value}) : nlohmann::json(value);
    } else if (repeats == QueryRepeats::kAny) {
      if (!found->is_array())
        *found = nlohmann::json::array({*found});
      found->push_back(value);
    } else if (list && found->is_array()) {
      found->push_back(value);
    } else {
      throw ApiFailure(http_error(400, key + ": query parameter given more than once"));
    }
  }
  return object.dump();
}

std::optional<std::string> caller_token(const HttpRequest &request, TokenSource source) {
  std::optional<std::string> header = request.header("Authorization");
  if (header && header->size() >= 7 && lower(std::string_view(*header).substr(0, 7)) == "bearer ") {
    std::string_view token = std::string_view(*header).substr(7);
    while (!token.empty() && token.front() == ' ')
      token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ')
      token.remove_suffix(1);
    return checked_token(token);
  }
  if (source == TokenSource::kBearerHeader) {
    throw ApiFailure(unauthorized(header ? "expected an Authorization: Bearer <token> header"
                                         : "missing bearer token"));
  }
  const std::multimap<std::string, std::string> &query = request.query();
  auto it = query.find("access_token");
  if (it == query.end())
    return std::nullopt;
  return checked_token(it->second);
}

bool is_json_media_type(std::string_view content_type) {
  std::string type = lower(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ')
    type.pop_back();
  if (type == "application/json")
    return true;
  return type.rfind("application/", 0) == 0 && type.size() > 17 &&
         type.compare(type.size() - 5, 5, "+json") == 0;
}

}  // namespace pgi::server
