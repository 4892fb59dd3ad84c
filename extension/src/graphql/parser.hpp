// The GraphQL parser: executable documents (October 2021 specification, section 2) into the
// syntax tree of graphql/ast.hpp.
//
// Pure C++. Recursive descent over graphql_lexer's tokens, with graphql-js's error messages.
// A document is bounded before it can cost much: its size in bytes, its number of tokens and
// its nesting depth (selection sets, list and object values, list types together), so a
// hostile document ends in a SyntaxError, never in exhausted memory or stack.
#pragma once

#include <string_view>

#include "graphql/ast.hpp"
#include "graphql/lexer.hpp"

namespace pgi::gql {

struct ParseLimits {
  size_t max_bytes = 1 << 20;
  size_t max_tokens = 20000;
  int max_depth = 64;
};

// Parses a request document. Throws SyntaxError.
Document parse_document(std::string_view source, const ParseLimits &limits = {});

// The parser's building blocks, public so that the schema's SDL loader reuses them.
class Parser {
 public:
  Parser(std::string_view source, const ParseLimits &limits);

  Document parse_executable_document();

  const Token &token() const { return lexer_.token(); }
  bool peek(TokenKind kind) const { return lexer_.token().kind == kind; }
  bool peek_keyword(const char *keyword) const;
  Token expect(TokenKind kind);
  bool expect_optional(TokenKind kind);
  void expect_keyword(const char *keyword);
  bool expect_optional_keyword(const char *keyword);
  [[noreturn]] void unexpected(const Token &token) const;
  [[noreturn]] void unexpected() const { unexpected(lexer_.token()); }

  std::string parse_name(Location *loc = nullptr);
  Value parse_value(bool is_const);
  TypeRefPtr parse_type_reference();
  std::vector<Directive> parse_directives(bool is_const);
  std::vector<Argument> parse_arguments(bool is_const);
  // A description string before a definition, or empty.
  std::string parse_optional_description();

 private:
  void advance();
  void enter(const Token &at);  // one nesting level deeper, bounded
  void leave() { --depth_; }

  OperationDefinition parse_operation_definition();
  FragmentDefinition parse_fragment_definition();
  VariableDefinition parse_variable_definition();
  SelectionSet parse_selection_set();
  Selection parse_selection();
  std::string parse_fragment_name(Location *loc);

  Lexer lexer_;
  ParseLimits limits_;
  size_t tokens_ = 0;
  int depth_ = 0;
};

}  // namespace pgi::gql
