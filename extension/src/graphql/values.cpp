#include "graphql/values.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include "graphql/print.hpp"

namespace pgi::gql {
namespace {

constexpr int64_t kMaxInt = 2147483647;
constexpr int64_t kMinInt = -2147483648LL;

std::string type_string(const TypeRefPtr &type) {
  return type ? type->to_string() : "?";
}

const TypeRef &nullable_of(const TypeRef &type) {
  return type.kind == TypeRef::kNonNull ? *type.of : type;
}

bool is_required(const InputValueDef &def) {
  return def.type->is_non_null() && !def.has_default;
}

// An Int literal's value, or nullopt when it does not fit 32 bits.
std::optional<int64_t> int_literal(const std::string &digits) {
  size_t significant = digits.size() - (digits[0] == '-' ? 1 : 0);
  if (significant > 10)
    return std::nullopt;
  int64_t value = std::stoll(digits);
  if (value > kMaxInt || value < kMinInt)
    return std::nullopt;
  return value;
}

// parseLiteral of a leaf type: empty when the literal is valid, otherwise the message.
std::string leaf_literal_error(const TypeDef &type, const Value &value) {
  const std::string printed = print_value(value);
  const std::string &name = type.name;
  auto kind = value.kind;
  if (type.kind == TypeKind::kEnum) {
    if (kind != Value::kEnum)
      return "Enum \"" + name + "\" cannot represent non-enum value: " + printed + ".";
    if (type.enum_value(value.text) == nullptr) {
      std::vector<std::string> names;
      for (const EnumValueDef &v : type.enum_values)
        names.push_back(v.name);
      return "Value \"" + value.text + "\" does not exist in \"" + name + "\" enum." +
             did_you_mean(suggestion_list(value.text, names));
    }
    return {};
  }
  if (name == "Int") {
    if (kind != Value::kInt)
      return "Int cannot represent non-integer value: " + printed;
    if (!int_literal(value.text))
      return "Int cannot represent non 32-bit signed integer value: " + value.text;
    return {};
  }
  if (name == "Float") {
    if (kind != Value::kInt && kind != Value::kFloat)
      return "Float cannot represent non numeric value: " + printed;
    return {};
  }
  if (name == "String") {
    if (kind != Value::kString)
      return "String cannot represent a non string value: " + printed;
    return {};
  }
  if (name == "Boolean") {
    if (kind != Value::kBoolean)
      return "Boolean cannot represent a non boolean value: " + printed;
    return {};
  }
  if (name == "ID") {
    if (kind != Value::kString && kind != Value::kInt)
      return "ID cannot represent a non-string and non-integer value: " + printed;
    return {};
  }
  // Custom scalars (Date, GraphQLStringOrFloat, JSON) take any literal, as they do in the
  // schema a client builds from introspection: graphql-js and this service must agree on
  // which documents are valid. Execution checks their values.
  return {};
}

class LiteralChecker {
 public:
  LiteralChecker(const Schema &schema, std::vector<GraphQLError> &errors,
                 std::vector<VariableUsage> &usages)
      : schema_(schema), errors_(errors), usages_(usages) {}

  void check(const Value &value, const TypeRefPtr &type, bool location_has_default) {
    if (value.kind == Value::kVariable) {
      usages_.push_back({&value, type, location_has_default});
      return;
    }
    if (value.kind == Value::kObject)
      check_unique_fields(value);
    if (!type) {
      collect_children(value, nullptr);
      return;
    }
    if (value.kind == Value::kNull) {
      if (type->is_non_null())
        expected(value, type);
      return;
    }
    const TypeRef &nullable = nullable_of(*type);
    if (value.kind == Value::kList) {
      if (nullable.kind == TypeRef::kList) {
        for (const Value &item : value.list)
          check(item, nullable.of, false);
      } else {
        valid_leaf(value, type);
        collect_children(value, type);
      }
      return;
    }
    const TypeDef *named = schema_.type(type->base_name());
    if (value.kind == Value::kObject) {
      if (named == nullptr || named->kind != TypeKind::kInputObject) {
        valid_leaf(value, type);
        collect_children(value, nullptr);
        return;
      }
      for (const InputValueDef &def : named->input_fields) {
        bool given = std::any_of(value.fields.begin(), value.fields.end(),
                                 [&](const ObjectField &f) { return f.name == def.name; });
        if (!given && is_required(def))
          error("Field \"" + named->name + "." + def.name + "\" of required type \"" +
                    def.type->to_string() + "\" was not provided.",
                value.loc);
      }
      for (const ObjectField &field : value.fields) {
        const InputValueDef *def = named->input_field(field.name);
        if (def == nullptr) {
          std::vector<std::string> names;
          for (const InputValueDef &d : named->input_fields)
            names.push_back(d.name);
          error("Field \"" + field.name + "\" is not defined by type \"" + named->name + "\"." +
                    did_you_mean(suggestion_list(field.name, names)),
                field.loc);
          collect(field.value, nullptr);
        } else {
          check(field.value, def->type, def->has_default);
        }
      }
      return;
    }
    valid_leaf(value, type);
  }

 private:
  void error(std::string message, Location loc) {
    errors_.push_back(GraphQLError{std::move(message), {loc}, {}, code::kValidation});
  }

  void expected(const Value &value, const TypeRefPtr &type) {
    error("Expected value of type \"" + type_string(type) + "\", found " + print_value(value) + ".",
          value.loc);
  }

  // isValidValueNode of ValuesOfCorrectTypeRule.
  void valid_leaf(const Value &value, const TypeRefPtr &type) {
    const TypeDef *named = schema_.type(type->base_name());
    if (named == nullptr)
      return;
    if (!named->is_leaf()) {
      expected(value, type);
      return;
    }
    std::string message = leaf_literal_error(*named, value);
    if (!message.empty())
      error(message, value.loc);
  }

  void check_unique_fields(const Value &value) {
    std::map<std::string, Location> seen;
    for (const ObjectField &field : value.fields) {
      auto [first, fresh] = seen.emplace(field.name, field.loc);
      if (!fresh)
        errors_.push_back(
            GraphQLError{"There can be only one input field named \"" + field.name + "\".",
                         {first->second, field.loc},
                         {},
                         code::kValidation});
    }
  }

  // Variable usages below a value that is not checked further, typed as graphql-js's
  // TypeInfo would type them.
  void collect(const Value &value, const TypeRefPtr &type) {
    if (value.kind == Value::kVariable) {
      usages_.push_back({&value, type, false});
      return;
    }
    if (value.kind == Value::kObject)
      check_unique_fields(value);
    collect_children(value, type);
  }

  void collect_children(const Value &value, const TypeRefPtr &type) {
    if (value.kind == Value::kList) {
      TypeRefPtr item;
      if (type) {
        const TypeRef &nullable = nullable_of(*type);
        item = nullable.kind == TypeRef::kList ? nullable.of : TypeRef::named(type->base_name());
      }
      for (const Value &v : value.list)
        collect(v, item);
    } else if (value.kind == Value::kObject) {
      const TypeDef *named = type ? schema_.type(type->base_name()) : nullptr;
      for (const ObjectField &field : value.fields) {
        const InputValueDef *def = named ? named->input_field(field.name) : nullptr;
        if (def != nullptr && field.value.kind == Value::kVariable)
          usages_.push_back({&field.value, def->type, def->has_default});
        else
          collect(field.value, def ? def->type : nullptr);
      }
    }
  }

  const Schema &schema_;
  std::vector<GraphQLError> &errors_;
  std::vector<VariableUsage> &usages_;
};

// A path inside a variable's value, as graphql-js prints it after the variable name.
std::string print_path(const std::vector<PathSegment> &path) {
  std::string out;
  for (const PathSegment &segment : path) {
    if (const auto *key = std::get_if<std::string>(&segment))
      out += "." + *key;
    else
      out += "[" + std::to_string(std::get<size_t>(segment)) + "]";
  }
  return out;
}

using ErrorSink =
    std::function<void(const std::vector<PathSegment> &, const json &, const std::string &)>;

// parseValue of a leaf type: the coerced value, or an error message.
std::optional<json> leaf_value(const TypeDef &type, const json &value, std::string &message) {
  const std::string &name = type.name;
  if (type.kind == TypeKind::kEnum) {
    if (!value.is_string()) {
      message = "Enum \"" + name + "\" cannot represent non-string value: " + inspect(value) + ".";
      return std::nullopt;
    }
    if (type.enum_value(value.get<std::string>()) == nullptr) {
      message =
          "Value \"" + value.get<std::string>() + "\" does not exist in \"" + name + "\" enum.";
      return std::nullopt;
    }
    return value;
  }
  bool integral =
      value.is_number_integer() || (value.is_number_float() && std::isfinite(value.get<double>()) &&
                                    std::floor(value.get<double>()) == value.get<double>());
  if (name == "Int") {
    if (!integral) {
      message = "Int cannot represent non-integer value: " + inspect(value);
      return std::nullopt;
    }
    double d = value.get<double>();
    if (d > kMaxInt || d < kMinInt) {
      message = "Int cannot represent non 32-bit signed integer value: " + value.dump();
      return std::nullopt;
    }
    return json(static_cast<int64_t>(d));
  }
  if (name == "Float") {
    if (!value.is_number()) {
      message = "Float cannot represent non numeric value: " + inspect(value);
      return std::nullopt;
    }
    return value;
  }
  if (name == "String") {
    if (!value.is_string()) {
      message = "String cannot represent a non string value: " + inspect(value);
      return std::nullopt;
    }
    return value;
  }
  if (name == "Boolean") {
    if (!value.is_boolean()) {
      message = "Boolean cannot represent a non boolean value: " + inspect(value);
      return std::nullopt;
    }
    return value;
  }
  if (name == "ID") {
    if (value.is_string())
      return value;
    if (integral)
      return json(std::to_string(static_cast<int64_t>(value.get<double>())));
    message = "ID cannot represent value: " + inspect(value);
    return std::nullopt;
  }
  return value;  // custom scalars, as in leaf_literal_error
}

json coerce_input(const Schema &schema, const json &value, const TypeRef &type,
                  std::vector<PathSegment> &path, const ErrorSink &on_error) {
  if (type.kind == TypeRef::kNonNull) {
    if (value.is_null()) {
      on_error(path, value,
               "Expected non-nullable type \"" + type.to_string() + "\" not to be null.");
      return nullptr;
    }
    return coerce_input(schema, value, *type.of, path, on_error);
  }
  if (value.is_null())
    return nullptr;
  if (type.kind == TypeRef::kList) {
    if (!value.is_array())
      return json::array({coerce_input(schema, value, *type.of, path, on_error)});
    json out = json::array();
    for (size_t i = 0; i < value.size(); ++i) {
      path.emplace_back(i);
      out.push_back(coerce_input(schema, value[i], *type.of, path, on_error));
      path.pop_back();
    }
    return out;
  }
  const TypeDef *named = schema.type(type.name);
  if (named->kind == TypeKind::kInputObject) {
    if (!value.is_object()) {
      on_error(path, value, "Expected type \"" + named->name + "\" to be an object.");
      return nullptr;
    }
    json out = json::object();
    for (const InputValueDef &def : named->input_fields) {
      auto it = value.find(def.name);
      if (it == value.end()) {
        if (def.has_default) {
          if (auto v = literal_value(schema, def.default_value, *def.type, json::object()))
            out[def.name] = *v;
        } else if (def.type->is_non_null()) {
          on_error(path, value,
                   "Field \"" + def.name + "\" of required type \"" + def.type->to_string() +
                       "\" was not provided.");
        }
        continue;
      }
      path.emplace_back(def.name);
      out[def.name] = coerce_input(schema, *it, *def.type, path, on_error);
      path.pop_back();
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (named->input_field(it.key()) != nullptr)
        continue;
      std::vector<std::string> names;
      for (const InputValueDef &d : named->input_fields)
        names.push_back(d.name);
      on_error(path, value,
               "Field \"" + it.key() + "\" is not defined by type \"" + named->name + "\"." +
                   did_you_mean(suggestion_list(it.key(), names)));
    }
    return out;
  }
  std::string message;
  if (auto v = leaf_value(*named, value, message))
    return *v;
  on_error(path, value, message);
  return nullptr;
}

// An Int literal's digits as a JSON integer, or a number when they do not fit 64 bits.
json int_json(const std::string &digits) {
  try {
    return json(static_cast<int64_t>(std::stoll(digits)));
  } catch (const std::out_of_range &) {
    return json(std::stod(digits));
  }
}

// A literal of the JSON scalar, as JSON.
std::optional<json> json_literal(const Value &value, const json &variables) {
  switch (value.kind) {
    case Value::kVariable: {
      auto it = variables.find(value.text);
      return it == variables.end() ? json() : *it;
    }
    case Value::kInt:
      return int_json(value.text);
    case Value::kFloat:
      return json(std::stod(value.text));
    case Value::kString:
      return json(value.text);
    case Value::kBoolean:
      return json(value.boolean);
    case Value::kNull:
      return json();
    case Value::kEnum:
      return std::nullopt;
    case Value::kList: {
      json out = json::array();
      for (const Value &item : value.list) {
        auto v = json_literal(item, variables);
        if (!v)
          return std::nullopt;
        out.push_back(*v);
      }
      return out;
    }
    case Value::kObject: {
      json out = json::object();
      for (const ObjectField &field : value.fields) {
        auto v = json_literal(field.value, variables);
        if (!v)
          return std::nullopt;
        out[field.name] = *v;
      }
      return out;
    }
  }
  return std::nullopt;
}

bool missing_variable(const Value &value, const json &variables) {
  return value.kind == Value::kVariable && !variables.contains(value.text);
}

int lexical_distance(const std::string &input, const std::string &option, int threshold) {
  if (input == option)
    return 0;
  std::string a = option, b = input;
  for (char &c : a)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char &c : b)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (a == b)
    return 1;
  if (a.size() < b.size())
    std::swap(a, b);
  const int a_len = static_cast<int>(a.size()), b_len = static_cast<int>(b.size());
  if (a_len - b_len > threshold)
    return -1;
  std::vector<std::vector<int>> rows(3, std::vector<int>(b_len + 1, 0));
  for (int j = 0; j <= b_len; ++j)
    rows[0][j] = j;
  for (int i = 1; i <= a_len; ++i) {
    auto &up = rows[(i - 1) % 3];
    auto &current = rows[i % 3];
    int smallest = current[0] = i;
    for (int j = 1; j <= b_len; ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int cell = std::min({up[j] + 1, current[j - 1] + 1, up[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cell = std::min(cell, rows[(i - 2) % 3][j - 2] + 1);
      smallest = std::min(smallest, cell);
      current[j] = cell;
    }
    if (smallest > threshold)
      return -1;
  }
  int distance = rows[a_len % 3][b_len];
  return distance <= threshold ? distance : -1;
}

// graphql-js's naturalCompare: digit runs compare as numbers.
int natural_compare(const std::string &a, const std::string &b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      long long x = 0, y = 0;
      do {
        x = x * 10 + (a[i++] - '0');
      } while (i < a.size() && std::isdigit(static_cast<unsigned char>(a[i])) && x > 0);
      do {
        y = y * 10 + (b[j++] - '0');
      } while (j < b.size() && std::isdigit(static_cast<unsigned char>(b[j])) && y > 0);
      if (x != y)
        return x < y ? -1 : 1;
    } else {
      if (a[i] != b[j])
        return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
      ++i;
      ++j;
    }
  }
  return static_cast<int>(a.size()) - static_cast<int>(b.size());
}

std::string inspect_at(const json &value, int depth) {
  switch (value.type()) {
    case json::value_t::string:
      return value.dump();
    case json::value_t::array: {
      if (value.empty())
        return "[]";
      if (depth >= 2)
        return "[Array]";
      std::string out = "[";
      size_t shown = std::min<size_t>(value.size(), 10);
      for (size_t i = 0; i < shown; ++i) {
        if (i > 0)
          out += ", ";
        out += inspect_at(value[i], depth + 1);
      }
      if (value.size() > 10)
        out += ", ... " + std::to_string(value.size() - 10) +
               (value.size() - 10 == 1 ? " more item" : " more items");
      return out + "]";
    }
    case json::value_t::object: {
      if (value.empty())
        return "{}";
      if (depth >= 2)
        return "[Object]";
      std::string out = "{ ";
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first)
          out += ", ";
        first = false;
        out += it.key() + ": " + inspect_at(it.value(), depth + 1);
      }
      return out + " }";
    }
    default:
      return value.dump();
  }
}

}  // namespace

void check_literal(const Schema &schema, const Value &value, const TypeRefPtr &type,
                   bool location_has_default, std::vector<GraphQLError> &errors,
                   std::vector<VariableUsage> &usages) {
  LiteralChecker(schema, errors, usages).check(value, type, location_has_default);
}

json coerce_variables(const Schema &schema, const OperationDefinition &operation,
                      const json &inputs, std::vector<GraphQLError> &errors) {
  constexpr size_t kMaxErrors = 50;
  json coerced = json::object();
  for (const VariableDefinition &def : operation.variables) {
    if (errors.size() >= kMaxErrors)
      break;
    const std::string &name = def.name;
    auto report = [&](const std::string &message) {
      errors.push_back(GraphQLError{message, {def.loc}, {}, code::kExecution});
    };
    auto it = inputs.find(name);
    if (it == inputs.end()) {
      if (def.has_default) {
        if (auto v = literal_value(schema, def.default_value, *def.type, json::object()))
          coerced[name] = *v;
      } else if (def.type->is_non_null()) {
        report("Variable \"$" + name + "\" of required type \"" + def.type->to_string() +
               "\" was not provided.");
      }
      continue;
    }
    if (it->is_null() && def.type->is_non_null()) {
      report("Variable \"$" + name + "\" of non-null type \"" + def.type->to_string() +
             "\" must not be null.");
      continue;
    }
    std::vector<PathSegment> path;
    coerced[name] = coerce_input(
        schema, *it, *def.type, path,
        [&](const std::vector<PathSegment> &at, const json &invalid, const std::string &message) {
          std::string prefix = "Variable \"$" + name + "\" got invalid value " + inspect(invalid);
          if (!at.empty())
            prefix += " at \"" + name + print_path(at) + "\"";
          if (errors.size() < kMaxErrors)
            report(prefix + "; " + message);
        });
  }
  return coerced;
}

std::optional<json> literal_value(const Schema &schema, const Value &value, const TypeRef &type,
                                  const json &variables) {
  if (value.kind == Value::kVariable) {
    auto it = variables.find(value.text);
    if (it == variables.end())
      return std::nullopt;
    if (it->is_null() && type.is_non_null())
      return std::nullopt;
    return *it;
  }
  if (type.kind == TypeRef::kNonNull) {
    if (value.kind == Value::kNull)
      return std::nullopt;
    return literal_value(schema, value, *type.of, variables);
  }
  if (value.kind == Value::kNull)
    return json();
  if (type.kind == TypeRef::kList) {
    if (value.kind != Value::kList) {
      auto item = literal_value(schema, value, *type.of, variables);
      if (!item)
        return std::nullopt;
      return json::array({*item});
    }
    json out = json::array();
    for (const Value &item : value.list) {
      if (missing_variable(item, variables)) {
        if (type.of->is_non_null())
          return std::nullopt;
        out.push_back(nullptr);
        continue;
      }
      auto v = literal_value(schema, item, *type.of, variables);
      if (!v)
        return std::nullopt;
      out.push_back(*v);
    }
    return out;
  }
  const TypeDef *named = schema.type(type.name);
  if (named == nullptr)
    return std::nullopt;
  if (named->kind == TypeKind::kInputObject) {
    if (value.kind != Value::kObject)
      return std::nullopt;
    json out = json::object();
    for (const InputValueDef &def : named->input_fields) {
      const ObjectField *field = nullptr;
      for (const ObjectField &f : value.fields)
        if (f.name == def.name)
          field = &f;
      if (field == nullptr || missing_variable(field->value, variables)) {
        if (def.has_default) {
          if (auto v = literal_value(schema, def.default_value, *def.type, json::object()))
            out[def.name] = *v;
        } else if (def.type->is_non_null()) {
          return std::nullopt;
        }
        continue;
      }
      auto v = literal_value(schema, field->value, *def.type, variables);
      if (!v)
        return std::nullopt;
      out[def.name] = *v;
    }
    return out;
  }
  if (!leaf_literal_error(*named, value).empty())
    return std::nullopt;
  const std::string &name = named->name;
  if (name == "JSON")
    return json_literal(value, variables);
  switch (value.kind) {
    case Value::kInt:
      if (name == "ID")
        return json(value.text);
      if (name == "Float")
        return json(std::stod(value.text));
      return int_json(value.text);  // Int, and custom scalars: 100 stays an integer
    case Value::kFloat:
      return json(std::stod(value.text));
    case Value::kBoolean:
      return json(value.boolean);
    default:
      return json(value.text);  // strings, enums
  }
}

json coerce_arguments(const Schema &schema, const std::vector<InputValueDef> &definitions,
                      const std::vector<Argument> &arguments, const json &variables) {
  json coerced = json::object();
  for (const InputValueDef &def : definitions) {
    const Argument *arg = nullptr;
    for (const Argument &a : arguments)
      if (a.name == def.name)
        arg = &a;
    bool has_value = arg != nullptr && !missing_variable(arg->value, variables);
    if (!has_value) {
      if (def.has_default) {
        if (auto v = literal_value(schema, def.default_value, *def.type, json::object()))
          coerced[def.name] = *v;
      } else if (def.type->is_non_null()) {
        throw FieldError("Argument \"" + def.name + "\" of required type \"" +
                             def.type->to_string() + "\" was not provided.",
                         code::kInvalidQuery);
      }
      continue;
    }
    auto v = literal_value(schema, arg->value, *def.type, variables);
    if (!v) {
      if (def.type->is_non_null() &&
          (arg->value.kind == Value::kNull || arg->value.kind == Value::kVariable))
        throw FieldError("Argument \"" + def.name + "\" of non-null type \"" +
                             def.type->to_string() + "\" must not be null.",
                         code::kInvalidQuery);
      throw FieldError(
          "Argument \"" + def.name + "\" has invalid value " + print_value(arg->value) + ".",
          code::kInvalidQuery);
    }
    coerced[def.name] = *v;
  }
  return coerced;
}

std::string inspect(const json &value) {
  return inspect_at(value, 0);
}

std::vector<std::string> suggestion_list(const std::string &input,
                                         const std::vector<std::string> &options) {
  const int threshold = static_cast<int>(input.size() * 0.4) + 1;
  std::vector<std::pair<int, std::string>> found;
  std::set<std::string> seen;
  for (const std::string &option : options) {
    if (!seen.insert(option).second)
      continue;
    int distance = lexical_distance(input, option, threshold);
    if (distance >= 0)
      found.emplace_back(distance, option);
  }
  std::stable_sort(found.begin(), found.end(), [](const auto &a, const auto &b) {
    if (a.first != b.first)
      return a.first < b.first;
    return natural_compare(a.second, b.second) < 0;
  });
  std::vector<std::string> out;
  for (auto &f : found)
    out.push_back(std::move(f.second));
  return out;
}

std::string did_you_mean(const std::vector<std::string> &suggestions) {
  std::vector<std::string> quoted;
  for (const std::string &s : suggestions)
    quoted.push_back("\"" + s + "\"");
  switch (quoted.size()) {
    case 0:
      return "";
    case 1:
      return " Did you mean " + quoted[0] + "?";
    case 2:
      return " Did you mean " + quoted[0] + " or " + quoted[1] + "?";
    default:
      break;
  }
  if (quoted.size() > 5)
    quoted.resize(5);
  std::string last = quoted.back();
  quoted.pop_back();
  std::string out = " Did you mean ";
  for (const std::string &q : quoted)
    out += q + ", ";
  return out + "or " + last + "?";
}

}  // namespace pgi::gql
