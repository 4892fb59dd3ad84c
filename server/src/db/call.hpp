// Calls one SQL function through the pool: one prepared statement, one round trip, and its
// single result value returned as the text PostgreSQL sent (JSON is passed through, never
// parsed here). Every failure becomes an ApiFailure: the SQLSTATE mapping for errors the
// function raised, 503 when PostgreSQL cannot be reached or no connection frees up in time.
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
  // Whether the call may run a second time after its connection broke mid-call: true only for
  // statements that change nothing (the first attempt may have reached PostgreSQL).
  bool retry_safe;
};

std::string call_database(Pool &pool, std::chrono::milliseconds wait, const DbCall &call);

// The same for a statement whose one row has several columns: their text, in order (a NULL
// reads "null").
std::vector<std::string> call_database_row(Pool &pool, std::chrono::milliseconds wait,
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
