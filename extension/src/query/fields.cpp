// The notification columns the engine reads, and pg_inbox's native field names for them.

#include <algorithm>
#include <stdexcept>

#include "query/model.hpp"

namespace pgi::query {
namespace {

struct ColumnSpec {
  const char *name;
  SqlType type;
  bool nullable;
  ValueKind kind;
};

// inbox.notifications as 00_schema.sql declares it. The names are spliced into SQL as they
// are: this table is the whitelist.
constexpr ColumnSpec kColumns[] = {
    {"user_id", SqlType::kText, false, ValueKind::kString},
    {"id", SqlType::kBigint, false, ValueKind::kNumber},
    {"workspace_id", SqlType::kText, true, ValueKind::kString},
    {"type", SqlType::kText, false, ValueKind::kString},
    {"title", SqlType::kText, true, ValueKind::kString},
    {"body", SqlType::kText, true, ValueKind::kString},
    {"data", SqlType::kJsonb, false, ValueKind::kJson},
    {"actor_id", SqlType::kText, true, ValueKind::kString},
    {"collection", SqlType::kText, true, ValueKind::kString},
    {"item", SqlType::kText, true, ValueKind::kString},
    {"group_key", SqlType::kText, true, ValueKind::kString},
    {"read_at", SqlType::kTimestamptz, true, ValueKind::kTimestamp},
    {"archived_at", SqlType::kTimestamptz, true, ValueKind::kTimestamp},
    {"deleted_at", SqlType::kTimestamptz, true, ValueKind::kTimestamp},
    {"created_at", SqlType::kTimestamptz, false, ValueKind::kTimestamp},
    {"updated_at", SqlType::kTimestamptz, false, ValueKind::kTimestamp},
};

const std::vector<Field> &column_fields() {
  static const std::vector<Field> *fields = [] {
    auto *out = new std::vector<Field>;
    for (const ColumnSpec &c : kColumns) {
      Field f;
      f.name = c.name;
      f.column = c.name;
      f.kind = c.kind;
      f.type.sql = c.type;
      f.nullable = c.nullable;
      out->push_back(std::move(f));
    }
    return out;
  }();
  return *fields;
}

}  // namespace

const Field *notification_column(std::string_view column) {
  for (const Field &f : column_fields()) {
    if (f.column == column)
      return &f;
  }
  return nullptr;
}

FieldRegistry &FieldRegistry::add(std::string name, std::string_view column, bool sortable,
                                  std::optional<ValueKind> kind) {
  const Field *base = notification_column(column);
  if (base == nullptr)
    throw std::logic_error("no notification column " + std::string(column));
  Field f = *base;
  f.name = std::move(name);
  f.sortable = sortable;
  if (kind)
    f.kind = *kind;
  if (f.kind == ValueKind::kFlag)
    f.nullable = false;
  return add(std::move(f));
}

FieldRegistry &FieldRegistry::add(Field field) {
  fields_.push_back(std::move(field));
  return *this;
}

FieldRegistry &FieldRegistry::labels(std::string_view name, std::string false_label,
                                     std::string true_label) {
  for (Field &f : fields_) {
    if (f.name == name) {
      f.false_label = std::move(false_label);
      f.true_label = std::move(true_label);
      return *this;
    }
  }
  throw std::logic_error("no field " + std::string(name));
}

const Field *FieldRegistry::find(std::string_view name) const {
  for (const Field &f : fields_) {
    if (f.name == name)
      return &f;
  }
  return nullptr;
}

std::string FieldRegistry::names(bool sortable_only) const {
  std::vector<std::string> list;
  for (const Field &f : fields_) {
    if (!sortable_only || f.sortable)
      list.push_back(f.name);
  }
  std::sort(list.begin(), list.end());
  std::string out;
  for (const std::string &n : list)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

const FieldRegistry &native_fields() {
  static const FieldRegistry *registry = [] {
    auto *r = new FieldRegistry;
    r->add("id", "id", true, ValueKind::kPublicId)
        .add("userId", "user_id", true)
        .add("workspaceId", "workspace_id", true)
        .add("type", "type", true)
        .add("title", "title", true)
        .add("body", "body", false)  // up to 20,000 characters: too long for a cursor
        .add("data", "data", false)
        .add("actorId", "actor_id", true)
        .add("collection", "collection", true)
        .add("item", "item", true)
        .add("groupKey", "group_key", true)
        .add("read", "read_at", true, ValueKind::kFlag)
        .add("readAt", "read_at", true)
        .add("archived", "archived_at", true, ValueKind::kFlag)
        .add("archivedAt", "archived_at", true)
        .add("deletedAt", "deleted_at", true)
        .add("createdAt", "created_at", true)
        .add("updatedAt", "updated_at", true);
    return r;
  }();
  return *registry;
}

}  // namespace pgi::query
