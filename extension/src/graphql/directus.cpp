#include "graphql/directus.hpp"

#include <cstdio>

#include "core/notification_fields.hpp"
#include "graphql/error.hpp"

namespace pgi::gql {
namespace {

using nlohmann::json;                  // requests: arguments, parameters
using ojson = nlohmann::ordered_json;  // answers: data, in the order it comes

constexpr const char *kForbidden = "You don't have permission to access this.";

// The schema offers Directus's timestamp_func filters (year, month, ...), which the Directus
// translator does not implement: say so, rather than let it answer "no such field".
void refuse_function_filters(const json &filter, const std::string &path) {
  if (!filter.is_object())
    return;
  for (auto it = filter.begin(); it != filter.end(); ++it) {
    if (it.key() == "timestamp_func")
      throw FieldError(path + ".timestamp_func: filtering on datetime functions is not supported",
                       code::kInvalidQuery);
    if ((it.key() == "_and" || it.key() == "_or") && it->is_array())
      for (size_t i = 0; i < it->size(); ++i)
        refuse_function_filters((*it)[i], path + "." + it.key() + "[" + std::to_string(i) + "]");
  }
}

// The query parameters a list field's arguments stand for, as the REST routes take them.
json query_params(const json &args) {
  if (args.contains("filter"))
    refuse_function_filters(args["filter"], "filter");
  json params = json::object();
  for (const char *name : {"filter", "sort", "limit", "offset", "page", "search", "groupBy"}) {
    auto it = args.find(name);
    if (it != args.end() && !it->is_null())
      params[name] = *it;
  }
  return params;
}

DirectusApi::Arg text(std::string value) {
  return DirectusApi::Arg{std::move(value), std::nullopt};
}
DirectusApi::Arg jsonb(const json &value) {
  return DirectusApi::Arg{std::nullopt, value};
}

// The `data` member of an answer {"data": ...}.
ojson data_of(const std::optional<std::string> &answer) {
  if (!answer || answer->empty())
    return nullptr;
  ojson body = ojson::parse(*answer);
  auto data = body.find("data");
  return data == body.end() ? ojson() : std::move(*data);
}

// The aggregate parameter for what the selection asks of notifications_aggregated.
json aggregate_params(const SubSelection &selection) {
  json aggregate = json::object();
  for (size_t i = 0; i < selection.names.size(); ++i) {
    const std::string &name = selection.names[i];
    if (name == "countAll") {
      aggregate["countAll"] = "*";
      continue;
    }
    if (name == "group" || name == "__typename")
      continue;
    json fields = json::array();
    for (const std::string &child : selection.child_names[i])
      if (child != "__typename")
        fields.push_back(child);
    if (!fields.empty())
      aggregate[name] = fields;
  }
  // Only `group` (or nothing but __typename) asked for: the groups still need one aggregate.
  if (aggregate.empty())
    aggregate["count"] = "*";
  return aggregate;
}

// A REST aggregate row ({"status": "inbox", "count": {"id": "8000"}, "countAll": "8000"}) as
// a directus_notifications_aggregated object.
ojson aggregated_row(const ojson &row, const json &group_by) {
  ojson out = ojson::object();
  ojson group = ojson::object();
  for (const auto &name : group_by) {
    if (!name.is_string())
      continue;
    auto it = row.find(name.get<std::string>());
    group[name.get<std::string>()] = it == row.end() ? ojson() : *it;
  }
  out["group"] = group_by.empty() ? ojson() : group;
  for (auto it = row.begin(); it != row.end(); ++it)
    if (!group.contains(it.key()))
      out[it.key()] = it.value();
  return out;
}

// The timestamp fields whose datetime functions (`<name>_func`) the selection asks for.
std::vector<std::string> selected_functions(const SubSelection &selection) {
  std::vector<std::string> out;
  for (const NotificationField *f : directus_notification_fields()) {
    std::string name(f->directus.name);
    if (f->directus_kind() == ValueKind::kTimestamp && selection.has(name + "_func"))
      out.push_back(std::move(name));
  }
  return out;
}

// The `fields` parameter for what the selection reads: Directus's own fields (`*`) and those of
// pg_inbox's extra ones it names, itself or through its `_func`; null for none of them (the
// REST default, Directus's own).
json fields_param(const SubSelection &selection) {
  std::string fields;
  for (const NotificationField *f : directus_notification_fields()) {
    std::string name(f->directus.name);
    if (f->directus.extra && (selection.has(name) || selection.has(name + "_func")))
      fields += "," + name;
  }
  return fields.empty() ? json() : json("*" + fields);
}

// The query parameters `params` with the selection's fields.
json with_fields(json params, const SubSelection &selection) {
  json fields = fields_param(selection);
  if (!fields.is_null())
    params["fields"] = std::move(fields);
  return params;
}

void add_functions(ojson &row, const std::vector<std::string> &names) {
  if (!row.is_object())
    return;
  for (const std::string &name : names)
    if (row.contains(name))
      row[name + "_func"] = datetime_functions(row[name]);
}

// A notification or a list of them, with the datetime functions the selection asks for.
ojson notifications(ojson rows, const SubSelection &selection) {
  std::vector<std::string> names = selected_functions(selection);
  if (names.empty())
    return rows;
  if (!rows.is_array())
    add_functions(rows, names);
  else
    for (auto &row : rows)
      add_functions(row, names);
  return rows;
}

std::string id_text(const json &args, const char *name) {
  auto it = args.find(name);
  if (it == args.end() || !it->is_string())
    throw FieldError(std::string(name) + ": required", code::kInvalidQuery);
  return it->get<std::string>();
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
long days_from_civil(long y, long m, long d) {
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// ISO 8601 week number, as PostgreSQL's EXTRACT(WEEK) gives it.
long iso_week(long y, long m, long d) {
  long days = days_from_civil(y, m, d);
  long weekday = ((days % 7) + 7 + 3) % 7;  // Monday = 0
  long thursday = days - weekday + 3;       // the Thursday of this ISO week
  // The year of that Thursday, then its week number.
  long year = y;
  if (thursday < days_from_civil(y, 1, 1))
    year = y - 1;
  if (thursday >= days_from_civil(y + 1, 1, 1))
    year = y + 1;
  return (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
}

}  // namespace

ojson datetime_functions(const ojson &timestamp) {
  if (!timestamp.is_string())
    return nullptr;
  int y, mo, d, h, mi, s;
  if (std::sscanf(timestamp.get<std::string>().c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi,
                  &s) != 6)
    return nullptr;
  long days = days_from_civil(y, mo, d);
  return ojson{{"year", y},
               {"month", mo},
               {"week", iso_week(y, mo, d)},
               {"day", d},
               {"weekday", ((days % 7) + 7 + 4) % 7},  // 1970-01-01 was a Thursday (4)
               {"hour", h},
               {"minute", mi},
               {"second", s}};
}

ojson DirectusResolver::call_data(const char *function, std::vector<DirectusApi::Arg> args) {
  args.insert(args.begin(), text(*token_));
  return data_of(api_.call(function, args));
}

ojson DirectusResolver::resolve(const TypeDef &root, const FieldDef &field, const json &args,
                                const SubSelection &selection) {
  if (!token_)
    throw FieldError(kForbidden, code::kForbidden);
  const bool mutation = root.name == "Mutation";
  try {
    return mutation ? mutate(field, args, selection) : read(field, args, selection);
  } catch (const DatabaseError &e) {
    const std::string &state = e.sqlstate();
    if (state == "P0002" && field.name == "notifications_by_id")
      return nullptr;
    if (state == "P0002" || state == "42501" || state == "28000")
      throw FieldError(kForbidden, code::kForbidden);
    // Data exceptions, integrity violations, statement too complex: the request's values.
    if (state.compare(0, 2, "22") == 0 || state.compare(0, 2, "23") == 0 || state == "54001")
      throw FieldError(e.what(), mutation ? code::kInvalidPayload : code::kInvalidQuery);
    throw FieldError(e.what(), code::kInternal);
  }
}

ojson DirectusResolver::read(const FieldDef &field, const json &args,
                             const SubSelection &selection) {
  if (field.name == "notifications_by_id") {
    if (args.contains("version") && !args["version"].is_null())
      throw FieldError("version: content versions are not supported", code::kInvalidQuery);
    return notifications(
        data_of(api_.read_one(id_text(args, "id"), with_fields(json::object(), selection))),
        selection);
  }
  json params = query_params(args);
  if (field.name == "notifications_aggregated") {
    params["aggregate"] = aggregate_params(selection);
    json group_by = params.value("groupBy", json::array());
    ojson rows = data_of(api_.read(params));
    ojson out = ojson::array();
    if (rows.is_array())
      for (const auto &row : rows)
        out.push_back(aggregated_row(row, group_by));
    return out;
  }
  return notifications(data_of(api_.read(with_fields(std::move(params), selection))), selection);
}

ojson DirectusResolver::mutate(const FieldDef &field, const json &args,
                               const SubSelection &selection) {
  const std::string &name = field.name;
  const json data = args.value("data", json());
  if (name == "create_notifications_item")
    return notifications(
        call_data("directus_create", {jsonb(data), jsonb(with_fields(json::object(), selection))}),
        selection);
  if (name == "create_notifications_items")
    return notifications(
        call_data("directus_create", {jsonb(data.is_null() ? json::array() : data),
                                      jsonb(with_fields(query_params(args), selection))}),
        selection);
  if (name == "update_notifications_item")
    return notifications(
        call_data("directus_update_one", {text(id_text(args, "id")), jsonb(data),
                                          jsonb(with_fields(json::object(), selection))}),
        selection);
  if (name == "update_notifications_items")
    return notifications(
        call_data("directus_update_many",
                  {jsonb(json{{"keys", args.value("ids", json::array())}, {"data", data}}),
                   jsonb(with_fields(query_params(args), selection))}),
        selection);
  if (name == "update_notifications_batch")
    return notifications(
        call_data("directus_update_many", {jsonb(data.is_null() ? json::array() : data),
                                           jsonb(with_fields(query_params(args), selection))}),
        selection);
  if (name == "delete_notifications_item") {
    std::string id = id_text(args, "id");
    call_data("directus_delete_one", {text(id)});
    return ojson{{"id", id}};
  }
  if (name == "delete_notifications_items") {
    json ids = args.value("ids", json::array());
    call_data("directus_delete_many", {jsonb(ids)});
    return ojson{{"ids", ojson(ids)}};
  }
  throw FieldError("Mutation." + name + " is not implemented", code::kInternal);
}

}  // namespace pgi::gql
