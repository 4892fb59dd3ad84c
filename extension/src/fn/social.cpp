// The social dialects' entry points (65_mastodon.sql, 66_diaspora.sql): a page of a user's
// notifications or groups by the engine, narrowed to an id range and shaped as the dialect's
// entity, and the rows of a relation for a list of keys (Mastodon's accounts).

#include "pg/pg.hpp"

extern "C" {
#include "catalog/pg_collation.h"
#include "utils/varlena.h"
}

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "pg/cursor_mac.hpp"
#include "pg/jsonb.hpp"
#include "pg/list_executor.hpp"
#include "pg/list_json.hpp"
#include "pg/relations.hpp"
#include "pg/spi_run.hpp"
#include "query/compiler.hpp"
#include "query/groups_compiler.hpp"
#include "query/order_keys.hpp"
#include "query/params.hpp"
#include "query/row_expand.hpp"
#include "social/group_fold.hpp"
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

// The page's sample account ids, distinct, as _mastodon_grouped's jsonb_agg(DISTINCT) over the
// groups' sample_account_ids lists them (jsonb's order of strings: the database's collation,
// varstr_cmp), so that _mastodon_grouped need not take them out of the groups again (0.25 ms
// of the heavy user's page). Nothing (the SQL computes them) when a sample is no string.
std::optional<std::vector<std::string>> sample_account_ids(const nlohmann::json &groups) {
  std::vector<const std::string *> ids;
  for (const nlohmann::json &g : groups) {
    auto samples = g.find("sample_account_ids");
    if (samples == g.end() || samples->is_null())
      continue;
    if (!samples->is_array())
      return std::nullopt;
    for (const nlohmann::json &id : *samples) {
      if (!id.is_string())
        return std::nullopt;
      ids.push_back(&id.get_ref<const std::string &>());
    }
  }
  std::sort(ids.begin(), ids.end(), [](const std::string *a, const std::string *b) {
    int order = 0;
    pgi::pg_call([&] {
      order = varstr_cmp(a->data(), static_cast<int>(a->size()), b->data(),
                         static_cast<int>(b->size()), DEFAULT_COLLATION_OID);
    });
    return order < 0;
  });
  std::vector<std::string> out;
  for (size_t i = 0; i < ids.size(); ++i)
    if (i == 0 || *ids[i] != *ids[i - 1])
      out.push_back(*ids[i]);
  return out;
}

// The page's sample accounts (ids: strings), in the ids' order, as inbox._mastodon_accounts
// shapes them: each id's row of the relation mastodon_account (the statement of
// inbox.related_rows, unaggregated), or inbox._mastodon_account_stub's for an id without one, so
// the stub's shape stays written once, in SQL. Each is a jsonb copied out of SPI (it outlives
// spi.finish()).
std::vector<Datum> account_rows(const pgi::spi::CatalogRelations &relations,
                                const std::vector<std::string> &ids) {
  std::vector<Datum> out;
  if (ids.empty())
    return out;
  pgi::query::SqlBuilder b;
  std::string list = b.bind(pgi::query::text_array(ids, "account_ids"));
  std::string row = "inbox._mastodon_account_stub(k.key)";
  if (std::shared_ptr<const pgi::query::Relation> r = relations.find("mastodon_account"))
    row = "COALESCE(" + pgi::query::related_row(*r, "k.key", b) + ", " + row + ")";
  pgi::query::Statement st = b.finish("SELECT " + row + " FROM pg_catalog.unnest(" + list +
                                      ") WITH ORDINALITY AS k(key, o) ORDER BY k.o");
  uint64 found = pgi::spi::run(st);
  out.reserve(found);
  for (uint64 i = 0; i < found; ++i) {
    bool is_null;
    Datum d = pgi::spi::value(i, 1, is_null);
    Datum kept = 0;
    if (!is_null)
      pgi::pg_call([&] { kept = SPI_datumTransfer(d, false, -1); });
    out.push_back(kept);
  }
  return out;
}

// The page's sample accounts (rows: account_rows) as a JSON array.
void push_accounts(pgi::jsonb::Builder &out, const std::vector<Datum> &rows) {
  out.begin_array();
  for (Datum row : rows) {
    if (row != 0)
      out.jsonb(row);
    else
      out.null();
  }
  out.end_array();
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

// inbox._mastodon_page_groups(user_id, engine, max_id, since_id, min_id): the groups of a v2
// page as Mastodon pages and computes them (65_mastodon.sql says what the page is), as
// {groups: each group's own fields, notifications: their representatives' type and status,
// accounts: the groups' sample accounts} in the page's order (newest first), for
// _mastodon_grouped. The user's matching rows in the id range are read by
// the engine's page statement in id order, `limit` (at least 40) at a time (keyset seeks on the
// primary key), each row folded as it comes (social/group_fold.hpp) until `limit` groups have
// begun. A group of one row (ungrouped-{id}) is formed from the scan's row (group_scan_shape);
// the groups of several rows are computed by one statement (group_rows_statement).
PGI_FUNCTION(pgi_mastodon_page_groups) {
  std::string user = user_arg(fcinfo);
  nlohmann::json engine = pgi::jsonb::arg(fcinfo, 1, "engine");
  std::optional<int64_t> max_id = bigint_arg(fcinfo, 2), since_id = bigint_arg(fcinfo, 3),
                         min_id = bigint_arg(fcinfo, 4);
  if (!engine.is_object() || !engine.contains("limit") || !engine["limit"].is_number_integer() ||
      engine["limit"].get<int64_t>() < 1)
    throw pgi::invalid_value("engine", "expected an object with a positive limit");
  const int64_t limit = engine["limit"].get<int64_t>();
  // grouped_types[]: a row of a type it leaves out is a group of its own.
  std::optional<std::unordered_set<std::string>> grouped_types;
  if (engine.contains("grouped_types")) {
    grouped_types.emplace();
    for (const nlohmann::json &t : engine["grouped_types"])
      if (t.is_string())
        grouped_types->insert(t.get<std::string>());
  }
  nlohmann::json scan = engine;
  scan.erase("grouped_types");
  scan["limit"] = std::max<int64_t>(limit, 40);  // rows per seek: a v1 page
  scan["total"] = false;
  const bool up = min_id.has_value();  // by min_id the scan reads oldest first
  std::optional<int64_t> below = max_id, after = up ? min_id : since_id;

  pgi::spi::Connection spi;
  pgi::spi::CatalogRelations relations;
  pgi::query::Query base = pgi::query::parse_native_params(scan, {user, &relations});
  base.shape = pgi::social::group_scan_shape();
  pgi::spi::read_marks(base);  // once for the page, not once per seek
  pgi::social::GroupFold fold(static_cast<size_t>(limit));
  // The representatives, by the order their groups began: the scan's columns
  // (group_scan_shape), read as values, not as JSON.
  struct Rep {
    int64_t id;
    std::string key, type, created_at;
    std::optional<std::string> item;
    nlohmann::json actors;
  };
  std::vector<Rep> reps;
  auto text_column = [](uint64 row, int column) -> std::optional<std::string> {
    bool is_null;
    Datum d = pgi::spi::value(row, column, is_null);
    pgi::query::Scalar v = pgi::spi::scalar(d, is_null, pgi::query::SqlType::kText);
    if (std::string *s = std::get_if<std::string>(&v))
      return std::move(*s);
    return std::nullopt;
  };
  for (bool more = true; more && !fold.complete();) {
    pgi::query::Query q = base;
    pgi::social::apply_id_range(q, up ? pgi::social::IdRange{below, std::nullopt, after}
                                      : pgi::social::IdRange{below, after, std::nullopt});
    pgi::query::PageStatements st = pgi::query::compile_page(q, pgi::query::complete_order(q.order),
                                                             pgi::query::CursorSide::kNone, {});
    uint64 fetched = pgi::spi::run(st.page);
    uint64 kept = fetched;
    more = st.fetch_limit && fetched >= static_cast<uint64>(*st.fetch_limit);
    if (more)
      kept = static_cast<uint64>(*st.fetch_limit - 1);
    int64_t id = 0;
    for (uint64 i = 0; i < kept && !fold.complete(); ++i) {
      const uint64 r = st.backward ? kept - 1 - i : i;
      bool is_null;
      id = DatumGetInt64(pgi::spi::value(r, 1, is_null));
      std::string type = text_column(r, 2).value_or(std::string());
      std::optional<std::string> group_key;
      if (!grouped_types || grouped_types->count(type))
        group_key = text_column(r, 3);
      std::string key = group_key ? std::move(*group_key) : "ungrouped-" + std::to_string(id);
      size_t begun = fold.groups().size();
      fold.add(id, key);
      if (fold.groups().size() > begun) {
        Datum actors = pgi::spi::value(r, 6, is_null);
        reps.push_back(Rep{id, std::move(key), std::move(type),
                           text_column(r, 4).value_or(std::string()), text_column(r, 5),
                           is_null ? nlohmann::json() : pgi::jsonb::to_json(actors, "actors")});
      }
    }
    (up ? after : below) = id;  // the next seek continues past the chunk's last row
  }
  // The page's id range as Mastodon's controller takes it: from the oldest to the newest
  // representative (newest first: the first begun; by min_id the last); a page with fewer
  // groups than `limit` reaches to since_id, or by min_id to max_id.
  std::optional<int64_t> hi;
  if (fold.complete() || !up) {
    if (!reps.empty())
      hi = up ? reps.back().id : reps.front().id;
  } else if (max_id) {
    hi = *max_id - 1;
  }
  // The groups of several rows, computed over the range up to its top.
  std::vector<std::string> keys;
  for (const Rep &rep : reps)
    if (rep.key != "ungrouped-" + std::to_string(rep.id))
      keys.push_back(rep.key);
  std::map<std::string, nlohmann::json, std::less<>> computed;
  if (!keys.empty()) {
    static const char *const kFilters[] = {"types", "exclude_types", "grouped_types", "filter",
                                           "workspace_id"};
    bool unfiltered = std::none_of(std::begin(kFilters), std::end(kFilters),
                                   [&](const char *f) { return engine.contains(f); });
    pgi::query::Statement st = pgi::social::group_rows_statement(
        user, keys, hi.value_or(std::numeric_limits<int64_t>::max()), engine.dump(), unfiltered,
        !max_id && !up, GetCurrentTransactionStartTimestamp());
    // Planned once for every value, except where Citus needs each call's to plan it.
    st.generic_plan = pgi::spi::generic_plan_allowed();
    uint64 found = pgi::spi::run(st);
    for (uint64 i = 0; i < found; ++i) {
      auto column = [&](int c) -> nlohmann::json {
        bool is_null;
        Datum d = pgi::spi::value(i, c, is_null);
        if (is_null)
          return nullptr;
        if (c == 4)
          return pgi::jsonb::to_json(d, "sample");
        pgi::query::Scalar v = pgi::spi::scalar(
            d, false, c == 3 ? pgi::query::SqlType::kText : pgi::query::SqlType::kBigint);
        if (const int64_t *n = std::get_if<int64_t>(&v))
          return c == 2 ? nlohmann::json(std::to_string(*n)) : nlohmann::json(*n);
        return std::get<std::string>(v);
      };
      nlohmann::json g = nlohmann::json::object();
      g["notifications_count"] = column(5);
      g["most_recent_notification_id"] = column(2);
      g["page_max_id"] = g["most_recent_notification_id"];
      g["latest_page_notification_at"] = column(3);
      g["sample_account_ids"] = column(4);
      bool is_null;
      Datum key = pgi::spi::value(i, 1, is_null);
      computed[std::get<std::string>(pgi::spi::scalar(key, is_null, pgi::query::SqlType::kText))] =
          std::move(g);
    }
  }

  if (up)
    std::reverse(reps.begin(), reps.end());  // newest first
  std::map<std::string, int64_t, std::less<>> oldest;
  for (const pgi::social::GroupFold::Group &g : fold.groups())
    oldest[g.key] = g.oldest;
  nlohmann::json groups = nlohmann::json::array();
  for (Rep &rep : reps) {
    nlohmann::json g;
    auto done = computed.find(rep.key);
    if (done != computed.end()) {
      g = std::move(done->second);
    } else {
      // A row of its own is its whole group: one row, its own time, its own actors.
      g["notifications_count"] = 1;
      g["most_recent_notification_id"] = std::to_string(rep.id);
      g["page_max_id"] = g["most_recent_notification_id"];
      g["latest_page_notification_at"] = rep.created_at;
      g["sample_account_ids"] = std::move(rep.actors);
    }
    g["group_key"] = rep.key;
    g["type"] = rep.type;
    g["page_min_id"] = std::to_string(oldest.at(rep.key));
    groups.push_back(std::move(g));
  }
  // The sample accounts' rows, read before SPI closes (copied out of it).
  std::optional<std::vector<Datum>> accounts;
  if (std::optional<std::vector<std::string>> ids = sample_account_ids(groups))
    accounts = account_rows(relations, *ids);
  spi.finish();
  pgi::jsonb::Builder out;
  out.begin_object();
  if (accounts) {
    out.key("accounts");
    push_accounts(out, *accounts);
  }
  out.key("groups");
  out.json(groups);
  // What _mastodon_grouped takes of each representative: its type and item, as mastodon_json
  // names them (type, status).
  out.key("notifications");
  out.begin_array();
  for (const Rep &rep : reps) {
    out.begin_object();
    out.key("type");
    out.string(rep.type);
    out.key("status");
    if (rep.item)
      out.string(*rep.item);
    else
      out.null();
    out.end_object();
  }
  out.end_array();
  out.end_object();
  return out.finish();
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
  std::vector<std::string> key_texts;
  for (const nlohmann::json &k : keys) {
    if (!k.is_string())
      throw pgi::invalid_value("keys", "expected a JSON array of strings");
    key_texts.push_back(k.get<std::string>());
  }
  pgi::spi::Connection spi;
  pgi::spi::CatalogRelations relations;
  std::shared_ptr<const pgi::query::Relation> relation = relations.find(name);
  if (!relation)
    throw pgi::invalid_value("relation", "unknown relation \"" + name + "\"");
  pgi::query::SqlBuilder b;
  std::string keys_param = b.bind(pgi::query::text_array(key_texts, "keys"));
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
