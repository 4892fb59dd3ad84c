// The JSON text of a REST response as HTTP clients receive it (inbox.http_json).
//
// The REST SQL functions return jsonb, whose text form orders an object's keys by length, then
// bytes ({"id", "body", "data", "item", "read", "type", ...}). Over HTTP a notification shows
// its keys in the order of the API shape instead (core/notification_fields.hpp: id, userId,
// workspaceId, type, title, ...), as the README and seed 002 document it. Everything else is
// written exactly as jsonb's text form writes it: the same ", " and ": " separators, numbers and
// escapes, and jsonb's key order for every other object.
//
// A notification is recognised by where a REST response holds one and by its whole key set: the
// response itself, or an element of its top-level "data" array, that has exactly the keys of
// the API shape (plus "expanded" with expand=...). A notification's own members, such as its
// "data" object or the rows under "expanded", are never reordered, however they look.
#pragma once

#include "pg/pg.hpp"

namespace pgi::spi {

// The text of `value`, palloc'd in the current memory context. Calls PostgreSQL functions that
// may raise an error: call it inside pg_call().
text *http_json(Jsonb *value);

}  // namespace pgi::spi
