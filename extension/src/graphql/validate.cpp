#include "graphql/validate.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "graphql/print.hpp"
#include "graphql/values.hpp"

namespace pgi::gql {
namespace {

constexpr int kMaxIntrospectionListDepth = 3;

// A field selected in a selection set once fragments are expanded, for the merge check.
struct CollectedField {
  const Selection *node;
  const FieldDef *def;    // null when unknown
  const TypeDef *parent;  // null when unknown
};

// graphql-js isTypeSubTypeOf, for the types this schema has (no abstract types).
bool is_sub_type(const TypeRef &sub, const TypeRef &super) {
  if (same_type(sub, super))
    return true;
  if (super.kind == TypeRef::kNonNull)
    return sub.kind == TypeRef::kNonNull && is_sub_type(*sub.of, *super.of);
  if (sub.kind == TypeRef::kNonNull)
    return is_sub_type(*sub.of, super);
  if (super.kind == TypeRef::kList)
    return sub.kind == TypeRef::kList && is_sub_type(*sub.of, *super.of);
  return false;
}

// A value printed with object fields sorted, to compare arguments as graphql-js does.
std::string canonical(const Value &value) {
  if (value.kind == Value::kObject) {
    std::vector<std::pair<std::string, std::string>> fields;
    for (const ObjectField &f : value.fields)
      fields.emplace_back(f.name, canonical(f.value));
    std::sort(fields.begin(), fields.end());
    std::string out = "{";
    for (const auto &f : fields)
      out += f.first + ":" + f.second + ",";
    return out + "}";
  }
  if (value.kind == Value::kList) {
    std::string out = "[";
    for (const Value &v : value.list)
      out += canonical(v) + ",";
    return out + "]";
  }
  return print_value(value);
}

bool same_arguments(const std::vector<Argument> &a, const std::vector<Argument> &b) {
  if (a.size() != b.size())
    return false;
  for (const Argument &x : a) {
    auto it = std::find_if(b.begin(), b.end(), [&](const Argument &y) { return y.name == x.name; });
    if (it == b.end() || canonical(x.value) != canonical(it->value))
      return false;
  }
  return true;
}

class Validator {
 public:
  Validator(const Schema &schema, const Document &doc) : schema_(schema), doc_(doc) {}

  std::vector<GraphQLError> run() {
    check_definition_names();
    for (const Document::Entry &entry : doc_.order) {
      if (entry.is_operation)
        walk_operation(doc_.operations[entry.index]);
      else
        walk_fragment(doc_.fragments[entry.index]);
    }
    bool cycles = check_fragment_cycles();
    check_unused_fragments();
    for (const OperationDefinition &op : doc_.operations)
      check_variables(op);
    if (!cycles) {
      for (const Document::Entry &entry : doc_.order) {
        if (entry.is_operation) {
          const OperationDefinition &op = doc_.operations[entry.index];
          check_merge(op.selection_set, schema_.root_type(op.kind));
        } else {
          const FragmentDefinition &frag = doc_.fragments[entry.index];
          const TypeDef *type = schema_.type(frag.type_condition);
          check_merge(frag.selection_set, type && type->is_composite() ? type : nullptr);
        }
      }
    }
    if (budget_exceeded_)
      error("The query is too complex: more than " + std::to_string(kMaxExpandedFields) +
                " fields once its fragments are expanded.",
            {doc_.operations.empty() ? Location{1, 1} : doc_.operations[0].loc});
    return std::move(errors_);
  }

 private:
  void error(std::string message, std::vector<Location> locations) {
    errors_.push_back(
        GraphQLError{std::move(message), std::move(locations), {}, code::kValidation});
  }

  // One error per name given more than once, listing every place it is given.
  template <typename Named>
  void report_duplicates(const std::vector<Named> &items, const char *prefix, const char *suffix) {
    std::vector<std::string> order;
    std::map<std::string, std::vector<Location>> places;
    for (const Named &item : items) {
      auto &list = places[item.name];
      if (list.empty())
        order.push_back(item.name);
      list.push_back(item.loc);
    }
    for (const std::string &name : order)
      if (places[name].size() > 1)
        error(prefix + name + suffix, places[name]);
  }

  std::vector<std::string> type_names() const {
    std::vector<std::string> names;
    for (const auto &t : schema_.types())
      names.push_back(t->name);
    return names;
  }

  // --- names of operations and fragments -------------------------------------------------

  void check_definition_names() {
    std::map<std::string, Location> operations;
    for (const OperationDefinition &op : doc_.operations) {
      if (op.name.empty()) {
        if (doc_.operations.size() > 1)
          error("This anonymous operation must be the only defined operation.", {op.loc});
        continue;
      }
      auto [it, fresh] = operations.emplace(op.name, op.name_loc);
      if (!fresh)
        error("There can be only one operation named \"" + op.name + "\".",
              {it->second, op.name_loc});
    }
    for (const FragmentDefinition &frag : doc_.fragments) {
      auto [it, fresh] = fragments_.emplace(frag.name, &frag);
      if (!fresh)
        error("There can be only one fragment named \"" + frag.name + "\".",
              {it->second->name_loc, frag.name_loc});
    }
  }

  // --- the walk over definitions, with the type each selection applies to ---------------

  void walk_operation(const OperationDefinition &op) {
    usages_ = &op_usages_[&op];
    std::map<std::string, std::vector<Location>> names;
    for (const VariableDefinition &var : op.variables)
      names[var.name].push_back(var.name_loc);
    for (const VariableDefinition &var : op.variables) {
      auto &locations = names[var.name];
      if (locations.size() > 1 && locations[0].line == var.name_loc.line &&
          locations[0].column == var.name_loc.column)
        error("There can be only one variable named \"$" + var.name + "\".", locations);
      const TypeDef *type = schema_.type(var.type->base_name());
      if (type == nullptr) {
        error("Unknown type \"" + var.type->base_name() + "\"." +
                  did_you_mean(suggestion_list(var.type->base_name(), type_names())),
              {named_loc(*var.type)});
      } else if (!type->is_input()) {
        error("Variable \"$" + var.name + "\" cannot be non-input type \"" + var.type->to_string() +
                  "\".",
              {var.type->loc});
      }
      if (var.has_default) {
        std::vector<VariableUsage> ignored;  // a default is constant: the parser saw to that
        check_literal(schema_, var.default_value,
                      type != nullptr && type->is_input() ? var.type : nullptr, false, errors_,
                      ignored);
      }
      check_directives(var.directives, "VARIABLE_DEFINITION");
    }
    static const char *const kLocations[] = {"QUERY", "MUTATION", "SUBSCRIPTION"};
    check_directives(op.directives, kLocations[op.kind]);
    walk_selection_set(op.selection_set, schema_.root_type(op.kind));
  }

  static Location named_loc(const TypeRef &type) {
    const TypeRef *t = &type;
    while (t->kind != TypeRef::kNamed)
      t = t->of.get();
    return t->loc;
  }

  void walk_fragment(const FragmentDefinition &frag) {
    usages_ = &fragment_usages_[&frag];
    const TypeDef *type = condition_type(frag.type_condition, frag.type_condition_loc,
                                         "Fragment \"" + frag.name + "\" cannot");
    check_directives(frag.directives, "FRAGMENT_DEFINITION");
    walk_selection_set(frag.selection_set, type);
  }

  // The type a fragment's condition names: known and composite, or null after an error.
  const TypeDef *condition_type(const std::string &name, Location loc, const std::string &who) {
    const TypeDef *type = schema_.type(name);
    if (type == nullptr) {
      error("Unknown type \"" + name + "\"." + did_you_mean(suggestion_list(name, type_names())),
            {loc});
      return nullptr;
    }
    if (!type->is_composite()) {
      error(who + " condition on non composite type \"" + name + "\".", {loc});
      return nullptr;
    }
    return type;
  }

  void walk_selection_set(const SelectionSet &set, const TypeDef *parent) {
    for (const Selection &sel : set.selections) {
      switch (sel.kind) {
        case Selection::kField:
          walk_field(sel, parent);
          break;
        case Selection::kFragmentSpread: {
          check_directives(sel.directives, "FRAGMENT_SPREAD");
          auto it = fragments_.find(sel.name);
          if (it == fragments_.end()) {
            error("Unknown fragment \"" + sel.name + "\".", {sel.name_loc});
            break;
          }
          const TypeDef *type = schema_.type(it->second->type_condition);
          if (parent != nullptr && type != nullptr && type->is_composite() && type != parent)
            error("Fragment \"" + sel.name + "\" cannot be spread here as objects of type \"" +
                      parent->name + "\" can never be of type \"" + type->name + "\".",
                  {sel.loc});
          break;
        }
        case Selection::kInlineFragment: {
          check_directives(sel.directives, "INLINE_FRAGMENT");
          const TypeDef *type = parent;
          if (!sel.type_condition.empty()) {
            type = condition_type(sel.type_condition, sel.type_condition_loc, "Fragment cannot");
            if (type != nullptr && parent != nullptr && type != parent)
              error("Fragment cannot be spread here as objects of type \"" + parent->name +
                        "\" can never be of type \"" + type->name + "\".",
                    {sel.loc});
          }
          walk_selection_set(sel.selection_set, type);
          break;
        }
      }
    }
  }

  void walk_field(const Selection &field, const TypeDef *parent) {
    const FieldDef *def = parent ? find_field(schema_, *parent, field.name) : nullptr;
    if (parent != nullptr && def == nullptr) {
      std::vector<std::string> names;
      for (const FieldDef &f : parent->fields)
        names.push_back(f.name);
      error("Cannot query field \"" + field.name + "\" on type \"" + parent->name + "\"." +
                did_you_mean(suggestion_list(field.name, names)),
            {field.loc});
    }
    check_arguments(field.arguments, def ? &def->args : nullptr,
                    def ? "field \"" + parent->name + "." + def->name + "\"" : "");
    check_directives(field.directives, "FIELD");
    if (def != nullptr) {
      for (const InputValueDef &arg : def->args) {
        bool given = std::any_of(field.arguments.begin(), field.arguments.end(),
                                 [&](const Argument &a) { return a.name == arg.name; });
        if (!given && arg.type->is_non_null() && !arg.has_default)
          error("Field \"" + def->name + "\" argument \"" + arg.name + "\" of type \"" +
                    arg.type->to_string() + "\" is required, but it was not provided.",
                {field.loc});
      }
    }
    const TypeDef *type = def ? schema_.type(def->type->base_name()) : nullptr;
    if (type != nullptr) {
      if (type->is_leaf() && field.has_selection_set)
        error("Field \"" + field.name + "\" must not have a selection since type \"" +
                  def->type->to_string() + "\" has no subfields.",
              {field.selection_set.loc});
      if (!type->is_leaf() && !field.has_selection_set)
        error("Field \"" + field.name + "\" of type \"" + def->type->to_string() +
                  "\" must have a selection of subfields. Did you mean \"" + field.name +
                  " { ... }\"?",
              {field.loc});
    }
    if (field.name == "__schema" || field.name == "__type") {
      std::map<std::string, int> visited;
      if (introspection_too_deep(field, visited, 0))
        error("Maximum introspection depth exceeded", {field.loc});
    }
    if (field.has_selection_set)
      walk_selection_set(field.selection_set, type && type->is_composite() ? type : nullptr);
  }

  // Arguments of a field or directive: unique, known, of the right type. `definitions` is
  // null when the field or directive itself is unknown. `owner` names it for messages.
  void check_arguments(const std::vector<Argument> &arguments,
                       const std::vector<InputValueDef> *definitions, const std::string &owner) {
    report_duplicates(arguments, "There can be only one argument named \"", "\".");
    for (const Argument &arg : arguments) {
      const InputValueDef *def = nullptr;
      if (definitions != nullptr) {
        for (const InputValueDef &d : *definitions)
          if (d.name == arg.name)
            def = &d;
        if (def == nullptr) {
          std::vector<std::string> names;
          for (const InputValueDef &d : *definitions)
            names.push_back(d.name);
          error("Unknown argument \"" + arg.name + "\" on " + owner + "." +
                    did_you_mean(suggestion_list(arg.name, names)),
                {arg.loc});
        }
      }
      check_literal(schema_, arg.value, def ? def->type : nullptr, def && def->has_default, errors_,
                    *usages_);
    }
  }

  void check_directives(const std::vector<Directive> &directives, const char *location) {
    std::map<std::string, Location> seen;
    for (const Directive &d : directives) {
      const DirectiveDef *def = schema_.directive(d.name);
      if (def == nullptr) {
        error("Unknown directive \"@" + d.name + "\".", {d.loc});
      } else {
        if (!def->allowed_at(location))
          error("Directive \"@" + d.name + "\" may not be used on " + location + ".", {d.loc});
        auto [it, fresh] = seen.emplace(d.name, d.loc);
        if (!fresh && !def->repeatable)
          error("The directive \"@" + d.name + "\" can only be used once at this location.",
                {it->second, d.loc});
      }
      check_arguments(d.arguments, def ? &def->args : nullptr, "directive \"@" + d.name + "\"");
      if (def == nullptr)
        continue;
      for (const InputValueDef &arg : def->args) {
        bool given = std::any_of(d.arguments.begin(), d.arguments.end(),
                                 [&](const Argument &a) { return a.name == arg.name; });
        if (!given && arg.type->is_non_null() && !arg.has_default)
          error("Directive \"@" + d.name + "\" argument \"" + arg.name + "\" of type \"" +
                    arg.type->to_string() + "\" is required, but it was not provided.",
                {d.loc});
      }
    }
  }

  // graphql-js's MaxIntrospectionDepthRule: nested lists of types (fields, interfaces,
  // possibleTypes, inputFields) at most 3 deep below __schema or __type.
  bool introspection_too_deep(const Selection &sel, std::map<std::string, int> &visited,
                              int depth) {
    if (sel.kind == Selection::kFragmentSpread) {
      auto exceeded = exceeded_fragments_.find(sel.name);
      if (exceeded != exceeded_fragments_.end() && exceeded->second <= depth)
        return true;
      auto v = visited.find(sel.name);
      auto c = checked_fragments_.find(sel.name);
      if ((v != visited.end() && v->second >= depth) ||
          (c != checked_fragments_.end() && c->second >= depth))
        return false;
      auto frag = fragments_.find(sel.name);
      if (frag == fragments_.end())
        return false;
      visited[sel.name] = depth;
      for (const Selection &child : frag->second->selection_set.selections) {
        if (introspection_too_deep(child, visited, depth)) {
          exceeded_fragments_[sel.name] = depth;
          return true;
        }
      }
      checked_fragments_[sel.name] = depth;
      return false;
    }
    if (sel.kind == Selection::kField &&
        (sel.name == "fields" || sel.name == "interfaces" || sel.name == "possibleTypes" ||
         sel.name == "inputFields")) {
      if (++depth >= kMaxIntrospectionListDepth)
        return true;
    }
    if (sel.has_selection_set)
      for (const Selection &child : sel.selection_set.selections)
        if (introspection_too_deep(child, visited, depth))
          return true;
    return false;
  }

  // --- fragments ---------------------------------------------------------------------------

  // The spreads directly inside a selection set (through fields and inline fragments).
  static void spreads_in(const SelectionSet &set, std::vector<const Selection *> &out) {
    for (const Selection &sel : set.selections) {
      if (sel.kind == Selection::kFragmentSpread)
        out.push_back(&sel);
      else if (sel.has_selection_set)
        spreads_in(sel.selection_set, out);
    }
  }

  bool check_fragment_cycles() {
    std::set<std::string> visited;
    std::vector<const Selection *> path;
    std::map<std::string, size_t> index_in_path;
    bool found = false;
    std::function<void(const FragmentDefinition &)> detect = [&](const FragmentDefinition &frag) {
      if (!visited.insert(frag.name).second)
        return;
      std::vector<const Selection *> spreads;
      spreads_in(frag.selection_set, spreads);
      if (spreads.empty())
        return;
      index_in_path[frag.name] = path.size();
      for (const Selection *spread : spreads) {
        auto cycle = index_in_path.find(spread->name);
        path.push_back(spread);
        if (cycle == index_in_path.end()) {
          auto next = fragments_.find(spread->name);
          if (next != fragments_.end())
            detect(*next->second);
        } else {
          std::string via;
          std::vector<Location> locations;
          for (size_t i = cycle->second; i < path.size(); ++i) {
            locations.push_back(path[i]->loc);
            if (i + 1 < path.size())
              via += (via.empty() ? "\"" : ", \"") + path[i]->name + "\"";
          }
          error("Cannot spread fragment \"" + spread->name + "\" within itself" +
                    (via.empty() ? "." : " via " + via + "."),
                locations);
          found = true;
        }
        path.pop_back();
      }
      index_in_path.erase(frag.name);
    };
    for (const FragmentDefinition &frag : doc_.fragments)
      detect(frag);
    return found;
  }

  // The fragments an operation uses, directly or through other fragments.
  std::vector<const FragmentDefinition *> referenced_fragments(const OperationDefinition &op) {
    std::vector<const FragmentDefinition *> out;
    std::set<std::string> seen;
    std::vector<const SelectionSet *> pending{&op.selection_set};
    while (!pending.empty()) {
      const SelectionSet *set = pending.back();
      pending.pop_back();
      std::vector<const Selection *> spreads;
      spreads_in(*set, spreads);
      for (const Selection *spread : spreads) {
        if (!seen.insert(spread->name).second)
          continue;
        auto it = fragments_.find(spread->name);
        if (it == fragments_.end())
          continue;
        out.push_back(it->second);
        pending.push_back(&it->second->selection_set);
      }
    }
    return out;
  }

  void check_unused_fragments() {
    std::set<std::string> used;
    for (const OperationDefinition &op : doc_.operations)
      for (const FragmentDefinition *frag : referenced_fragments(op))
        used.insert(frag->name);
    for (const FragmentDefinition &frag : doc_.fragments)
      if (used.count(frag.name) == 0)
        error("Fragment \"" + frag.name + "\" is never used.", {frag.loc});
  }

  // --- variables ---------------------------------------------------------------------------

  void check_variables(const OperationDefinition &op) {
    std::vector<VariableUsage> usages = op_usages_[&op];
    for (const FragmentDefinition *frag : referenced_fragments(op)) {
      const auto &more = fragment_usages_[frag];
      usages.insert(usages.end(), more.begin(), more.end());
    }
    std::map<std::string, const VariableDefinition *> defined;
    for (const VariableDefinition &var : op.variables)
      defined.emplace(var.name, &var);
    std::set<std::string> used;
    for (const VariableUsage &usage : usages) {
      const std::string &name = usage.node->text;
      used.insert(name);
      auto it = defined.find(name);
      if (it == defined.end()) {
        error(op.name.empty()
                  ? "Variable \"$" + name + "\" is not defined."
                  : "Variable \"$" + name + "\" is not defined by operation \"" + op.name + "\".",
              {usage.node->loc, op.loc});
        continue;
      }
      const VariableDefinition &var = *it->second;
      if (!usage.type || schema_.type(var.type->base_name()) == nullptr)
        continue;
      if (!allowed_usage(var, usage))
        error("Variable \"$" + name + "\" of type \"" + var.type->to_string() +
                  "\" used in position expecting type \"" + usage.type->to_string() + "\".",
              {var.loc, usage.node->loc});
    }
    for (const VariableDefinition &var : op.variables)
      if (used.count(var.name) == 0)
        error(op.name.empty() ? "Variable \"$" + var.name + "\" is never used."
                              : "Variable \"$" + var.name + "\" is never used in operation \"" +
                                    op.name + "\".",
              {var.loc});
  }

  static bool allowed_usage(const VariableDefinition &var, const VariableUsage &usage) {
    const TypeRef &location = *usage.type;
    if (location.is_non_null() && !var.type->is_non_null()) {
      bool non_null_default = var.has_default && var.default_value.kind != Value::kNull;
      if (!non_null_default && !usage.location_has_default)
        return false;
      return is_sub_type(*var.type, *location.of);
    }
    return is_sub_type(*var.type, location);
  }

  // --- fields merge (OverlappingFieldsCanBeMerged) ---------------------------------------
  //
  // As graphql-js does it: within every selection set, each pair of fields with the same
  // response name must be the same field with the same arguments (unless their parents are
  // different object types) and return types of the same shape; their sub-selections are
  // compared the same way, and a conflict found there is reported at the outer pair as
  // `subfields "x" conflict because ...`. Fragments are expanded, each once per set, within
  // the bound kMaxExpandedFields.

  struct Conflict {
    std::string response_name;
    std::string reason;         // a reason, or empty when `sub` holds the reasons
    std::vector<Conflict> sub;  // conflicts between sub-selections
    std::vector<Location> fields1, fields2;
  };

  static std::string reason_message(const Conflict &c) {
    if (c.sub.empty())
      return c.reason;
    std::string out;
    for (const Conflict &s : c.sub) {
      if (!out.empty())
        out += " and ";
      out += "subfields \"" + s.response_name + "\" conflict because " + reason_message(s);
    }
    return out;
  }

  // The fields of a selection set with its fragments expanded; each fragment once.
  void collect(const SelectionSet &set, const TypeDef *parent, std::vector<CollectedField> &out,
               std::set<std::string> &expanded) {
    for (const Selection &sel : set.selections) {
      if (budget_exceeded_)
        return;
      switch (sel.kind) {
        case Selection::kField:
          if (++collected_ > kMaxExpandedFields) {
            budget_exceeded_ = true;
            return;
          }
          out.push_back({&sel, parent ? find_field(schema_, *parent, sel.name) : nullptr, parent});
          break;
        case Selection::kInlineFragment:
          collect(sel.selection_set,
                  sel.type_condition.empty() ? parent : schema_.type(sel.type_condition), out,
                  expanded);
          break;
        case Selection::kFragmentSpread: {
          auto it = fragments_.find(sel.name);
          if (it == fragments_.end() || !expanded.insert(sel.name).second)
            break;
          collect(it->second->selection_set, schema_.type(it->second->type_condition), out,
                  expanded);
          break;
        }
      }
    }
  }

  std::vector<CollectedField> collect_set(const SelectionSet &set, const TypeDef *parent) {
    std::vector<CollectedField> out;
    std::set<std::string> expanded;
    collect(set, parent, out, expanded);
    return out;
  }

  static bool types_conflict(const TypeRef &a, const TypeRef &b, const Schema &schema) {
    if (a.kind == TypeRef::kList || b.kind == TypeRef::kList) {
      if (a.kind != b.kind)
        return true;
      return types_conflict(*a.of, *b.of, schema);
    }
    if (a.kind == TypeRef::kNonNull || b.kind == TypeRef::kNonNull) {
      if (a.kind != b.kind)
        return true;
      return types_conflict(*a.of, *b.of, schema);
    }
    const TypeDef *x = schema.type(a.name);
    const TypeDef *y = schema.type(b.name);
    if ((x && x->is_leaf()) || (y && y->is_leaf()))
      return a.name != b.name;
    return false;
  }

  const TypeDef *composite_of(const CollectedField &f) const {
    const TypeDef *type = f.def ? schema_.type(f.def->type->base_name()) : nullptr;
    return type && type->is_composite() ? type : nullptr;
  }

  std::optional<Conflict> find_conflict(const std::string &response_name, const CollectedField &f1,
                                        const CollectedField &f2, bool parents_exclusive) {
    if (++collected_ > kMaxExpandedFields) {
      budget_exceeded_ = true;
      return std::nullopt;
    }
    bool exclusive = parents_exclusive ||
                     (f1.parent != f2.parent && f1.parent && f2.parent &&
                      f1.parent->kind == TypeKind::kObject && f2.parent->kind == TypeKind::kObject);
    auto shallow = [&](std::string reason) {
      return Conflict{response_name, std::move(reason), {}, {f1.node->loc}, {f2.node->loc}};
    };
    if (!exclusive) {
      if (f1.node->name != f2.node->name)
        return shallow("\"" + f1.node->name + "\" and \"" + f2.node->name +
                       "\" are different fields");
      if (!same_arguments(f1.node->arguments, f2.node->arguments))
        return shallow("they have differing arguments");
    }
    if (f1.def && f2.def && types_conflict(*f1.def->type, *f2.def->type, schema_))
      return shallow("they return conflicting types \"" + f1.def->type->to_string() + "\" and \"" +
                     f2.def->type->to_string() + "\"");
    if (!f1.node->has_selection_set || !f2.node->has_selection_set)
      return std::nullopt;
    std::vector<Conflict> sub =
        conflicts_between(collect_set(f1.node->selection_set, composite_of(f1)),
                          collect_set(f2.node->selection_set, composite_of(f2)), exclusive);
    if (sub.empty())
      return std::nullopt;
    Conflict c{response_name, {}, {}, {f1.node->loc}, {f2.node->loc}};
    for (const Conflict &s : sub) {
      c.fields1.insert(c.fields1.end(), s.fields1.begin(), s.fields1.end());
      c.fields2.insert(c.fields2.end(), s.fields2.begin(), s.fields2.end());
    }
    c.sub = std::move(sub);
    return c;
  }

  static std::map<std::string, std::vector<const CollectedField *>> by_response_name(
      const std::vector<CollectedField> &fields, std::vector<std::string> &order) {
    std::map<std::string, std::vector<const CollectedField *>> groups;
    for (const CollectedField &f : fields) {
      auto &group = groups[f.node->response_name()];
      if (group.empty())
        order.push_back(f.node->response_name());
      group.push_back(&f);
    }
    return groups;
  }

  std::vector<Conflict> conflicts_between(const std::vector<CollectedField> &a,
                                          const std::vector<CollectedField> &b, bool exclusive) {
    std::vector<Conflict> out;
    std::vector<std::string> order, ignored;
    auto groups_a = by_response_name(a, order);
    auto groups_b = by_response_name(b, ignored);
    for (const std::string &name : order) {
      auto other = groups_b.find(name);
      if (other == groups_b.end())
        continue;
      for (const CollectedField *x : groups_a[name])
        for (const CollectedField *y : other->second)
          if (auto c = find_conflict(name, *x, *y, exclusive))
            out.push_back(std::move(*c));
    }
    return out;
  }

  // Conflicts among the fields of one selection set, then within each nested set.
  void check_merge(const SelectionSet &set, const TypeDef *parent) {
    if (budget_exceeded_)
      return;
    std::vector<CollectedField> fields = collect_set(set, parent);
    std::vector<std::string> order;
    auto groups = by_response_name(fields, order);
    for (const std::string &name : order) {
      const auto &group = groups[name];
      for (size_t i = 0; i < group.size(); ++i)
        for (size_t j = i + 1; j < group.size(); ++j)
          if (auto c = find_conflict(name, *group[i], *group[j], false)) {
            std::vector<Location> locations = c->fields1;
            locations.insert(locations.end(), c->fields2.begin(), c->fields2.end());
            error("Fields \"" + name + "\" conflict because " + reason_message(*c) +
                      ". Use different aliases on the fields to fetch both if this was "
                      "intentional.",
                  locations);
          }
    }
    for (const Selection &sel : set.selections) {
      if (!sel.has_selection_set)
        continue;
      if (sel.kind == Selection::kInlineFragment) {
        check_merge(sel.selection_set,
                    sel.type_condition.empty() ? parent : schema_.type(sel.type_condition));
      } else if (sel.kind == Selection::kField) {
        const FieldDef *def = parent ? find_field(schema_, *parent, sel.name) : nullptr;
        const TypeDef *type = def ? schema_.type(def->type->base_name()) : nullptr;
        check_merge(sel.selection_set, type && type->is_composite() ? type : nullptr);
      }
    }
  }

  const Schema &schema_;
  const Document &doc_;
  std::vector<GraphQLError> errors_;
  std::map<std::string, const FragmentDefinition *> fragments_;
  std::map<const OperationDefinition *, std::vector<VariableUsage>> op_usages_;
  std::map<const FragmentDefinition *, std::vector<VariableUsage>> fragment_usages_;
  std::vector<VariableUsage> *usages_ = nullptr;
  std::map<std::string, int> checked_fragments_, exceeded_fragments_;
  size_t collected_ = 0;
  bool budget_exceeded_ = false;
};

}  // namespace

std::vector<GraphQLError> validate(const Schema &schema, const Document &document) {
  return Validator(schema, document).run();
}

}  // namespace pgi::gql
