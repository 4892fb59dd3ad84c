// inbox.field_registry(): the notification field registry (core/notification_fields.hpp) as a
// table, so that sql/field_registry.sql can hold it against the catalog and against the SQL that
// spells fields out (the columns, inbox.to_json, inbox.writable_fields, the CHECK constraints).

#include "pg/pg.hpp"

#include "core/notification_fields.hpp"

namespace {

// palloc'd text; 0 (to go with a null flag) for an empty string.
Datum text_or_zero(std::string_view s) {
  return s.empty() ? Datum(0) : PointerGetDatum(cstring_to_text_with_len(s.data(), s.size()));
}

}  // namespace

PGI_FUNCTION(pgi_field_registry) {
  ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
  pgi::pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
  int ordinal = 0;
  for (const pgi::NotificationField &f : pgi::notification_fields()) {
    const pgi::NotificationField *row = &f;
    int position = ++ordinal;
    pgi::pg_call([&] {
      bool no_bounds = row->input.max_length < 0, no_directus = row->directus.name.empty();
      Datum values[] = {
          Int32GetDatum(position),
          text_or_zero(row->name),
          text_or_zero(row->column),
          CStringGetTextDatum(pgi::column_type_name(row->type)),
          BoolGetDatum(row->not_null),
          CStringGetTextDatum(pgi::json_type_name(row->json)),
          BoolGetDatum(row->nullable()),
          row->filterable ? CStringGetTextDatum(pgi::value_kind_name(row->kind)) : Datum(0),
          BoolGetDatum(row->sortable),
          BoolGetDatum(row->on_create),
          BoolGetDatum(row->on_update),
          Int32GetDatum(row->input.min_length),
          Int32GetDatum(row->input.max_length),
          text_or_zero(row->input.pattern),
          text_or_zero(row->directus.name),
          Int32GetDatum(row->directus.position),
          BoolGetDatum(row->directus.searchable),
      };
      bool nulls[] = {false,       false,
                      false,       false,
                      false,       false,
                      false,       !row->filterable,
                      false,       false,
                      false,       no_bounds,
                      no_bounds,   row->input.pattern.empty(),
                      no_directus, no_directus,
                      false};
      static_assert(sizeof values / sizeof values[0] == sizeof nulls / sizeof nulls[0]);
      tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    });
  }
  return (Datum)0;
}
