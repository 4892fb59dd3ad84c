// inbox.groups: a page of a user's grouped notifications.

#include "pg/pg.hpp"

#include "query/cursor.hpp"
#include "pg/cursor_mac.hpp"
#include "query/groups_compiler.hpp"
#include "pg/list_executor.hpp"
#include "pg/jsonb.hpp"
#include "pg/list_json.hpp"
#include "query/params.hpp"
#include "pg/relations.hpp"
#include "pg/spi_run.hpp"

PGI_FUNCTION(pgi_groups) {
  if (PG_ARGISNULL(0))
    throw pgi::Error(pgi::sqlstate::kInvalidParameterValue, "user_id must not be null");
  std::string user(pgi::text_arg(fcinfo, 0));
  nlohmann::json params = pgi::jsonb::arg(fcinfo, 1, "params");
  pgi::spi::Connection spi;
  pgi::spi::CatalogRelations relations;
  // The list's params and filters: a group page narrows by the same rules as a list page.
  pgi::query::Query q = pgi::query::parse_native_params(params, {user, &relations});
  if (!q.expand.empty())
    throw pgi::invalid_value("expand", "not supported by inbox.groups");
  pgi::spi::InstallationSigner signer;
  pgi::query::CursorSide side = pgi::query::CursorSide::kNone;
  std::vector<pgi::query::Scalar> cursor;
  const auto &keys = pgi::query::group_order();
  if (q.paging.after) {
    side = pgi::query::CursorSide::kAfter;
    cursor = pgi::query::decode_cursor(*q.paging.after, keys, signer, q.paging.after_path);
  } else if (q.paging.before) {
    side = pgi::query::CursorSide::kBefore;
    cursor = pgi::query::decode_cursor(*q.paging.before, keys, signer, q.paging.before_path);
  }
  pgi::spi::read_marks(q);
  pgi::query::PageStatements st = pgi::query::compile_groups(q, side, cursor);
  pgi::spi::Page page = pgi::spi::run_statements(st, side, 0, signer);
  spi.finish();
  return pgi::spi::page_json(page);
}
