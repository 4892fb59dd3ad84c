// expand=actor,actors,recipient: the related rows embedded in each notification of a page.
// Pure C++.
//
// Each requested name is a relation (inbox.define_relation), or `actors`, which embeds, for each
// id of the notification's `actors` list, in that order, the row of the relation over actorId.
// The notification object keeps every field inbox.to_json gives it and gains one key:
//
//   "expanded": {"actor": {...} | null, "actors": [{...}, ...], "recipient": {...} | null}
//
// A related row is a JSON object of the relation's allowed columns (inbox.relations.columns;
// NULL: every column of the target), keyed by column name, each value as to_jsonb gives it; null
// when no target row has the key. `actors` holds the rows found, in the actors' order (an actor
// without a row is left out; [] when none is found).
//
// The rows come from correlated subqueries in the page statement's select list, one per name,
// each an index lookup on the target key (query/relation_join.hpp): one statement per page, and
// only the page's rows are looked up.
#pragma once

#include <string>
#include <vector>

#include "query/model.hpp"
#include "query/sql.hpp"

namespace pgi::query {

// The names of the `expand` param (query/params.cpp reads its array or comma-separated form),
// checked against the relations. Errors are 22023 naming expand[i] (empty or unknown name,
// duplicate, `actors` without a relation over actorId), with a hint listing what can be
// expanded; more than kMaxExpansions names is 54000.
std::vector<Expansion> parse_expand(const std::vector<std::string> &names,
                                    const RelationCatalog *relations);

// The row of relation `r` that the text expression `source` names, as a jsonb object of its
// allowed columns, or NULL: a correlated subquery, one index lookup on the target key.
std::string related_row(const Relation &r, const std::string &source, SqlBuilder &builder);

// The row object with the expansions: `shape` (a jsonb expression over `alias`) unchanged when
// `expand` is empty, else `shape || {"expanded": {...}}`. Subquery aliases come from `builder`.
std::string expanded_shape(const std::string &shape, const std::vector<Expansion> &expand,
                           SqlBuilder &builder, const std::string &alias);

}  // namespace pgi::query
