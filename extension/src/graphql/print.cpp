#include "graphql/print.hpp"

#include <cstdio>
#include <vector>

namespace pgi::gql {
namespace {

bool is_white_space(char c) {
  return c == ' ' || c == '\t';
}

std::vector<std::string> split_lines(const std::string &text) {
  std::vector<std::string> lines(1);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
        ++i;
      lines.emplace_back();
    } else {
      lines.back() += c;
    }
  }
  return lines;
}

bool ends_with(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// printBlockString of graphql-js (not minimized).
std::string print_block_string(const std::string &value) {
  std::string escaped;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value.compare(i, 3, "\"\"\"") == 0) {
      escaped += "\\\"\"\"";
      i += 2;
    } else {
      escaped += value[i];
    }
  }
  std::vector<std::string> lines = split_lines(escaped);
  bool single_line = lines.size() == 1;
  bool force_leading_newline = lines.size() > 1;
  for (size_t i = 1; i < lines.size() && force_leading_newline; ++i)
    force_leading_newline = lines[i].empty() || is_white_space(lines[i][0]);
  bool trailing_triple_quotes = ends_with(escaped, "\\\"\"\"");
  bool trailing_quote = ends_with(value, "\"") && !trailing_triple_quotes;
  bool trailing_slash = ends_with(value, "\\");
  bool force_trailing_newline = trailing_quote || trailing_slash;
  size_t units = 0;
  for (unsigned char c : value)
    units += (c & 0xC0) != 0x80 ? (c >= 0xF0 ? 2 : 1) : 0;
  bool multiple_lines = !single_line || units > 70 || force_trailing_newline ||
                        force_leading_newline || trailing_triple_quotes;
  std::string result;
  bool skip_leading_newline = single_line && !value.empty() && is_white_space(value[0]);
  if ((multiple_lines && !skip_leading_newline) || force_leading_newline)
    result += '\n';
  result += escaped;
  if (multiple_lines || force_trailing_newline)
    result += '\n';
  return "\"\"\"" + result + "\"\"\"";
}

}  // namespace

std::string print_string(const std::string &text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\r':
        out += "\\r";
        continue;
      default:
        break;
    }
    unsigned code = c;
    // U+0080..U+009F arrive as C2 80..C2 9F.
    if (c == 0xC2 && i + 1 < text.size()) {
      auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F) {
        code = next;
        ++i;
      }
    }
    if (code < 0x20 || (code >= 0x7F && code <= 0x9F)) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04X", code);
      out += buffer;
    } else {
      out += text[i];
    }
  }
  return out + "\"";
}

std::string print_value(const Value &value) {
  switch (value.kind) {
    case Value::kVariable:
      return "$" + value.text;
    case Value::kInt:
    case Value::kFloat:
    case Value::kEnum:
      return value.text;
    case Value::kString:
      return value.block ? print_block_string(value.text) : print_string(value.text);
    case Value::kBoolean:
      return value.boolean ? "true" : "false";
    case Value::kNull:
      return "null";
    case Value::kList: {
      std::string out = "[";
      for (size_t i = 0; i < value.list.size(); ++i) {
        if (i > 0)
          out += ", ";
        out += print_value(value.list[i]);
      }
      return out + "]";
    }
    case Value::kObject: {
      std::string out = "{";
      for (size_t i = 0; i < value.fields.size(); ++i) {
        if (i > 0)
          out += ", ";
        out += value.fields[i].name + ": " + print_value(value.fields[i].value);
      }
      return out + "}";
    }
  }
  return "null";
}

}  // namespace pgi::gql
