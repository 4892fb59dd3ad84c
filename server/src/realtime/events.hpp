// Feed events as the statements return them (realtime/statements.hpp's event columns), and as
// server-sent events write them:
//
//   id: <the user's event id>
//   event: notification.created | .updated | .deleted | .restored | .purged | .read_all | .bulk
//   data: <the notification in the API shape, or the summary's object, one line>
//
// plus `event: unread_count` (data {"count": n}, no id: it is not a feed event) and `event:
// reset` (data {"reason": ...}, id: the head the stream goes on from).
#pragma once

#include <cstddef>
#include <string>

#include <pqxx/result>

#include "db/call.hpp"
#include "realtime/hub.hpp"

namespace pgi::server {

// The event whose columns start at `first`.
FeedEvent event_of(const pqxx::row &row, int first);
FeedEvent event_of(const DbRow &row, std::size_t first);

std::string sse_event(const FeedEvent &event);
std::string sse_unread_count(long long count);
std::string sse_reset(long long head, const std::string &reason);

}  // namespace pgi::server
