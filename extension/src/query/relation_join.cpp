#include "query/relation_join.hpp"

namespace pgi::query {
namespace {

// Type OIDs are fixed in PostgreSQL's catalog (pg_type.dat); this file includes no PostgreSQL
// header, so they are spelled here.
constexpr uint32_t kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kUuidOid = 2950;

bool integer_key(const TypeRef &t) {
  return t.sql == SqlType::kBigint ||
         (t.sql == SqlType::kCatalog &&
          (t.oid == kInt2Oid || t.oid == kInt4Oid || t.oid == kInt8Oid));
}

// `source` as a bigint when it is an integer's canonical text (no sign on zero, no leading
// zeros, no spaces) within bigint's range, else NULL. Nested CASEs, because only CASE fixes the
// order of evaluation: the casts run only on text the patterns accepted. A 19-digit number may
// still overflow, so only those go through numeric for the range check.
std::string as_bigint(const std::string &s) {
  return "CASE WHEN " + s +
         " OPERATOR(pg_catalog.~) '^(0|-?[1-9][0-9]{0,18})$' THEN CASE WHEN pg_catalog.length(" +
         s + ") OPERATOR(pg_catalog.<) 19 OR (" + s +
         ")::pg_catalog.numeric OPERATOR(pg_catalog.<=) '9223372036854775807'::pg_catalog.numeric"
         " AND (" +
         s +
         ")::pg_catalog.numeric OPERATOR(pg_catalog.>=) '-9223372036854775808'::pg_catalog.numeric"
         " THEN (" +
         s + ")::pg_catalog.int8 END END";
}

// `source` as a uuid when it is a uuid's canonical text (lower-case, hyphenated), else NULL.
std::string as_uuid(const std::string &s) {
  return "CASE WHEN " + s +
         " OPERATOR(pg_catalog.~) "
         "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN (" +
         s + ")::pg_catalog.uuid END";
}

}  // namespace

std::string relation_key_matches(const Relation &r, const std::string &target,
                                 const std::string &source) {
  const std::string key = target + "." + r.key.column;
  const std::string eq = " OPERATOR(pg_catalog.=) ";
  if (r.key.kind == ValueKind::kString)
    return key + eq + source;
  if (integer_key(r.key.type))
    return key + eq + "(" + as_bigint(source) + ")";
  if (r.key.type.sql == SqlType::kCatalog && r.key.type.oid == kUuidOid)
    return key + eq + "(" + as_uuid(source) + ")";
  return "(" + key + ")::pg_catalog.text" + eq + source;
}

}  // namespace pgi::query
