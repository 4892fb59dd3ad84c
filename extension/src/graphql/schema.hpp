// The GraphQL schema pg_inbox serves: the notifications part of Directus's system schema
// (`POST /graphql/system`), plus the introspection types and the specified directives.
//
// Pure C++. The schema is written once as SDL text (graphql/schema.cpp) and loaded on first
// use into the plain structures below, which validation, execution and introspection read.
// It lives for the life of the backend (a function-local pointer, never a global object).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "graphql/ast.hpp"

namespace pgi::gql {

enum class TypeKind { kScalar, kObject, kInterface, kUnion, kEnum, kInputObject };

const char *type_kind_name(TypeKind kind);  // "OBJECT", as __TypeKind spells it

struct InputValueDef {
  std::string name;
  std::string description;
  TypeRefPtr type;
  bool has_default = false;
  Value default_value;
  bool deprecated = false;
  std::string deprecation_reason;
};

struct FieldDef {
  std::string name;
  std::string description;
  std::vector<InputValueDef> args;
  TypeRefPtr type;
  bool deprecated = false;
  std::string deprecation_reason;

  const InputValueDef *arg(std::string_view name) const;
};

struct EnumValueDef {
  std::string name;
  std::string description;
  bool deprecated = false;
  std::string deprecation_reason;
};

struct TypeDef {
  TypeKind kind = TypeKind::kScalar;
  std::string name;
  std::string description;
  std::string specified_by_url;
  std::vector<FieldDef> fields;             // objects
  std::vector<InputValueDef> input_fields;  // input objects
  std::vector<EnumValueDef> enum_values;    // enums

  const FieldDef *field(std::string_view name) const;
  const InputValueDef *input_field(std::string_view name) const;
  const EnumValueDef *enum_value(std::string_view name) const;
  bool is_leaf() const { return kind == TypeKind::kScalar || kind == TypeKind::kEnum; }
  bool is_composite() const {
    return kind == TypeKind::kObject || kind == TypeKind::kInterface || kind == TypeKind::kUnion;
  }
  bool is_input() const { return is_leaf() || kind == TypeKind::kInputObject; }
};

struct DirectiveDef {
  std::string name;
  std::string description;
  std::vector<InputValueDef> args;
  std::vector<std::string> locations;  // "FIELD", "FRAGMENT_SPREAD", ...
  bool repeatable = false;

  const InputValueDef *arg(std::string_view name) const;
  bool allowed_at(std::string_view location) const;
};

class Schema {
 public:
  // The schema of /graphql/system, built on first use.
  static const Schema &directus_system();

  // Loads a schema from SDL (descriptions, scalar, type, input, enum, directive, @deprecated).
  // Throws pgi::Error if the text is not a consistent schema: it is ours, so that is a bug.
  explicit Schema(std::string_view sdl);

  const TypeDef *type(std::string_view name) const;
  const std::vector<std::unique_ptr<TypeDef>> &types() const { return types_; }
  const DirectiveDef *directive(std::string_view name) const;
  const std::vector<DirectiveDef> &directives() const { return directives_; }

  const TypeDef *query_type() const { return query_; }
  const TypeDef *mutation_type() const { return mutation_; }
  const TypeDef *subscription_type() const { return nullptr; }
  const TypeDef *root_type(OperationDefinition::Kind kind) const;

  // The meta-fields every request may select: __typename everywhere, __schema and __type on
  // the query root. Not listed among any type's fields.
  const FieldDef &typename_field() const { return typename_; }
  const FieldDef &schema_field() const { return schema_; }
  const FieldDef &type_field() const { return type_; }

 private:
  std::vector<std::unique_ptr<TypeDef>> types_;
  std::map<std::string, const TypeDef *, std::less<>> by_name_;
  std::vector<DirectiveDef> directives_;
  const TypeDef *query_ = nullptr;
  const TypeDef *mutation_ = nullptr;
  FieldDef typename_, schema_, type_;
};

// The field definition a selection resolves to on `parent` (meta-fields included), or null.
const FieldDef *find_field(const Schema &schema, const TypeDef &parent, std::string_view name);

}  // namespace pgi::gql
