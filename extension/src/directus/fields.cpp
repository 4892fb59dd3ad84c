#include "directus/fields.hpp"

#include "core/errors.hpp"
#include "core/notification_fields.hpp"
#include "query/marks.hpp"

namespace pgi::directus {

const query::FieldRegistry &fields() {
  static const query::FieldRegistry *registry = [] {
    auto *r = new query::FieldRegistry;
    for (const NotificationField *n : directus_notification_fields()) {
      r->add(std::string(n->directus.name), n->column, true, n->directus_kind());
      if (n->directus_kind() == ValueKind::kFlag)
        r->labels(n->directus.name, std::string(n->directus.false_label),
                  std::string(n->directus.true_label));
    }
    return r;
  }();
  return *registry;
}

const std::vector<std::string> &search_fields() {
  static const std::vector<std::string> *names = [] {
    auto *out = new std::vector<std::string>;
    for (const NotificationField *n : directus_notification_fields()) {
      if (n->directus.searchable)
        out->emplace_back(n->directus.name);
    }
    return out;
  }();
  return *names;
}

size_t directus_fields_count() {
  static const size_t count = [] {
    size_t n = 0;
    for (const NotificationField *f : directus_notification_fields())
      n += f->directus.extra ? 0 : 1;
    return n;
  }();
  return count;
}

bool is_extra(std::string_view name) {
  for (const NotificationField *n : directus_notification_fields()) {
    if (n->directus.name == name)
      return n->directus.extra;
  }
  return false;
}

std::string output_sql(const query::Field &field, query::MarkRefs &marks) {
  if (field.column == "seen_at")
    return "inbox.directus_time(" + query::field_value_sql(field, marks) + ")";
  return aggregate_sql(field, marks.alias());
}

const query::Field &aggregated_field(const query::Field &field, const std::string &path) {
  if (field.column == "seen_at")
    throw invalid_value(path, field.name + " cannot be grouped or aggregated",
                        "Filter or sort on it, or list it in fields.");
  return field;
}

std::string aggregate_sql(const query::Field &field, const std::string &alias) {
  if (field.kind == ValueKind::kTimestamp)
    return "inbox.directus_time(" + alias + "." + field.column + ")";
  if (field.kind == ValueKind::kFlag)
    return "inbox.directus_status(" + alias + "." + field.column + ")";
  return alias + "." + field.column;
}

bool is_relational(std::string_view name) {
  for (const NotificationField *n : directus_notification_fields()) {
    if (n->directus.name == name)
      return n->directus.user;
  }
  return false;
}

}  // namespace pgi::directus
