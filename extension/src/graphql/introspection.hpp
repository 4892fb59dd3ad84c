// Introspection (October 2021 specification, section 4, as graphql-js 16 answers it): the
// values of __Schema, __Type, __Field, __InputValue, __EnumValue and __Directive fields,
// read from the Schema.
//
// Pure C++. The executor completes values of two kinds: JSON data from a resolver, and
// schema elements for introspection, which cannot be JSON up front (types refer to
// themselves). A Source is either.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "graphql/schema.hpp"

namespace pgi::gql {

struct Source {
  enum Kind { kJson, kList, kSchema, kType, kField, kInputValue, kEnumValue, kDirective };
  Kind kind = kJson;
  nlohmann::ordered_json value;   // kJson
  std::vector<Source> items;      // kList
  const TypeDef *type = nullptr;  // kType: a named type...
  TypeRefPtr wrapper;             // ...or a List / NonNull wrapper (type null)
  const FieldDef *field = nullptr;
  const InputValueDef *input = nullptr;
  const EnumValueDef *enum_value = nullptr;
  const DirectiveDef *directive = nullptr;

  static Source of_json(nlohmann::ordered_json value);
  static Source of_type(const Schema &schema, const TypeRefPtr &ref);
};

// The value of field `name` (with coerced `args`) of an introspection object.
Source introspect(const Schema &schema, const Source &object, const std::string &name,
                  const nlohmann::json &args);

}  // namespace pgi::gql
