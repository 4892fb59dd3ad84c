#include "graphql/introspection.hpp"

#include "graphql/print.hpp"

namespace pgi::gql {
namespace {

using json = nlohmann::ordered_json;

json text_or_null(const std::string &text) {
  return text.empty() ? json() : json(text);
}

bool include_deprecated(const nlohmann::json &args) {
  auto it = args.find("includeDeprecated");
  return it != args.end() && it->is_boolean() && it->get<bool>();
}

template <typename Def>
Source list_of(const std::vector<Def> &defs, const nlohmann::json &args, Source::Kind kind,
               const Def *Source::*member) {
  Source out;
  out.kind = Source::kList;
  bool all = include_deprecated(args);
  for (const Def &def : defs) {
    if (def.deprecated && !all)
      continue;
    Source item;
    item.kind = kind;
    item.*member = &def;
    out.items.push_back(item);
  }
  return out;
}

Source input_values(const std::vector<InputValueDef> &defs, const nlohmann::json &args) {
  return list_of(defs, args, Source::kInputValue, &Source::input);
}

Source empty_list() {
  Source out;
  out.kind = Source::kList;
  return out;
}

Source type_field(const Schema &schema, const Source &object, const std::string &name,
                  const nlohmann::json &args) {
  if (object.type == nullptr) {  // a wrapper
    if (name == "kind")
      return Source::of_json(object.wrapper->kind == TypeRef::kList ? "LIST" : "NON_NULL");
    if (name == "ofType")
      return Source::of_type(schema, object.wrapper->of);
    return Source::of_json(nullptr);
  }
  const TypeDef &t = *object.type;
  if (name == "kind")
    return Source::of_json(type_kind_name(t.kind));
  if (name == "name")
    return Source::of_json(t.name);
  if (name == "description")
    return Source::of_json(text_or_null(t.description));
  if (name == "specifiedByURL")
    return Source::of_json(text_or_null(t.specified_by_url));
  if (name == "fields") {
    if (t.kind != TypeKind::kObject && t.kind != TypeKind::kInterface)
      return Source::of_json(nullptr);
    return list_of(t.fields, args, Source::kField, &Source::field);
  }
  if (name == "interfaces") {
    if (t.kind != TypeKind::kObject && t.kind != TypeKind::kInterface)
      return Source::of_json(nullptr);
    return empty_list();
  }
  if (name == "possibleTypes") {
    if (t.kind != TypeKind::kInterface && t.kind != TypeKind::kUnion)
      return Source::of_json(nullptr);
    return empty_list();
  }
  if (name == "enumValues") {
    if (t.kind != TypeKind::kEnum)
      return Source::of_json(nullptr);
    return list_of(t.enum_values, args, Source::kEnumValue, &Source::enum_value);
  }
  if (name == "inputFields") {
    if (t.kind != TypeKind::kInputObject)
      return Source::of_json(nullptr);
    return input_values(t.input_fields, args);
  }
  if (name == "isOneOf")
    return Source::of_json(t.kind == TypeKind::kInputObject ? json(false) : json());
  return Source::of_json(nullptr);  // ofType of a named type
}

// The members every element with a deprecation shares.
template <typename Def>
Source deprecation_field(const Def &def, const std::string &name) {
  if (name == "isDeprecated")
    return Source::of_json(def.deprecated);
  if (name == "deprecationReason")
    return Source::of_json(def.deprecated ? json(def.deprecation_reason) : json());
  return Source::of_json(nullptr);
}

}  // namespace

Source Source::of_json(nlohmann::ordered_json value) {
  Source s;
  s.value = std::move(value);
  return s;
}

Source Source::of_type(const Schema &schema, const TypeRefPtr &ref) {
  Source s;
  s.kind = kType;
  if (ref->kind == TypeRef::kNamed)
    s.type = schema.type(ref->name);
  else
    s.wrapper = ref;
  return s;
}

Source introspect(const Schema &schema, const Source &object, const std::string &name,
                  const nlohmann::json &args) {
  switch (object.kind) {
    case Source::kSchema: {
      if (name == "types") {
        Source out = empty_list();
        for (const auto &t : schema.types()) {
          Source item;
          item.kind = Source::kType;
          item.type = t.get();
          out.items.push_back(item);
        }
        return out;
      }
      auto root = [&](const TypeDef *t) {
        if (t == nullptr)
          return Source::of_json(nullptr);
        Source s;
        s.kind = Source::kType;
        s.type = t;
        return s;
      };
      if (name == "queryType")
        return root(schema.query_type());
      if (name == "mutationType")
        return root(schema.mutation_type());
      if (name == "subscriptionType")
        return root(schema.subscription_type());
      if (name == "directives") {
        Source out = empty_list();
        for (const DirectiveDef &d : schema.directives()) {
          Source item;
          item.kind = Source::kDirective;
          item.directive = &d;
          out.items.push_back(item);
        }
        return out;
      }
      return Source::of_json(nullptr);  // description
    }
    case Source::kType:
      return type_field(schema, object, name, args);
    case Source::kField: {
      const FieldDef &f = *object.field;
      if (name == "name")
        return Source::of_json(f.name);
      if (name == "description")
        return Source::of_json(text_or_null(f.description));
      if (name == "args")
        return input_values(f.args, args);
      if (name == "type")
        return Source::of_type(schema, f.type);
      return deprecation_field(f, name);
    }
    case Source::kInputValue: {
      const InputValueDef &v = *object.input;
      if (name == "name")
        return Source::of_json(v.name);
      if (name == "description")
        return Source::of_json(text_or_null(v.description));
      if (name == "type")
        return Source::of_type(schema, v.type);
      if (name == "defaultValue")
        return Source::of_json(v.has_default ? json(print_value(v.default_value)) : json());
      return deprecation_field(v, name);
    }
    case Source::kEnumValue: {
      const EnumValueDef &e = *object.enum_value;
      if (name == "name")
        return Source::of_json(e.name);
      if (name == "description")
        return Source::of_json(text_or_null(e.description));
      return deprecation_field(e, name);
    }
    case Source::kDirective: {
      const DirectiveDef &d = *object.directive;
      if (name == "name")
        return Source::of_json(d.name);
      if (name == "description")
        return Source::of_json(text_or_null(d.description));
      if (name == "isRepeatable")
        return Source::of_json(d.repeatable);
      if (name == "locations")
        return Source::of_json(d.locations);
      if (name == "args")
        return input_values(d.args, args);
      if (name == "isDeprecated")
        return Source::of_json(false);
      return Source::of_json(nullptr);  // deprecationReason
    }
    default:
      return Source::of_json(nullptr);
  }
}

}  // namespace pgi::gql
