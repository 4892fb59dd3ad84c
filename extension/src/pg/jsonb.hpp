// The one bridge between jsonb and the extension's C++ JSON (nlohmann::json), both ways.
//
// Every SQL-callable function that takes a jsonb argument reads it here, and every jsonb the
// C++ builds is built here: PostgreSQL 19 changes pushJsonbValue's signature, so a port touches
// pg/jsonb.cpp alone. (Functions that return `json` keep their text: json keeps the key order
// Directus and GraphQL responses need, which jsonb would not.)
//
// Reading walks the jsonb with JsonbIteratorInit/JsonbIteratorNext; no text in between, except
// for numbers, which become what nlohmann::json::parse makes of their text: a non-negative
// integer that fits uint64 is unsigned, a negative one that fits int64 is signed, anything else
// a double. A number beyond a double's range (1e400) raises 22003 naming where it is
// ("variables.n: number out of range"), where parsing it used to fail with XX000. Strings and
// keys are copied as they are (jsonb holds them valid in the database encoding).
//
// Building checks each string and key as jsonb's own input would (a NUL raises 22P05, a byte
// sequence that is not valid in the database encoding 22021) and converts numbers through their
// text (numeric_in), so a double keeps its shortest round-trip spelling.
//
// Every call into PostgreSQL is made through pg_call, so an error becomes PgError and no ereport
// skips a C++ destructor. Values are palloc'd in the current memory context.
#pragma once

#include "pg/pg.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace pgi::jsonb {

// The jsonb value `value` as JSON. `name` is where it came from, for errors: "params" gives
// "params.filter._and[0].n: number out of range".
nlohmann::json to_json(Datum value, std::string_view name);

// The jsonb argument `n` as JSON (to_json); SQL NULL is JSON null.
nlohmann::json arg(FunctionCallInfo fcinfo, int n, std::string_view name);

// JSON text read by jsonb's own parser, as a ::jsonb cast reads it (22P02 for text that is not
// JSON, with PostgreSQL's message), then to_json.
nlohmann::json parse(std::string_view text, std::string_view name);

// `value` as a jsonb Datum (Builder).
Datum from_json(const nlohmann::json &value);

// Raises what building `value` as jsonb would raise for its strings and keys, without building
// it: 22P05 for a NUL character (a GraphQL "\u0000" reaches C++ as one; jsonb cannot hold it),
// 22021 for bytes that are not valid in the database encoding. For JSON that goes on to SQL as
// text parameters rather than as jsonb.
void check_text(const nlohmann::json &value);

// Builds one jsonb value push by push: begin/end a container, a key inside an object, then
// values (a value after a key in an object, an element in an array; a scalar alone is the whole
// value). finish() returns the jsonb once the outermost container is closed (or the scalar is
// pushed). Strings and keys are copied, so the caller's buffers need not outlive the builder.
class Builder {
 public:
  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view name);
  void null();
  void boolean(bool value);
  void number(int64_t value);
  void number_text(
      const std::string &text);  // a JSON number's text ("1.5", "18446744073709551615")
  void string(std::string_view value);
  // An existing jsonb (a row from a query) as a value or element, inside a container. Its
  // strings are read at finish(): `value` must live until then.
  void jsonb(Datum value);
  // A JSON value, pushed as from_json builds it.
  void json(const nlohmann::json &value);
  Datum finish();

 private:
  void container(JsonbIteratorToken token);
  void scalar(JsonbValue *value);

  JsonbParseState *state_ = nullptr;
  JsonbValue *result_ = nullptr;
};

}  // namespace pgi::jsonb
