#include "pg/jsonb.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "core/errors.hpp"

extern "C" {
#include "utils/numeric.h"
}

namespace pgi::jsonb {
namespace {

// A container being read, with where its next member goes.
struct Frame {
  nlohmann::json value;
  std::string key;  // objects: the key of the member being read
};

std::string path_of(std::string_view name, const std::vector<Frame> &stack) {
  std::string path(name);
  for (const Frame &f : stack) {
    if (f.value.is_object())
      path += "." + f.key;
    else
      path += "[" + std::to_string(f.value.size()) + "]";
  }
  return path;
}

// A number's text (numeric_out: digits, an optional sign and point, never an exponent) as
// nlohmann::json::parse reads it; nullopt beyond a double's range.
std::optional<nlohmann::json> number(const char *text) {
  char *end = nullptr;
  if (std::strpbrk(text, ".eE") == nullptr) {
    errno = 0;
    if (text[0] == '-') {
      long long i = std::strtoll(text, &end, 10);
      if (errno == 0 && *end == '\0')
        return nlohmann::json(static_cast<int64_t>(i));
    } else {
      unsigned long long u = std::strtoull(text, &end, 10);
      if (errno == 0 && *end == '\0')
        return nlohmann::json(static_cast<uint64_t>(u));
    }
  }
  double d = std::strtod(text, &end);
  if (!std::isfinite(d))
    return std::nullopt;
  return nlohmann::json(d);
}

nlohmann::json scalar_json(const JsonbValue &v, std::string_view name,
                           const std::vector<Frame> &stack) {
  switch (v.type) {
    case jbvNull:
      return nullptr;
    case jbvBool:
      return static_cast<bool>(v.val.boolean);
    case jbvString:
      return std::string(v.val.string.val, v.val.string.len);
    case jbvNumeric: {
      char *text = nullptr;
      Numeric n = v.val.numeric;
      pg_call(
          [&] { text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n))); });
      if (std::optional<nlohmann::json> out = number(text))
        return std::move(*out);
      throw Error(
          sqlstate::kNumericValueOutOfRange, path_of(name, stack) + ": number out of range",
          "A JSON number here must be within the range of double precision (about 1.8e308).");
    }
    default:
      throw Error(sqlstate::kInternalError,
                  path_of(name, stack) + ": unexpected jsonb value type " + std::to_string(v.type));
  }
}

// Raises what jsonb_in raises for text it cannot hold as a string: 22P05 for a NUL (PostgreSQL's
// message for "\u0000"), 22021 for an invalid byte sequence. Within a pg_call.
void check_string(const char *data, size_t len) {
  if (std::memchr(data, '\0', len) != nullptr)
    ereport(ERROR, (errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
                    errmsg("unsupported Unicode escape sequence"),
                    errdetail("\\u0000 cannot be converted to text.")));
  if (len > JENTRY_OFFLENMASK)
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                    errmsg("string too long to represent as jsonb string")));
  pg_verify_mbstr(GetDatabaseEncoding(), data, static_cast<int>(len), false);
}

// A palloc'd copy of `text` as a jbvString, checked as jsonb's input checks text.
JsonbValue *string_value(std::string_view text, JsonbValue *out) {
  const char *data = text.data();
  size_t len = text.size();
  pg_call([&] {
    check_string(data, len);
    out->type = jbvString;
    out->val.string.val = pnstrdup(data, len);
    out->val.string.len = static_cast<int>(len);
  });
  return out;
}

void build(Builder &b, const nlohmann::json &v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      b.begin_object();
      for (auto it = v.begin(); it != v.end(); ++it) {
        b.key(it.key());
        build(b, it.value());
      }
      b.end_object();
      break;
    case nlohmann::json::value_t::array:
      b.begin_array();
      for (const nlohmann::json &e : v)
        build(b, e);
      b.end_array();
      break;
    case nlohmann::json::value_t::string:
      b.string(v.get_ref<const std::string &>());
      break;
    case nlohmann::json::value_t::boolean:
      b.boolean(v.get<bool>());
      break;
    case nlohmann::json::value_t::number_integer:
      b.number(v.get<int64_t>());
      break;
    case nlohmann::json::value_t::number_unsigned:
      b.number_text(std::to_string(v.get<uint64_t>()));
      break;
    case nlohmann::json::value_t::number_float:
      if (!std::isfinite(v.get<double>()))
        throw Error(sqlstate::kNumericValueOutOfRange, "a JSON number must be finite");
      b.number_text(v.dump());
      break;
    case nlohmann::json::value_t::null:
      b.null();
      break;
    default:
      throw Error(sqlstate::kInternalError, "pg_inbox: no jsonb form for a binary JSON value");
  }
}

}  // namespace

nlohmann::json to_json(Datum value, std::string_view name) {
  JsonbIterator *it = nullptr;
  pg_call([&] { it = JsonbIteratorInit(&DatumGetJsonbP(value)->root); });
  std::vector<Frame> stack;
  nlohmann::json result;
  // Adds a finished value to the container being read, or makes it the result.
  auto place = [&](nlohmann::json v) {
    if (stack.empty())
      result = std::move(v);
    else if (stack.back().value.is_object())
      stack.back().value.emplace(std::move(stack.back().key), std::move(v));
    else
      stack.back().value.push_back(std::move(v));
  };
  bool raw_scalar = false;
  for (;;) {
    JsonbValue v;
    JsonbIteratorToken token = WJB_DONE;
    pg_call([&] { token = JsonbIteratorNext(&it, &v, false); });
    switch (token) {
      case WJB_DONE:
        return result;
      case WJB_BEGIN_ARRAY:
        // A scalar is stored as a one-element array marked rawScalar.
        if (v.val.array.rawScalar && stack.empty())
          raw_scalar = true;
        else
          stack.push_back(Frame{nlohmann::json::array(), {}});
        break;
      case WJB_BEGIN_OBJECT:
        stack.push_back(Frame{nlohmann::json::object(), {}});
        break;
      case WJB_KEY:
        stack.back().key.assign(v.val.string.val, v.val.string.len);
        break;
      case WJB_VALUE:
      case WJB_ELEM:
        place(scalar_json(v, name, stack));
        break;
      case WJB_END_ARRAY:
      case WJB_END_OBJECT: {
        if (raw_scalar && stack.empty())
          break;
        nlohmann::json done = std::move(stack.back().value);
        stack.pop_back();
        place(std::move(done));
        break;
      }
    }
  }
}

nlohmann::json arg(FunctionCallInfo fcinfo, int n, std::string_view name) {
  if (PG_ARGISNULL(n))
    return nullptr;
  return to_json(PG_GETARG_DATUM(n), name);
}

nlohmann::json parse(std::string_view text, std::string_view name) {
  Datum value = 0;
  pg_call([&] {
    char *cstring = pnstrdup(text.data(), text.size());
    value = DirectFunctionCall1(jsonb_in, CStringGetDatum(cstring));
  });
  return to_json(value, name);
}

Datum from_json(const nlohmann::json &value) {
  Builder b;
  build(b, value);
  return b.finish();
}

void check_text(const nlohmann::json &value) {
  auto check = [](const std::string &s) {
    const char *data = s.data();
    size_t len = s.size();
    pg_call([&] { check_string(data, len); });
  };
  if (value.is_string()) {
    check(value.get_ref<const std::string &>());
  } else if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      check(it.key());
      check_text(it.value());
    }
  } else if (value.is_array()) {
    for (const nlohmann::json &e : value)
      check_text(e);
  }
}

// --- Builder -------------------------------------------------------------------------------------

void Builder::container(JsonbIteratorToken token) {
  JsonbParseState **state = &state_;
  JsonbValue *done = nullptr;
  pg_call([&] { done = pushJsonbValue(state, token, nullptr); });
  if (state_ == nullptr)
    result_ = done;
}

void Builder::begin_object() {
  container(WJB_BEGIN_OBJECT);
}
void Builder::end_object() {
  container(WJB_END_OBJECT);
}
void Builder::begin_array() {
  container(WJB_BEGIN_ARRAY);
}
void Builder::end_array() {
  container(WJB_END_ARRAY);
}

// A value where the builder stands: a member's value, an array element, or the whole value.
void Builder::scalar(JsonbValue *value) {
  JsonbParseState **state = &state_;
  JsonbValue *done = nullptr;
  pg_call([&] {
    if (*state == nullptr) {
      JsonbValue array;
      array.type = jbvArray;
      array.val.array.rawScalar = true;
      array.val.array.nElems = 1;
      pushJsonbValue(state, WJB_BEGIN_ARRAY, &array);
      pushJsonbValue(state, WJB_ELEM, value);
      done = pushJsonbValue(state, WJB_END_ARRAY, nullptr);
    } else {
      pushJsonbValue(state, (*state)->contVal.type == jbvObject ? WJB_VALUE : WJB_ELEM, value);
    }
  });
  if (done != nullptr)
    result_ = done;
}

void Builder::key(std::string_view name) {
  JsonbValue k;
  string_value(name, &k);
  JsonbParseState **state = &state_;
  pg_call([&] { pushJsonbValue(state, WJB_KEY, &k); });
}

void Builder::null() {
  JsonbValue v;
  v.type = jbvNull;
  scalar(&v);
}

void Builder::boolean(bool value) {
  JsonbValue v;
  v.type = jbvBool;
  v.val.boolean = value;
  scalar(&v);
}

void Builder::number(int64_t value) {
  JsonbValue v;
  v.type = jbvNumeric;
  pg_call([&] { v.val.numeric = int64_to_numeric(value); });
  scalar(&v);
}

void Builder::number_text(const std::string &text) {
  JsonbValue v;
  v.type = jbvNumeric;
  const char *digits = text.c_str();
  pg_call([&] {
    v.val.numeric = DatumGetNumeric(DirectFunctionCall3(
        numeric_in, CStringGetDatum(digits), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
  });
  scalar(&v);
}

void Builder::string(std::string_view value) {
  JsonbValue v;
  scalar(string_value(value, &v));
}

void Builder::jsonb(Datum value) {
  if (state_ == nullptr)
    throw Error(sqlstate::kInternalError, "pg_inbox: a jsonb value is embedded in a container");
  JsonbValue v;
  pg_call([&] {
    Jsonb *j = DatumGetJsonbP(value);
    v.type = jbvBinary;
    v.val.binary.data = &j->root;
    v.val.binary.len = VARSIZE(j) - VARHDRSZ;
  });
  scalar(&v);
}

void Builder::json(const nlohmann::json &value) {
  build(*this, value);
}

Datum Builder::finish() {
  if (state_ != nullptr || result_ == nullptr)
    throw Error(sqlstate::kInternalError, "pg_inbox: an unfinished jsonb value");
  Datum out = 0;
  JsonbValue *value = result_;
  pg_call([&] { out = JsonbPGetDatum(JsonbValueToJsonb(value)); });
  return out;
}

}  // namespace pgi::jsonb
