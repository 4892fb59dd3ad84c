#include "graphql/schema.hpp"

#include <algorithm>

#include "core/errors.hpp"
#include "core/notification_fields.hpp"
#include "graphql/parser.hpp"

namespace pgi::gql {
namespace {

// The notifications part of Directus 11's system schema, as pg_inbox serves it. Differences
// from Directus, each deliberate:
//  - recipient and sender are the user ids as strings (pg_inbox has no users collection to
//    nest), in the type, the inputs and the filter; this is also how the seed documents them.
//  - subject may be null and may be omitted on create, as a notification's title can.
//  - no subscriptions, and nothing of the rest of the system collections.
constexpr std::string_view kRootsSdl = R"graphql(
type Query {
  notifications(filter: directus_notifications_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String): [directus_notifications!]!
  notifications_by_id(id: ID!, version: String): directus_notifications
  notifications_aggregated(groupBy: [String], filter: directus_notifications_filter, limit: Int, offset: Int, page: Int, search: String, sort: [String]): [directus_notifications_aggregated!]!
}

type Mutation {
  create_notifications_items(filter: directus_notifications_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String, data: [create_directus_notifications_input!]): [directus_notifications!]!
  create_notifications_item(data: create_directus_notifications_input!): directus_notifications
  update_notifications_items(filter: directus_notifications_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String, ids: [ID]!, data: update_directus_notifications_input!): [directus_notifications!]!
  update_notifications_batch(filter: directus_notifications_filter, sort: [String], limit: Int, offset: Int, page: Int, search: String, data: [update_directus_notifications_input!]): [directus_notifications!]!
  update_notifications_item(id: ID!, data: update_directus_notifications_input!): directus_notifications
  delete_notifications_items(ids: [ID]!): delete_many
  delete_notifications_item(id: ID!): delete_one
}

"""The `Boolean` scalar type represents `true` or `false`."""
scalar Boolean

"""ISO8601 Date values"""
scalar Date

"""
The `Float` scalar type represents signed double-precision fractional values as specified by [IEEE 754](https://en.wikipedia.org/wiki/IEEE_floating_point).
"""
scalar Float

"""A Float or a String"""
scalar GraphQLStringOrFloat

"""
The `ID` scalar type represents a unique identifier, often used to refetch an object or as key for a cache. The ID type appears in a JSON response as a String; however, it is not intended to be human-readable. When expected as an input type, any string (such as `"4"`) or integer (such as `4`) input value will be accepted as an ID.
"""
scalar ID

"""
The `Int` scalar type represents non-fractional signed whole numeric values. Int can represent values between -(2^31) and 2^31 - 1.
"""
scalar Int

"""
The `JSON` scalar type represents JSON values as specified by [ECMA-404](http://www.ecma-international.org/publications/files/ECMA-ST/ECMA-404.pdf).
"""
scalar JSON

"""
The `String` scalar type represents textual data, represented as UTF-8 character sequences. The String type is most often used by GraphQL to represent free-form human-readable text.
"""
scalar String

type datetime_functions {
  year: Int
  month: Int
  week: Int
  day: Int
  weekday: Int
  hour: Int
  minute: Int
  second: Int
}

type delete_many {
  ids: [ID]!
}

type delete_one {
  id: ID!
}
)graphql";

// The blocks that describe the notification's fields are generated from the field registry
// (directus_sdl() below); these are the fixed parts between them, in the order they are joined.
constexpr std::string_view kAggregatedSdl = R"graphql(
type directus_notifications_aggregated {
  group: JSON
  countAll: Int
  count: directus_notifications_aggregated_count
  countDistinct: directus_notifications_aggregated_count
  avg: directus_notifications_aggregated_fields
  sum: directus_notifications_aggregated_fields
  avgDistinct: directus_notifications_aggregated_fields
  sumDistinct: directus_notifications_aggregated_fields
  min: directus_notifications_aggregated_fields
  max: directus_notifications_aggregated_fields
}
)graphql";

constexpr std::string_view kDateOperatorsSdl = R"graphql(
input date_filter_operators {
  _eq: String
  _neq: String
  _gt: String
  _gte: String
  _lt: String
  _lte: String
  _null: Boolean
  _nnull: Boolean
  _in: [String]
  _nin: [String]
  _between: [GraphQLStringOrFloat]
  _nbetween: [GraphQLStringOrFloat]
}

input datetime_function_filter_operators {
  year: number_filter_operators
  month: number_filter_operators
  week: number_filter_operators
  day: number_filter_operators
  weekday: number_filter_operators
  hour: number_filter_operators
  minute: number_filter_operators
  second: number_filter_operators
}
)graphql";

constexpr std::string_view kOperatorsSdl = R"graphql(
input number_filter_operators {
  _eq: GraphQLStringOrFloat
  _neq: GraphQLStringOrFloat
  _in: [GraphQLStringOrFloat]
  _nin: [GraphQLStringOrFloat]
  _gt: GraphQLStringOrFloat
  _gte: GraphQLStringOrFloat
  _lt: GraphQLStringOrFloat
  _lte: GraphQLStringOrFloat
  _null: Boolean
  _nnull: Boolean
  _between: [GraphQLStringOrFloat]
  _nbetween: [GraphQLStringOrFloat]
}

input string_filter_operators {
  _eq: String
  _neq: String
  _contains: String
  _icontains: String
  _ncontains: String
  _starts_with: String
  _nstarts_with: String
  _istarts_with: String
  _nistarts_with: String
  _ends_with: String
  _nends_with: String
  _iends_with: String
  _niends_with: String
  _in: [String]
  _nin: [String]
  _null: Boolean
  _nnull: Boolean
  _empty: Boolean
  _nempty: Boolean
}
)graphql";

// The introspection system and the specified directives, exactly as graphql-js 16 defines
// them, so that every option of its getIntrospectionQuery() can be answered.
constexpr std::string_view kIntrospectionSdl = R"graphql(
"""
Directs the executor to include this field or fragment only when the `if` argument is true.
"""
directive @include(
  """Included when true."""
  if: Boolean!
) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT

"""
Directs the executor to skip this field or fragment when the `if` argument is true.
"""
directive @skip(
  """Skipped when true."""
  if: Boolean!
) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT

"""Marks an element of a GraphQL schema as no longer supported."""
directive @deprecated(
  """
  Explains why this element was deprecated, usually also including a suggestion for how to access supported similar data. Formatted using the Markdown syntax, as specified by [CommonMark](https://commonmark.org/).
  """
  reason: String = "No longer supported"
) on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE

"""Exposes a URL that specifies the behavior of this scalar."""
directive @specifiedBy(
  """The URL that specifies the behavior of this scalar."""
  url: String!
) on SCALAR

"""
A GraphQL Schema defines the capabilities of a GraphQL server. It exposes all available types and directives on the server, as well as the entry points for query, mutation, and subscription operations.
"""
type __Schema {
  description: String

  """A list of all types supported by this server."""
  types: [__Type!]!

  """The type that query operations will be rooted at."""
  queryType: __Type!

  """
  If this server supports mutation, the type that mutation operations will be rooted at.
  """
  mutationType: __Type

  """
  If this server support subscription, the type that subscription operations will be rooted at.
  """
  subscriptionType: __Type

  """A list of all directives supported by this server."""
  directives(includeDeprecated: Boolean! = false): [__Directive!]!
}

"""
The fundamental unit of any GraphQL Schema is the type. There are many kinds of types in GraphQL as represented by the `__TypeKind` enum.

Depending on the kind of a type, certain fields describe information about that type. Scalar types provide no information beyond a name, description and optional `specifiedByURL`, while Enum types provide their values. Object and Interface types provide the fields they describe. Abstract types, Union and Interface, provide the Object types possible at runtime. List and NonNull types compose other types.
"""
type __Type {
  kind: __TypeKind!
  name: String
  description: String
  specifiedByURL: String
  fields(includeDeprecated: Boolean = false): [__Field!]
  interfaces: [__Type!]
  possibleTypes: [__Type!]
  enumValues(includeDeprecated: Boolean = false): [__EnumValue!]
  inputFields(includeDeprecated: Boolean = false): [__InputValue!]
  ofType: __Type
  isOneOf: Boolean
}

"""An enum describing what kind of type a given `__Type` is."""
enum __TypeKind {
  """Indicates this type is a scalar."""
  SCALAR

  """
  Indicates this type is an object. `fields` and `interfaces` are valid fields.
  """
  OBJECT

  """
  Indicates this type is an interface. `fields`, `interfaces`, and `possibleTypes` are valid fields.
  """
  INTERFACE

  """Indicates this type is a union. `possibleTypes` is a valid field."""
  UNION

  """Indicates this type is an enum. `enumValues` is a valid field."""
  ENUM

  """
  Indicates this type is an input object. `inputFields` is a valid field.
  """
  INPUT_OBJECT

  """Indicates this type is a list. `ofType` is a valid field."""
  LIST

  """Indicates this type is a non-null. `ofType` is a valid field."""
  NON_NULL
}

"""
Object and Interface types are described by a list of Fields, each of which has a name, potentially a list of arguments, and a return type.
"""
type __Field {
  name: String!
  description: String
  args(includeDeprecated: Boolean = false): [__InputValue!]!
  type: __Type!
  isDeprecated: Boolean!
  deprecationReason: String
}

"""
Arguments provided to Fields or Directives and the input fields of an InputObject are represented as Input Values which describe their type and optionally a default value.
"""
type __InputValue {
  name: String!
  description: String
  type: __Type!

  """
  A GraphQL-formatted string representing the default value for this input value.
  """
  defaultValue: String
  isDeprecated: Boolean!
  deprecationReason: String
}

"""
One possible value for a given Enum. Enum values are unique values, not a placeholder for a string or numeric value. However an Enum value is returned in a JSON response as a string.
"""
type __EnumValue {
  name: String!
  description: String
  isDeprecated: Boolean!
  deprecationReason: String
}

"""
A Directive provides a way to describe alternate runtime execution and type validation behavior in a GraphQL document.

In some cases, you need to provide options to alter GraphQL's execution behavior in ways field arguments will not suffice, such as conditionally including or skipping a field. Directives provide this by describing additional information to the executor.
"""
type __Directive {
  name: String!
  description: String
  isRepeatable: Boolean!
  locations: [__DirectiveLocation!]!
  args(includeDeprecated: Boolean = false): [__InputValue!]!
  isDeprecated: Boolean!
  deprecationReason: String
}

"""
A Directive can be adjacent to many parts of the GraphQL language, a __DirectiveLocation describes one such possible adjacencies.
"""
enum __DirectiveLocation {
  """Location adjacent to a query operation."""
  QUERY

  """Location adjacent to a mutation operation."""
  MUTATION

  """Location adjacent to a subscription operation."""
  SUBSCRIPTION

  """Location adjacent to a field."""
  FIELD

  """Location adjacent to a fragment definition."""
  FRAGMENT_DEFINITION

  """Location adjacent to a fragment spread."""
  FRAGMENT_SPREAD

  """Location adjacent to an inline fragment."""
  INLINE_FRAGMENT

  """Location adjacent to a variable definition."""
  VARIABLE_DEFINITION

  """Location adjacent to a schema definition."""
  SCHEMA

  """Location adjacent to a scalar definition."""
  SCALAR

  """Location adjacent to an object type definition."""
  OBJECT

  """Location adjacent to a field definition."""
  FIELD_DEFINITION

  """Location adjacent to an argument definition."""
  ARGUMENT_DEFINITION

  """Location adjacent to an interface definition."""
  INTERFACE

  """Location adjacent to a union definition."""
  UNION

  """Location adjacent to an enum definition."""
  ENUM

  """Location adjacent to an enum value definition."""
  ENUM_VALUE

  """Location adjacent to an input object type definition."""
  INPUT_OBJECT

  """Location adjacent to an input object field definition."""
  INPUT_FIELD_DEFINITION
}
)graphql";

// The GraphQL type of a Directus field, as Directus's schema types it: the key (the first
// field) ID, a number Int, a timestamp Date (with its datetime functions), anything else String.
std::string output_type(const NotificationField &f, bool key) {
  switch (f.directus_kind()) {
    case ValueKind::kNumber:
      return key ? "ID!" : "Int";
    case ValueKind::kTimestamp:
      return "Date";
    default:
      return "String";
  }
}

std::string input_type(const NotificationField &f, bool key) {
  std::string type = output_type(f, key);
  if (type.back() == '!')
    type.pop_back();
  return type;
}

std::string filter_type(const NotificationField &f) {
  switch (f.directus_kind()) {
    case ValueKind::kNumber:
      return "number_filter_operators";
    case ValueKind::kTimestamp:
      return "date_filter_operators";
    default:
      return "string_filter_operators";
  }
}

// `kind name {` one line per Directus field `}`; `line` returns a field's lines.
template <typename Line>
std::string sdl_block(const std::string &head, Line &&line, const std::string &tail = {}) {
  std::string out = "\n" + head + " {\n";
  const auto &fields = directus_notification_fields();
  for (size_t i = 0; i < fields.size(); ++i)
    out += line(*fields[i], i == 0);
  return out + tail + "}\n";
}

// The notifications part of Directus's system schema, its fields from the registry.
std::string directus_sdl() {
  auto named = [](const NotificationField &f, const std::string &type) {
    return "  " + std::string(f.directus.name) + ": " + type + "\n";
  };
  auto with_functions = [](const NotificationField &f, const char *type) {
    return f.directus_kind() == ValueKind::kTimestamp
               ? "  " + std::string(f.directus.name) + "_func: " + type + "\n"
               : std::string();
  };
  // Directus's inputs list every one of its fields; of pg_inbox's extra ones, those a create
  // (expires_at) or an update may give.
  auto create_input = [&](const NotificationField &f, bool key) {
    return f.directus.extra && !f.on_create ? std::string() : named(f, input_type(f, key));
  };
  auto update_input = [&](const NotificationField &f, bool key) {
    return f.directus.extra && !f.on_update ? std::string() : named(f, input_type(f, key));
  };
  std::string sdl(kRootsSdl);
  sdl += sdl_block("type directus_notifications", [&](const NotificationField &f, bool key) {
    std::string description;
    if (!f.directus.description.empty())
      description = "  \"\"\"" + std::string(f.directus.description) + "\"\"\"\n";
    return description + named(f, output_type(f, key)) + with_functions(f, "datetime_functions");
  });
  sdl += kAggregatedSdl;
  // Directus's own: pg_inbox's extra fields are not counted here (seen_at is not aggregated).
  sdl += sdl_block("type directus_notifications_aggregated_count",
                   [&](const NotificationField &f, bool) {
                     return f.directus.extra ? std::string() : named(f, "Int");
                   });
  sdl += sdl_block(
      "type directus_notifications_aggregated_fields", [&](const NotificationField &f, bool) {
        return f.directus_kind() == ValueKind::kNumber ? named(f, "Float") : std::string();
      });
  sdl += sdl_block("input create_directus_notifications_input", create_input);
  sdl += kDateOperatorsSdl;
  sdl += sdl_block(
      "input directus_notifications_filter",
      [&](const NotificationField &f, bool) {
        return named(f, filter_type(f)) + with_functions(f, "datetime_function_filter_operators");
      },
      "  _and: [directus_notifications_filter]\n  _or: [directus_notifications_filter]\n");
  sdl += kOperatorsSdl;
  sdl += sdl_block("input update_directus_notifications_input", update_input);
  return sdl;
}

[[noreturn]] void schema_bug(const std::string &what) {
  throw Error(sqlstate::kInternalError, "GraphQL schema: " + what);
}

// Reads the SDL subset our schema is written in, with the request parser's building blocks.
class SdlLoader {
 public:
  SdlLoader(std::string_view sdl) : parser_(sdl, ParseLimits{1 << 20, 200000, 64}) {}

  void load(std::vector<std::unique_ptr<TypeDef>> &types, std::vector<DirectiveDef> &directives) {
    while (!parser_.peek(TokenKind::kEof)) {
      std::string description = parser_.parse_optional_description();
      if (parser_.expect_optional_keyword("directive")) {
        directives.push_back(directive(std::move(description)));
        continue;
      }
      auto type = std::make_unique<TypeDef>();
      type->description = std::move(description);
      auto begin = [&](TypeKind kind) {
        type->kind = kind;
        type->name = parser_.parse_name();
      };
      if (parser_.expect_optional_keyword("scalar")) {
        begin(TypeKind::kScalar);
        for (const Directive &d : parser_.parse_directives(true))
          if (d.name == "specifiedBy" && !d.arguments.empty())
            type->specified_by_url = d.arguments[0].value.text;
      } else if (parser_.expect_optional_keyword("type")) {
        begin(TypeKind::kObject);
        braced([&] { type->fields.push_back(field()); });
      } else if (parser_.expect_optional_keyword("input")) {
        begin(TypeKind::kInputObject);
        braced([&] { type->input_fields.push_back(input_value()); });
      } else if (parser_.expect_optional_keyword("enum")) {
        begin(TypeKind::kEnum);
        braced([&] {
          EnumValueDef value;
          value.description = parser_.parse_optional_description();
          value.name = parser_.parse_name();
          deprecation(parser_.parse_directives(true), value.deprecated, value.deprecation_reason);
          type->enum_values.push_back(std::move(value));
        });
      } else {
        parser_.unexpected();
      }
      types.push_back(std::move(type));
    }
  }

 private:
  // `{ item item ... }`
  template <typename Item>
  void braced(Item &&item) {
    parser_.expect(TokenKind::kBraceL);
    while (!parser_.expect_optional(TokenKind::kBraceR))
      item();
  }

  static void deprecation(const std::vector<Directive> &directives, bool &deprecated,
                          std::string &reason) {
    for (const Directive &d : directives) {
      if (d.name != "deprecated")
        continue;
      deprecated = true;
      reason = d.arguments.empty() ? "No longer supported" : d.arguments[0].value.text;
    }
  }

  InputValueDef input_value() {
    InputValueDef value;
    value.description = parser_.parse_optional_description();
    value.name = parser_.parse_name();
    parser_.expect(TokenKind::kColon);
    value.type = parser_.parse_type_reference();
    if (parser_.expect_optional(TokenKind::kEquals)) {
      value.has_default = true;
      value.default_value = parser_.parse_value(true);
    }
    deprecation(parser_.parse_directives(true), value.deprecated, value.deprecation_reason);
    return value;
  }

  std::vector<InputValueDef> arguments() {
    std::vector<InputValueDef> args;
    if (parser_.expect_optional(TokenKind::kParenL))
      while (!parser_.expect_optional(TokenKind::kParenR))
        args.push_back(input_value());
    return args;
  }

  FieldDef field() {
    FieldDef f;
    f.description = parser_.parse_optional_description();
    f.name = parser_.parse_name();
    f.args = arguments();
    parser_.expect(TokenKind::kColon);
    f.type = parser_.parse_type_reference();
    deprecation(parser_.parse_directives(true), f.deprecated, f.deprecation_reason);
    return f;
  }

  DirectiveDef directive(std::string description) {
    DirectiveDef d;
    d.description = std::move(description);
    parser_.expect(TokenKind::kAt);
    d.name = parser_.parse_name();
    d.args = arguments();
    d.repeatable = parser_.expect_optional_keyword("repeatable");
    parser_.expect_keyword("on");
    parser_.expect_optional(TokenKind::kPipe);
    do {
      d.locations.push_back(parser_.parse_name());
    } while (parser_.expect_optional(TokenKind::kPipe));
    return d;
  }

  Parser parser_;
};

template <typename T>
const T *find_named(const std::vector<T> &list, std::string_view name) {
  for (const T &item : list)
    if (item.name == name)
      return &item;
  return nullptr;
}

}  // namespace

const char *type_kind_name(TypeKind kind) {
  switch (kind) {
    case TypeKind::kScalar:
      return "SCALAR";
    case TypeKind::kObject:
      return "OBJECT";
    case TypeKind::kInterface:
      return "INTERFACE";
    case TypeKind::kUnion:
      return "UNION";
    case TypeKind::kEnum:
      return "ENUM";
    case TypeKind::kInputObject:
      return "INPUT_OBJECT";
  }
  return "SCALAR";
}

const InputValueDef *FieldDef::arg(std::string_view name) const {
  return find_named(args, name);
}
const InputValueDef *DirectiveDef::arg(std::string_view name) const {
  return find_named(args, name);
}
bool DirectiveDef::allowed_at(std::string_view location) const {
  return std::find(locations.begin(), locations.end(), location) != locations.end();
}
const FieldDef *TypeDef::field(std::string_view name) const {
  return find_named(fields, name);
}
const InputValueDef *TypeDef::input_field(std::string_view name) const {
  return find_named(input_fields, name);
}
const EnumValueDef *TypeDef::enum_value(std::string_view name) const {
  return find_named(enum_values, name);
}

Schema::Schema(std::string_view sdl) {
  try {
    SdlLoader(sdl).load(types_, directives_);
  } catch (const SyntaxError &e) {
    schema_bug(std::string(e.what()) + " at line " + std::to_string(e.location().line));
  }
  for (const auto &type : types_)
    if (!by_name_.emplace(type->name, type.get()).second)
      schema_bug("type " + type->name + " is defined twice");
  query_ = type("Query");
  mutation_ = type("Mutation");
  if (query_ == nullptr)
    schema_bug("no Query type");

  typename_.name = "__typename";
  typename_.description = "The name of the current Object type at runtime.";
  typename_.type = TypeRef::non_null(TypeRef::named("String"));
  schema_.name = "__schema";
  schema_.description = "Access the current type schema of this server.";
  schema_.type = TypeRef::non_null(TypeRef::named("__Schema"));
  type_.name = "__type";
  type_.description = "Request the type information of a single type.";
  type_.type = TypeRef::named("__Type");
  InputValueDef name_arg;
  name_arg.name = "name";
  name_arg.type = TypeRef::non_null(TypeRef::named("String"));
  type_.args.push_back(name_arg);

  // Every type named anywhere must exist, with the right kind for where it is used.
  auto check = [&](const TypeRefPtr &ref, bool input, const std::string &where) {
    const TypeDef *t = type(ref->base_name());
    if (t == nullptr)
      schema_bug(where + " names unknown type " + ref->base_name());
    if (input != t->is_input() && t->kind != TypeKind::kScalar && t->kind != TypeKind::kEnum)
      schema_bug(where + " uses " + t->name + " in the wrong position");
  };
  for (const auto &t : types_) {
    for (const FieldDef &f : t->fields) {
      check(f.type, false, t->name + "." + f.name);
      for (const InputValueDef &a : f.args)
        check(a.type, true, t->name + "." + f.name);
    }
    for (const InputValueDef &f : t->input_fields)
      check(f.type, true, t->name + "." + f.name);
  }
  for (const DirectiveDef &d : directives_)
    for (const InputValueDef &a : d.args)
      check(a.type, true, "@" + d.name);
}

const TypeDef *Schema::type(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const DirectiveDef *Schema::directive(std::string_view name) const {
  return find_named(directives_, name);
}

const TypeDef *Schema::root_type(OperationDefinition::Kind kind) const {
  switch (kind) {
    case OperationDefinition::kQuery:
      return query_;
    case OperationDefinition::kMutation:
      return mutation_;
    case OperationDefinition::kSubscription:
      return subscription_type();
  }
  return nullptr;
}

const Schema &Schema::directus_system() {
  static const Schema *schema = nullptr;
  if (schema == nullptr) {
    std::string sdl = directus_sdl();
    sdl += kIntrospectionSdl;
    schema = new Schema(sdl);
  }
  return *schema;
}

const FieldDef *find_field(const Schema &schema, const TypeDef &parent, std::string_view name) {
  if (name == "__typename")
    return &schema.typename_field();
  if (&parent == schema.query_type()) {
    if (name == "__schema")
      return &schema.schema_field();
    if (name == "__type")
      return &schema.type_field();
  }
  return parent.field(name);
}

}  // namespace pgi::gql
