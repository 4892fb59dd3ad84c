// The social dialects (Mastodon, Diaspora) on the one query engine. Pure C++.
//
// Their list parameters are translated in SQL (65_mastodon.sql, 66_diaspora.sql) into the
// engine's native params (types, exclude_types, only_unread, filter on actorId, limit, ...),
// which query/params.cpp parses as for any list. What native params cannot say is added here:
//   - Mastodon's id paging (max_id, since_id, min_id): ids are the internal bigint, shown as a
//     decimal string, and a page is an id range of the user's rows in id order, read as a
//     keyset seek on the primary key (user_id, id), never an offset. With min_id the rows
//     closest above it come first (oldest first), and the caller reverses them.
//   - The row's shape: each dialect builds its entity from the notification row with its own
//     SQL function (inbox.mastodon_json, inbox.diaspora_json), named here from a whitelist.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "query/model.hpp"
#include "query/sql.hpp"

namespace pgi::social {

// The entity a social dialect shows a row as: the select of the engine's RowShape. Throws
// 22023 for a name that is not a dialect.
query::RowShape row_shape(std::string_view dialect);

// The row of a Mastodon v2 page's scan as columns, not JSON (what the fold and a group of one row
// need, read as values): 1 id (bigint), 2 type, 3 group_key (NULL: ungrouped-{id}), 4 created_at
// as inbox.directus_time writes it, 5 item (Mastodon's status), 6 the row's actors as a jsonb
// array (inbox._actors), so that a group of one row (ungrouped-{id}) has its sample accounts
// without reading the row again. The fields are mastodon_json's (65_mastodon.sql).
query::RowShape group_scan_shape();

struct IdRange {
  std::optional<int64_t> max_id;    // ids below it
  std::optional<int64_t> since_id;  // ids above it, newest first
  std::optional<int64_t> min_id;    // ids above it, the closest first
};

// Narrows `q` to the range (ANDed with its filter) and orders it by id. Returns true when the
// page comes oldest first (min_id), for the caller to reverse into newest first.
bool apply_id_range(query::Query &q, const IdRange &range);

// What a v2 page shows of each group of several rows it begins (65_mastodon.sql, "Grouped
// notifications (v2)"; Mastodon's NotificationGroup.load_groups_data), for one user: one row per
// key, in the keys' order, with its newest matching row up to `hi` (latest_id, latest_at as
// inbox.directus_time writes it), its sample accounts (jsonb: the distinct actors of its 8 most
// recent matching rows up to `hi`, a LIMIT 8 read of notifications_group_id_idx) and its
// notifications_count. `engine` is the request's engine params as JSON text (its types,
// exclude_types, grouped_types, filter.actorId and workspace_id narrow the rows, as
// inbox._mastodon_counted says); without any of them (`unfiltered`) the count is the group's
// summary less its active rows above `hi` (none when `top`: the page starts at the user's newest
// row) and its expired rows not pruned yet (one read of notifications_expires_idx for the page);
// with one, the matching rows up to `hi` are counted. `now` is the transaction's start
// (PostgreSQL's microseconds since 2000-01-01 UTC, what now() returns): rows that expired by
// then are left out. Marked to be planned once for every value (generic_plan), which a Citus
// cluster cannot do for it: the caller clears the mark there.
query::Statement group_rows_statement(const std::string &user_id,
                                      const std::vector<std::string> &keys, int64_t hi,
                                      const std::string &engine, bool unfiltered, bool top,
                                      int64_t now);

}  // namespace pgi::social
