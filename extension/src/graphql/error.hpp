// A GraphQL error as the response carries it: message, source locations, response path and
// a machine-readable code (Directus's `extensions.code`).
//
// Pure C++. These are not PostgreSQL errors: a bad document, a failed validation or a failed
// field all become entries of the response's "errors" list, never an ereport.
#pragma once

#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "graphql/ast.hpp"

namespace pgi::gql {

// One step of a response path: a response key or a list index.
using PathSegment = std::variant<std::string, size_t>;

struct GraphQLError {
  std::string message;
  std::vector<Location> locations;
  std::vector<PathSegment> path;
  std::string code;  // empty: no extensions.code
};

// Thrown by the lexer and the parser; the message starts with "Syntax Error: ".
class SyntaxError : public std::runtime_error {
 public:
  SyntaxError(const std::string &message, Location loc) : std::runtime_error(message), loc_(loc) {}
  Location location() const { return loc_; }

 private:
  Location loc_;
};

// Thrown while executing one field; the executor records it with the field's path and
// locations and the field becomes null.
class FieldError : public std::runtime_error {
 public:
  FieldError(const std::string &message, std::string code)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string &code() const { return code_; }

 private:
  std::string code_;
};

// The codes Directus puts in extensions.code.
namespace code {
inline constexpr const char *kValidation = "GRAPHQL_VALIDATION";
inline constexpr const char *kExecution = "GRAPHQL_EXECUTION";
inline constexpr const char *kMethodNotAllowed = "METHOD_NOT_ALLOWED";
inline constexpr const char *kForbidden = "FORBIDDEN";
inline constexpr const char *kInvalidPayload = "INVALID_PAYLOAD";
inline constexpr const char *kInvalidQuery = "INVALID_QUERY";
inline constexpr const char *kInternal = "INTERNAL_SERVER_ERROR";
}  // namespace code

}  // namespace pgi::gql
