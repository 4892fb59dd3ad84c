#include "query/params.hpp"

#include "core/errors.hpp"
#include "query/filter_parser.hpp"
#include "query/filter_values.hpp"
#include "core/id_codec.hpp"
#include "query/order_keys.hpp"
#include "query/row_expand.hpp"

namespace pgi::query {
namespace {

using nlohmann::json;

constexpr const char *kParams[] = {
    "limit",        "after",         "before",          "ids",        "filter", "orderBy",
    "workspace_id", "read",          "include_deleted", "user_id",    "type",   "total",
    "types",        "exclude_types", "only_unread",     "only_after", "expand", "grouped_types"};
constexpr int64_t kMaxLimit = 100;

std::string param_names() {
  std::string out;
  for (const char *p : kParams)
    out += (out.empty() ? "" : ", ") + std::string(p);
  return out;
}

// A JSON value, or a string holding one (from a URL query string).
json structured(const json &v, const std::string &path) {
  if (!v.is_string())
    return v;
  const std::string &s = v.get_ref<const std::string &>();
  try {
    return json::parse(s);
  } catch (const json::exception &) {
    throw invalid_value(path, "expected JSON, got a string that is not valid JSON");
  }
}

std::string text_param(const json &v, const std::string &path, size_t max = 255) {
  if (!v.is_string())
    throw invalid_value(path, "expected a string, got " + json_kind(v));
  const std::string &s = v.get_ref<const std::string &>();
  if (s.empty() || s.size() > max)
    throw invalid_value(path, "expected 1 to " + std::to_string(max) + " characters");
  return s;
}

std::optional<bool> boolean_text(const json &v) {
  if (v.is_boolean())
    return v.get<bool>();
  if (v == "true")
    return true;
  if (v == "false")
    return false;
  return std::nullopt;
}

int64_t limit_param(const json &v) {
  std::optional<int64_t> n;
  if (v.is_number_integer()) {
    n = v.get<int64_t>();
  } else if (v.is_number_unsigned()) {
    n = kMaxLimit + 1;
  } else if (v.is_string()) {
    const std::string &s = v.get_ref<const std::string &>();
    if (!s.empty() && s.size() <= 4 && s.find_first_not_of("0123456789") == std::string::npos)
      n = std::stoll(s);
  }
  if (!n || *n < 1 || *n > kMaxLimit)
    throw invalid_value("limit", "expected an integer from 1 to " + std::to_string(kMaxLimit));
  return *n;
}

// A list of strings: a JSON array, or one comma-separated string (from a URL). `one` and
// `many` name the elements in messages ("notification id", "ids").
std::vector<std::string> string_list(const json &v, const std::string &path, const char *one,
                                     const char *many) {
  std::vector<std::string> out;
  if (v.is_string()) {
    const std::string &s = v.get_ref<const std::string &>();
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == ',') {
        out.push_back(s.substr(start, i - start));
        start = i + 1;
      }
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string())
        throw invalid_value(path + "[" + std::to_string(i) + "]",
                            std::string("expected a ") + one + ", got " + json_kind(v[i]));
      out.push_back(v[i].get<std::string>());
    }
  } else {
    throw invalid_value(path, std::string("expected an array of ") + many +
                                  " or a comma-separated string, got " + json_kind(v));
  }
  if (out.empty() || (out.size() == 1 && out[0].empty()))
    throw invalid_value(path, std::string("expected at least one ") + one);
  if (out.size() > kMaxListValues)
    throw Error(sqlstate::kProgramLimitExceeded,
                path + ": more than " + std::to_string(kMaxListValues) + " " + many);
  return out;
}

std::vector<int64_t> ids_param(const json &v) {
  std::vector<std::string> texts = string_list(v, "ids", "notification id", "ids");
  std::vector<int64_t> ids;
  for (size_t i = 0; i < texts.size(); ++i)
    ids.push_back(decode_public_id_or_throw(texts[i], "ids[" + std::to_string(i) + "]"));
  return ids;
}

// A comparison on one of the native fields, as a shorthand stands for it.
Node comparison(const char *field, Op op, std::vector<Scalar> values, const std::string &path) {
  return Node::compare(*native_fields().find(field), op, std::move(values), path);
}

// types / exclude_types (Mastodon's types[] and exclude_types[]): type in / not in the list.
Node type_list(const json &v, const std::string &path, Op op) {
  std::vector<std::string> names = string_list(v, path, "type name", "type names");
  std::vector<Scalar> values;
  for (size_t i = 0; i < names.size(); ++i)
    values.push_back(text_param(names[i], path + "[" + std::to_string(i) + "]"));
  return comparison("type", op, std::move(values), path);
}

}  // namespace

Query parse_native_params(const json &params, const ParamsScope &scope) {
  Query q;
  q.user_id = scope.user_id;
  if (params.is_null())
    return q;
  if (!params.is_object())
    throw invalid_value("params", "expected a JSON object, got " + json_kind(params));

  for (auto it = params.begin(); it != params.end(); ++it) {
    bool known = false;
    for (const char *p : kParams)
      known = known || it.key() == p;
    if (!known)
      throw invalid_value(it.key(), "unknown parameter", "Parameters: " + param_names() + ".");
  }
  auto get = [&](const char *name) -> const json * {
    auto it = params.find(name);
    return it == params.end() || it->is_null() ? nullptr : &*it;
  };

  if (auto v = get("limit"))
    q.paging.limit = limit_param(*v);
  if (auto v = get("after"))
    q.paging.after = text_param(*v, "after", 8192);
  if (auto v = get("before"))
    q.paging.before = text_param(*v, "before", 8192);
  if (q.paging.after && q.paging.before)
    throw invalid_value("before", "after and before cannot be used together");
  if (auto v = get("ids"))
    q.ids = ids_param(*v);
  if (auto v = get("workspace_id"))
    q.workspace_id = text_param(*v, "workspace_id");
  if (auto v = get("type"))
    q.type = text_param(*v, "type");
  if (auto v = get("read")) {
    q.read = boolean_text(*v);
    if (!q.read)
      throw invalid_value("read", "expected true or false");
  }
  if (auto v = get("total")) {
    auto want = boolean_text(*v);
    if (!want)
      throw invalid_value("total", "expected true or false");
    q.want_total = *want;
  }
  if (auto v = get("include_deleted")) {
    if (*v == "only")
      q.deleted = DeletedMode::kOnlyDeleted;
    else if (auto b = boolean_text(*v))
      q.deleted = *b ? DeletedMode::kWithDeleted : DeletedMode::kActive;
    else
      throw invalid_value("include_deleted", "expected false, true or \"only\"");
  }
  if (auto v = get("filter"))
    q.filter =
        parse_native_filter(structured(*v, "filter"), "filter", native_fields(), scope.relations);
  if (auto v = get("orderBy"))
    q.order = parse_native_order(structured(*v, "orderBy"), "orderBy", native_fields());
  if (auto v = get("expand"))
    q.expand = parse_expand(string_list(*v, "expand", "name", "names"), scope.relations);

  // Diaspora's and Mastodon's shorthands narrow the filter like the clauses they stand for.
  if (auto v = get("types"))
    q.filter.narrow(type_list(*v, "types", Op::kIn));
  if (auto v = get("exclude_types"))
    q.filter.narrow(type_list(*v, "exclude_types", Op::kNotIn));
  if (auto v = get("grouped_types")) {
    // Only the groups read it (query/groups_compiler.cpp); a list has no groups to split.
    std::vector<std::string> names = string_list(*v, "grouped_types", "type name", "type names");
    for (size_t i = 0; i < names.size(); ++i)
      text_param(names[i], "grouped_types[" + std::to_string(i) + "]");
    q.grouped_types = std::move(names);
  }
  if (auto v = get("only_after")) {
    const Field &updated = *native_fields().find("updatedAt");
    q.filter.narrow(
        comparison("updatedAt", Op::kGt, {field_value(updated, *v, "only_after")}, "only_after"));
  }
  if (auto v = get("only_unread")) {
    auto only = boolean_text(*v);
    if (!only)
      throw invalid_value("only_unread", "expected true or false");
    if (*only && q.read == std::optional<bool>(true))
      throw invalid_value("only_unread", "contradicts read=true");
    if (*only)
      q.read = false;  // the unread shorthand, so the unread index and counter serve it
  }

  if (auto v = get("user_id")) {
    std::string user = text_param(*v, "user_id");
    if (!scope.user_id) {
      q.user_id = user;  // the admin listing narrowed to one user
    } else if (user != *scope.user_id) {
      // Narrows, never widens: userId = <other> AND user_id = <caller> lists nothing.
      q.filter.narrow(comparison("userId", Op::kEq, {user}, "user_id"));
    }
  }
  return q;
}

}  // namespace pgi::query
