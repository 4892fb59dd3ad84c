// SQL functions inbox.public_id(bigint) and inbox.internal_id(text).

#include "pg/pg.hpp"

#include "core/id_codec.hpp"

PGI_FUNCTION(pgi_public_id) {
  return pgi::text_datum(pgi::encode_public_id(PG_GETARG_INT64(0)));
}

PGI_FUNCTION(pgi_internal_id) {
  PG_RETURN_INT64(pgi::decode_public_id_or_throw(pgi::text_arg(fcinfo, 0), ""));
}
