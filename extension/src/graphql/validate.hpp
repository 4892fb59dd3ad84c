// Validation of a request document against the schema, before anything runs (October 2021
// specification, section 5), with graphql-js's messages and locations.
//
// Pure C++. The rules are those of graphql-js's specifiedRules that can apply to an
// executable document: operation and fragment names, known types, fields, arguments,
// directives and fragments, leaf selections, fragment spreads and cycles, variables (unique,
// input types, defined, used, allowed in their positions), values of the right type, required
// arguments and input fields, mergeable fields, and the introspection depth limit. Expanding
// fragments is bounded too, so a document that would explode when executed is refused here.
#pragma once

#include <vector>

#include "graphql/ast.hpp"
#include "graphql/error.hpp"
#include "graphql/schema.hpp"

namespace pgi::gql {

// Fields a document may ask for once its fragments are expanded (counted while checking that
// fields merge; execution applies the same bound to what it actually resolves).
inline constexpr size_t kMaxExpandedFields = 20000;

// Every error found, in document order (empty: the document is valid). Each carries the code
// GRAPHQL_VALIDATION.
std::vector<GraphQLError> validate(const Schema &schema, const Document &document);

}  // namespace pgi::gql
