// A Directus query (its "global query parameters") -> the engine's Query plus what the engine
// does not know: the fields to show, an aggregate, the meta counts. Pure C++.
//
// Every Directus front end goes through here: the REST routes (60_directus.sql, directus_exec)
// and GraphQL's Query.notifications / notifications_by_id / notifications_aggregated, which pass
// their arguments as the same JSON object.
//
// Input: a JSON object whose values are JSON (SEARCH bodies, GraphQL arguments) or the strings
// of a query string, keys in bracket form included:
//   filter     a filter object (directus/filter.hpp), a string holding one, or bracket keys
//              filter[status][_eq]=inbox, filter[_and][0][id][_gt]=9
//   search     text: case-insensitive contains over subject, message, collection and item (and
//              id = the number, when it is one)
//   sort       "-timestamp,id" or ["-timestamp", "id"]; default id ascending; id breaks ties
//   limit      a number, -1 for every row; default 100
//   offset     rows to skip;  page  1-based, offset = (page - 1) * limit
//   fields     "id,subject,recipient.email" or an array; * for every field, recipient.* for
//              the related row's readable columns
//   aggregate  {"count": "*"}, {"count": ["id"]}, {"countDistinct": "recipient", "max": "id"}
//              (count, countDistinct, countAll, sum, sumDistinct, avg, avgDistinct, min, max),
//              as JSON, a string holding JSON, or aggregate[count]=*
//   groupBy    "status,recipient" or an array
//   meta       "total_count", "filter_count", "*", a comma list or an array
// A null value is "not given". Any other key is an error (22023), and so are deep, alias,
// export, version and backlink, which this API does not implement.
//
// Errors are pgi::Error naming the parameter's path: 22023 for a malformed value, 42501 for a
// field that does not exist (Directus answers 403 FORBIDDEN for it).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "query/aggregate.hpp"
#include "query/model.hpp"

namespace pgi::directus {

// What `fields` selects, in output order.
struct Selection {
  struct Item {
    query::Field field;  // the Directus field (its name is the output key)
    // An object from the related row instead of the value: recipient.email, sender.*.
    bool nested = false;
    // The relation behind a nested item; nullptr when none is registered, in which case the
    // only column is `id`, the field's own value.
    std::shared_ptr<const query::Relation> relation;
    std::vector<query::Field> columns;  // nested: the related columns, in output order
  };
  std::vector<Item> items;
  // Exactly the whole object in its own order: the row is inbox.to_directus(n).
  bool whole = true;
};

struct AggregateTerm {
  query::AggregateFn fn = query::AggregateFn::kCount;
  std::string name;                   // the Directus name: count, countDistinct, countAll, ...
  std::optional<query::Field> field;  // nullopt: "*" (count, countAll)
};

struct Aggregation {
  std::vector<AggregateTerm> terms;
  std::vector<query::Field> group_by;
  std::vector<query::Direction> group_order;  // parallel to group_by, from `sort`
};

struct DirectusQuery {
  // Filter (with search), order (completed with id ascending), paging. user_id, workspace_id
  // and ids are the caller's to set; want_total is false.
  query::Query query;
  bool sorted = false;   // `sort` was given
  bool limited = false;  // `limit` was given
  Selection fields;
  std::optional<Aggregation> aggregate;
  bool total_count = false;
  bool filter_count = false;
};

struct QueryScope {
  const query::RelationCatalog *relations = nullptr;  // by Directus field name (recipient)
  std::optional<std::string> current_user;            // for $CURRENT_USER
};

DirectusQuery parse_directus_query(const nlohmann::json &params, const QueryScope &scope);

// Query-string keys in bracket form folded into nested JSON, as Directus's qs does:
// {"filter[status][_eq]": "inbox", "groupBy[]": "status"} -> {"filter": {"status": {"_eq":
// "inbox"}}, "groupBy": ["status"]}. A digit or empty segment makes an array. Keys without
// brackets are kept as they are; a key given both ways is an error.
nlohmann::json fold_brackets(const nlohmann::json &params);

}  // namespace pgi::directus
