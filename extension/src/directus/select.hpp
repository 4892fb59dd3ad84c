// A translated Directus query (directus/query.hpp) -> the statements that answer it, and the
// JSON text of their rows as Directus writes it. Pure C++.
//
// Directus's bytes are compact JSON with the object's own field order, which neither jsonb
// (reorders keys) nor json_build_object (adds spaces) produce. So each statement returns every
// value as its own json column (pg_catalog.to_json: numbers bare, strings escaped as
// JSON.stringify escapes them) and the rows are assembled here, keys in Selection order.
//
// Related rows (fields=recipient.email) come from a LEFT JOIN LATERAL onto the relation's
// table in the same statement: one round trip, whatever the page size.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "directus/query.hpp"
#include "query/sql.hpp"

namespace pgi::directus {

// Where each output key's value is among a statement's columns (1-based, as SPI counts).
struct RowPlan {
  struct Part {
    std::string key;
    int column = 0;  // a leaf's json value; for a nested object: its "found" boolean
    bool nested = false;
    std::vector<Part> children;
  };
  std::vector<Part> parts;  // empty: `whole_column` holds the object (inbox.to_directus)
  int whole_column = 0;
};

struct PageStatement {
  query::Statement statement;  // column 1 is always the id
  RowPlan plan;
};

// The rows of one page. With `ids_only` the statement returns the id column alone (keys of an
// update or delete by query). `keys_order`: no sort was given and the rows come in the order of
// the query's ids (an update returns its items as the keys were listed).
PageStatement compile_rows(const DirectusQuery &q, bool ids_only, bool keys_order);

// The aggregate rows: group values then aggregate values, one json column each.
query::Statement compile_groups(const DirectusQuery &q);

// A column's text, or nullopt for SQL NULL.
using ColumnText = std::function<std::optional<std::string>(int column)>;

// One row of compile_rows as Directus's JSON object.
std::string render_row(const RowPlan &plan, const ColumnText &column);

// One row of compile_groups as Directus's JSON object:
// {"status":"inbox","count":"8000","max":{"id":9999}}.
std::string render_aggregate_row(const Aggregation &a, const ColumnText &column);

}  // namespace pgi::directus
