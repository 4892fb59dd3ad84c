// Runs one prepared statement through the pool: one round trip, its one row returned as the
// text PostgreSQL sent (JSON is passed through, never parsed here). Every failure becomes an
// ApiFailure: the SQLSTATE mapping (errors.hpp) for errors the statement raised, 503 when
// PostgreSQL cannot be reached or no connection frees up in time.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "db/pool.hpp"

namespace pgi::server {

struct DbCall {
  std::string statement;                                  // prepared on every connection
  const std::vector<std::optional<std::string>> &params;  // nullopt binds NULL
  // Whether the call may run a second time after its connection broke mid-call (the first
  // attempt may have reached PostgreSQL): true only for statements that change nothing, or
  // whose second run has the effect and the answer of the first.
  bool retry_safe;
};

// The columns of the statement's one row, in order (a NULL reads "null").
std::vector<std::string> call_database(Pool &pool, std::chrono::milliseconds wait,
                                       const DbCall &call);

// Every row of the statement (any number), each column nullopt for NULL; the same errors.
using DbRow = std::vector<std::optional<std::string>>;
std::vector<DbRow> call_database_rows(Pool &pool, std::chrono::milliseconds wait,
                                      const DbCall &call);

// The parts of a verbose libpq error text ("ERROR:  22023: message\nDETAIL:  ...\nHINT:  ...").
struct ServerMessage {
  std::string sqlstate;  // empty if the text does not carry one
  std::string message;
  std::string detail;
  std::string hint;
};
ServerMessage parse_server_message(const std::string &text);

}  // namespace pgi::server
