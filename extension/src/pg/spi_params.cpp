#include "pg/spi_params.hpp"

extern "C" {
#include "utils/array.h"
}

namespace pgi::spi {
namespace {

using query::Scalar;
using query::SqlType;

// The type's input function applied to `text`; a data exception becomes an error naming the
// parameter.
Datum input(Oid type, const std::string &text, const query::Param &p) {
  Datum out = 0;
  try {
    pg_call([&] {
      Oid func, ioparam;
      getTypeInputInfo(type, &func, &ioparam);
      out = OidInputFunctionCall(func, const_cast<char *>(text.c_str()), ioparam, -1);
    });
  } catch (const PgError &e) {
    if (p.expected.empty() ||
        ERRCODE_TO_CATEGORY(e.data()->sqlerrcode) != ERRCODE_TO_CATEGORY(ERRCODE_DATA_EXCEPTION))
      throw;
    throw invalid_value(p.path, "expected " + p.expected);
  }
  return out;
}

Datum convert(Oid type, const Scalar &v, const query::Param &p) {
  if (auto b = std::get_if<bool>(&v))
    return BoolGetDatum(*b);
  if (auto i = std::get_if<int64_t>(&v)) {
    // bigint, or timestamptz as its int64 microseconds: both are int64 Datums.
    if (type == INT8OID || type == TIMESTAMPTZOID)
      return Int64GetDatum(*i);
    return input(type, std::to_string(*i), p);
  }
  const std::string &s = std::get<std::string>(v);
  if (type == TEXTOID)
    return text_datum(s);
  return input(type, s, p);
}

}  // namespace

Oid type_oid(const query::TypeRef &type) {
  switch (type.sql) {
    case SqlType::kText:
      return TEXTOID;
    case SqlType::kBigint:
      return INT8OID;
    case SqlType::kBoolean:
      return BOOLOID;
    case SqlType::kTimestamptz:
      return TIMESTAMPTZOID;
    case SqlType::kJsonb:
      return JSONBOID;
    case SqlType::kNumeric:
      return NUMERICOID;
    case SqlType::kCatalog:
      return type.oid;
  }
  return InvalidOid;
}

BoundParams bind_params(const std::vector<query::Param> &params) {
  BoundParams out;
  out.count = static_cast<int>(params.size());
  if (out.count == 0)
    return out;
  pg_call([&] {
    out.types = static_cast<Oid *>(palloc(sizeof(Oid) * out.count));
    out.values = static_cast<Datum *>(palloc(sizeof(Datum) * out.count));
    out.nulls = static_cast<char *>(palloc(out.count + 1));
  });
  for (int i = 0; i < out.count; ++i) {
    const query::Param &p = params[i];
    Oid element = type_oid(p.type);
    out.nulls[i] = ' ';
    if (!p.array) {
      out.types[i] = element;
      const Scalar &v = p.values.at(0);
      if (std::holds_alternative<std::monostate>(v)) {
        out.values[i] = 0;
        out.nulls[i] = 'n';
      } else {
        out.values[i] = convert(element, v, p);
      }
      continue;
    }
    int n = static_cast<int>(p.values.size());
    Datum *elements = nullptr;
    pg_call([&] { elements = static_cast<Datum *>(palloc(sizeof(Datum) * (n > 0 ? n : 1))); });
    for (int j = 0; j < n; ++j)
      elements[j] = convert(element, p.values[j], p);
    Oid array_type = InvalidOid;
    Datum array = 0;
    pg_call([&] {
      int16 len;
      bool byval;
      char align;
      array_type = get_array_type(element);
      if (array_type == InvalidOid)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("type %s has no array type", format_type_be(element))));
      get_typlenbyvalalign(element, &len, &byval, &align);
      array = PointerGetDatum(construct_array(elements, n, element, len, byval, align));
    });
    out.types[i] = array_type;
    out.values[i] = array;
  }
  return out;
}

}  // namespace pgi::spi
