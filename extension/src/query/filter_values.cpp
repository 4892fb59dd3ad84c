#include "query/filter_values.hpp"

#include <cctype>
#include <limits>

#include "core/errors.hpp"
#include "core/id_codec.hpp"

namespace pgi::query {
namespace {

bool digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size())
    return false;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
  }
  return true;
}

int number(std::string_view s, size_t at, size_t n) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i)
    v = v * 10 + (s[i] - '0');
  return v;
}

// A JSON number or numeric string as PostgreSQL numeric input text.
std::optional<std::string> numeric_text(const nlohmann::json &v) {
  if (v.is_number_integer() || v.is_number_unsigned())
    return v.dump();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d != d || d == std::numeric_limits<double>::infinity() ||
        d == -std::numeric_limits<double>::infinity())
      return std::nullopt;
    return v.dump();
  }
  if (!v.is_string())
    return std::nullopt;
  const std::string &s = v.get_ref<const std::string &>();
  size_t i = 0, n = s.size();
  if (i < n && (s[i] == '-' || s[i] == '+'))
    ++i;
  size_t int_digits = 0;
  while (i < n && std::isdigit(static_cast<unsigned char>(s[i])))
    ++i, ++int_digits;
  size_t frac_digits = 0;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0)
    return std::nullopt;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '-' || s[i] == '+'))
      ++i;
    size_t exp_digits = 0;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i, ++exp_digits;
    if (exp_digits == 0)
      return std::nullopt;
  }
  if (i != n || n > 100)
    return std::nullopt;
  return s;
}

std::optional<int64_t> integer_value(const nlohmann::json &v) {
  if (v.is_number_integer())
    return v.get<int64_t>();
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_string()) {
    const std::string &s = v.get_ref<const std::string &>();
    if (s.empty() || s.size() > 20)
      return std::nullopt;
    size_t start = s[0] == '-' ? 1 : 0;
    if (start == s.size() || !digits(s, start, s.size() - start))
      return std::nullopt;
    try {
      return std::stoll(s);
    } catch (const std::out_of_range &) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string json_kind(const nlohmann::json &value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::object:
      return "an object";
    default:
      return "a number";
  }
}

std::string expected_value(const Field &field) {
  switch (field.kind) {
    case ValueKind::kString:
      return "a string";
    case ValueKind::kTimestamp:
      return "an ISO-8601 timestamp";
    case ValueKind::kFlag:
      if (!field.true_label.empty())
        return "\"" + field.false_label + "\" or \"" + field.true_label + "\"";
      return "true or false";
    case ValueKind::kBoolean:
      return "true or false";
    case ValueKind::kNumber:
      return field.type.sql == SqlType::kBigint ? "an integer" : "a number";
    case ValueKind::kPublicId:
      return "a notification id";
    case ValueKind::kJson:
      return "a JSON value";
    case ValueKind::kOther:
      return "a value of type " + (field.type.name.empty() ? "text" : field.type.name);
  }
  return "a value";
}

std::string string_value(const nlohmann::json &value, const std::string &path) {
  if (!value.is_string())
    throw invalid_value(path, "expected a string, got " + json_kind(value));
  const std::string &s = value.get_ref<const std::string &>();
  if (s.size() > kMaxStringBytes)
    throw invalid_value(path, "string longer than " + std::to_string(kMaxStringBytes) + " bytes");
  return s;
}

std::optional<std::string> normalize_iso8601(std::string_view s) {
  // YYYY-MM-DD
  if (!digits(s, 0, 4) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2))
    return std::nullopt;
  int month = number(s, 5, 2), day = number(s, 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31)
    return std::nullopt;
  std::string out(s.substr(0, 10));
  size_t i = 10;
  std::string time = "00:00:00";
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    ++i;
    if (!digits(s, i, 2) || i + 2 >= s.size() || s[i + 2] != ':' || !digits(s, i + 3, 2))
      return std::nullopt;
    if (number(s, i, 2) > 24 || number(s, i + 3, 2) > 59)
      return std::nullopt;
    time = std::string(s.substr(i, 5));
    i += 5;
    if (i < s.size() && s[i] == ':') {
      if (!digits(s, i + 1, 2) || number(s, i + 1, 2) > 60)
        return std::nullopt;
      time += std::string(s.substr(i, 3));
      i += 3;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        size_t start = ++i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
          ++i;
        if (i == start || i - start > 6)
          return std::nullopt;
        time += "." + std::string(s.substr(start, i - start));
      }
    } else {
      time += ":00";
    }
  }
  std::string zone = "+00:00";
  if (i < s.size()) {
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) {
      i += 1;
    } else if (s[i] == '+' || s[i] == '-') {
      if (!digits(s, i + 1, 2) || number(s, i + 1, 2) > 15)
        return std::nullopt;
      zone = std::string(s.substr(i, 3));
      i += 3;
      if (i < s.size() && s[i] == ':')
        ++i;
      if (i < s.size()) {
        if (!digits(s, i, 2) || number(s, i, 2) > 59)
          return std::nullopt;
        zone += ":" + std::string(s.substr(i, 2));
        i += 2;
      } else {
        zone += ":00";
      }
    }
  }
  if (i != s.size())
    return std::nullopt;
  return out + " " + time + zone;
}

Scalar field_value(const Field &field, const nlohmann::json &value, const std::string &path) {
  auto wrong = [&]() {
    return invalid_value(path, "expected " + expected_value(field) + ", got " + json_kind(value));
  };
  switch (field.kind) {
    case ValueKind::kString:
      if (!value.is_string())
        throw wrong();
      return string_value(value, path);
    case ValueKind::kTimestamp: {
      if (!value.is_string())
        throw wrong();
      auto normal = normalize_iso8601(value.get_ref<const std::string &>());
      if (!normal)
        throw invalid_value(path, "expected an ISO-8601 timestamp");
      return *normal;
    }
    case ValueKind::kFlag:
      if (!field.true_label.empty()) {
        if (value.is_string() && value == field.true_label)
          return true;
        if (value.is_string() && value == field.false_label)
          return false;
        throw invalid_value(path, "expected " + expected_value(field));
      }
      if (!value.is_boolean())
        throw wrong();
      return value.get<bool>();
    case ValueKind::kBoolean:
      if (!value.is_boolean())
        throw wrong();
      return value.get<bool>();
    case ValueKind::kNumber:
      if (field.type.sql == SqlType::kBigint) {
        if (auto i = integer_value(value))
          return *i;
        throw invalid_value(path, "expected an integer");
      } else if (auto text = numeric_text(value)) {
        return *text;
      }
      throw invalid_value(path, "expected a number");
    case ValueKind::kPublicId:
      if (!value.is_string())
        throw wrong();
      return decode_public_id_or_throw(value.get_ref<const std::string &>(), path);
    case ValueKind::kJson: {
      std::string text = value.dump();
      if (text.size() > kMaxStringBytes)
        throw invalid_value(path,
                            "JSON value longer than " + std::to_string(kMaxStringBytes) + " bytes");
      return text;
    }
    case ValueKind::kOther:
      if (value.is_string())
        return string_value(value, path);
      if (value.is_number() || value.is_boolean())
        return value.dump();
      throw wrong();
  }
  throw wrong();
}

}  // namespace pgi::query
