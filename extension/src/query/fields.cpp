// The notification columns the engine reads, and pg_inbox's native field names for them, from
// the field registry (core/notification_fields.hpp).

#include <algorithm>
#include <stdexcept>

#include "core/notification_fields.hpp"
#include "query/model.hpp"

namespace pgi::query {
namespace {

// How the engine binds a column's values; nullopt for a type no filter reads.
std::optional<SqlType> engine_type(ColumnType type) {
  switch (type) {
    case ColumnType::kText:
      return SqlType::kText;
    case ColumnType::kBigint:
      return SqlType::kBigint;
    case ColumnType::kJsonb:
      return SqlType::kJsonb;
    case ColumnType::kTimestamptz:
      return SqlType::kTimestamptz;
    case ColumnType::kInteger:
    case ColumnType::kTextArray:
      break;
  }
  return std::nullopt;
}

// The columns of the filterable fields, each once, named after itself with its natural kind.
// The names are spliced into SQL as they are: the registry is the whitelist.
const std::vector<Field> &column_fields() {
  static const std::vector<Field> *fields = [] {
    auto *out = new std::vector<Field>;
    for (const NotificationField &n : notification_fields()) {
      if (!n.filterable || std::any_of(out->begin(), out->end(),
                                       [&](const Field &f) { return f.column == n.column; }))
        continue;
      std::optional<SqlType> type = engine_type(n.type);
      if (!type)
        throw std::logic_error("field registry: " + std::string(n.name) +
                               " is filterable, but no filter reads a column of its type");
      Field f;
      f.name = std::string(n.column);
      f.column = std::string(n.column);
      f.kind = column_kind(n.type);
      f.type.sql = *type;
      f.nullable = !n.not_null;
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
    for (const NotificationField &n : notification_fields()) {
      if (n.filterable)
        r->add(std::string(n.name), n.column, n.sortable, n.kind);
    }
    return r;
  }();
  return *registry;
}

}  // namespace pgi::query
