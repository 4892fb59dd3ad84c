#include "graphql/execute.hpp"

#include <cmath>
#include <map>
#include <set>

#include "graphql/introspection.hpp"
#include "graphql/parser.hpp"
#include "graphql/validate.hpp"
#include "graphql/values.hpp"

namespace pgi::gql {
namespace {

using ojson = nlohmann::ordered_json;

// A completed value; !ok is a null caused by an error, on its way to the nearest nullable
// position (the specification's null propagation).
struct Completed {
  bool ok = true;
  ojson value;
};

// Bounds of graphql/execute.hpp, exceeded: the request stops with this message.
class TooLarge : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Response key -> the field nodes selected under it, in selection order.
class FieldGroups {
 public:
  void add(const Selection *node) {
    auto [it, fresh] = index_.emplace(node->response_name(), groups_.size());
    if (fresh)
      groups_.emplace_back(node->response_name(), std::vector<const Selection *>{});
    groups_[it->second].second.push_back(node);
  }
  const std::vector<std::pair<std::string, std::vector<const Selection *>>> &groups() const {
    return groups_;
  }

 private:
  std::map<std::string, size_t> index_;
  std::vector<std::pair<std::string, std::vector<const Selection *>>> groups_;
};

ojson location_json(const Location &l) {
  return ojson{{"line", l.line}, {"column", l.column}};
}

ojson error_json(const GraphQLError &e, bool with_code) {
  ojson out;
  out["message"] = e.message;
  if (with_code && !e.code.empty())
    out["extensions"] = ojson{{"code", e.code}};
  if (!e.locations.empty()) {
    ojson locations = ojson::array();
    for (const Location &l : e.locations)
      locations.push_back(location_json(l));
    out["locations"] = locations;
  }
  if (!e.path.empty()) {
    ojson path = ojson::array();
    for (const PathSegment &s : e.path) {
      if (const auto *key = std::get_if<std::string>(&s))
        path.push_back(*key);
      else
        path.push_back(std::get<size_t>(s));
    }
    out["path"] = path;
  }
  return out;
}

// Directus answers a document that does not parse or validate with one error wrapping them.
ojson validation_response(const std::vector<GraphQLError> &errors) {
  ojson inner = ojson::array();
  for (const GraphQLError &e : errors)
    inner.push_back(error_json(e, false));
  ojson wrapper;
  wrapper["message"] = "GraphQL validation error.";
  wrapper["extensions"] = ojson{{"errors", inner}, {"code", code::kValidation}};
  return ojson{{"errors", ojson::array({wrapper})}};
}

std::string number_text(const ojson &v) {
  if (v.is_number_integer())
    return v.dump();
  double d = v.get<double>();
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 1e21)
    return std::to_string(static_cast<long long>(d));
  return v.dump();
}

// A number given as text, as JavaScript's Number() reads it (for serializing Int and Float).
std::optional<double> numeric_text(const std::string &text) {
  if (text.empty())
    return std::nullopt;
  try {
    size_t used = 0;
    double d = std::stod(text, &used);
    if (used != text.size())
      return std::nullopt;
    return d;
  } catch (...) {
    return std::nullopt;
  }
}

// Result coercion of a leaf value (graphql-js's serialize): the value, or an error message.
std::optional<ojson> serialize(const TypeDef &type, const ojson &v, std::string &message) {
  auto inspect = [](const ojson &value) { return gql::inspect(nlohmann::json(value)); };
  const std::string &name = type.name;
  if (type.kind == TypeKind::kEnum) {
    if (v.is_string() && type.enum_value(v.get<std::string>()) != nullptr)
      return ojson(v);
    message = "Enum \"" + name + "\" cannot represent value: " + inspect(v);
    return std::nullopt;
  }
  if (name == "Int" || name == "Float") {
    std::optional<double> d;
    if (v.is_number())
      d = v.get<double>();
    else if (v.is_boolean())
      d = v.get<bool>() ? 1 : 0;
    else if (v.is_string())
      d = numeric_text(v.get<std::string>());
    if (name == "Float") {
      if (d && std::isfinite(*d))
        return v.is_number_integer() ? ojson(v) : ojson(*d);
      message = "Float cannot represent non numeric value: " + inspect(v);
      return std::nullopt;
    }
    if (!d || std::floor(*d) != *d) {
      message = "Int cannot represent non-integer value: " + inspect(v);
      return std::nullopt;
    }
    if (*d > 2147483647.0 || *d < -2147483648.0) {
      message = "Int cannot represent non 32-bit signed integer value: " + inspect(v);
      return std::nullopt;
    }
    return ojson(static_cast<int64_t>(*d));
  }
  if (name == "String" || name == "Date") {
    if (v.is_string())
      return ojson(v);
    if (v.is_boolean())
      return ojson(v.get<bool>() ? "true" : "false");
    if (v.is_number())
      return ojson(number_text(v));
    message = "String cannot represent value: " + inspect(v);
    return std::nullopt;
  }
  if (name == "Boolean") {
    if (v.is_boolean())
      return ojson(v);
    if (v.is_number())
      return ojson(v.get<double>() != 0);
    message = "Boolean cannot represent a non boolean value: " + inspect(v);
    return std::nullopt;
  }
  if (name == "ID") {
    if (v.is_string())
      return ojson(v);
    if (v.is_number_integer() ||
        (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
      return ojson(number_text(v));
    message = "ID cannot represent value: " + inspect(v);
    return std::nullopt;
  }
  return ojson(v);  // JSON, GraphQLStringOrFloat
}

class Executor {
 public:
  Executor(const Schema &schema, const Document &doc, const nlohmann::json &variables,
           RootResolver &resolver, std::vector<GraphQLError> &errors)
      : schema_(schema), doc_(doc), variables_(variables), resolver_(resolver), errors_(errors) {}

  ojson run(const OperationDefinition &op) {
    const TypeDef *root = schema_.root_type(op.kind);
    FieldGroups groups;
    std::set<std::string> visited;
    collect(*root, op.selection_set, groups, visited);
    if (groups.groups().size() > kMaxRootFields)
      throw TooLarge("The query is too complex: more than " + std::to_string(kMaxRootFields) +
                     " root fields.");
    ojson data = ojson::object();
    for (const auto &[key, nodes] : groups.groups()) {
      path_.emplace_back(key);
      Completed c = root_field(*root, nodes);
      path_.pop_back();
      if (!c.ok)
        return nullptr;  // a non-null root field failed: data is null
      data[key] = std::move(c.value);
    }
    return data;
  }

  SubSelection sub_selection(const TypeDef &type, const std::vector<const Selection *> &nodes) {
    SubSelection out;
    FieldGroups groups = subfields(type, nodes);
    for (const auto &[key, children] : groups.groups()) {
      const Selection *node = children[0];
      (void)key;
      out.names.push_back(node->name);
      std::vector<std::string> names;
      const FieldDef *def = find_field(schema_, type, node->name);
      const TypeDef *child = def ? schema_.type(def->type->base_name()) : nullptr;
      if (child != nullptr && child->kind == TypeKind::kObject) {
        FieldGroups grandchildren = subfields(*child, children);
        for (const auto &g : grandchildren.groups())
          names.push_back(g.second[0]->name);
      }
      out.child_names.push_back(std::move(names));
    }
    return out;
  }

 private:
  bool included(const std::vector<Directive> &directives) {
    for (const Directive &d : directives) {
      if (d.name != "skip" && d.name != "include")
        continue;
      nlohmann::json args =
          coerce_arguments(schema_, schema_.directive(d.name)->args, d.arguments, variables_);
      bool flag = args.value("if", false);
      if (d.name == "skip" ? flag : !flag)
        return false;
    }
    return true;
  }

  // CollectFields of the specification: fragments whose condition is this object type, each
  // once; @skip and @include applied.
  void collect(const TypeDef &type, const SelectionSet &set, FieldGroups &out,
               std::set<std::string> &visited) {
    for (const Selection &sel : set.selections) {
      if (!included(sel.directives))
        continue;
      switch (sel.kind) {
        case Selection::kField:
          out.add(&sel);
          break;
        case Selection::kInlineFragment:
          if (sel.type_condition.empty() || sel.type_condition == type.name)
            collect(type, sel.selection_set, out, visited);
          break;
        case Selection::kFragmentSpread: {
          if (!visited.insert(sel.name).second)
            break;
          for (const FragmentDefinition &frag : doc_.fragments) {
            if (frag.name != sel.name)
              continue;
            if (frag.type_condition == type.name)
              collect(type, frag.selection_set, out, visited);
            break;
          }
          break;
        }
      }
    }
  }

  FieldGroups subfields(const TypeDef &type, const std::vector<const Selection *> &nodes) {
    FieldGroups groups;
    std::set<std::string> visited;
    for (const Selection *node : nodes)
      if (node->has_selection_set)
        collect(type, node->selection_set, groups, visited);
    return groups;
  }

  void field_error(const std::string &message, const std::string &code,
                   const std::vector<const Selection *> &nodes) {
    GraphQLError e{message, {}, path_, code};
    for (const Selection *n : nodes)
      e.locations.push_back(n->loc);
    errors_.push_back(std::move(e));
  }

  Completed root_field(const TypeDef &root, const std::vector<const Selection *> &nodes) {
    const Selection &node = *nodes[0];
    const FieldDef *def = find_field(schema_, root, node.name);
    Source value;
    try {
      nlohmann::json args = coerce_arguments(schema_, def->args, node.arguments, variables_);
      if (node.name == "__typename") {
        value = Source::of_json(root.name);
      } else if (node.name == "__schema") {
        value.kind = Source::kSchema;
      } else if (node.name == "__type") {
        const TypeDef *t = schema_.type(args.value("name", ""));
        if (t == nullptr) {
          value = Source::of_json(nullptr);
        } else {
          value.kind = Source::kType;
          value.type = t;
        }
      } else {
        const TypeDef *type = schema_.type(def->type->base_name());
        value = Source::of_json(resolver_.resolve(root, *def, args, sub_selection(*type, nodes)));
      }
    } catch (const FieldError &e) {
      field_error(e.what(), e.code(), nodes);
      return Completed{!def->type->is_non_null(), nullptr};  // the error is the field's only one
    }
    return complete(*def->type, nodes, std::move(value), root.name + "." + def->name);
  }

  // Values are taken by value and moved down the tree: a list's rows are completed without
  // being copied.
  Completed complete(const TypeRef &type, const std::vector<const Selection *> &nodes, Source value,
                     const std::string &label) {
    if (type.kind == TypeRef::kNonNull) {
      Completed c = complete_inner(*type.of, nodes, std::move(value), label);
      if (c.ok && c.value.is_null()) {
        field_error("Cannot return null for non-nullable field " + label + ".", code::kInternal,
                    nodes);
        c.ok = false;
      }
      return c;
    }
    Completed c = complete_inner(type, nodes, std::move(value), label);
    if (!c.ok)
      return Completed{true, nullptr};
    return c;
  }

  Completed complete_inner(const TypeRef &type, const std::vector<const Selection *> &nodes,
                           Source value, const std::string &label) {
    if (value.kind == Source::kJson && value.value.is_null())
      return Completed{true, nullptr};
    if (type.kind == TypeRef::kList) {
      std::vector<Source> items;
      if (value.kind == Source::kList) {
        items = std::move(value.items);
      } else if (value.kind == Source::kJson && value.value.is_array()) {
        items.reserve(value.value.size());
        for (auto &v : value.value)
          items.push_back(Source::of_json(std::move(v)));
      } else {
        field_error("Expected Iterable, but did not find one for field \"" + label + "\".",
                    code::kInternal, nodes);
        return Completed{false, nullptr};
      }
      ojson out = ojson::array();
      for (size_t i = 0; i < items.size(); ++i) {
        path_.emplace_back(i);
        Completed c = complete(*type.of, nodes, std::move(items[i]), label);
        path_.pop_back();
        if (!c.ok)
          return c;
        out.push_back(std::move(c.value));
      }
      return Completed{true, std::move(out)};
    }
    const TypeDef &named = *schema_.type(type.name);
    if (named.is_leaf()) {
      std::string message;
      if (auto v = serialize(named, value.value, message))
        return Completed{true, std::move(*v)};
      field_error(message, code::kInternal, nodes);
      return Completed{false, nullptr};
    }
    return complete_object(named, nodes, value);
  }

  Completed complete_object(const TypeDef &type, const std::vector<const Selection *> &nodes,
                            const Source &object) {
    FieldGroups groups = subfields(type, nodes);
    ojson out = ojson::object();
    // Reserved: growing an ordered_map copies its members (their keys are const).
    out.get_ref<ojson::object_t &>().reserve(groups.groups().size());
    for (const auto &[key, children] : groups.groups()) {
      if (++completed_ > kMaxResponseFields)
        throw TooLarge("The response is too large: more than " +
                       std::to_string(kMaxResponseFields) + " field values.");
      const Selection &node = *children[0];
      const FieldDef *def = find_field(schema_, type, node.name);
      path_.emplace_back(key);
      Source value;
      try {
        nlohmann::json args = coerce_arguments(schema_, def->args, node.arguments, variables_);
        if (node.name == "__typename")
          value = Source::of_json(type.name);
        else if (object.kind != Source::kJson)
          value = introspect(schema_, object, node.name, args);
        else if (object.value.is_object() && object.value.contains(node.name))
          value = Source::of_json(object.value.at(node.name));
        else
          value = Source::of_json(nullptr);
      } catch (const FieldError &e) {
        field_error(e.what(), e.code(), children);
        path_.pop_back();
        if (def->type->is_non_null())
          return Completed{false, nullptr};
        out[key] = nullptr;
        continue;
      }
      Completed c = complete(*def->type, children, std::move(value), type.name + "." + def->name);
      path_.pop_back();
      if (!c.ok)
        return c;
      out[key] = std::move(c.value);
    }
    return Completed{true, std::move(out)};
  }

  const Schema &schema_;
  const Document &doc_;
  const nlohmann::json &variables_;
  RootResolver &resolver_;
  std::vector<GraphQLError> &errors_;
  std::vector<PathSegment> path_;
  size_t completed_ = 0;
};

// GetOperation of the specification; null after a request error.
const OperationDefinition *select_operation(const Document &doc,
                                            const std::optional<std::string> &name,
                                            std::vector<GraphQLError> &errors) {
  if (!name || name->empty()) {
    if (doc.operations.size() == 1)
      return &doc.operations[0];
    errors.push_back(GraphQLError{doc.operations.empty()
                                      ? "Must provide an operation."
                                      : "Must provide operation name if query contains multiple "
                                        "operations.",
                                  {},
                                  {},
                                  code::kExecution});
    return nullptr;
  }
  for (const OperationDefinition &op : doc.operations)
    if (op.name == *name)
      return &op;
  errors.push_back(
      GraphQLError{"Unknown operation named \"" + *name + "\".", {}, {}, code::kExecution});
  return nullptr;
}

std::string dump(const ojson &response) {
  return response.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

ojson errors_json(const std::vector<GraphQLError> &errors) {
  ojson list = ojson::array();
  for (const GraphQLError &e : errors)
    list.push_back(error_json(e, true));
  return list;
}

}  // namespace

bool SubSelection::has(std::string_view name) const {
  for (const std::string &n : names)
    if (n == name)
      return true;
  return false;
}

const std::vector<std::string> *SubSelection::children(std::string_view name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name)
      return &child_names[i];
  return nullptr;
}

Response execute_request(const Schema &schema, const Request &request, RootResolver &resolver) {
  constexpr int kOk = 200, kBadRequest = 400, kMethodNotAllowed = 405;
  Document doc;
  try {
    doc = parse_document(request.query);
  } catch (const SyntaxError &e) {
    return {dump(validation_response({GraphQLError{e.what(), {e.location()}, {}, {}}})),
            kBadRequest};
  }
  std::vector<GraphQLError> errors = validate(schema, doc);
  if (!errors.empty())
    return {dump(validation_response(errors)), kBadRequest};

  const OperationDefinition *op = select_operation(doc, request.operation_name, errors);
  if (op == nullptr)
    return {dump(ojson{{"errors", errors_json(errors)}}), kBadRequest};
  if (op->kind == OperationDefinition::kSubscription) {
    errors.push_back(GraphQLError{"Schema is not configured to execute subscription operation.",
                                  {op->loc},
                                  {},
                                  code::kExecution});
    return {dump(ojson{{"data", nullptr}, {"errors", errors_json(errors)}}), kOk};
  }
  if (op->kind == OperationDefinition::kMutation && !request.allow_mutations) {
    errors.push_back(GraphQLError{"Can only perform a mutation operation from a POST request.",
                                  {op->loc},
                                  {},
                                  code::kMethodNotAllowed});
    return {dump(ojson{{"errors", errors_json(errors)}}), kMethodNotAllowed};
  }
  nlohmann::json variables = coerce_variables(schema, *op, request.variables, errors);
  if (!errors.empty())
    return {dump(ojson{{"errors", errors_json(errors)}}), kBadRequest};

  Executor executor(schema, doc, variables, resolver, errors);
  ojson data;
  try {
    data = executor.run(*op);
  } catch (const TooLarge &e) {
    return {dump(ojson{{"errors",
                        errors_json({GraphQLError{e.what(), {op->loc}, {}, code::kExecution}})}}),
            kBadRequest};
  }
  ojson response{{"data", std::move(data)}};
  if (!errors.empty())
    response["errors"] = errors_json(errors);
  return {dump(response), kOk};
}

Response request_error(const std::string &message) {
  return {dump(ojson{{"errors", errors_json({GraphQLError{message, {}, {}, code::kExecution}})}}),
          400};
}

}  // namespace pgi::gql
