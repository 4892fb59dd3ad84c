#include "graphql/lexer.hpp"

#include <cstdint>
#include <cstdio>
#include <vector>

namespace pgi::gql {
namespace {

bool is_digit(int c) {
  return c >= '0' && c <= '9';
}
bool is_letter(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_name_start(int c) {
  return is_letter(c) || c == '_';
}
bool is_name_continue(int c) {
  return is_name_start(c) || is_digit(c);
}
bool is_scalar_value(int64_t c) {
  return (c >= 0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0x10FFFF);
}
bool is_leading_surrogate(int64_t c) {
  return c >= 0xD800 && c <= 0xDBFF;
}
bool is_trailing_surrogate(int64_t c) {
  return c >= 0xDC00 && c <= 0xDFFF;
}

int hex_digit(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

// How many UTF-16 code units the UTF-8 bytes [from, to) take: what JavaScript counts.
int utf16_units(std::string_view text, size_t from, size_t to) {
  int units = 0;
  for (size_t i = from; i < to && i < text.size(); ++i) {
    auto b = static_cast<unsigned char>(text[i]);
    if ((b & 0xC0) != 0x80)
      units += b >= 0xF0 ? 2 : 1;
  }
  return units;
}

// The bytes that hold the first `units` UTF-16 code units from `offset` (whole characters).
std::string_view slice_units(std::string_view text, size_t offset, int units) {
  size_t end = offset;
  while (units > 0 && end < text.size()) {
    size_t length = 1;
    int c = decode_utf8(text, end, &length);
    units -= c > 0xFFFF ? 2 : 1;
    end += length;
  }
  return text.substr(offset, end - offset);
}

bool is_block_white_space(char c) {
  return c == ' ' || c == '\t';
}

// BlockStringValue() of the specification: common indentation and blank edge lines removed.
std::string dedent_block_lines(const std::vector<std::string> &lines) {
  size_t common_indent = SIZE_MAX;
  long first_non_empty = -1;
  long last_non_empty = -1;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string &line = lines[i];
    size_t indent = 0;
    while (indent < line.size() && is_block_white_space(line[indent]))
      ++indent;
    if (indent == line.size())
      continue;
    if (first_non_empty < 0)
      first_non_empty = static_cast<long>(i);
    last_non_empty = static_cast<long>(i);
    if (i != 0 && indent < common_indent)
      common_indent = indent;
  }
  std::string out;
  if (first_non_empty < 0)
    return out;
  for (long i = first_non_empty; i <= last_non_empty; ++i) {
    const std::string &line = lines[static_cast<size_t>(i)];
    if (i != first_non_empty)
      out += '\n';
    if (i == 0 || common_indent == SIZE_MAX)
      out += line;
    else if (common_indent < line.size())
      out.append(line, common_indent, std::string::npos);
  }
  return out;
}

}  // namespace

int decode_utf8(std::string_view text, size_t offset, size_t *length) {
  *length = 1;
  if (offset >= text.size())
    return -1;
  auto b0 = static_cast<unsigned char>(text[offset]);
  if (b0 < 0x80)
    return b0;
  int extra;
  int cp;
  if ((b0 & 0xE0) == 0xC0) {
    extra = 1;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3;
    cp = b0 & 0x07;
  } else {
    return -1;
  }
  if (offset + extra >= text.size())
    return -1;
  for (int i = 1; i <= extra; ++i) {
    auto b = static_cast<unsigned char>(text[offset + i]);
    if ((b & 0xC0) != 0x80)
      return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  static const int kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return -1;
  *length = static_cast<size_t>(extra) + 1;
  return cp;
}

void append_utf8(std::string &out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string token_kind_description(TokenKind kind) {
  switch (kind) {
    case TokenKind::kSof:
      return "<SOF>";
    case TokenKind::kEof:
      return "<EOF>";
    case TokenKind::kBang:
      return "\"!\"";
    case TokenKind::kDollar:
      return "\"$\"";
    case TokenKind::kAmp:
      return "\"&\"";
    case TokenKind::kParenL:
      return "\"(\"";
    case TokenKind::kParenR:
      return "\")\"";
    case TokenKind::kSpread:
      return "\"...\"";
    case TokenKind::kColon:
      return "\":\"";
    case TokenKind::kEquals:
      return "\"=\"";
    case TokenKind::kAt:
      return "\"@\"";
    case TokenKind::kBracketL:
      return "\"[\"";
    case TokenKind::kBracketR:
      return "\"]\"";
    case TokenKind::kBraceL:
      return "\"{\"";
    case TokenKind::kPipe:
      return "\"|\"";
    case TokenKind::kBraceR:
      return "\"}\"";
    case TokenKind::kName:
      return "Name";
    case TokenKind::kInt:
      return "Int";
    case TokenKind::kFloat:
      return "Float";
    case TokenKind::kString:
      return "String";
    case TokenKind::kBlockString:
      return "BlockString";
  }
  return "?";
}

std::string token_description(const Token &token) {
  std::string text = token_kind_description(token.kind);
  switch (token.kind) {
    case TokenKind::kName:
    case TokenKind::kInt:
    case TokenKind::kFloat:
    case TokenKind::kString:
    case TokenKind::kBlockString:
      text += " \"" + token.value + "\"";
      break;
    default:
      break;
  }
  return text;
}

Lexer::Lexer(std::string_view source) : source_(source) {}

int Lexer::byte_at(size_t offset) const {
  return offset < source_.size() ? static_cast<unsigned char>(source_[offset]) : -1;
}

Location Lexer::location_of(size_t offset) const {
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < source_.size(); ++i) {
    if (source_[i] == '\n' || source_[i] == '\r') {
      if (source_[i] == '\r' && i + 1 < source_.size() && source_[i + 1] == '\n') {
        if (i + 1 >= offset)
          break;  // an offset between \r and \n stays on the line
        ++i;
      }
      ++line;
      line_start = i + 1;
    }
  }
  return Location{line, utf16_units(source_, line_start, offset) + 1};
}

void Lexer::fail(size_t offset, const std::string &description) const {
  throw SyntaxError("Syntax Error: " + description, location_of(offset));
}

std::string Lexer::describe_code_point(size_t offset) const {
  if (offset >= source_.size())
    return "<EOF>";
  size_t length;
  int cp = decode_utf8(source_, offset, &length);
  if (cp < 0)
    cp = static_cast<unsigned char>(source_[offset]);
  if (cp >= 0x20 && cp <= 0x7E) {
    if (cp == '"')
      return "'\"'";
    return std::string("\"") + static_cast<char>(cp) + "\"";
  }
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(cp));
  return buffer;
}

Token Lexer::make(TokenKind kind, size_t start, size_t end, std::string value) {
  Token token;
  token.kind = kind;
  token.start = start;
  token.end = end;
  token.value = std::move(value);
  if (column_cache_offset_ < line_start_ || start < column_cache_offset_) {
    column_cache_offset_ = line_start_;
    column_cache_value_ = 1;
  }
  column_cache_value_ += utf16_units(source_, column_cache_offset_, start);
  column_cache_offset_ = start;
  token.loc = Location{line_, column_cache_value_};
  return token;
}

const Token &Lexer::advance() {
  if (token_.kind != TokenKind::kEof)
    token_ = read_next(token_.end);
  return token_;
}

Token Lexer::read_next(size_t position) {
  const size_t size = source_.size();
  while (position < size) {
    const int c = byte_at(position);
    switch (c) {
      case '\t':
      case ' ':
      case ',':
        ++position;
        continue;
      case 0xEF:  // U+FEFF, the byte order mark
        if (byte_at(position + 1) == 0xBB && byte_at(position + 2) == 0xBF) {
          position += 3;
          continue;
        }
        break;
      case '\n':
        ++position;
        ++line_;
        line_start_ = position;
        continue;
      case '\r':
        position += byte_at(position + 1) == '\n' ? 2 : 1;
        ++line_;
        line_start_ = position;
        continue;
      case '#':
        while (position < size && source_[position] != '\n' && source_[position] != '\r')
          ++position;
        continue;
      case '!':
        return make(TokenKind::kBang, position, position + 1);
      case '$':
        return make(TokenKind::kDollar, position, position + 1);
      case '&':
        return make(TokenKind::kAmp, position, position + 1);
      case '(':
        return make(TokenKind::kParenL, position, position + 1);
      case ')':
        return make(TokenKind::kParenR, position, position + 1);
      case '.':
        if (byte_at(position + 1) == '.' && byte_at(position + 2) == '.')
          return make(TokenKind::kSpread, position, position + 3);
        break;
      case ':':
        return make(TokenKind::kColon, position, position + 1);
      case '=':
        return make(TokenKind::kEquals, position, position + 1);
      case '@':
        return make(TokenKind::kAt, position, position + 1);
      case '[':
        return make(TokenKind::kBracketL, position, position + 1);
      case ']':
        return make(TokenKind::kBracketR, position, position + 1);
      case '{':
        return make(TokenKind::kBraceL, position, position + 1);
      case '|':
        return make(TokenKind::kPipe, position, position + 1);
      case '}':
        return make(TokenKind::kBraceR, position, position + 1);
      case '"':
        if (byte_at(position + 1) == '"' && byte_at(position + 2) == '"')
          return read_block_string(position);
        return read_string(position);
      default:
        break;
    }
    if (is_digit(c) || c == '-')
      return read_number(position);
    if (is_name_start(c))
      return read_name(position);
    if (c == '\'')
      fail(position,
           "Unexpected single quote character ('), did you mean to use a double quote (\")?");
    size_t length;
    if (decode_utf8(source_, position, &length) < 0)
      fail(position, "Invalid character: " + describe_code_point(position) + ".");
    fail(position, "Unexpected character: " + describe_code_point(position) + ".");
  }
  return make(TokenKind::kEof, size, size);
}

size_t Lexer::read_digits(size_t position) {
  if (!is_digit(byte_at(position)))
    fail(position,
         "Invalid number, expected digit but got: " + describe_code_point(position) + ".");
  ++position;
  while (is_digit(byte_at(position)))
    ++position;
  return position;
}

Token Lexer::read_number(size_t start) {
  size_t position = start;
  bool is_float = false;
  if (byte_at(position) == '-')
    ++position;
  if (byte_at(position) == '0') {
    ++position;
    if (is_digit(byte_at(position)))
      fail(position,
           "Invalid number, unexpected digit after 0: " + describe_code_point(position) + ".");
  } else {
    position = read_digits(position);
  }
  if (byte_at(position) == '.') {
    is_float = true;
    position = read_digits(position + 1);
  }
  if (byte_at(position) == 'E' || byte_at(position) == 'e') {
    is_float = true;
    ++position;
    if (byte_at(position) == '+' || byte_at(position) == '-')
      ++position;
    position = read_digits(position);
  }
  if (byte_at(position) == '.' || is_name_start(byte_at(position)))
    fail(position,
         "Invalid number, expected digit but got: " + describe_code_point(position) + ".");
  return make(is_float ? TokenKind::kFloat : TokenKind::kInt, start, position,
              std::string(source_.substr(start, position - start)));
}

Token Lexer::read_name(size_t start) {
  size_t position = start + 1;
  while (is_name_continue(byte_at(position)))
    ++position;
  return make(TokenKind::kName, start, position,
              std::string(source_.substr(start, position - start)));
}

Token Lexer::read_string(size_t start) {
  size_t position = start + 1;
  size_t chunk_start = position;
  std::string value;
  while (position < source_.size()) {
    const int c = byte_at(position);
    if (c == '"') {
      value.append(source_.substr(chunk_start, position - chunk_start));
      return make(TokenKind::kString, start, position + 1, std::move(value));
    }
    if (c == '\\') {
      value.append(source_.substr(chunk_start, position - chunk_start));
      if (byte_at(position + 1) == 'u' && byte_at(position + 2) == '{') {
        // \u{X...}: at most 12 units (\u{00000000}), arithmetic as JavaScript's int32.
        int32_t point = 0;
        int units = 3;
        size_t at = position + 3;
        bool ok = false;
        while (units < 12) {
          size_t length;
          int ch = decode_utf8(source_, at, &length);
          if (at >= source_.size())
            ch = -1;
          ++units;
          at += length;
          if (ch == '}') {
            ok = units >= 5 && is_scalar_value(point);
            break;
          }
          point = static_cast<int32_t>(static_cast<uint32_t>(point) << 4) | hex_digit(ch);
          if (point < 0)
            break;
        }
        if (!ok)
          fail(position, "Invalid Unicode escape sequence: \"" +
                             std::string(slice_units(source_, position, units)) + "\".");
        append_utf8(value, static_cast<unsigned>(point));
        position = at;
      } else if (byte_at(position + 1) == 'u') {
        // Four hex digits, or -1 if any is not one (JavaScript gets a negative number).
        auto read16 = [&](size_t at) {
          int code = 0;
          for (size_t i = 0; i < 4; ++i) {
            int digit = hex_digit(byte_at(at + i));
            if (digit < 0)
              return -1;
            code = code * 16 + digit;
          }
          return code;
        };
        int code = read16(position + 2);
        if (is_scalar_value(code)) {
          append_utf8(value, static_cast<unsigned>(code));
          position += 6;
        } else if (is_leading_surrogate(code) && byte_at(position + 6) == '\\' &&
                   byte_at(position + 7) == 'u' && is_trailing_surrogate(read16(position + 8))) {
          int trailing = read16(position + 8);
          append_utf8(value, static_cast<unsigned>(0x10000 + ((code - 0xD800) << 10) +
                                                   (trailing - 0xDC00)));
          position += 12;
        } else {
          fail(position, "Invalid Unicode escape sequence: \"" +
                             std::string(slice_units(source_, position, 6)) + "\".");
        }
      } else {
        char decoded = 0;
        switch (byte_at(position + 1)) {
          case '"':
            decoded = '"';
            break;
          case '\\':
            decoded = '\\';
            break;
          case '/':
            decoded = '/';
            break;
          case 'b':
            decoded = '\b';
            break;
          case 'f':
            decoded = '\f';
            break;
          case 'n':
            decoded = '\n';
            break;
          case 'r':
            decoded = '\r';
            break;
          case 't':
            decoded = '\t';
            break;
          default:
            fail(position, "Invalid character escape sequence: \"" +
                               std::string(slice_units(source_, position, 2)) + "\".");
        }
        value += decoded;
        position += 2;
      }
      chunk_start = position;
      continue;
    }
    if (c == '\n' || c == '\r')
      break;
    position += string_character_length(position);
  }
  fail(position, "Unterminated string.");
}

size_t Lexer::string_character_length(size_t position) const {
  size_t length;
  if (decode_utf8(source_, position, &length) < 0)
    fail(position, "Invalid character within String: " + describe_code_point(position) + ".");
  return length;
}

Token Lexer::read_block_string(size_t start) {
  size_t line_start = line_start_;
  size_t position = start + 3;
  size_t chunk_start = position;
  std::string current;
  std::vector<std::string> lines;
  while (position < source_.size()) {
    const int c = byte_at(position);
    if (c == '"' && byte_at(position + 1) == '"' && byte_at(position + 2) == '"') {
      current.append(source_.substr(chunk_start, position - chunk_start));
      lines.push_back(std::move(current));
      Token token = make(TokenKind::kBlockString, start, position + 3, dedent_block_lines(lines));
      line_ += static_cast<int>(lines.size()) - 1;
      line_start_ = line_start;
      return token;
    }
    if (c == '\\' && byte_at(position + 1) == '"' && byte_at(position + 2) == '"' &&
        byte_at(position + 3) == '"') {
      current.append(source_.substr(chunk_start, position - chunk_start));
      chunk_start = position + 1;  // drop the backslash only
      position += 4;
      continue;
    }
    if (c == '\n' || c == '\r') {
      current.append(source_.substr(chunk_start, position - chunk_start));
      lines.push_back(std::move(current));
      current.clear();
      position += (c == '\r' && byte_at(position + 1) == '\n') ? 2 : 1;
      chunk_start = position;
      line_start = position;
      continue;
    }
    position += string_character_length(position);
  }
  fail(position, "Unterminated string.");
}

}  // namespace pgi::gql
