#include "core/notification_fields.hpp"

#include <algorithm>

namespace pgi {
namespace {

using F = NotificationField;
using C = ColumnType;
using J = JsonType;
using K = ValueKind;

constexpr F field(std::string_view name, std::string_view column, ColumnType type, bool not_null,
                  JsonType json) {
  F f;
  f.name = name;
  f.column = column;
  f.type = type;
  f.not_null = not_null;
  f.json = json;
  return f;
}

constexpr bool kNotNull = true;
constexpr bool kNull = false;

constexpr std::string_view kTypePattern = "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$";

// One row per field, in the order of the API shape. A row reads: the key and the column (type,
// NOT NULL, JSON type); how native filters compare it and whether orderBy takes it; whether a
// create or an update may give it and within which bounds; its Directus name and place; its
// OpenAPI description.
constexpr F kFields[] = {
    field("id", "id", C::kBigint, kNotNull, J::kString)
        .filter(K::kPublicId)
        .sort()
        .in_directus("id", 1)
        .required()
        .shown_as("^ntf_[0-9a-z]{13}$", "ntf_9wtr4mfdtxq5z"),
    field("userId", "user_id", C::kText, kNotNull, J::kString)
        .filter(K::kString)
        .sort()
        .create()
        .length(1, 255)
        .in_directus("recipient", 4)
        .user("The id of the user who received the notification.")
        .required(),
    field("workspaceId", "workspace_id", C::kText, kNull, J::kString)
        .filter(K::kString)
        .sort()
        .create()
        .length(1, 255),
    field("type", "type", C::kText, kNotNull, J::kString)
        .filter(K::kString)
        .sort()
        .create()
        .update()
        .match(kTypePattern)
        .by_default("\"info\"")
        .required()
        .shown_as({}, "info|warning|error|success"),
    field("title", "title", C::kText, kNull, J::kString)
        .filter(K::kString)
        .sort()
        .create()
        .update()
        .length(0, 1000)
        .in_directus("subject", 6)
        .searched(),
    // Not sortable: up to 20,000 characters, too long for a cursor.
    field("body", "body", C::kText, kNull, J::kString)
        .filter(K::kString)
        .create()
        .update()
        .length(0, 20000)
        .in_directus("message", 7)
        .searched(),
    field("data", "data", C::kJsonb, kNotNull, J::kObject)
        .filter(K::kJson)
        .create()
        .update()
        .by_default("{}")
        .required(),
    field("read", "read_at", C::kTimestamptz, kNull, J::kBoolean)
        .filter(K::kFlag)
        .sort()
        .required(),
    field("readAt", "read_at", C::kTimestamptz, kNull, J::kString).filter(K::kTimestamp).sort(),
    // Issue 19: the row's own seen_at, else the seen mark that covers it (query/marks.hpp).
    field("seenAt", "seen_at", C::kTimestamptz, kNull, J::kString)
        .filter(K::kTimestamp)
        .sort()
        .beside_directus("seen_at", 10, "When the user saw it (pg_inbox's, not Directus's field).")
        .described("When the user saw it (a seen-all covering it); null while unseen."),
    field("archived", "archived_at", C::kTimestamptz, kNull, J::kBoolean)
        .filter(K::kFlag)
        .sort()
        .in_directus("status", 3)
        .labels("inbox", "archived"),
    field("archivedAt", "archived_at", C::kTimestamptz, kNull, J::kString)
        .filter(K::kTimestamp)
        .sort(),
    field("deletedAt", "deleted_at", C::kTimestamptz, kNull, J::kString)
        .filter(K::kTimestamp)
        .sort(),
    // Issue 19: at this time it leaves every list and count; null: never.
    field("expiresAt", "expires_at", C::kTimestamptz, kNull, J::kString)
        .filter(K::kTimestamp)
        .sort()
        .create()
        .beside_directus(
            "expires_at", 11,
            "When it expires and leaves every list and count; null: never (pg_inbox's, "
            "not Directus's field).")
        .described("When it expires and leaves every list and count (null: never)."),
    field("actorId", "actor_id", C::kText, kNull, J::kString)
        .filter(K::kString)
        .sort()
        .create()
        .length(1, 255)
        .in_directus("sender", 5)
        .user("The id of the user who sent the notification, if any."),
    // Filled by actor aggregation: shown, not filtered on.
    field("actors", "recent_actor_ids", C::kTextArray, kNotNull, J::kArray)
        .at_most(10)
        .described("The most recent distinct actors, newest first."),
    field("actorCount", "actor_count", C::kInteger, kNotNull, J::kInteger).at_least(0),
    field("collection", "collection", C::kText, kNull, J::kString)
        .filter(K::kString)
        .sort()
        .create()
        .update()
        .length(1, 255)
        .in_directus("collection", 8)
        .searched(),
    field("item", "item", C::kText, kNull, J::kString)
        .filter(K::kString)
        .sort()
        .create()
        .update()
        .length(1, 255)
        .in_directus("item", 9)
        .searched(),
    field("groupKey", "group_key", C::kText, kNull, J::kString)
        .filter(K::kString)
        .sort()
        .create()
        .update()
        .length(1, 255),
    field("createdAt", "created_at", C::kTimestamptz, kNotNull, J::kString)
        .filter(K::kTimestamp)
        .sort()
        .in_directus("timestamp", 2)
        .required(),
    field("updatedAt", "updated_at", C::kTimestamptz, kNotNull, J::kString)
        .filter(K::kTimestamp)
        .sort(),
};

}  // namespace

const char *column_type_name(ColumnType type) {
  switch (type) {
    case ColumnType::kText:
      return "text";
    case ColumnType::kBigint:
      return "bigint";
    case ColumnType::kInteger:
      return "integer";
    case ColumnType::kJsonb:
      return "jsonb";
    case ColumnType::kTimestamptz:
      return "timestamp with time zone";
    case ColumnType::kTextArray:
      return "text[]";
  }
  return "text";
}

const char *json_type_name(JsonType type) {
  switch (type) {
    case JsonType::kString:
      return "string";
    case JsonType::kBoolean:
      return "boolean";
    case JsonType::kInteger:
      return "integer";
    case JsonType::kObject:
      return "object";
    case JsonType::kArray:
      return "array";
  }
  return "string";
}

NotificationFieldTable notification_fields() {
  return {kFields, sizeof kFields / sizeof kFields[0]};
}

const NotificationField *find_notification_field(std::string_view name) {
  for (const NotificationField &f : kFields) {
    if (f.name == name)
      return &f;
  }
  return nullptr;
}

const std::vector<const NotificationField *> &directus_notification_fields() {
  static const std::vector<const NotificationField *> *fields = [] {
    auto *out = new std::vector<const NotificationField *>;
    for (const NotificationField &f : kFields) {
      if (!f.directus.name.empty())
        out->push_back(&f);
    }
    std::sort(out->begin(), out->end(), [](const NotificationField *a, const NotificationField *b) {
      return a->directus.position < b->directus.position;
    });
    return out;
  }();
  return *fields;
}

}  // namespace pgi
