#include "pg/list_json.hpp"

#include "pg/jsonb.hpp"

namespace pgi::spi {
namespace {

void cursor(jsonb::Builder &b, const char *key, const std::string &value) {
  b.key(key);
  if (value.empty())
    b.null();
  else
    b.string(value);
}

}  // namespace

Datum page_json(const Page &page) {
  jsonb::Builder b;
  b.begin_object();
  b.key("data");
  b.begin_array();
  for (Datum row : page.rows) {
    if (row == 0)
      b.null();
    else
      b.jsonb(row);
  }
  b.end_array();
  b.key("pageInfo");
  b.begin_object();
  b.key("total");
  if (page.total)
    b.number(*page.total);
  else
    b.null();
  b.key("hasNextPage");
  b.boolean(page.has_next);
  b.key("hasPreviousPage");
  b.boolean(page.has_previous);
  cursor(b, "startCursor", page.start_cursor);
  cursor(b, "endCursor", page.end_cursor);
  b.end_object();
  b.end_object();
  return b.finish();
}

}  // namespace pgi::spi
