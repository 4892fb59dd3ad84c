#include "query/row_expand.hpp"

#include "core/errors.hpp"
#include "core/notification_fields.hpp"
#include "query/relation_join.hpp"

namespace pgi::query {
namespace {

const char *const kActors = "actors";

std::string item_path(size_t i) {
  return "expand[" + std::to_string(i) + "]";
}

std::string join(const std::vector<std::string> &names) {
  std::string out;
  for (const std::string &n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string hint(const RelationCatalog &relations) {
  std::vector<std::string> names = relations.names();
  if (names.empty())
    return "No relation is defined: define one with inbox.define_relation().";
  return "Relations: " + join(names) +
         "; \"actors\" embeds each actor through the relation over actorId.";
}

// The relation over actorId that `actors` goes through: the one named actor, or else the only
// one.
std::shared_ptr<const Relation> actor_relation(const RelationCatalog &relations,
                                               const std::string &path) {
  auto found = relations.for_column("actor_id");
  for (const auto &r : found) {
    if (r->name == "actor")
      return r;
  }
  if (found.size() == 1)
    return found[0];
  if (found.empty())
    throw invalid_value(path, "actors needs a relation over actorId", hint(relations));
  std::vector<std::string> names;
  for (const auto &r : found)
    names.push_back(r->name);
  throw invalid_value(path, "several relations are defined over actorId (" + join(names) + ")",
                      "Name the one actors should use \"actor\" with inbox.define_relation().");
}

// A name checked by inbox.relations' constraint (or "actors") as an SQL string literal.
std::string name_literal(const std::string &name) {
  for (char c : name) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok)
      throw Error(sqlstate::kInternalError, "relation name \"" + name + "\" is not an identifier");
  }
  return "'" + name + "'";
}

// The allowed columns of the target row `t`: `t."a", t."b"`. to_jsonb of a row of these names
// each value by its column.
std::string column_list(const Relation &r, const std::string &t) {
  std::string out;
  for (const Field &c : r.columns.fields())
    out += (out.empty() ? "" : ", ") + t + "." + c.column;
  return out;
}

}  // namespace

std::string related_row(const Relation &r, const std::string &source, SqlBuilder &b) {
  std::string t = b.alias(), row = b.alias();
  return "(SELECT pg_catalog.to_jsonb(" + row + ") FROM (SELECT " + column_list(r, t) + " FROM " +
         r.target + " " + t + " WHERE " + relation_key_matches(r, t, source) + " LIMIT 1) " + row +
         ")";
}

namespace {

// The rows of the notification's actors, in their order, as a jsonb array.
std::string actor_rows(const Relation &r, const std::string &alias, SqlBuilder &b) {
  std::string a = b.alias(), t = b.alias(), row = b.alias();
  return "(SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(" + row + ") ORDER BY " + a +
         ".ord), '[]'::pg_catalog.jsonb) FROM pg_catalog.unnest(inbox._actors(" +
         notification_row(alias) + ")) WITH ORDINALITY AS " + a +
         "(id, ord) CROSS JOIN LATERAL (SELECT " + column_list(r, t) + " FROM " + r.target + " " +
         t + " WHERE " + relation_key_matches(r, t, a + ".id") + " LIMIT 1) " + row + ")";
}

}  // namespace

std::vector<Expansion> parse_expand(const std::vector<std::string> &names,
                                    const RelationCatalog *relations) {
  if (names.size() > kMaxExpansions)
    throw Error(sqlstate::kProgramLimitExceeded,
                "expand: more than " + std::to_string(kMaxExpansions) + " names");
  if (relations == nullptr)
    throw invalid_value("expand", "related rows cannot be embedded here");
  std::vector<Expansion> out;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string path = item_path(i);
    if (names[i].empty())
      throw invalid_value(path, "expected a name, got an empty string");
    for (const Expansion &e : out) {
      if (e.name == names[i])
        throw invalid_value(path, names[i] + " is listed twice");
    }
    Expansion e;
    e.name = names[i];
    if (names[i] == kActors) {
      e.kind = Expansion::Kind::kActors;
      e.relation = actor_relation(*relations, path);
    } else {
      e.relation = relations->find(names[i]);
      if (!e.relation)
        throw invalid_value(path, "unknown expansion \"" + names[i] + "\"", hint(*relations));
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string expanded_shape(const std::string &shape, const std::vector<Expansion> &expand,
                           SqlBuilder &b, const std::string &alias) {
  if (expand.empty())
    return shape;
  std::string members;
  for (const Expansion &e : expand) {
    std::string value = e.kind == Expansion::Kind::kActors
                            ? actor_rows(*e.relation, alias, b)
                            : related_row(*e.relation, alias + "." + e.relation->source_column, b);
    members += (members.empty() ? "" : ", ") + name_literal(e.name) + ", " + value;
  }
  return shape + " OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('" +
         std::string(kExpandedKey) + "', pg_catalog.jsonb_build_object(" + members + "))";
}

}  // namespace pgi::query
