// The notification's fields, each listed once (notification_fields.cpp): the one table that the
// native field list, the Directus fields and search list, the GraphQL SDL of the notification
// type and its filter, the OpenAPI Notification schemas and the key order of the JSON served over
// HTTP are generated from.
//
// Pure C++ with no other dependency, so the HTTP server compiles it too (server/src/openapi.cpp).
// What stays in SQL is checked against this table by sql/field_registry.sql through
// inbox.field_registry(): the columns of inbox.notifications (pg_attribute), the keys and JSON
// types of inbox.to_json, inbox.writable_fields and the bounds of the CHECK constraints.
//
// Adding a notification field is: its column (00_schema.sql), its key in inbox.to_json (and for
// a writable field its inbox.writable_fields row) in 10_shape.sql, for a writable field its place
// in inbox._insert and inbox._change (20_api.sql), its row here, and the upgrade script.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/value_kind.hpp"

namespace pgi {

// The SQL type of a notification column.
enum class ColumnType { kText, kBigint, kInteger, kJsonb, kTimestamptz, kTextArray };

// As format_type() spells it: "text", "bigint", "integer", "jsonb", "timestamp with time zone",
// "text[]".
const char *column_type_name(ColumnType type);

// How a column's values compare when a field shows them as they are (Directus does, but for its
// status flag): text a string, bigint and integer a number, and so on; kOther for text[].
constexpr ValueKind column_kind(ColumnType type) {
  switch (type) {
    case ColumnType::kText:
      return ValueKind::kString;
    case ColumnType::kBigint:
    case ColumnType::kInteger:
      return ValueKind::kNumber;
    case ColumnType::kJsonb:
      return ValueKind::kJson;
    case ColumnType::kTimestamptz:
      return ValueKind::kTimestamp;
    case ColumnType::kTextArray:
      break;
  }
  return ValueKind::kOther;
}

// The JSON type of a field's value in the API shape, and in a create or update for a writable
// field (inbox.writable_fields.json_type).
enum class JsonType { kString, kBoolean, kInteger, kObject, kArray };

// "string", "boolean", "integer", "object", "array" (JSON Schema's names; jsonb_typeof says
// "number" for an integer).
const char *json_type_name(JsonType type);

struct NotificationField {
  // What a create or update accepts beyond the JSON type; the CHECK constraints of
  // inbox.notifications enforce the same bounds.
  struct Input {
    int min_length = 0;             // characters; 0: none
    int max_length = -1;            // characters; -1: none
    std::string_view pattern;       // a regular expression the value matches
    std::string_view default_json;  // the column's default, as JSON text
  };

  // The field in Directus's notification object (directus/fields.hpp, the GraphQL schema).
  struct Directus {
    std::string_view name;    // empty: Directus does not show it
    int position = 0;         // 1-based place in Directus's object; position 1 is its key
    bool searchable = false;  // `search` looks in it (case-insensitive substring)
    bool user = false;        // a user id: a relation to the users table (recipient, sender)
    std::string_view false_label, true_label;  // a flag shown as strings (status)
    std::string_view description;              // in the GraphQL schema
    // pg_inbox's own field, not Directus's (issue 19: seen_at, expires_at): only where a
    // request names it (fields=, filter, sort, groupBy, a GraphQL selection), never in `*` or
    // in a default answer, which stay Directus's own nine fields byte for byte.
    bool extra = false;
  };

  // The OpenAPI description of the value (server/src/openapi.cpp).
  struct Doc {
    bool required = false;  // listed under "required" (the fields seed 002 shows, never null)
    std::string_view pattern;
    std::string_view examples;  // '|'-separated strings
    std::string_view description;
    int max_items = -1;  // an array's bound (a CHECK constraint)
    int minimum = -1;    // an integer's lower bound
  };

  std::string_view name;    // pg_inbox's API name: the key in inbox.to_json
  std::string_view column;  // the column of inbox.notifications the value comes from
  ColumnType type = ColumnType::kText;
  bool not_null = false;  // the column is NOT NULL
  JsonType json = JsonType::kString;
  // Native filters and orderBy (inbox.list). The kind decides the operators a filter may use on
  // the field (query/filter_parser.cpp); a field that is not filterable is shown only.
  bool filterable = false;
  ValueKind kind = ValueKind::kString;
  bool sortable = false;
  bool on_create = false;  // may be given to create (inbox.writable_fields.on_create)
  bool on_update = false;  // may be given to update
  Input input;
  Directus directus;
  Doc doc;

  // Can the value be null in the API shape? A flag is a boolean, never null.
  constexpr bool nullable() const { return !not_null && !(filterable && kind == ValueKind::kFlag); }
  // How Directus compares it: the column as it is (the id as the internal number), but a flag.
  constexpr ValueKind directus_kind() const {
    return filterable && kind == ValueKind::kFlag ? ValueKind::kFlag : column_kind(type);
  }

  // The table in notification_fields.cpp is written with these.
  constexpr NotificationField filter(ValueKind k) const {
    NotificationField f = *this;
    f.filterable = true;
    f.kind = k;
    return f;
  }
  constexpr NotificationField sort() const {
    NotificationField f = *this;
    f.sortable = true;
    return f;
  }
  constexpr NotificationField create() const {
    NotificationField f = *this;
    f.on_create = true;
    return f;
  }
  constexpr NotificationField update() const {
    NotificationField f = *this;
    f.on_update = true;
    return f;
  }
  constexpr NotificationField length(int min, int max) const {
    NotificationField f = *this;
    f.input.min_length = min;
    f.input.max_length = max;
    return f;
  }
  constexpr NotificationField match(std::string_view pattern) const {
    NotificationField f = *this;
    f.input.pattern = pattern;
    return f;
  }
  constexpr NotificationField by_default(std::string_view json_text) const {
    NotificationField f = *this;
    f.input.default_json = json_text;
    return f;
  }
  constexpr NotificationField in_directus(std::string_view directus_name, int position) const {
    NotificationField f = *this;
    f.directus.name = directus_name;
    f.directus.position = position;
    return f;
  }
  // A field beside Directus's own, after them (Directus::extra).
  constexpr NotificationField beside_directus(std::string_view directus_name, int position,
                                              std::string_view description) const {
    NotificationField f = in_directus(directus_name, position);
    f.directus.extra = true;
    f.directus.description = description;
    return f;
  }
  constexpr NotificationField searched() const {
    NotificationField f = *this;
    f.directus.searchable = true;
    return f;
  }
  constexpr NotificationField user(std::string_view description) const {
    NotificationField f = *this;
    f.directus.user = true;
    f.directus.description = description;
    return f;
  }
  constexpr NotificationField labels(std::string_view false_label,
                                     std::string_view true_label) const {
    NotificationField f = *this;
    f.directus.false_label = false_label;
    f.directus.true_label = true_label;
    return f;
  }
  constexpr NotificationField required() const {
    NotificationField f = *this;
    f.doc.required = true;
    return f;
  }
  constexpr NotificationField shown_as(std::string_view pattern, std::string_view examples) const {
    NotificationField f = *this;
    f.doc.pattern = pattern;
    f.doc.examples = examples;
    return f;
  }
  constexpr NotificationField described(std::string_view description) const {
    NotificationField f = *this;
    f.doc.description = description;
    return f;
  }
  constexpr NotificationField at_most(int items) const {
    NotificationField f = *this;
    f.doc.max_items = items;
    return f;
  }
  constexpr NotificationField at_least(int minimum) const {
    NotificationField f = *this;
    f.doc.minimum = minimum;
    return f;
  }
};

// The fields in the order of the API shape: inbox.to_json's keys as the README and seed 002 show
// them, the order in which they are written over HTTP.
struct NotificationFieldTable {
  const NotificationField *first;
  size_t count;
  const NotificationField *begin() const { return first; }
  const NotificationField *end() const { return first + count; }
  size_t size() const { return count; }
  const NotificationField &operator[](size_t i) const { return first[i]; }
};
NotificationFieldTable notification_fields();

// The field with this API name; nullptr for none.
const NotificationField *find_notification_field(std::string_view name);

// The fields of the Directus dialects, in the order of its notification object
// (directus.position; the first is its key), then pg_inbox's extra ones (directus.extra).
const std::vector<const NotificationField *> &directus_notification_fields();

// The one key a notification object may have beyond its fields: the related rows that
// expand=... embeds (query/row_expand.hpp), always after them.
inline constexpr std::string_view kExpandedKey = "expanded";

}  // namespace pgi
