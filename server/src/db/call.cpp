#include "db/call.hpp"

#include <algorithm>
#include <cctype>

#include "errors.hpp"
#include "log.hpp"

namespace pgi::server {

namespace {

// Cuts "LABEL:  " lines out of a libpq error text; returns the text of the first such line.
std::string field(const std::string &text, const std::string &label) {
  std::string marker = "\n" + label + ":  ";
  auto start = text.find(marker);
  if (start == std::string::npos)
    return {};
  start += marker.size();
  auto end = text.find('\n', start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

ApiError database_unavailable(const std::string &why) {
  ApiError error = http_error(503, "the database is unavailable");
  error.code = "database_unavailable";
  log_line("database unavailable: " + why);
  return error;
}

ApiError statement_error(const std::string &sqlstate, const std::string &verbose_text) {
  ServerMessage m = parse_server_message(verbose_text);
  const std::string &code = sqlstate.empty() ? m.sqlstate : sqlstate;
  ApiError error = sqlstate_error(code, m.message, m.detail, m.hint);
  if (error.status >= 500)
    log_line("database error " + code + ": " + verbose_text);
  return error;
}

ServerMessage parse_server_message(const std::string &text) {
  ServerMessage out;
  // The first line is "SEVERITY:  message" (the severity may be translated).
  auto first_end = text.find('\n');
  std::string first = text.substr(0, first_end);
  auto sep = first.find(":  ");
  out.message = sep == std::string::npos ? first : first.substr(sep + 3);
  bool coded = out.message.size() > 7 && out.message.compare(5, 2, ": ") == 0 &&
               std::all_of(out.message.begin(), out.message.begin() + 5,
                           [](char c) { return std::isdigit(c) || std::isupper(c); });
  if (coded) {
    out.sqlstate = out.message.substr(0, 5);
    out.message.erase(0, 7);
  }
  out.detail = field(text, "DETAIL");
  out.hint = field(text, "HINT");
  return out;
}

std::vector<std::string> one_row(std::vector<DbRow> rows) {
  if (rows.size() != 1)
    throw ApiFailure(http_error(500, "internal error"));
  std::vector<std::string> row;
  for (std::optional<std::string> &f : rows[0])
    row.push_back(f ? std::move(*f) : std::string("null"));
  return row;
}

}  // namespace pgi::server
