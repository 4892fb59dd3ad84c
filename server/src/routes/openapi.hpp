// The OpenAPI 3.1 description of every route the server answers, served at /openapi.json.
#pragma once

#include <string>

namespace pgi::server {

const std::string &openapi_document();

}  // namespace pgi::server
