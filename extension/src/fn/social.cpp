// The social dialects' entry points (65_mastodon.sql, 66_diaspora.sql): a page of a user's
// notifications or groups by the engine, narrowed to an id range and shaped as the dialect's
// entity, and the rows of a relation for a list of keys (Mastodon's accounts).

#include "pg/pg.hpp"

#include <algorithm>

#include "pg/cursor_mac.hpp"
#include "pg/jsonb.hpp"
#include "pg/list_executor.hpp"
#include "pg/list_json.hpp"
#include "pg/relations.hpp"
#include "pg/spi_run.hpp"
#include "query/groups_compiler.hpp"
#include "query/params.hpp"
#include "query/row_expand.hpp"
#include "social/query.hpp"

namespace {

std::optional<int64_t> bigint_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n))
    return std::nullopt;
  return PG_GETARG_INT64(n);
}

std::string user_arg(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0))
    throw pgi::Error("22004", "user_id must not be null");
  return std::string(pgi::text_arg(fcinfo, 0));
}

}  // namespace

// inbox._social_list(user_id, params, dialect, max_id, since_id, min_id): the engine's page
// ({data, pageInfo}) of the rows in the id range, newest first, each shaped by the dialect.
PGI_FUNCTION(pgi_social_list) {
  std::string user = user_arg(fcinfo);
  nlohmann::json params = pgi::jsonb::arg(fcinfo, 1, "params");
  if (PG_ARGISNULL(2))
    throw pgi::Error("22004", "dialect must not be null");
  pgi::query::RowShape shape = pgi::social::row_shape(pgi::text_arg(fcinfo, 2));
  pgi::social::IdRange range{bigint_arg(fcinfo, 3), bigint_arg(fcinfo, 4), bigint_arg(fcinfo, 5)};
  pgi::spi::Connection spi;
  pgi::spi::CatalogRelations relations;
  pgi::query::Query q = pgi::query::parse_native_params(params, {user, &relations});
  q.shape = std::move(shape);
  bool oldest_first = pgi::social::apply_id_range(q, range);
  pgi::spi::Page page = pgi::spi::run_page(q);
  spi.finish();
  if (oldest_first)
    std::reverse(page.rows.begin(), page.rows.end());
  return pgi::spi::page_json(page);
}

// inbox._social_groups(user_id, params, max_id, since_id): the page of inbox.groups over the
// rows in the id range (any range groups the matching rows at read time).
PGI_FUNCTION(pgi_social_groups) {
  std::string user = user_arg(fcinfo);
  nlohmann::json params = pgi::jsonb::arg(fcinfo, 1, "params");
  pgi::spi::Connection spi;
  pgi::spi::CatalogRelations relations;
  pgi::query::Query q = pgi::query::parse_native_params(params, {user, &relations});
  pgi::social::apply_id_range(q, {bigint_arg(fcinfo, 2), bigint_arg(fcinfo, 3), std::nullopt});
  q.order.clear();  // groups keep their own order, newest activity first
  pgi::spi::read_marks(q);
  pgi::spi::InstallationSigner signer;
  pgi::query::PageStatements st = pgi::query::compile_groups(q, pgi::query::CursorSide::kNone, {});
  pgi::spi::Page page = pgi::spi::run_statements(st, pgi::query::CursorSide::kNone, 0, signer);
  spi.finish();
  return pgi::spi::page_json(page);
}

// inbox.related_rows(relation, keys jsonb): {key: row} for each key (a JSON array of strings)
// that has a row in the relation's target, each row as `expand` embeds it.
PGI_FUNCTION(pgi_related_rows) {
  if (PG_ARGISNULL(0))
    throw pgi::Error("22004", "relation must not be null");
  std::string name(pgi::text_arg(fcinfo, 0));
  nlohmann::json keys = pgi::jsonb::arg(fcinfo, 1, "keys");
  if (!keys.is_array())
    throw pgi::invalid_value("keys", "expected a JSON array of strings");
  pgi::query::Param list;
  list.type = pgi::query::builtin(pgi::query::SqlType::kText);
  list.array = true;
  list.path = "keys";
  for (const nlohmann::json &k : keys) {
    if (!k.is_string())
      throw pgi::invalid_value("keys", "expected a JSON array of strings");
    list.values.emplace_back(k.get<std::string>());
  }
  pgi::spi::Connection spi;
  pgi::spi::CatalogRelations relations;
  std::shared_ptr<const pgi::query::Relation> relation = relations.find(name);
  if (!relation)
    throw pgi::invalid_value("relation", "unknown relation \"" + name + "\"");
  pgi::query::SqlBuilder b;
  std::string keys_param = b.bind(std::move(list));
  std::string row = pgi::query::related_row(*relation, "k.key", b);
  // OFFSET 0 keeps x a subquery of its own: pulled up, each key's row would be looked up twice
  // (once for the FILTER, once for the value).
  pgi::query::Statement st = b.finish(
      "SELECT COALESCE(pg_catalog.jsonb_object_agg(x.key, x.row) FILTER (WHERE x.row IS NOT "
      "NULL), '{}'::pg_catalog.jsonb) FROM (SELECT k.key, " +
      row + " AS row FROM pg_catalog.unnest(" + keys_param + ") AS k(key) OFFSET 0) x");
  pgi::spi::run(st);
  bool is_null;
  Datum found = pgi::spi::value(0, 1, is_null);
  Datum copy = 0;
  pgi::pg_call([&] { copy = SPI_datumTransfer(found, false, -1); });
  spi.finish();
  return copy;
}
