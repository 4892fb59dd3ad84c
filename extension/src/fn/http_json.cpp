// inbox.http_json(jsonb): a REST response's text as HTTP clients receive it (pg/http_json.hpp).

#include "pg/pg.hpp"

#include "pg/http_json.hpp"

PGI_FUNCTION(pgi_http_json) {
  text *result = nullptr;
  pgi::pg_call([&] { result = pgi::spi::http_json(PG_GETARG_JSONB_P(0)); });
  PG_RETURN_TEXT_P(result);
}
