// The SQL the extension's C++ generates, for tests/citus_lint.sh: compiles the pure query
// layers standalone (no PostgreSQL), runs each request of the corpus given on stdin through the
// same front ends as inbox.list, inbox.list_all, inbox.groups and the Directus reads, and prints
// every statement they would run as one JSON object a line: {"request": ..., "sql": ...}.
//
// Corpus lines: {"api": "list" | "list_all" | "groups" | "directus", "params": {...},
//                "cursor": true (a page after a cursor)}
// Relations `actor` and `sender` (actorId -> public.users(id), columns id and name) are known,
// so that filters through relations, expand and Directus's related fields are covered too.
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "directus/query.hpp"
#include "directus/select.hpp"
#include "query/compiler.hpp"
#include "query/groups_compiler.hpp"
#include "query/order_keys.hpp"
#include "query/params.hpp"

namespace {

using namespace pgi;

class Relations : public query::RelationCatalog {
 public:
  Relations() : actor_(relation("actor")), sender_(relation("sender")) {}
  std::shared_ptr<const query::Relation> find(std::string_view name) const override {
    return name == "actor" ? actor_ : name == "sender" ? sender_ : nullptr;
  }
  std::vector<std::shared_ptr<const query::Relation>> for_column(
      std::string_view column) const override {
    if (column == "actor_id")
      return {actor_};
    return {};
  }
  std::vector<std::string> names() const override { return {"actor", "sender"}; }

 private:
  static std::shared_ptr<const query::Relation> relation(const std::string &relation_name) {
    auto r = std::make_shared<query::Relation>();
    r->name = relation_name;
    r->field = "actorId";
    r->source_column = "actor_id";
    r->target = "public.users";
    query::Field id;
    id.name = id.column = "id";
    r->key = id;
    query::Field name;
    name.name = name.column = "name";
    r->columns.add(id).add(name);
    return r;
  }
  std::shared_ptr<const query::Relation> actor_, sender_;
};

// A cursor position for the keys of an order: a value of each key's type.
std::vector<query::Scalar> position(const std::vector<query::OrderKey> &keys) {
  std::vector<query::Scalar> out;
  for (const query::OrderKey &k : keys) {
    switch (k.field.value_type()) {
      case query::SqlType::kBoolean:
        out.emplace_back(false);
        break;
      case query::SqlType::kText:
        out.emplace_back(std::string("x"));
        break;
      default:
        out.emplace_back(int64_t{1});
    }
  }
  return out;
}

void print(const nlohmann::json &request, const query::Statement &s) {
  std::cout << nlohmann::json{{"request", request}, {"sql", s.sql}}.dump() << "\n";
}

void print_page(const nlohmann::json &request, const query::PageStatements &st) {
  print(request, st.page);
  if (st.probe)
    print(request, *st.probe);
  if (st.total)
    print(request, *st.total);
}

// The marks the pg layer reads for a user before compiling (pg/list_executor.hpp: read_marks).
// Their values are bound, so the text is the same whatever they are; none here, so that the
// groups come from the summaries as for most users.
query::UserMarks user_marks() {
  return query::UserMarks{};
}

void run(const nlohmann::json &request, const Relations &relations) {
  std::string api = request.at("api");
  const nlohmann::json &params = request.at("params");
  bool cursor = request.value("cursor", false);
  query::CursorSide side = cursor ? query::CursorSide::kAfter : query::CursorSide::kNone;
  if (api == "list" || api == "list_all") {
    std::optional<std::string> user;
    if (api == "list")
      user = "u1";
    query::Query q = query::parse_native_params(params, {user, &relations});
    if (user)
      q.marks = user_marks();
    std::vector<query::OrderKey> keys = query::complete_order(q.order);
    print_page(request, query::compile_page(q, keys, side, position(keys)));
  } else if (api == "groups") {
    query::Query q = query::parse_native_params(params, {std::string("u1"), &relations});
    q.marks = user_marks();
    print_page(request, query::compile_groups(q, side, position(query::group_order())));
  } else if (api == "directus") {
    directus::DirectusQuery q =
        directus::parse_directus_query(directus::fold_brackets(params), {&relations, "u1"});
    if (!request.value("admin", false)) {
      q.query.user_id = "u1";
      q.query.marks = user_marks();
    }
    if (q.aggregate) {
      print(request, directus::compile_groups(q));
    } else {
      print(request, directus::compile_rows(q, false, false).statement);
      print(request, directus::compile_rows(q, true, false).statement);
    }
  } else {
    throw std::runtime_error("unknown api " + api);
  }
}

}  // namespace

int main() {
  Relations relations;
  std::string line;
  int failed = 0;
  while (std::getline(std::cin, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    nlohmann::json request = nlohmann::json::parse(line);
    try {
      run(request, relations);
    } catch (const std::exception &e) {
      std::cerr << "request " << request.dump() << " failed: " << e.what() << "\n";
      failed++;
    }
  }
  return failed == 0 ? 0 : 1;
}
