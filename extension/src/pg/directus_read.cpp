#include "pg/directus_read.hpp"

#include "directus/fields.hpp"
#include "directus/query.hpp"
#include "directus/select.hpp"
#include "pg/list_executor.hpp"
#include "pg/spi_run.hpp"
#include "query/compiler.hpp"
#include "query/order_keys.hpp"

namespace pgi::spi {
namespace {

directus::DirectusQuery translate(const DirectusCaller &caller, const nlohmann::json &params,
                                  const std::optional<std::vector<int64_t>> &keys,
                                  const DirectusRelations &relations) {
  directus::DirectusQuery q =
      directus::parse_directus_query(params, directus::QueryScope{&relations, caller.current_user});
  q.query.user_id = caller.scope_user;
  q.query.workspace_id = caller.workspace;
  if (keys) {
    q.query.ids = *keys;
    if (!q.limited)  // the items asked for by key, however many
      q.query.paging.limit = std::nullopt;
  }
  read_marks(q.query);
  return q;
}

// A count for meta: the engine's total (from the counters when only the caller's scope
// narrows it).
int64_t count_rows(query::Query q) {
  q.want_total = true;
  query::PageStatements s =
      query::compile_page(q, query::complete_order(q.order), query::CursorSide::kNone, {});
  run(*s.total, 1);
  return std::stoll(column_text(0, 1).value_or("0"));
}

}  // namespace

std::shared_ptr<const query::Relation> DirectusRelations::find(std::string_view name) const {
  const query::Field *f = directus::fields().find(name);
  if (f == nullptr)
    return nullptr;
  auto found = catalog_.for_column(f->column);
  for (const auto &r : found) {
    if (r->name == name)
      return r;
  }
  if (found.size() > 1)
    throw Error(sqlstate::kInvalidParameterValue,
                std::string(name) + ": several relations are defined over " + f->column, {},
                "Name the one Directus should use \"" + std::string(name) +
                    "\" with inbox.define_relation().");
  return found.empty() ? nullptr : found[0];
}

std::optional<std::string> column_text(uint64 row, int column) {
  char *text = nullptr;
  pg_call([&] { text = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column); });
  if (text == nullptr)
    return std::nullopt;
  return std::string(text);
}

std::string directus_read(const DirectusCaller &caller, const nlohmann::json &params,
                          const std::optional<std::vector<int64_t>> &keys, bool single) {
  DirectusRelations relations;
  directus::DirectusQuery q = translate(caller, params, keys, relations);
  std::string data;
  if (q.aggregate) {
    if (single)
      throw invalid_value("aggregate", "applies to a list of notifications, not to one");
    uint64 n = run(directus::compile_groups(q));
    data = "[";
    for (uint64 i = 0; i < n; ++i)
      data += (i ? "," : "") + directus::render_aggregate_row(
                                   *q.aggregate, [i](int c) { return column_text(i, c); });
    data += "]";
  } else {
    directus::PageStatement page = directus::compile_rows(q, false, keys && !q.sorted);
    uint64 n = run(page.statement);
    if (single) {
      if (n == 0)
        throw Error(sqlstate::kNoDataFound,
                    "notification " + std::to_string(keys->at(0)) + " not found");
      data = directus::render_row(page.plan, [](int c) { return column_text(0, c); });
    } else {
      data = "[";
      for (uint64 i = 0; i < n; ++i)
        data += (i ? "," : "") +
                directus::render_row(page.plan, [i](int c) { return column_text(i, c); });
      data += "]";
    }
  }
  std::string body = "{\"data\":" + data;
  if (!single && (q.total_count || q.filter_count)) {
    std::string meta;
    if (q.total_count) {
      query::Query everything = q.query;
      everything.filter = query::Node::all();
      everything.ids.reset();
      meta += "\"total_count\":" + std::to_string(count_rows(everything));
    }
    if (q.filter_count)
      meta += std::string(meta.empty() ? "" : ",") +
              "\"filter_count\":" + std::to_string(count_rows(q.query));
    body += ",\"meta\":{" + meta + "}";
  }
  return body + "}";
}

std::vector<int64_t> directus_keys(const DirectusCaller &caller, const nlohmann::json &params) {
  DirectusRelations relations;
  directus::DirectusQuery q = translate(caller, params, std::nullopt, relations);
  if (q.aggregate)
    throw invalid_value("query.aggregate", "does not select notifications to change");
  uint64 n = run(directus::compile_rows(q, true, false).statement);
  std::vector<int64_t> keys;
  for (uint64 i = 0; i < n; ++i)
    keys.push_back(std::stoll(column_text(i, 1).value_or("0")));
  return keys;
}

}  // namespace pgi::spi
