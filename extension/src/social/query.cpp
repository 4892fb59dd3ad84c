#include "social/query.hpp"

#include "core/errors.hpp"

namespace pgi::social {

namespace {

// Mastodon's id: the notification's internal id, compared as the bigint it is.
const query::Field &id_field() {
  static const query::FieldRegistry *const fields =
      &(new query::FieldRegistry())->add("id", "id", true, ValueKind::kNumber);
  return *fields->find("id");
}

query::Node id_bound(query::Op op, int64_t value, const char *path) {
  return query::Node::compare(id_field(), op, {query::Scalar(value)}, path);
}

}  // namespace

query::RowShape row_shape(std::string_view dialect) {
  const std::string row = query::notification_row("n");
  if (dialect == "mastodon")
    return {"inbox.mastodon_json(" + row + ")", ""};
  if (dialect == "diaspora")
    return {"inbox.diaspora_json(" + row + ")", "inbox._diaspora_json"};
  throw Error(sqlstate::kInvalidParameterValue,
              "shape: unknown dialect \"" + std::string(dialect) + "\"");
}

query::RowShape group_scan_shape() {
  const std::string row = query::notification_row("n");
  return {"inbox.mastodon_json(" + row +
              ") || pg_catalog.jsonb_build_object('actors', pg_catalog.to_jsonb(inbox._actors(" +
              row + ")))",
          ""};
}

bool apply_id_range(query::Query &q, const IdRange &range) {
  if (range.max_id)
    q.filter.narrow(id_bound(query::Op::kLt, *range.max_id, "max_id"));
  if (range.since_id)
    q.filter.narrow(id_bound(query::Op::kGt, *range.since_id, "since_id"));
  if (range.min_id)
    q.filter.narrow(id_bound(query::Op::kGt, *range.min_id, "min_id"));
  bool oldest_first = range.min_id.has_value();
  q.order = {query::OrderKey{
      id_field(), oldest_first ? query::Direction::kAsc : query::Direction::kDesc, !oldest_first}};
  return oldest_first;
}

}  // namespace pgi::social
