// The syntax tree of a GraphQL executable document (October 2021 specification).
//
// Pure C++. Nodes own their children by value; a Document is self-contained and immutable
// once parsed. Every node that an error can point at carries its source Location (line and
// column counted as graphql-js counts them: 1-based, columns in UTF-16 code units).
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace pgi::gql {

struct Location {
  int line = 0;
  int column = 0;
};

// A type reference: `Name`, `[T]` or `T!`. Shared, immutable subtrees, so the schema and
// the documents can hold the same shapes cheaply.
struct TypeRef {
  enum Kind { kNamed, kList, kNonNull };
  Kind kind = kNamed;
  std::string name;                   // kNamed
  std::shared_ptr<const TypeRef> of;  // kList, kNonNull
  Location loc;

  static std::shared_ptr<const TypeRef> named(std::string name, Location loc = {});
  static std::shared_ptr<const TypeRef> list(std::shared_ptr<const TypeRef> of, Location loc = {});
  static std::shared_ptr<const TypeRef> non_null(std::shared_ptr<const TypeRef> of,
                                                 Location loc = {});

  bool is_non_null() const { return kind == kNonNull; }
  // The named type at the bottom of the wrappers.
  const std::string &base_name() const;
  // `[ID!]!`, as GraphQL prints it.
  std::string to_string() const;
};
using TypeRefPtr = std::shared_ptr<const TypeRef>;

bool same_type(const TypeRef &a, const TypeRef &b);

struct ObjectField;

// A value literal. `text` holds the name of a variable or enum, the digits of a number, or
// the (decoded) characters of a string.
struct Value {
  enum Kind { kVariable, kInt, kFloat, kString, kBoolean, kNull, kEnum, kList, kObject };
  Kind kind = kNull;
  Location loc;
  std::string text;
  bool boolean = false;
  bool block = false;  // a """block string"""
  std::vector<Value> list;
  std::vector<ObjectField> fields;
};

struct ObjectField {
  std::string name;
  Location loc;
  Value value;
};

struct Argument {
  std::string name;
  Location loc;
  Value value;
};

struct Directive {
  std::string name;
  Location loc;
  std::vector<Argument> arguments;
};

struct Selection;

struct SelectionSet {
  Location loc;
  std::vector<Selection> selections;
};

struct Selection {
  enum Kind { kField, kFragmentSpread, kInlineFragment };
  Kind kind = kField;
  Location loc;
  std::string alias;  // kField, empty when absent
  std::string name;   // kField: the field; kFragmentSpread: the fragment
  Location name_loc;
  std::string type_condition;  // kInlineFragment, empty when absent
  Location type_condition_loc;
  std::vector<Argument> arguments;
  std::vector<Directive> directives;
  bool has_selection_set = false;
  SelectionSet selection_set;

  const std::string &response_name() const { return alias.empty() ? name : alias; }
};

struct VariableDefinition {
  std::string name;  // without the $
  Location loc;      // of the $
  Location name_loc;
  TypeRefPtr type;
  bool has_default = false;
  Value default_value;
  std::vector<Directive> directives;
};

struct OperationDefinition {
  enum Kind { kQuery, kMutation, kSubscription };
  Kind kind = kQuery;
  std::string name;  // empty for an anonymous operation
  Location loc;
  Location name_loc;
  std::vector<VariableDefinition> variables;
  std::vector<Directive> directives;
  SelectionSet selection_set;
};

struct FragmentDefinition {
  std::string name;
  Location loc;
  Location name_loc;
  std::string type_condition;
  Location type_condition_loc;
  std::vector<Directive> directives;
  SelectionSet selection_set;
};

struct Document {
  // In document order; each definition is in exactly one list, `order` interleaves them.
  std::vector<OperationDefinition> operations;
  std::vector<FragmentDefinition> fragments;
  struct Entry {
    bool is_operation;
    size_t index;
  };
  std::vector<Entry> order;
};

const char *operation_keyword(OperationDefinition::Kind kind);

}  // namespace pgi::gql
