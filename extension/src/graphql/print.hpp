// Printing syntax-tree values back as GraphQL text, the way graphql-js prints them: in
// error messages ("found [1, 2]") and as introspection's defaultValue.
//
// Pure C++.
#pragma once

#include <string>

#include "graphql/ast.hpp"

namespace pgi::gql {

std::string print_value(const Value &value);
// A string literal: "..." with graphql-js's escapes.
std::string print_string(const std::string &text);

}  // namespace pgi::gql
