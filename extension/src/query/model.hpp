// The query engine's model: what a list request means, independent of the dialect it came in.
//
// Three front ends feed the engine: pg_inbox's native params (inbox.list, query/params.hpp),
// the Directus dialect (filter `{ "status": { "_eq": "inbox" } }`, sort `-timestamp`,
// limit/offset/page) and GraphQL. Each parses its own syntax into a `Query` built from the
// types below; the compiler (query/compiler.hpp) turns a Query into SQL text plus typed bound
// parameters, and the executor (pg/list_executor.hpp) runs it. A new dialect therefore writes a
// parser and, when it names fields differently, a FieldRegistry; it never writes SQL.
//
// This header is pure C++ (no PostgreSQL header): parsers and compilers use it freely and throw
// pgi::Error. Everything here is plain data with value semantics.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/value_kind.hpp"

namespace pgi::query {

// ---------------------------------------------------------------------------------------------
// Types and values
// ---------------------------------------------------------------------------------------------

// The SQL type a value is bound as. The executor maps each to its type OID; kCatalog carries an
// OID read from the catalog (the columns of a relation's target table).
enum class SqlType { kText, kBigint, kBoolean, kTimestamptz, kJsonb, kNumeric, kCatalog };

struct TypeRef {
  SqlType sql = SqlType::kText;
  uint32_t oid = 0;     // kCatalog only
  std::string name;     // kCatalog only, for messages: "uuid", "character varying"
  char category = 'S';  // kCatalog only: pg_type.typcategory
};

// One value as bound. Its meaning depends on the TypeRef it is bound with:
//   monostate    SQL NULL
//   bool         boolean
//   int64_t      bigint, or timestamptz as PostgreSQL's microseconds since 2000-01-01 UTC
//                (exact: keyset cursors carry sort keys this way)
//   std::string  the value's text form, converted by the type's input function (jsonb as JSON
//                text, timestamptz as a normalised ISO-8601 string, numeric as digits)
using Scalar = std::variant<std::monostate, bool, int64_t, std::string>;

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

// How a field compares and which JSON values it takes (core/value_kind.hpp).
using pgi::ValueKind;

// A field as one dialect names it. Native `createdAt` and Directus `timestamp` are two Fields
// over the same column.
struct Field {
  std::string name;    // the API name, used in error paths
  std::string column;  // the column's SQL identifier, safe to splice: a whitelisted constant or
                       // the output of quote_identifier on a catalog name
  ValueKind kind = ValueKind::kString;
  TypeRef type;           // the column's type (a kFlag field: the timestamp column under it)
  bool nullable = true;   // can the field's value be NULL? (a kFlag never is)
  bool sortable = false;  // may appear in an order (and so in a cursor)
  // kFlag only: JSON strings standing for false and true instead of booleans, e.g. Directus
  // status {"inbox", "archived"}. Empty: the flag takes JSON booleans.
  std::string false_label, true_label;

  // The SQL type of the field's value (a kFlag's value is boolean).
  SqlType value_type() const { return kind == ValueKind::kFlag ? SqlType::kBoolean : type.sql; }
};

// The fields of one dialect, by API name. Data-driven so that each dialect registers its names
// for the notification columns (see notification_column) without touching the compiler.
class FieldRegistry {
 public:
  // Adds a field over a column of inbox.notifications, taking type and nullability from the
  // column. `kind` overrides the column's natural kind (kFlag over read_at, kNumber over id).
  FieldRegistry &add(std::string name, std::string_view column, bool sortable,
                     std::optional<ValueKind> kind = std::nullopt);
  // Adds a fully described field (relation target columns).
  FieldRegistry &add(Field field);
  // Sets the labels of a kFlag field already added.
  FieldRegistry &labels(std::string_view name, std::string false_label, std::string true_label);

  const Field *find(std::string_view name) const;
  const std::vector<Field> &fields() const { return fields_; }
  // "createdAt, id, read, ..." for hints.
  std::string names(bool sortable_only = false) const;

 private:
  std::vector<Field> fields_;
};

// The columns of inbox.notifications the engine may read (those of the filterable fields of
// core/notification_fields.hpp), described as Fields named after the column itself, with their
// natural kind. nullptr for a column that is not there.
const Field *notification_column(std::string_view column);

// pg_inbox's own API names for the filterable fields of core/notification_fields.hpp, in its
// order: id (public id), userId, workspaceId, type, title, body, data, read, readAt, archived,
// archivedAt, deletedAt, actorId, collection, item, groupKey, createdAt, updatedAt.
const FieldRegistry &native_fields();

// ---------------------------------------------------------------------------------------------
// Relations
// ---------------------------------------------------------------------------------------------

// A relation from a notification column to the application's own table, as registered with
// inbox.define_relation and checked against the catalog when loaded (pg/relations.hpp).
struct Relation {
  std::string name;           // "actor"
  std::string field;          // native API field of the source: "actorId"
  std::string source_column;  // notification column: "actor_id" (whitelisted)
  std::string target;     // quoted, schema-qualified target table: public.users (also in messages)
  Field key;              // the target column joined to the source column
  FieldRegistry columns;  // target columns a filter may use, named as in the catalog
};

// Finds relations while a filter is parsed. The executor implements it over inbox.relations
// and the catalog; a relation whose table or column has been dropped raises 42P01 / 42703.
class RelationCatalog {
 public:
  virtual ~RelationCatalog() = default;
  virtual std::shared_ptr<const Relation> find(std::string_view name) const = 0;
  // The relations whose source is this notification column ("actor_id"), loaded and checked
  // (expand=actors). A catalog that only resolves names answers none.
  virtual std::vector<std::shared_ptr<const Relation>> for_column(
      std::string_view /*column*/) const {
    return {};
  }
  // Every relation's name, sorted, without loading them (for hints).
  virtual std::vector<std::string> names() const { return {}; }
};

// ---------------------------------------------------------------------------------------------
// Embedded related rows (expand=actor,actors,recipient)
// ---------------------------------------------------------------------------------------------

// One requested expansion: a relation's row embedded under `name`, or (kActors) the rows of
// the relation over actorId for each of the notification's actors, in their order.
struct Expansion {
  enum class Kind { kRelation, kActors };
  Kind kind = Kind::kRelation;
  std::string name;                          // the key under "expanded"
  std::shared_ptr<const Relation> relation;  // kActors: the relation over actorId
};

inline constexpr size_t kMaxExpansions = 16;

// ---------------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------------

enum class Op {
  kEq,
  kNeq,
  kIn,
  kNotIn,
  kLt,
  kLte,
  kGt,
  kGte,
  kContains,  // text: substring; json: @> containment (object/array value) or substring
  kStartsWith,
  kEndsWith,
  kIsNull,      // value: bool
  kHasKey,      // json: ? key
  kHasAnyKey,   // json: ?| keys
  kHasAllKeys,  // json: ?& keys
};

// One comparison: `field op values`. Semantics are two-valued: a row matches or it does not,
// and NOT matches exactly the rows its operand does not. In particular neq and notIn match rows
// whose value is NULL (use isNull to exclude them), and lt/gt/contains never match NULL.
struct Comparison {
  Field field;
  Op op = Op::kEq;
  std::vector<Scalar> values;     // one value; the list for in/notIn/hasAnyKey/hasAllKeys
  bool case_insensitive = false;  // string operators (eq, neq, in, notIn, contains, startsWith,
                                  // endsWith): compare ignoring case
  // kJson: compare the member at this path (text[] for #>) instead of the whole document.
  std::optional<std::vector<std::string>> json_path;
  // kJson with lt/lte/gt/gte/contains/startsWith/endsWith: the JSON type the member must have,
  // "number" or "string" (set by the parser from the value's own JSON type). For contains,
  // "string" means substring; empty means jsonb containment.
  std::string json_type;
  std::string path;  // where the comparison came from, for errors: filter.AND[1].createdAt.gte
};

struct Node {
  enum class Kind {
    kAnd,       // all children (no child: true)
    kOr,        // any child (no child: false)
    kNot,       // exactly one child
    kCompare,   // `comparison`
    kRelation,  // EXISTS a row of `relation` joined to this notification matching children[0]
  };
  Kind kind = Kind::kAnd;
  std::vector<Node> children;
  Comparison comparison;                     // kCompare
  std::shared_ptr<const Relation> relation;  // kRelation
  std::string path;

  static Node all() { return Node{}; }
  bool is_true() const { return kind == Kind::kAnd && children.empty(); }

  // The comparison `field op values`; `path` names it in errors. Values are already checked
  // for the field (query/filter_values.hpp).
  static Node compare(Field field, Op op, std::vector<Scalar> values, std::string path,
                      bool case_insensitive = false) {
    Node n;
    n.kind = Kind::kCompare;
    n.path = path;
    n.comparison.field = std::move(field);
    n.comparison.op = op;
    n.comparison.values = std::move(values);
    n.comparison.case_insensitive = case_insensitive;
    n.comparison.path = std::move(path);
    return n;
  }
  // `parts` joined by `kind` (kAnd or kOr); a single part stands for itself.
  static Node combine(Kind kind, std::vector<Node> parts, std::string path) {
    if (parts.size() == 1)
      return std::move(parts[0]);
    Node n;
    n.kind = kind;
    n.children = std::move(parts);
    n.path = std::move(path);
    return n;
  }
  // NOT child.
  static Node negate(Node child, std::string path) {
    Node n;
    n.kind = Kind::kNot;
    n.path = std::move(path);
    n.children.push_back(std::move(child));
    return n;
  }
  // This node AND `also` (the parsers' shorthands narrow a filter this way).
  void narrow(Node also) {
    if (is_true()) {
      *this = std::move(also);
      return;
    }
    std::vector<Node> both;
    both.push_back(std::move(*this));
    both.push_back(std::move(also));
    *this = combine(Kind::kAnd, std::move(both), "");
  }
};

// Bounds every dialect's parser applies (errors name the path).
inline constexpr int kMaxFilterDepth = 16;       // nested AND/OR/NOT/relation objects
inline constexpr int kMaxFilterClauses = 200;    // comparisons and relation traversals
inline constexpr size_t kMaxListValues = 1000;   // in/notIn/ids/hasAnyKey lists
inline constexpr size_t kMaxStringBytes = 8192;  // one string value
inline constexpr size_t kMaxJsonPathDepth = 32;  // data path elements

// ---------------------------------------------------------------------------------------------
// Order and paging
// ---------------------------------------------------------------------------------------------

enum class Direction { kAsc, kDesc };

struct OrderKey {
  Field field;  // sortable
  Direction direction = Direction::kDesc;
  bool nulls_first = true;  // ignored (normalised to the direction's default) on a NOT NULL key
};

// How the page is cut. Keyset (`after`/`before`, opaque cursors) and offset paging are both
// in the model; a front end uses one or the other.
struct Paging {
  std::optional<int64_t> limit = 100;  // nullopt: every row (Directus limit=-1)
  int64_t offset = 0;                  // rows to skip (offset paging; 0 with cursors)
  std::optional<std::string> after;    // cursor as received; decoded by the executor
  std::optional<std::string> before;
  std::string after_path = "after";  // names for error messages
  std::string before_path = "before";
};

// Which rows by their soft-delete state.
enum class DeletedMode { kActive, kWithDeleted, kOnlyDeleted };

// The notification row of table alias `alias` as one value of type inbox.notifications, for
// functions that take the whole row (inbox.to_json, inbox._actors, inbox.to_directus). Never
// the bare alias: on a Citus cluster the statement runs on a shard (inbox.notifications_102008
// n), where `n` has the shard's row type and no such function exists.
inline std::string notification_row(const std::string &alias) {
  return "ROW(" + alias + ".*)::inbox.notifications";
}

// What a row becomes in the result: an SQL expression over the notification row `n`, returning
// jsonb. The default is the API shape; the Directus front end supplies its own object.
struct RowShape {
  // `select` without the marks of issue 19 (a schema without them); `marked`, when set, names
  // the shape function taking the row, the user's read marks and seen marks
  // (query/marks.hpp: shape_sql), which the compiler passes as bound values.
  std::string select = "inbox.to_json(" + notification_row("n") + ")";
  std::string marked = "inbox._to_json";
};

// Issue 19: a user's marks and expired rows not purged yet, read once by the pg layer
// (query/marks.hpp: user_marks_statement) and bound into the statements as values, so that no
// statement reads inbox.marks for each row (on Citus a statement on the user's shard may not).
struct UserMarks {
  std::optional<std::string> read_before;  // the last read mark (timestamptz text)
  std::vector<std::string> read_marks;     // every read mark not settled yet, in order
  std::optional<std::string> seen;         // jsonb text: workspace key ('' whole inbox) -> mark
  // Expired rows not purged yet (in the query's workspace, if any), as the counters count them.
  int64_t expired_active = 0, expired_unread = 0, expired_deleted = 0;
};

struct Query {
  // Whose rows: one user's (every list of the API), or every user's (admin functions only).
  std::optional<std::string> user_id;
  DeletedMode deleted = DeletedMode::kActive;
  // Shorthands. Kept apart from `filter` because they map onto the counters (exact totals in
  // O(1)) and onto the partial indexes.
  std::optional<std::string> workspace_id;
  std::optional<bool> read;
  std::optional<std::string> type;
  std::optional<std::vector<int64_t>> ids;  // internal ids; narrows, never widens
  Node filter = Node::all();
  // The order as requested, without the id tiebreaker; empty means newest first. The compiler
  // completes it (query/order_keys.hpp: complete_order).
  std::vector<OrderKey> order;
  Paging paging;
  RowShape shape;
  // Related rows added to each row object under "expanded" (query/row_expand.hpp); empty: none.
  std::vector<Expansion> expand;
  bool want_total = true;
  // Groups only (Mastodon's grouped_types[]): the types whose rows group by their groupKey;
  // a row of any other type is a group of its own. Unset: every type groups.
  std::optional<std::vector<std::string>> grouped_types;
  // Issue 19: the user's marks, read by the pg layer before compiling (pg/list_executor.hpp:
  // read_marks). Without them (every user's rows) the statements look them up for each row.
  std::optional<UserMarks> marks;
};

}  // namespace pgi::query
