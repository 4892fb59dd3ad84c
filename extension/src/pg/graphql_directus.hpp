// The database side of GraphQL's Directus resolver (graphql/directus.hpp), over SPI.
//
// One pass per request: the bearer token is authenticated once, when the request starts
// (inbox.authenticate: 28000 for a token that does not authenticate, which the server answers
// 401), and the caller is kept. Queries read in-process through the Directus query code
// (pg/directus_read.hpp) as that caller, with the permissions of the REST routes: the
// notifications:read scope (admin has every scope), a user's own rows, an admin's everyone's, a
// workspace token's workspace. Mutations call the SQL function of their REST route
// (60_directus.sql) with the token, which checks the scope the change needs.
//
// Each root field runs in its own internal subtransaction (pg/subtransaction.hpp): a field that
// fails is rolled back alone and thrown as gql::DatabaseError with its SQLSTATE, so that it
// becomes a field error while the other fields keep their data. SPI must stay connected for the
// object's lifetime.
#pragma once

#include "pg/pg.hpp"

#include <optional>
#include <string>
#include <vector>

#include "graphql/directus.hpp"
#include "pg/directus_read.hpp"

namespace pgi::spi {

class GraphqlDirectusApi : public gql::DirectusApi {
 public:
  // Authenticates `token`; without one nothing is authenticated (the resolver refuses every
  // notification field then, as Directus's public role may not read them).
  explicit GraphqlDirectusApi(const std::optional<std::string> &token);

  std::string read(const nlohmann::json &params) override;
  std::string read_one(const std::string &id, const nlohmann::json &params) override;
  std::optional<std::string> call(const char *function, const std::vector<Arg> &args) override;

 private:
  bool may_read_ = false;  // the token has notifications:read (or admin)
  DirectusCaller caller_;
};

}  // namespace pgi::spi
