#include "realtime/events.hpp"

#include <nlohmann/json.hpp>

namespace pgi::server {

FeedEvent event_of(const pqxx::row &row, int first) {
  FeedEvent e;
  e.id = row[first].as<long long>();
  e.event = row[first + 1].as<std::string>();
  if (!row[first + 2].is_null())
    e.workspace_id = row[first + 2].as<std::string>();
  if (!row[first + 3].is_null())
    e.unread = row[first + 3].as<long long>();
  e.data = row[first + 4].is_null() ? "null" : row[first + 4].as<std::string>();
  if (!row[first + 5].is_null())
    e.key = row[first + 5].as<long long>();
  return e;
}

FeedEvent event_of(const DbRow &row, std::size_t first) {
  FeedEvent e;
  e.id = std::stoll(row.at(first).value());
  e.event = row.at(first + 1).value();
  e.workspace_id = row.at(first + 2);
  if (row.at(first + 3))
    e.unread = std::stoll(*row[first + 3]);
  e.data = row.at(first + 4).value_or("null");
  if (row.at(first + 5))
    e.key = std::stoll(*row[first + 5]);
  return e;
}

// The data of an event fits one `data:` line: JSON text has no raw line break (jsonb escapes
// them inside strings), and the event names are the feed's own.
std::string sse_event(const FeedEvent &event) {
  std::string out;
  out.reserve(event.data.size() + event.event.size() + 32);
  out += "id: ";
  out += std::to_string(event.id);
  out += "\nevent: ";
  out += event.event;
  out += "\ndata: ";
  out += event.data;
  out += "\n\n";
  return out;
}

std::string sse_unread_count(long long count) {
  return "event: unread_count\ndata: {\"count\": " + std::to_string(count) + "}\n\n";
}

std::string sse_reset(long long head, const std::string &reason) {
  return "id: " + std::to_string(head) +
         "\nevent: reset\ndata: " + nlohmann::json({{"reason", reason}}).dump() + "\n\n";
}

}  // namespace pgi::server
