// The Directus notification object's fields over inbox.notifications, from the field registry
// (core/notification_fields.hpp). Pure C++.
//
//   id          the internal bigint id (a JSON number)      timestamp   created_at
//   status      "archived" when archived_at is set, else "inbox"
//   recipient   user_id     sender   actor_id     subject   title     message   body
//   collection  collection  item     item
//
// and, only where a request names them (never in `*` or a default answer: those are Directus's
// own nine), pg_inbox's seen_at (the row's seen_at or the seen mark covering it, as
// inbox.to_json's seenAt) and expires_at (issue 19).
//
// The registry is the whitelist every Directus front end (REST, GraphQL) parses names with; the
// output expressions are the SQL that renders each field as Directus shows it, and must agree
// with inbox.to_directus() in 60_directus.sql (sql/directus_query.sql checks that they do).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "query/marks.hpp"
#include "query/model.hpp"

namespace pgi::directus {

// The Directus fields in the object's field order (id, timestamp, status, recipient, sender,
// subject, message, collection, item). Every one is sortable, as in Directus; the first is the
// key.
const query::FieldRegistry &fields();

// Directus's own fields: what `*` and an answer without `fields` show (the first
// directus_fields_count() of fields()); the others are pg_inbox's extra ones.
size_t directus_fields_count();
bool is_extra(std::string_view name);

// The fields `search` looks in, in that order (subject, message, collection, item).
const std::vector<std::string> &search_fields();

// The SQL expression rendering `field` (one of fields()) over the notification row of `marks`
// as Directus shows it: text for a timestamp and for the status flag, the column otherwise;
// seen_at with the user's seen marks applied (query/marks.hpp), bound into the statement.
std::string output_sql(const query::Field &field, query::MarkRefs &marks);

// The same for groupBy and aggregates, which compile_aggregate builds outside the row's
// statement: every field but seen_at (aggregated_field refuses it).
std::string aggregate_sql(const query::Field &field, const std::string &alias);

// `field` for groupBy or an aggregate at `path`: seen_at is not a column but the seen marks
// applied to one, and those are not grouped (22023).
const query::Field &aggregated_field(const query::Field &field, const std::string &path);

// The fields that may lead to another table through inbox.define_relation (the user ids
// recipient and sender).
bool is_relational(std::string_view name);

// The collection name Directus uses in its messages.
inline constexpr const char *kCollection = "directus_notifications";

}  // namespace pgi::directus
