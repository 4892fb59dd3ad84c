// Grouped notifications (Mastodon's grouped notifications) -> the statements of one page of
// groups. Pure C++.
//
// A group is every notification of a user with one groupKey; a notification without a groupKey
// is a group of its own, shown as "ungrouped-<its public id>". Groups are shown newest activity
// first; the group's most recent notification (it belongs to one group only) breaks ties, so
// (latest_at, latest_id) is a unique keyset position.
//
// Two ways to answer, chosen by the request:
//  - No narrowing beyond the active rows: the summaries in inbox.notification_groups (kept by
//    the counter triggers) merged with the ungrouped rows, both read in order from an index.
//    A page costs the same whatever the inbox size.
//  - Any filter or shorthand, or a user whose summaries are not exact for now (issue 19: a read
//    mark not settled into the rows yet, an expired row not purged yet): the matching rows are
//    grouped at read time, so counts, type and sample actors describe the matching
//    notifications only. This costs in proportion to the matching rows.
#pragma once

#include <vector>

#include "query/compiler.hpp"
#include "query/model.hpp"

namespace pgi::query {

// The display order of groups: latest_at DESC, latest_id DESC.
const std::vector<OrderKey> &group_order();

// Whether `query` is answered from the summaries.
bool groups_from_summaries(const Query &query);

// The page, probe and total statements of a page of groups. Page columns: 1 the group as jsonb
// (inbox._group_json), 2 latest_at, 3 latest_id. `query.order` must be empty.
PageStatements compile_groups(const Query &query, CursorSide side,
                              const std::vector<Scalar> &cursor);

}  // namespace pgi::query
