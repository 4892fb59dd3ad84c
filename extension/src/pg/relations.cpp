#include "pg/relations.hpp"

#include "core/errors.hpp"
#include "pg/relations_cache.hpp"
#include "pg/spi_run.hpp"

namespace pgi::spi {
namespace {

using query::Field;
using query::SqlType;
using query::TypeRef;
using query::ValueKind;

std::string text_column(uint64 row, int column) {
  bool is_null;
  Datum d = value(row, column, is_null);
  if (is_null)
    return {};
  return std::get<std::string>(scalar(d, false, SqlType::kText));
}

std::string quoted(const std::string &identifier) {
  const char *q = nullptr;
  const char *raw = identifier.c_str();
  pg_call([&] { q = quote_identifier(raw); });
  return q;
}

// How a target column compares, from its type.
Field column_field(const std::string &name, Oid type, const std::string &type_name, char category,
                   bool not_null) {
  Field f;
  f.name = name;
  f.column = quoted(name);
  f.nullable = !not_null;
  f.type.sql = SqlType::kCatalog;
  f.type.oid = type;
  f.type.name = type_name;
  f.type.category = category;
  if (type == TIMESTAMPTZOID || type == TIMESTAMPOID) {
    f.kind = ValueKind::kTimestamp;
  } else if (type == JSONBOID) {
    f.kind = ValueKind::kJson;
    f.type = query::builtin(SqlType::kJsonb);
  } else if (type == BOOLOID) {
    f.kind = ValueKind::kBoolean;
  } else if (category == 'S') {
    f.kind = ValueKind::kString;
  } else if (category == 'N') {
    f.kind = ValueKind::kNumber;
    if (type == INT8OID)
      f.type = query::builtin(SqlType::kBigint);
  } else {
    f.kind = ValueKind::kOther;
  }
  return f;
}

query::Param text_param(std::string value, Oid type = TEXTOID) {
  query::Param p;
  p.type.sql = SqlType::kCatalog;
  p.type.oid = type;
  p.values.push_back(std::move(value));
  return p;
}

// Checks the relation row against the catalog and describes it. `row` is read in full before
// any other statement replaces SPI_tuptable. `target` is set to the oid of its table.
std::shared_ptr<const query::Relation> load(std::string_view name, Oid &target) {
  query::Statement read{
      "SELECT r.name, r.field, r.source_column::pg_catalog.text, r.target_schema::pg_catalog.text,"
      " r.target_table::pg_catalog.text, r.target_column::pg_catalog.text,"
      " (r.columns IS NULL)::pg_catalog.text,"
      " pg_catalog.to_regclass(pg_catalog.quote_ident(r.target_schema) OPERATOR(pg_catalog.||) '.'"
      " OPERATOR(pg_catalog.||) "
      "pg_catalog.quote_ident(r.target_table))::pg_catalog.oid::pg_catalog.text"
      " FROM inbox.relations r WHERE r.name OPERATOR(pg_catalog.=) $1",
      {text_param(std::string(name))}};
  if (run(read) == 0)
    return nullptr;
  auto r = std::make_shared<query::Relation>();
  r->name = text_column(0, 1);
  r->field = text_column(0, 2);
  r->source_column = text_column(0, 3);
  std::string schema = text_column(0, 4), table = text_column(0, 5), key = text_column(0, 6);
  bool all_columns = text_column(0, 7) == "true";
  std::string target_oid = text_column(0, 8);
  target = target_oid.empty() ? InvalidOid : static_cast<Oid>(std::stoul(target_oid));
  const char *qualified = nullptr;
  const char *s = schema.c_str(), *t = table.c_str();
  pg_call([&] { qualified = quote_qualified_identifier(s, t); });
  r->target = qualified;

  if (query::notification_column(r->source_column) == nullptr)
    throw Error(sqlstate::kUndefinedColumn, "relation " + r->name + ": notification column " +
                                                r->source_column + " does not exist");
  if (target_oid.empty())
    throw Error(sqlstate::kUndefinedTable,
                "relation " + r->name + ": table " + r->target + " does not exist", {},
                "Define the relation again with inbox.define_relation(), or drop it with "
                "inbox.drop_relation('" +
                    r->name + "').");
  std::vector<std::string> allowed;
  if (!all_columns) {
    query::Statement listed{
        "SELECT c::pg_catalog.text FROM inbox.relations r, pg_catalog.unnest(r.columns) AS c "
        "WHERE r.name OPERATOR(pg_catalog.=) $1",
        {text_param(r->name)}};
    uint64 n = run(listed);
    for (uint64 i = 0; i < n; ++i)
      allowed.push_back(text_column(i, 1));
  }

  query::Statement columns{
      "SELECT a.attname::pg_catalog.text, a.atttypid::pg_catalog.text,"
      " (SELECT t.typcategory FROM pg_catalog.pg_type t"
      " WHERE t.oid OPERATOR(pg_catalog.=) a.atttypid)::pg_catalog.text,"
      " pg_catalog.format_type(a.atttypid, NULL), a.attnotnull::pg_catalog.text"
      " FROM pg_catalog.pg_attribute a"
      " WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attnum OPERATOR(pg_catalog.>) 0"
      " AND NOT a.attisdropped ORDER BY a.attnum",
      {text_param(target_oid, OIDOID)}};
  // Planned once for every table: PostgreSQL kept choosing a custom plan for it, planned again
  // at each use (0.12 ms of every create that checks its recipient). The type's category is a
  // subquery, not a join, which a plan for any table made a hash join over all of pg_type.
  columns.generic_plan = true;
  uint64 n = run(columns);
  std::vector<Field> live;
  for (uint64 i = 0; i < n; ++i) {
    std::string category = text_column(i, 3);
    live.push_back(column_field(text_column(i, 1), std::stoul(text_column(i, 2)), text_column(i, 4),
                                category.empty() ? 'X' : category[0], text_column(i, 5) == "true"));
  }

  auto find_live = [&](const std::string &column) -> const Field * {
    for (const Field &f : live) {
      if (f.name == column)
        return &f;
    }
    throw Error(sqlstate::kUndefinedColumn, "relation " + r->name + ": column " + column + " of " +
                                                r->target + " does not exist");
  };
  r->key = *find_live(key);
  if (all_columns) {
    for (const Field &f : live)
      r->columns.add(f);
  } else {
    for (const std::string &column : allowed)
      r->columns.add(*find_live(column));
  }
  return r;
}

// The names of the relations over a notification column, or of all (nullopt), sorted.
std::vector<std::string> read_names(std::optional<std::string_view> column) {
  query::Statement read{"SELECT r.name FROM inbox.relations r ORDER BY r.name", {}};
  if (column) {
    read.sql =
        "SELECT r.name FROM inbox.relations r WHERE r.source_column OPERATOR(pg_catalog.=) $1 "
        "ORDER BY r.name";
    read.params.push_back(text_param(std::string(*column), NAMEOID));
  }
  uint64 n = run(read);
  std::vector<std::string> names;
  for (uint64 i = 0; i < n; ++i)
    names.push_back(text_column(i, 1));
  return names;
}

// The names as read_names has them, from the backend's cache when it holds them.
std::vector<std::string> cached_names(std::optional<std::string_view> column) {
  if (!relations_cache::usable())
    return read_names(column);
  auto cached = column ? relations_cache::for_column(*column) : relations_cache::names();
  if (cached)
    return *cached;
  relations_cache::Load load;
  std::vector<std::string> names = read_names(column);
  if (column)
    load.store_column(*column, names);
  else
    load.store_names(names);
  return names;
}

}  // namespace

std::shared_ptr<const query::Relation> CatalogRelations::find(std::string_view name) const {
  if (auto it = loaded_.find(name); it != loaded_.end())
    return it->second;
  std::shared_ptr<const query::Relation> r;
  Oid target = InvalidOid;
  if (!relations_cache::usable()) {
    r = load(name, target);
  } else if (auto cached = relations_cache::find(name)) {
    r = *cached;
  } else {
    relations_cache::Load from_catalog;
    r = load(name, target);
    from_catalog.store_relation(name, r, target);
  }
  if (r)
    loaded_.emplace(std::string(name), r);
  return r;
}

std::vector<std::shared_ptr<const query::Relation>> CatalogRelations::for_column(
    std::string_view column) const {
  std::vector<std::shared_ptr<const query::Relation>> out;
  for (const std::string &name : cached_names(column)) {
    if (auto r = find(name))
      out.push_back(r);
  }
  return out;
}

std::vector<std::string> CatalogRelations::names() const {
  return cached_names(std::nullopt);
}

}  // namespace pgi::spi
