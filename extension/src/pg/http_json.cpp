#include "pg/http_json.hpp"

#include <algorithm>

#include "core/notification_fields.hpp"

namespace pgi::spi {
namespace {

// What is known of a notification while one response is written. Plain data in palloc'd memory:
// everything here runs inside pg_call.
struct Notification {
  NotificationFieldTable fields = notification_fields();
  size_t count = fields.size();  // the fields; index `count` stands for "expanded"
  // `"name": ` for each field and "expanded", as jsonb writes keys:
  // key_text[key_at[i]..key_at[i+1]).
  const char *key_text = nullptr;
  int *key_at = nullptr;
  // The fields' keys and "expanded" in jsonb's order of keys (length, then bytes): the order in
  // which an object's members come out of a JsonbIterator.
  size_t *sorted = nullptr;
  JsonbValue *members = nullptr;  // the object's value for each field and "expanded"
  bool has_expanded = false;
};

std::string_view name_of(const Notification &n, size_t i) {
  return i < n.count ? n.fields[i].name : kExpandedKey;
}

// escape_json (utils/adt/json.c) for a string given with its length, as jsonb's text form
// writes every string: the same escapes, the bytes between them copied in runs.
void append_json_string(StringInfo out, const char *s, size_t len) {
  appendStringInfoCharMacro(out, '"');
  size_t run = 0;
  for (size_t i = 0; i < len; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= ' ' && c != '"' && c != '\\')
      continue;
    appendBinaryStringInfo(out, s + run, static_cast<int>(i - run));
    run = i + 1;
    switch (c) {
      case '\b':
        appendBinaryStringInfo(out, "\\b", 2);
        break;
      case '\f':
        appendBinaryStringInfo(out, "\\f", 2);
        break;
      case '\n':
        appendBinaryStringInfo(out, "\\n", 2);
        break;
      case '\r':
        appendBinaryStringInfo(out, "\\r", 2);
        break;
      case '\t':
        appendBinaryStringInfo(out, "\\t", 2);
        break;
      case '"':
        appendBinaryStringInfo(out, "\\\"", 2);
        break;
      case '\\':
        appendBinaryStringInfo(out, "\\\\", 2);
        break;
      default:
        appendStringInfo(out, "\\u%04x", static_cast<int>(c));
    }
  }
  appendBinaryStringInfo(out, s + run, static_cast<int>(len - run));
  appendStringInfoCharMacro(out, '"');
}

void prepare(Notification &n) {
  n.key_at = static_cast<int *>(palloc((n.count + 2) * sizeof(int)));
  n.sorted = static_cast<size_t *>(palloc((n.count + 1) * sizeof(size_t)));
  n.members = static_cast<JsonbValue *>(palloc((n.count + 1) * sizeof(JsonbValue)));
  StringInfoData keys;
  initStringInfo(&keys);
  for (size_t i = 0; i <= n.count; ++i) {
    std::string_view name = name_of(n, i);
    n.key_at[i] = keys.len;
    append_json_string(&keys, name.data(), name.size());
    appendBinaryStringInfo(&keys, ": ", 2);
    n.sorted[i] = i;
  }
  n.key_at[n.count + 1] = keys.len;
  n.key_text = keys.data;
  std::sort(n.sorted, n.sorted + n.count + 1, [&](size_t a, size_t b) {
    std::string_view x = name_of(n, a), y = name_of(n, b);
    return x.size() != y.size() ? x.size() < y.size() : x < y;
  });
}

// Whether `c` is a notification: an object whose keys are exactly the fields' (and maybe
// "expanded"). Its values land in n.members. One pass over the object: its keys come in
// jsonb's order, which n.sorted lists.
bool read_notification(JsonbContainer *c, Notification &n) {
  if (!JsonContainerIsObject(c))
    return false;
  size_t size = JsonContainerSize(c);
  if (size != n.count && size != n.count + 1)
    return false;
  n.has_expanded = size == n.count + 1;
  JsonbIterator *it = JsonbIteratorInit(c);
  JsonbValue v;
  size_t next = 0, field = 0;
  for (JsonbIteratorToken t; (t = JsonbIteratorNext(&it, &v, true)) != WJB_DONE;) {
    if (t == WJB_KEY) {
      if (!n.has_expanded && n.sorted[next] == n.count)
        ++next;  // no "expanded" in this one
      field = n.sorted[next++];
      std::string_view name = name_of(n, field);
      if (static_cast<size_t>(v.val.string.len) != name.size() ||
          memcmp(v.val.string.val, name.data(), name.size()) != 0)
        return false;
    } else if (t == WJB_VALUE) {
      n.members[field] = v;
    }
  }
  return true;
}

// One value as jsonb's text form writes it (jsonb.c: jsonb_put_escaped_value, JsonbToCString).
void write_value(StringInfo out, const JsonbValue &v) {
  switch (v.type) {
    case jbvNull:
      appendBinaryStringInfo(out, "null", 4);
      break;
    case jbvString:
      append_json_string(out, v.val.string.val, v.val.string.len);
      break;
    case jbvNumeric:
      appendStringInfoString(
          out, DatumGetCString(DirectFunctionCall1(numeric_out, PointerGetDatum(v.val.numeric))));
      break;
    case jbvBool:
      if (v.val.boolean)
        appendBinaryStringInfo(out, "true", 4);
      else
        appendBinaryStringInfo(out, "false", 5);
      break;
    case jbvBinary:
      JsonbToCString(out, v.val.binary.data, v.val.binary.len);
      break;
    default:
      elog(ERROR, "pg_inbox: unexpected jsonb value type %d", static_cast<int>(v.type));
  }
}

void write_notification(StringInfo out, const Notification &n) {
  appendStringInfoCharMacro(out, '{');
  for (size_t i = 0; i <= n.count; ++i) {
    if (i == n.count && !n.has_expanded)
      break;
    if (i > 0)
      appendBinaryStringInfo(out, ", ", 2);
    appendBinaryStringInfo(out, n.key_text + n.key_at[i], n.key_at[i + 1] - n.key_at[i]);
    write_value(out, n.members[i]);
  }
  appendStringInfoCharMacro(out, '}');
}

// A value where a notification may stand: as a notification if it is one, else as it is.
void write_maybe_notification(StringInfo out, const JsonbValue &v, Notification &n) {
  if (v.type == jbvBinary && read_notification(v.val.binary.data, n))
    write_notification(out, n);
  else
    write_value(out, v);
}

// The array of a response's "data": its elements may be notifications.
void write_items(StringInfo out, JsonbContainer *array, Notification &n) {
  JsonbIterator *it = JsonbIteratorInit(array);
  JsonbValue v;
  bool first = true;
  for (JsonbIteratorToken t; (t = JsonbIteratorNext(&it, &v, true)) != WJB_DONE;) {
    if (t == WJB_BEGIN_ARRAY) {
      appendStringInfoCharMacro(out, '[');
    } else if (t == WJB_END_ARRAY) {
      appendStringInfoCharMacro(out, ']');
    } else if (t == WJB_ELEM) {
      if (!first)
        appendBinaryStringInfo(out, ", ", 2);
      first = false;
      write_maybe_notification(out, v, n);
    }
  }
}

// A response object that is not a notification ({"data": [...], "pageInfo": {...}}): in
// jsonb's order, its "data" array written by write_items.
void write_envelope(StringInfo out, JsonbContainer *object, Notification &n) {
  JsonbIterator *it = JsonbIteratorInit(object);
  JsonbValue v;
  bool first = true, in_data = false;
  for (JsonbIteratorToken t; (t = JsonbIteratorNext(&it, &v, true)) != WJB_DONE;) {
    if (t == WJB_BEGIN_OBJECT) {
      appendStringInfoCharMacro(out, '{');
    } else if (t == WJB_END_OBJECT) {
      appendStringInfoCharMacro(out, '}');
    } else if (t == WJB_KEY) {
      if (!first)
        appendBinaryStringInfo(out, ", ", 2);
      first = false;
      in_data = v.val.string.len == 4 && memcmp(v.val.string.val, "data", 4) == 0;
      write_value(out, v);
      appendBinaryStringInfo(out, ": ", 2);
    } else if (t == WJB_VALUE) {
      if (in_data && v.type == jbvBinary && JsonContainerIsArray(v.val.binary.data))
        write_items(out, v.val.binary.data, n);
      else
        write_value(out, v);
    }
  }
}

}  // namespace

text *http_json(Jsonb *value) {
  StringInfoData out;
  initStringInfo(&out);
  // The text is built in place after room for its varlena header: no copy at the end.
  enlargeStringInfo(&out, VARHDRSZ + VARSIZE(value));
  appendStringInfoSpaces(&out, VARHDRSZ);
  if (JB_ROOT_IS_OBJECT(value)) {
    Notification n;
    prepare(n);
    if (read_notification(&value->root, n))
      write_notification(&out, n);
    else
      write_envelope(&out, &value->root, n);
  } else {
    JsonbToCString(&out, &value->root, VARSIZE(value));
  }
  text *result = reinterpret_cast<text *>(out.data);
  SET_VARSIZE(result, out.len);
  return result;
}

}  // namespace pgi::spi
