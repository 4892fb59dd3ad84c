// SQL function inbox._email_lookup(target regclass, key_column text, email_column text,
// user_ids text[]) -> text[]: the e-mail address of each user (per position; NULL for none),
// the first row of `target` whose key column equals the user id (55_delivery.sql,
// inbox._email_addresses, which has checked the relation and both columns against the catalog).
//
// Why C++: the statement names a table and columns that settings choose, so PL/pgSQL could only
// EXECUTE it, parsing and planning it on every create (about 0.35 ms, most of what an e-mail
// cost a create). Here its text is built from the quoted identifiers and its plan kept for the
// session, found again by that text (pg/plan_cache.hpp): a changed setting or relation is a
// new text and so a new plan, and PostgreSQL revalidates a kept plan whose table changes. The
// plan is generic: with the default, the array parameter made every custom plan look cheaper
// (one recipient against the generic plan's guess of ten), so each call planned anew.

#include "pg/pg.hpp"

#include "pg/plan_cache.hpp"
#include "pg/spi_run.hpp"

namespace {

// The key column's type, or InvalidOid when the column is not there.
Oid column_type(Oid relation, const char *column) {
  Oid type = InvalidOid;
  pgi::pg_call([&] {
    AttrNumber at = get_attnum(relation, column);
    if (at != InvalidAttrNumber && at > 0)
      type = get_atttype(relation, at);
  });
  return type;
}

}  // namespace

PGI_FUNCTION(pgi_email_lookup) {
  Oid relation = PG_GETARG_OID(0);
  std::string key_column(pgi::text_arg(fcinfo, 1));
  std::string email_column(pgi::text_arg(fcinfo, 2));
  Datum user_ids = PG_GETARG_DATUM(3);
  Oid key_type = column_type(relation, key_column.c_str());
  if (key_type == InvalidOid)
    throw pgi::Error(pgi::sqlstate::kInvalidParameterValue,
                     "key_column: no such column: " + key_column);
  std::string table, key, email;
  pgi::pg_call([&] {
    char *schema = get_namespace_name(get_rel_namespace(relation));
    char *name = get_rel_name(relation);
    if (schema == nullptr || name == nullptr)
      elog(ERROR, "pg_inbox: relation %u does not exist", relation);
    table = quote_qualified_identifier(schema, name);
    key = quote_identifier(key_column.c_str());
    email = quote_identifier(email_column.c_str());
  });
  // Per recipient, the first address found (a nested loop over the key's index when the key
  // is text; compared as text otherwise, as the relation's embedding does).
  bool textual = key_type == TEXTOID || key_type == VARCHAROID;
  std::string sql = "SELECT pg_catalog.array_agg((SELECT a." + email + "::text FROM " + table +
                    " a WHERE a." + key + (textual ? "" : "::text") +
                    " = u.id LIMIT 1) ORDER BY u.k)"
                    " FROM pg_catalog.unnest($1) WITH ORDINALITY AS u(id, k)";
  pgi::spi::Connection spi;
  Oid types[1] = {TEXTARRAYOID};
  SPIPlanPtr plan = pgi::spi::cached_plan(sql, 1, types, CURSOR_OPT_GENERIC_PLAN);
  Datum result = 0;
  bool is_null = true;
  pgi::pg_call([&] {
    Datum values[1] = {user_ids};
    int rc = SPI_execute_plan(plan, values, nullptr, true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
      elog(ERROR, "pg_inbox: e-mail look-up failed: %s", SPI_result_code_string(rc));
    Datum found = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &is_null);
    if (!is_null)
      result = SPI_datumTransfer(found, false, -1);
  });
  spi.finish();
  if (is_null)
    PG_RETURN_NULL();
  PG_RETURN_DATUM(result);
}
