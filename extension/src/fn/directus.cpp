// The Directus reads inside PostgreSQL: inbox._directus_read and inbox._directus_keys, which
// the Directus SQL functions of 60_directus.sql call once they have checked the caller.

#include "pg/pg.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "directus/fields.hpp"
#include "directus/query.hpp"
#include "directus/select.hpp"
#include "query/order_keys.hpp"
#include "query/compiler.hpp"
#include "pg/relations.hpp"
#include "pg/spi_run.hpp"

extern "C" {
#include "utils/array.h"
}

namespace pgi {
namespace {

// Directus names a relation by its field (recipient); pg_inbox registers relations by name over
// a notification column. The relation of a Directus field is the one over its column named as
// the field, or else the only one over that column.
class FieldRelations : public query::RelationCatalog {
 public:
  std::shared_ptr<const query::Relation> find(std::string_view name) const override {
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

 private:
  spi::CatalogRelations catalog_;
};

std::optional<std::string> optional_text(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n))
    return std::nullopt;
  return std::string(text_arg(fcinfo, n));
}

nlohmann::json jsonb_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n))
    return nlohmann::json::object();
  char *text = nullptr;
  pg_call([&] {
    Jsonb *jb = PG_GETARG_JSONB_P(n);
    text = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
  });
  return nlohmann::json::parse(text);
}

std::optional<std::vector<int64_t>> keys_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n))
    return std::nullopt;
  Datum *values = nullptr;
  bool *nulls = nullptr;
  int count = 0;
  pg_call([&] {
    ArrayType *a = PG_GETARG_ARRAYTYPE_P(n);
    deconstruct_array(a, INT8OID, 8, true, TYPALIGN_DOUBLE, &values, &nulls, &count);
  });
  std::vector<int64_t> keys;
  for (int i = 0; i < count; ++i) {
    if (nulls[i])
      throw Error(sqlstate::kInvalidParameterValue, "keys[" + std::to_string(i) + "]: null");
    keys.push_back(DatumGetInt64(values[i]));
  }
  return keys;
}

std::optional<std::string> column_text(uint64 row, int column) {
  char *text = nullptr;
  pg_call([&] { text = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column); });
  if (text == nullptr)
    return std::nullopt;
  return std::string(text);
}

// Whose rows and for whom, as the SQL functions pass it.
struct Caller {
  std::optional<std::string> scope_user;  // nullopt: every user's rows (an admin)
  std::optional<std::string> workspace;   // a workspace-bound token
  std::optional<std::string> current_user;
};

directus::DirectusQuery translate(const Caller &caller, const nlohmann::json &params,
                                  const std::optional<std::vector<int64_t>> &keys,
                                  const FieldRelations &relations) {
  directus::DirectusQuery q =
      directus::parse_directus_query(params, directus::QueryScope{&relations, caller.current_user});
  q.query.user_id = caller.scope_user;
  q.query.workspace_id = caller.workspace;
  if (keys) {
    q.query.ids = *keys;
    if (!q.limited)  // the items asked for by key, however many
      q.query.paging.limit = std::nullopt;
  }
  return q;
}

// A count for meta: the engine's total (from the counters when only the caller's scope
// narrows it).
int64_t count_rows(query::Query q) {
  q.want_total = true;
  query::PageStatements s =
      query::compile_page(q, query::complete_order(q.order), query::CursorSide::kNone, {});
  spi::run(*s.total, 1);
  return std::stoll(column_text(0, 1).value_or("0"));
}

std::string read(const Caller &caller, const nlohmann::json &params,
                 const std::optional<std::vector<int64_t>> &keys, bool single) {
  FieldRelations relations;
  directus::DirectusQuery q = translate(caller, params, keys, relations);
  std::string data;
  if (q.aggregate) {
    if (single)
      throw invalid_value("aggregate", "applies to a list of notifications, not to one");
    uint64 n = spi::run(directus::compile_groups(q));
    data = "[";
    for (uint64 i = 0; i < n; ++i)
      data += (i ? "," : "") + directus::render_aggregate_row(
                                   *q.aggregate, [i](int c) { return column_text(i, c); });
    data += "]";
  } else {
    directus::PageStatement page = directus::compile_rows(q, false, keys && !q.sorted);
    uint64 n = spi::run(page.statement);
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

std::vector<int64_t> matching_keys(const Caller &caller, const nlohmann::json &params) {
  FieldRelations relations;
  directus::DirectusQuery q = translate(caller, params, std::nullopt, relations);
  if (q.aggregate)
    throw invalid_value("query.aggregate", "does not select notifications to change");
  uint64 n = spi::run(directus::compile_rows(q, true, false).statement);
  std::vector<int64_t> keys;
  for (uint64 i = 0; i < n; ++i)
    keys.push_back(std::stoll(column_text(i, 1).value_or("0")));
  return keys;
}

// The first of `users` that has no row in the table registered for the Directus `field`
// (recipient or sender), or nullopt when all do or no relation is registered.
std::optional<std::string> unknown_user(const std::string &field,
                                        const std::vector<std::string> &users) {
  FieldRelations relations;
  auto relation = relations.find(field);
  if (relation == nullptr || users.empty())
    return std::nullopt;
  query::Param list;
  list.type = query::builtin(query::SqlType::kText);
  list.array = true;
  list.values.assign(users.begin(), users.end());
  // Compared as text, as filters compare keys: a value the key type cannot hold is simply absent.
  query::Statement check{
      "SELECT u FROM pg_catalog.unnest($1) AS u WHERE NOT EXISTS (SELECT 1 FROM " +
          relation->target + " t WHERE (t." + relation->key.column +
          ")::pg_catalog.text OPERATOR(pg_catalog.=) u) LIMIT 1",
      {list}};
  if (spi::run(check, 1) == 0)
    return std::nullopt;
  return column_text(0, 1).value_or("");
}

std::vector<std::string> text_array_arg(FunctionCallInfo fcinfo, int n) {
  std::vector<std::string> out;
  if (PG_ARGISNULL(n))
    return out;
  Datum *values = nullptr;
  bool *nulls = nullptr;
  int count = 0;
  pg_call([&] {
    ArrayType *a = PG_GETARG_ARRAYTYPE_P(n);
    deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, &count);
  });
  for (int i = 0; i < count; ++i) {
    if (nulls[i])
      continue;
    text *t = nullptr;
    Datum d = values[i];
    pg_call([&] { t = DatumGetTextPP(d); });
    out.emplace_back(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
  }
  return out;
}

Caller caller_args(FunctionCallInfo fcinfo) {
  return Caller{optional_text(fcinfo, 0), optional_text(fcinfo, 1), optional_text(fcinfo, 2)};
}

}  // namespace
}  // namespace pgi

// inbox._directus_read(user_id text, workspace_id text, current_user text, query jsonb,
//                      keys bigint[], single boolean) RETURNS json
PGI_FUNCTION(pgi_directus_read) {
  pgi::Caller caller = pgi::caller_args(fcinfo);
  nlohmann::json params = pgi::jsonb_arg(fcinfo, 3);
  std::optional<std::vector<int64_t>> keys = pgi::keys_arg(fcinfo, 4);
  bool single = !PG_ARGISNULL(5) && PG_GETARG_BOOL(5);
  if (single && (!keys || keys->size() != 1))
    throw pgi::Error(pgi::sqlstate::kInvalidParameterValue, "single: expects exactly one key");
  std::string body;
  {
    pgi::spi::Connection connection;
    body = pgi::read(caller, params, keys, single);
    connection.finish();
  }
  return pgi::text_datum(body);
}

// inbox._directus_keys(user_id text, workspace_id text, current_user text, query jsonb)
// RETURNS bigint[]
PGI_FUNCTION(pgi_directus_keys) {
  pgi::Caller caller = pgi::caller_args(fcinfo);
  nlohmann::json params = pgi::jsonb_arg(fcinfo, 3);
  std::vector<int64_t> keys;
  {
    pgi::spi::Connection connection;
    keys = pgi::matching_keys(caller, params);
    connection.finish();
  }
  Datum result = 0;
  std::vector<Datum> values(keys.size());
  for (size_t i = 0; i < keys.size(); ++i)
    values[i] = Int64GetDatum(keys[i]);
  Datum *data = values.data();
  int count = static_cast<int>(values.size());
  pgi::pg_call([&] {
    result = PointerGetDatum(construct_array(data, count, INT8OID, 8, true, TYPALIGN_DOUBLE));
  });
  return result;
}

// inbox._directus_check_users(field text, users text[]) RETURNS void: with a relation
// registered for recipient or sender (Directus's foreign keys onto directus_users), every user
// a create names must be a row of its table (23503 otherwise).
PGI_FUNCTION(pgi_directus_check_users) {
  std::string field(pgi::text_arg(fcinfo, 0));
  std::vector<std::string> users = pgi::text_array_arg(fcinfo, 1);
  std::optional<std::string> unknown;
  {
    pgi::spi::Connection connection;
    unknown = pgi::unknown_user(field, users);
    connection.finish();
  }
  if (unknown)
    throw pgi::Error("23503", "payload." + field + ": no user \"" + *unknown + "\"", {},
                     "A relation is registered for " + field +
                         ": its users are the rows of that table (inbox.define_relation).");
  PG_RETURN_VOID();
}
