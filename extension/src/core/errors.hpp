// Errors raised by the C++ parts of pg_inbox.
//
// Pure C++ code (parsers, compilers, codecs) throws pgi::Error; it never includes a
// PostgreSQL header. The entry-point guard (pg/pg.hpp) turns the exception into an ereport
// once every C++ object of the call has been destroyed.
#pragma once

#include <stdexcept>
#include <string>

namespace pgi {

// SQLSTATE codes used by the extension, as their five-character text.
namespace sqlstate {
inline constexpr const char *kInvalidParameterValue = "22023";
inline constexpr const char *kInvalidTextRepresentation = "22P02";
inline constexpr const char *kInvalidDatetimeFormat = "22007";
inline constexpr const char *kNumericValueOutOfRange = "22003";
inline constexpr const char *kStringDataRightTruncation = "22001";
inline constexpr const char *kProgramLimitExceeded = "54000";
inline constexpr const char *kStatementTooComplex = "54001";
inline constexpr const char *kUndefinedColumn = "42703";
inline constexpr const char *kUndefinedTable = "42P01";
inline constexpr const char *kUndefinedObject = "42704";
inline constexpr const char *kSyntaxError = "42601";
inline constexpr const char *kInsufficientPrivilege = "42501";
inline constexpr const char *kInvalidAuthorization = "28000";
inline constexpr const char *kNoDataFound = "P0002";
inline constexpr const char *kObjectNotInPrerequisiteState = "55000";
inline constexpr const char *kOutOfMemory = "53200";
inline constexpr const char *kInternalError = "XX000";
}  // namespace sqlstate

class Error : public std::runtime_error {
 public:
  Error(const char *sqlstate, std::string message, std::string detail = {}, std::string hint = {})
      : std::runtime_error(message),
        sqlstate_(sqlstate),
        detail_(std::move(detail)),
        hint_(std::move(hint)) {}

  const char *sqlstate() const { return sqlstate_; }
  const std::string &detail() const { return detail_; }
  const std::string &hint() const { return hint_; }

 private:
  const char *sqlstate_;
  std::string detail_;
  std::string hint_;
};

// The common case: a request value is wrong. `path` names it (`filter.AND[1].createdAt.gte`).
inline Error invalid_value(const std::string &path, const std::string &what,
                           std::string hint = {}) {
  return Error(sqlstate::kInvalidParameterValue, path.empty() ? what : path + ": " + what, {},
               std::move(hint));
}

}  // namespace pgi
