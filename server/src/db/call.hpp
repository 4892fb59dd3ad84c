// A call of one prepared statement (made by db/pool.hpp): one round trip, its rows returned as
// the text PostgreSQL sent (JSON is passed through, never parsed here). Every failure becomes an
// ApiError: the SQLSTATE mapping (errors.hpp) for errors the statement raised, 503 when
// PostgreSQL cannot be reached or no connection frees up in time.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "errors.hpp"

namespace pgi::server {

struct DbCall {
  std::string statement;                           // prepared on every connection
  std::vector<std::optional<std::string>> params;  // nullopt binds NULL
  // Whether the call may run a second time after its connection broke mid-call (the first
  // attempt may have reached PostgreSQL): true only for statements that change nothing, or
  // whose second run has the effect and the answer of the first.
  bool retry_safe;
};

// A row of a statement's answer, each column nullopt for NULL.
using DbRow = std::vector<std::optional<std::string>>;

// The columns of a statement's one row, in order (a NULL reads "null"); 500 for any other
// number of rows.
std::vector<std::string> one_row(std::vector<DbRow> rows);

// The answer when PostgreSQL cannot be reached: 503 database_unavailable (`why` is logged).
ApiError database_unavailable(const std::string &why);

// The answer to an error a statement raised: errors.hpp's SQLSTATE mapping of it, from libpq's
// verbose text of it ("ERROR:  22023: message\nDETAIL:  ...\nHINT:  ..."); an answer of 5xx logs
// that text. `sqlstate` may be empty: it is then read from the text.
ApiError statement_error(const std::string &sqlstate, const std::string &verbose_text);

// The parts of a verbose libpq error text ("ERROR:  22023: message\nDETAIL:  ...\nHINT:  ...").
struct ServerMessage {
  std::string sqlstate;  // empty if the text does not carry one
  std::string message;
  std::string detail;
  std::string hint;
};
ServerMessage parse_server_message(const std::string &text);

}  // namespace pgi::server
