#include "db/call.hpp"

#include <algorithm>
#include <cctype>

#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/nontransaction>
#include <pqxx/prepared_statement>

#include "errors.hpp"
#include "log.hpp"

namespace pgi::server {

namespace {

// Cuts "LABEL:  " lines out of a libpq error text; returns the text of the first such line.
std::string field(const std::string &text, const std::string &label) {
  std::string marker = "\n" + label + ":  ";
  auto start = text.find(marker);
  if (start == std::string::npos)
    return {};
  start += marker.size();
  auto end = text.find('\n', start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::optional<Pool::Lease> acquire(Pool &pool, std::chrono::milliseconds wait) {
  try {
    return pool.acquire(wait);
  } catch (const pqxx::failure &e) {
    throw ApiFailure(database_unavailable(e.what()));
  }
}

}  // namespace

ApiError database_unavailable(const std::string &why) {
  ApiError error = http_error(503, "the database is unavailable");
  error.code = "database_unavailable";
  log_line("database unavailable: " + why);
  return error;
}

ApiError statement_error(const std::string &sqlstate, const std::string &verbose_text) {
  ServerMessage m = parse_server_message(verbose_text);
  const std::string &code = sqlstate.empty() ? m.sqlstate : sqlstate;
  ApiError error = sqlstate_error(code, m.message, m.detail, m.hint);
  if (error.status >= 500)
    log_line("database error " + code + ": " + verbose_text);
  return error;
}

ServerMessage parse_server_message(const std::string &text) {
  ServerMessage out;
  // The first line is "SEVERITY:  message" (the severity may be translated).
  auto first_end = text.find('\n');
  std::string first = text.substr(0, first_end);
  auto sep = first.find(":  ");
  out.message = sep == std::string::npos ? first : first.substr(sep + 3);
  bool coded = out.message.size() > 7 && out.message.compare(5, 2, ": ") == 0 &&
               std::all_of(out.message.begin(), out.message.begin() + 5,
                           [](char c) { return std::isdigit(c) || std::isupper(c); });
  if (coded) {
    out.sqlstate = out.message.substr(0, 5);
    out.message.erase(0, 7);
  }
  out.detail = field(text, "DETAIL");
  out.hint = field(text, "HINT");
  return out;
}

std::vector<std::string> one_row(std::vector<DbRow> rows) {
  if (rows.size() != 1)
    throw ApiFailure(http_error(500, "internal error"));
  std::vector<std::string> row;
  for (std::optional<std::string> &f : rows[0])
    row.push_back(f ? std::move(*f) : std::string("null"));
  return row;
}

std::vector<DbRow> call_database_rows(Pool &pool, std::chrono::milliseconds wait,
                                      const DbCall &call) {
  std::vector<const char *> values;
  values.reserve(call.params.size());
  for (const auto &p : call.params)
    values.push_back(p ? p->c_str() : nullptr);

  for (int attempt = 1;; ++attempt) {
    std::optional<Pool::Lease> lease = acquire(pool, wait);
    if (!lease) {
      ApiError error = http_error(503, "every database connection is busy; retry shortly");
      error.code = "pool_exhausted";
      throw ApiFailure(error);
    }
    try {
      pqxx::nontransaction tx(lease->connection());
      pqxx::result r = tx.exec_prepared(call.statement, pqxx::prepare::make_dynamic_params(values));
      std::vector<DbRow> rows;
      rows.reserve(r.size());
      for (pqxx::result::size_type i = 0; i < r.size(); ++i) {
        const pqxx::row pr = r[i];
        DbRow &row = rows.emplace_back();
        for (const pqxx::field &f : pr) {
          if (f.is_null())
            row.emplace_back(std::nullopt);
          else
            row.emplace_back(std::string(f.c_str(), f.size()));
        }
      }
      return rows;
    } catch (const pqxx::broken_connection &e) {
      lease->discard();
      if (call.retry_safe && attempt == 1)
        continue;
      throw ApiFailure(database_unavailable(e.what()));
    } catch (const pqxx::sql_error &e) {
      bool broken = !lease->connection().is_open();
      if (broken)
        lease->discard();
      // A server shutting down ends its connections with 57P01; a read may go to a fresh one.
      if (broken && call.retry_safe && attempt == 1)
        continue;
      throw ApiFailure(statement_error(e.sqlstate(), e.what()));
    } catch (const ApiFailure &) {
      throw;
    } catch (const pqxx::failure &e) {
      if (!lease->connection().is_open()) {
        lease->discard();
        throw ApiFailure(database_unavailable(e.what()));
      }
      log_line(std::string("database call failed: ") + e.what());
      throw ApiFailure(http_error(500, "internal error"));
    }
  }
}

}  // namespace pgi::server
