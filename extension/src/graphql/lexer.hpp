// The GraphQL lexer (October 2021 specification, section 2.1), over UTF-8 text.
//
// Pure C++. Produces one token at a time; comments, white space, commas and the byte order
// mark are skipped. Lexical errors throw SyntaxError with graphql-js's wording and the
// location graphql-js would give (columns in UTF-16 code units), so clients see the same
// messages whichever implementation answered.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "graphql/ast.hpp"
#include "graphql/error.hpp"

namespace pgi::gql {

enum class TokenKind {
  kSof,
  kEof,
  kBang,
  kDollar,
  kAmp,
  kParenL,
  kParenR,
  kSpread,
  kColon,
  kEquals,
  kAt,
  kBracketL,
  kBracketR,
  kBraceL,
  kPipe,
  kBraceR,
  kName,
  kInt,
  kFloat,
  kString,
  kBlockString,
};

// "<EOF>", "\"{\"", "Name", ...: how graphql-js names a kind in messages.
std::string token_kind_description(TokenKind kind);

struct Token {
  TokenKind kind = TokenKind::kSof;
  size_t start = 0;  // byte offsets into the source
  size_t end = 0;
  Location loc;
  std::string value;  // names and numbers as written, strings decoded
};

// `Name "foo"`, `"{"`, `<EOF>`: a token as graphql-js describes it in "Expected X, found Y".
std::string token_description(const Token &token);

class Lexer {
 public:
  explicit Lexer(std::string_view source);

  // Reads the next significant token and makes it current.
  const Token &advance();
  const Token &token() const { return token_; }
  std::string_view source() const { return source_; }

  // The location of a byte offset, computed from the start (used for errors only).
  Location location_of(size_t offset) const;
  [[noreturn]] void fail(size_t offset, const std::string &description) const;

 private:
  Token make(TokenKind kind, size_t start, size_t end, std::string value = {});
  Token read_next(size_t position);
  Token read_number(size_t start);
  size_t read_digits(size_t position);
  Token read_string(size_t start);
  Token read_block_string(size_t start);
  Token read_name(size_t start);
  // The byte length of the character at `position` inside a string; fails if it is not one.
  size_t string_character_length(size_t position) const;
  // A code point at `offset` as graphql-js prints it: "a", '"', U+00E9 or <EOF>.
  std::string describe_code_point(size_t offset) const;
  int byte_at(size_t offset) const;  // -1 past the end

  std::string_view source_;
  Token token_;
  int line_ = 1;
  size_t line_start_ = 0;
  // Column cache: tokens arrive in order, so counting UTF-16 units from the last token on
  // the same line keeps the lexer linear on long single-line documents.
  size_t column_cache_offset_ = 0;
  int column_cache_value_ = 1;
};

// Decodes the UTF-8 sequence at `offset`: its code point (or -1 if it is malformed) and its
// length in bytes (at least 1).
int decode_utf8(std::string_view text, size_t offset, size_t *length);
void append_utf8(std::string &out, unsigned code_point);

}  // namespace pgi::gql
