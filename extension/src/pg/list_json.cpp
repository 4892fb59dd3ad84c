#include "pg/list_json.hpp"

#include "core/errors.hpp"

namespace pgi::spi {
namespace {

void push_key(JsonbParseState **state, const char *key) {
  JsonbValue k;
  k.type = jbvString;
  k.val.string.val = const_cast<char *>(key);
  k.val.string.len = static_cast<int>(strlen(key));
  pushJsonbValue(state, WJB_KEY, &k);
}

void push_bool(JsonbParseState **state, const char *key, bool value) {
  push_key(state, key);
  JsonbValue v;
  v.type = jbvBool;
  v.val.boolean = value;
  pushJsonbValue(state, WJB_VALUE, &v);
}

void push_text(JsonbParseState **state, const char *key, const char *value, size_t len) {
  push_key(state, key);
  JsonbValue v;
  if (len == 0) {
    v.type = jbvNull;
  } else {
    v.type = jbvString;
    v.val.string.val = const_cast<char *>(value);
    v.val.string.len = static_cast<int>(len);
  }
  pushJsonbValue(state, WJB_VALUE, &v);
}

}  // namespace

nlohmann::json json_arg(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n))
    return nullptr;
  char *text = nullptr;
  pg_call([&] {
    Jsonb *jb = PG_GETARG_JSONB_P(n);
    text = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
  });
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &) {
    throw Error(sqlstate::kInternalError, "pg_inbox: could not read a jsonb argument");
  }
}

Datum page_json(const Page &page) {
  const Datum *rows = page.rows.data();
  size_t count = page.rows.size();
  bool has_total = page.total.has_value();
  int64 total = page.total.value_or(0);
  const char *start = page.start_cursor.c_str(), *end = page.end_cursor.c_str();
  size_t start_len = page.start_cursor.size(), end_len = page.end_cursor.size();
  bool has_next = page.has_next, has_previous = page.has_previous;
  Datum result = 0;
  pg_call([&] {
    JsonbParseState *state = nullptr;
    pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
    push_key(&state, "data");
    pushJsonbValue(&state, WJB_BEGIN_ARRAY, nullptr);
    for (size_t i = 0; i < count; ++i) {
      JsonbValue v;
      if (rows[i] == 0) {
        v.type = jbvNull;
      } else {
        Jsonb *row = DatumGetJsonbP(rows[i]);
        v.type = jbvBinary;
        v.val.binary.data = &row->root;
        v.val.binary.len = VARSIZE(row) - VARHDRSZ;
      }
      pushJsonbValue(&state, WJB_ELEM, &v);
    }
    pushJsonbValue(&state, WJB_END_ARRAY, nullptr);
    push_key(&state, "pageInfo");
    pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
    push_key(&state, "total");
    JsonbValue t;
    if (has_total) {
      t.type = jbvNumeric;
      t.val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(total)));
    } else {
      t.type = jbvNull;
    }
    pushJsonbValue(&state, WJB_VALUE, &t);
    push_bool(&state, "hasNextPage", has_next);
    push_bool(&state, "hasPreviousPage", has_previous);
    push_text(&state, "startCursor", start, start_len);
    push_text(&state, "endCursor", end, end_len);
    pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
    JsonbValue *done = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
    result = JsonbPGetDatum(JsonbValueToJsonb(done));
  });
  return result;
}

}  // namespace pgi::spi
