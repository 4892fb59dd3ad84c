#include "directus/fields.hpp"

namespace pgi::directus {

using query::ValueKind;

const query::FieldRegistry &fields() {
  static const query::FieldRegistry *registry = [] {
    auto *r = new query::FieldRegistry;
    r->add("id", "id", true)
        .add("timestamp", "created_at", true)
        .add("status", "archived_at", true, ValueKind::kFlag)
        .add("recipient", "user_id", true)
        .add("sender", "actor_id", true)
        .add("subject", "title", true)
        .add("message", "body", true)
        .add("collection", "collection", true)
        .add("item", "item", true);
    r->labels("status", "inbox", "archived");
    return r;
  }();
  return *registry;
}

std::string output_sql(const query::Field &field, const std::string &alias) {
  if (field.name == "timestamp")
    return "inbox.directus_time(" + alias + ".created_at)";
  if (field.name == "status")
    return "inbox.directus_status(" + alias + ".archived_at)";
  return alias + "." + field.column;
}

bool is_relational(std::string_view name) {
  return name == "recipient" || name == "sender";
}

}  // namespace pgi::directus
