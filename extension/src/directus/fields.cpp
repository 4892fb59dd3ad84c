#include "directus/fields.hpp"

#include "core/notification_fields.hpp"

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

std::string output_sql(const query::Field &field, const std::string &alias) {
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
