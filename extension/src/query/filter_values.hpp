// JSON request values -> typed engine values, one field at a time. Pure C++.
//
// Each front end hands a field and a JSON value; the result is a Scalar ready to bind, or a
// pgi::Error naming the path ("filter.AND[1].createdAt.gte: expected an ISO-8601 timestamp").
// Values whose last word belongs to PostgreSQL (a timestamp out of range, a malformed uuid for
// a relation column) are checked again by the type's input function when bound, with the same
// message (see Param::expected).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "query/model.hpp"

namespace pgi::query {

// What a field's values must be, as the end of an error message: "an ISO-8601 timestamp".
std::string expected_value(const Field &field);

// One JSON value for `field` (never null: callers map null to isNull first).
Scalar field_value(const Field &field, const nlohmann::json &value, const std::string &path);

// A JSON string within kMaxStringBytes, or an error naming `path`.
std::string string_value(const nlohmann::json &value, const std::string &path);

// ISO-8601 date or date-time (`2024-05-01`, `2024-05-01T10:00`, `2024-05-01T10:00:00.123456Z`,
// `...+02:00`) normalised to the text timestamptz_in reads the same under any DateStyle and
// TimeZone ("2024-05-01 10:00:00.123456+02:00"). Without an offset the time is UTC.
std::optional<std::string> normalize_iso8601(std::string_view text);

// "a string", "a number", "an object"... for "expected X, got Y" messages.
std::string json_kind(const nlohmann::json &value);

}  // namespace pgi::query
