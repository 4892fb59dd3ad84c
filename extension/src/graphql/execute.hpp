// Executing a GraphQL request (October 2021 specification, section 6): parse, validate,
// select the operation, coerce variables, execute root fields (serially for mutations) and
// complete values against the schema, with null propagation and errors carrying paths.
//
// Pure C++. What data a root field returns is not decided here: a RootResolver does that
// (graphql/directus.hpp, over the Directus API); introspection (__schema, __type, __typename) is
// answered here from the schema. The response is JSON text with the keys in selection order,
// as the specification asks of an ordered serialization and as Directus writes it.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graphql/ast.hpp"
#include "graphql/error.hpp"
#include "graphql/schema.hpp"

namespace pgi::gql {

// The sub-fields selected under a root field, fragments and @skip/@include applied:
// `countAll`, `count { id status }` -> {countAll: {}, count: {id, status}}. Aggregates need it.
struct SubSelection {
  std::vector<std::string> names;                     // in first-selected order
  std::vector<std::vector<std::string>> child_names;  // parallel to `names`
  bool has(std::string_view name) const;
  const std::vector<std::string> *children(std::string_view name) const;
};

class RootResolver {
 public:
  virtual ~RootResolver() = default;
  // The value of root field `field` of `root` (Query or Mutation) with coerced `args`: JSON
  // objects and arrays whose keys are the schema's field names (a JSON scalar's value keeps
  // its keys' order). Throws FieldError.
  virtual nlohmann::ordered_json resolve(const TypeDef &root, const FieldDef &field,
                                         const nlohmann::json &args,
                                         const SubSelection &selection) = 0;
};

struct Request {
  std::string_view query;
  nlohmann::json variables = nlohmann::json::object();  // must be an object
  std::optional<std::string> operation_name;
  // False for a GET request: a mutation is refused (code METHOD_NOT_ALLOWED, HTTP 405), as
  // GraphQL over HTTP asks, since GET must not change anything.
  bool allow_mutations = true;
};

// Bounds on one execution, beyond the document's own (graphql/parser.hpp, graphql/validate.hpp).
inline constexpr size_t kMaxResponseFields = 200000;  // field values completed
inline constexpr size_t kMaxRootFields =
    50;  // root fields (each notification field is a statement)

// The response as JSON text, with the HTTP status GraphQL over HTTP gives it: {"data": ...}
// (with "errors" when there are any) is 200; a request that cannot run (syntax, validation,
// variables, operation, bounds) has "errors" and no "data" and is 400, or 405 when it is a
// mutation sent with GET (code METHOD_NOT_ALLOWED).
struct Response {
  std::string body;
  int status = 200;
};

Response execute_request(const Schema &schema, const Request &request, RootResolver &resolver);

// A request refused before its document is read (no query string, variables that are not an
// object): {"errors": [{"message", "extensions": {"code": "GRAPHQL_EXECUTION"}}]}, status 400.
Response request_error(const std::string &message);

}  // namespace pgi::gql
