// How a field's values compare, and the sets of such kinds that operator tables name.
//
// Pure C++. The notification field registry (core/notification_fields.hpp) gives each field its
// kind; the query engine (query/model.hpp) gives one to every field it filters on, relation
// target columns included. Which operators apply to which kinds is decided by the operator
// tables of each dialect (query/filter_parser.cpp, directus/filter.cpp), each operator naming the
// kinds it applies to: nothing depends on the order of this enum.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace pgi {

enum class ValueKind {
  kString,     // text: equality, lists, ranges, substrings, case-insensitive mode
  kTimestamp,  // timestamptz: ISO-8601 strings; equality, lists, ranges
  kFlag,       // boolean derived from a nullable column: true when it IS NOT NULL (read, archived)
  kBoolean,    // a boolean column (relation targets)
  kNumber,     // integer or numeric column: JSON numbers or numeric strings
  kPublicId,   // the notification id shown as ntf_...: equality and lists, bound as internal bigint
  kJson,       // jsonb: containment, key existence, comparison at a path
  kOther,      // any other catalog type (uuid, enums...): equality only, through its input function
};

// "string", "timestamp", "flag", "boolean", "number", "id", "json", "other" (inbox.fields()).
const char *value_kind_name(ValueKind kind);

// A set of kinds, written as the list of its members: {ValueKind::kString, ValueKind::kJson}.
class KindSet {
 public:
  constexpr KindSet(std::initializer_list<ValueKind> kinds) {
    for (ValueKind k : kinds)
      bits_ |= bit(k);
  }
  constexpr bool has(ValueKind kind) const { return (bits_ & bit(kind)) != 0; }

 private:
  static constexpr uint32_t bit(ValueKind kind) { return uint32_t{1} << static_cast<int>(kind); }
  uint32_t bits_ = 0;
};

// Every kind: the operators every field takes (equality).
inline constexpr KindSet kAnyKind = {
    ValueKind::kString, ValueKind::kTimestamp, ValueKind::kFlag, ValueKind::kBoolean,
    ValueKind::kNumber, ValueKind::kPublicId,  ValueKind::kJson, ValueKind::kOther};

}  // namespace pgi
