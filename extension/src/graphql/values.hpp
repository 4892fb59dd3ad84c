// Input values against input types: checking literals (validation), coercing the request's
// variables (JSON) and coercing argument literals at execution, per the specification's
// input coercion rules and with graphql-js's messages.
//
// Pure C++. Coerced values are JSON: input objects as objects (an absent key means "not
// provided", which differs from null), lists as arrays, Int as integer, Float as number,
// String, ID, Date and enums as strings, JSON as itself, GraphQLStringOrFloat as string or number.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "graphql/ast.hpp"
#include "graphql/error.hpp"
#include "graphql/schema.hpp"

namespace pgi::gql {

using json = nlohmann::json;

// A variable used somewhere in a document, and the type expected where it stands.
struct VariableUsage {
  const Value *node;
  TypeRefPtr type;                    // null where the position's type is unknown
  bool location_has_default = false;  // the argument or input field has a default value
};

// ValuesOfCorrectType and UniqueInputFieldNames for one literal standing where `type` is
// expected (null: unknown, only variable usages are collected). Appends errors and usages.
void check_literal(const Schema &schema, const Value &value, const TypeRefPtr &type,
                   bool location_has_default, std::vector<GraphQLError> &errors,
                   std::vector<VariableUsage> &usages);

// Coerces the request's variables for an operation (CoerceVariableValues). Errors are
// request errors: the operation does not run.
json coerce_variables(const Schema &schema, const OperationDefinition &operation,
                      const json &inputs, std::vector<GraphQLError> &errors);

// The value of a validated literal, variables substituted (ValueFromAST). A variable that was
// not provided yields nullopt, so that callers fall back to defaults.
std::optional<json> literal_value(const Schema &schema, const Value &value, const TypeRef &type,
                                  const json &variables);

// The arguments of a field or directive (CoerceArgumentValues): an object with a key for each
// provided or defaulted argument. Throws FieldError when a variable makes a non-null argument
// null.
json coerce_arguments(const Schema &schema, const std::vector<InputValueDef> &definitions,
                      const std::vector<Argument> &arguments, const json &variables);

// How graphql-js's inspect() shows a JSON value in messages: "x", 5, { a: [1, 2] }.
std::string inspect(const json &value);

// graphql-js's suggestionList and didYouMean: ` Did you mean "a" or "b"?`, or empty.
std::vector<std::string> suggestion_list(const std::string &input,
                                         const std::vector<std::string> &options);
std::string did_you_mean(const std::vector<std::string> &suggestions);

}  // namespace pgi::gql
