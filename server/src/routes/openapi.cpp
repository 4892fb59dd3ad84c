#include "openapi.hpp"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "core/notification_fields.hpp"

namespace pgi::server {

namespace {

// Insertion order kept, so the document reads in the order it is written here.
using Json = nlohmann::ordered_json;

Json ref(const char *section, const std::string &name) {
  return {{"$ref", std::string("#/components/") + section + "/" + name}};
}

Json json_content(Json schema) {
  return {{"application/json", {{"schema", std::move(schema)}}}};
}

Json response(const char *description, Json schema) {
  return {{"description", description}, {"content", json_content(std::move(schema))}};
}

Json string_enum(std::initializer_list<const char *> values) {
  Json out = {{"type", "string"}, {"enum", Json::array()}};
  for (const char *v : values)
    out["enum"].push_back(v);
  return out;
}

Json nullable(const char *type) {
  return {{"type", {type, "null"}}};
}

Json bounded_text(bool is_nullable, int max, int min = 1) {
  Json out = is_nullable ? nullable("string") : Json{{"type", "string"}};
  if (min > 0)
    out["minLength"] = min;
  out["maxLength"] = max;
  return out;
}

Json object_of(Json required, Json properties) {
  return {
      {"type", "object"}, {"required", std::move(required)}, {"properties", std::move(properties)}};
}

Json array_of(Json items) {
  return {{"type", "array"}, {"items", std::move(items)}};
}

Json query_param(const char *name, const char *description, Json schema) {
  return {{"name", name},
          {"in", "query"},
          {"required", false},
          {"description", description},
          {"schema", std::move(schema)}};
}

// A Rails-style list parameter (name[]=a&name[]=b), which the server folds into one array.
Json list_param(const char *name, const char *description) {
  Json p = query_param(name, description, array_of({{"type", "string"}}));
  p["style"] = "form";
  p["explode"] = true;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Components
// ---------------------------------------------------------------------------------------------

Json parameters() {
  const Json text = {{"type", "string"}};
  const Json flag = string_enum({"true", "false"});
  return {
      {"id",
       {{"name", "id"},
        {"in", "path"},
        {"required", true},
        {"description", "The notification's public id (ntf_...)."},
        {"schema", text}}},
      {"limit", query_param("limit", "Page size, 1 to 100 (default 100).",
                            {{"type", "string"}, {"pattern", "^[0-9]+$"}})},
      {"after",
       query_param("after", "Keyset cursor: the page after this row (pageInfo.endCursor).", text)},
      {"before",
       query_param("before", "Keyset cursor: the page before this row (pageInfo.startCursor).",
                   text)},
      {"ids", query_param("ids",
                          "Comma-separated public ids; narrows the result within the caller's "
                          "scope.",
                          text)},
      {"filter", query_param("filter",
                             "JSON-encoded filter: AND/OR/NOT and per-field operators (eq, neq, "
                             "in, notIn, lt, lte, gt, gte, contains, startsWith, endsWith, isNull, "
                             "...).",
                             text)},
      {"orderBy", query_param("orderBy",
                              "JSON-encoded array of {field: direction}; asc, desc, "
                              "asc_nulls_first, asc_nulls_last, desc_nulls_first, "
                              "desc_nulls_last.",
                              text)},
      {"workspaceId",
       query_param("workspace_id", "Only this workspace.", {{"type", "string"}, {"minLength", 1}})},
      {"read", query_param("read", "Only read (true) or unread (false) notifications.", flag)},
      {"includeDeleted",
       query_param("include_deleted",
                   "false (default): active only; true: active and soft-deleted; only: the trash.",
                   string_enum({"false", "true", "only"}))},
      {"userId", query_param("user_id",
                             "The user whose notifications to act on: only an admin token may "
                             "name another user.",
                             text)},
      {"type", query_param("type", "Only notifications of this type.", text)},
      {"total", query_param("total",
                            "false: pageInfo.total is null and not computed (a filtered count over "
                            "a large inbox costs more than its page). Default true.",
                            flag)},
      {"types", list_param("types[]",
                           "Only these types (Mastodon's types[]); repeat the parameter, or give "
                           "types=a,b.")},
      {"excludeTypes", list_param("exclude_types[]",
                                  "Not these types (Mastodon's exclude_types[]); repeat the "
                                  "parameter, or give exclude_types=a,b.")},
      {"expand", list_param("expand[]",
                            "Related rows to embed under \"expanded\": registered relation names "
                            "(actor, recipient, ...) and actors (the row of each actor); repeat "
                            "the parameter, or give expand=actor,actors.")},
      {"onlyUnread",
       query_param("only_unread", "true: unread only (Diaspora's only_unread), as read=false.",
                   flag)},
      {"onlyAfter", query_param("only_after",
                                "Only notifications changed (updatedAt) after this ISO-8601 time "
                                "(Diaspora's only_after).",
                                text)},
  };
}

// A field's value as a create or update gives it (the CHECK constraints' bounds).
Json input_schema(const NotificationField &f) {
  Json out = f.not_null ? Json{{"type", json_type_name(f.json)}} : nullable(json_type_name(f.json));
  if (f.input.min_length > 0)
    out["minLength"] = f.input.min_length;
  if (f.input.max_length >= 0)
    out["maxLength"] = f.input.max_length;
  if (!f.input.pattern.empty())
    out["pattern"] = f.input.pattern;
  if (!f.input.default_json.empty())
    out["default"] = Json::parse(f.input.default_json);
  return out;
}

// The recipient of a create: userId (its schema also types the userIds of a fan-out).
const NotificationField &recipient() {
  return *find_notification_field("userId");
}

// What a create sets, shared by one notification and a fan-out's template: the fields a create
// may give (but the recipient), then the aggregate option.
Json notification_content() {
  Json out = Json::object();
  for (const NotificationField &f : notification_fields()) {
    if (f.on_create && &f != &recipient())
      out[std::string(f.name)] = input_schema(f);
  }
  out["aggregate"] = {
      {"type", "boolean"},
      {"description",
       "true: for a recipient with an unread notification of the same groupKey, add actorId to "
       "it instead of creating one (default: the type's setting)."}};
  return out;
}

Json new_notification(const char *recipients, Json recipients_schema) {
  Json properties = {{recipients, std::move(recipients_schema)}};
  properties.update(notification_content());
  return {{"type", "object"},
          {"additionalProperties", false},
          {"required", {recipients}},
          {"properties", std::move(properties)}};
}

// A field's value in the API shape.
Json output_schema(const NotificationField &f) {
  Json out =
      f.nullable() ? nullable(json_type_name(f.json)) : Json{{"type", json_type_name(f.json)}};
  if (f.type == ColumnType::kTimestamptz && f.json == JsonType::kString)
    out["format"] = "date-time";
  if (f.doc.max_items >= 0)
    out["maxItems"] = f.doc.max_items;
  if (f.type == ColumnType::kTextArray)
    out["items"] = {{"type", "string"}};
  if (f.doc.minimum >= 0)
    out["minimum"] = f.doc.minimum;
  if (!f.doc.pattern.empty())
    out["pattern"] = f.doc.pattern;
  if (!f.doc.examples.empty()) {
    Json examples = Json::array();
    std::string_view rest = f.doc.examples;
    for (size_t bar; (bar = rest.find('|')) != std::string_view::npos; rest.remove_prefix(bar + 1))
      examples.push_back(rest.substr(0, bar));
    examples.push_back(rest);
    out["examples"] = std::move(examples);
  }
  if (!f.doc.description.empty())
    out["description"] = f.doc.description;
  return out;
}

// The Notification schema: every field in the order of the API shape, then what expand adds.
Json notification_schema() {
  Json required = Json::array(), properties = Json::object();
  for (const NotificationField &f : notification_fields()) {
    if (f.doc.required)
      required.push_back(f.name);
    properties[std::string(f.name)] = output_schema(f);
  }
  properties[std::string(kExpandedKey)] = {
      {"type", "object"},
      {"description",
       "Only with expand: one member per requested name, the related row (an object of the "
       "relation's allowed columns, or null), and for actors an array of rows."},
      {"additionalProperties", {{"type", {"object", "array", "null"}}}}};
  return object_of(std::move(required), std::move(properties));
}

Json schemas() {
  const Json time = {{"type", "string"}, {"format", "date-time"}};
  const Json page_info =
      object_of({"total", "hasNextPage", "hasPreviousPage", "startCursor", "endCursor"},
                {{"total", {{"type", {"integer", "null"}}, {"minimum", 0}}},
                 {"hasNextPage", {{"type", "boolean"}}},
                 {"hasPreviousPage", {{"type", "boolean"}}},
                 {"startCursor", nullable("string")},
                 {"endCursor", nullable("string")}});
  auto page_of = [](const char *item) {
    return object_of({"data", "pageInfo"}, {{"data", array_of(ref("schemas", item))},
                                            {"pageInfo", ref("schemas", "PageInfo")}});
  };
  Json notification = notification_schema();
  notification.emplace("description", "A notification in the API shape (inbox.to_json).");
  Json group = object_of(
      {"groupKey", "notificationsCount", "unreadCount", "type", "latestAt",
       "mostRecentNotificationId", "sampleActorIds"},
      {{"groupKey", {{"type", "string"}}},
       {"notificationsCount", {{"type", "integer"}, {"minimum", 1}}},
       {"unreadCount", {{"type", "integer"}, {"minimum", 0}}},
       {"type",
        {{"type", "string"}, {"description", "The type of the group's most recent notification."}}},
       {"latestAt", time},
       {"mostRecentNotificationId", {{"type", "string"}}},
       {"sampleActorIds",
        {{"type", "array"},
         {"maxItems", 8},
         {"items", {{"type", "string"}}},
         {"description", "Up to 8 distinct actors, most recent first."}}}});
  group.emplace("description",
                "Every notification of the user with one groupKey; a notification without one is "
                "a group of its own, named ungrouped-<its id> (Mastodon's grouped "
                "notifications).");
  const Json error_codes =
      "snake_case: bad_request, invalid_parameter, null_value, check_violation, invalid_input, "
      "invalid_text, limit_exceeded, unauthorized, forbidden, not_found, method_not_allowed, "
      "conflict, wrong_state, payload_too_large, length_required, uri_too_long, "
      "unsupported_media_type, too_many_headers, internal_error, database_unavailable, "
      "database_not_ready, pool_exhausted, timeout, retry.";
  return {
      {"Notification", std::move(notification)},
      {"NotificationArray",
       object_of({"data"}, {{"data", array_of(ref("schemas", "Notification"))}})},
      {"NotificationPage", page_of("Notification")},
      {"PageInfo", page_info},
      {"NewNotification", new_notification("userId", input_schema(recipient()))},
      {"FanOut", new_notification("userIds", {{"type", "array"},
                                              {"minItems", 1},
                                              {"uniqueItems", true},
                                              {"items", input_schema(recipient())}})},
      {"NotificationGroup", std::move(group)},
      {"NotificationGroupPage", page_of("NotificationGroup")},
      {"NotificationType",
       object_of({"name", "description", "aggregate", "builtin"},
                 {{"name", {{"type", "string"}}},
                  {"description", {{"type", "string"}}},
                  {"aggregate",
                   {{"type", "boolean"},
                    {"description",
                     "Creates of this type add their actor to an unread notification with the "
                     "same groupKey."}}},
                  {"builtin", {{"type", "boolean"}}}})},
      {"Success", object_of({"success"}, {{"success", {{"type", "boolean"}}}})},
      {"Error",
       object_of({"error"},
                 {{"error", object_of({"code", "message"},
                                      {{"code", {{"type", "string"}, {"description", error_codes}}},
                                       {"message", {{"type", "string"}}},
                                       {"detail", {{"type", "string"}}},
                                       {"hint", {{"type", "string"}}}})}})},
      {"GraphQLResponse",
       {{"type", "object"},
        {"properties",
         {{"data", nullable("object")},
          {"errors", array_of(object_of({"message"}, {{"message", {{"type", "string"}}},
                                                      {"locations", {{"type", "array"}}},
                                                      {"path", {{"type", "array"}}},
                                                      {"extensions", {{"type", "object"}}}}))}}}}},
  };
}

Json responses() {
  auto error = [](const char *description) {
    return response(description, ref("schemas", "Error"));
  };
  return {
      {"BadRequest", error("Bad input: a query parameter, filter, orderBy, cursor or body (code "
                           "invalid_parameter, null_value, check_violation, invalid_input, ...).")},
      {"Unauthorized", error("Missing, unknown, expired or revoked token.")},
      {"Forbidden", error("The token lacks the scope, or names another user or workspace.")},
      {"NotFound",
       error("No such notification for this caller (another user's id answers the same).")},
      {"Conflict", error("Wrong state (restore of an active notification, purge of an active "
                         "one) or an Idempotency-Key reused with another body.")},
      {"TooLarge", error("The body is larger than the server's limit.")},
      {"UnsupportedMediaType", error("The body is not application/json.")},
      {"MethodNotAllowed", error("The path exists but not with this method (see Allow).")},
      {"Unavailable", error("The database is unreachable, too slow (statement timeout) or every "
                            "connection is busy; retry.")},
  };
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

// A REST route: bearer auth, its parameters (names in components/parameters, or inline
// objects), its success, and the errors every such route answers plus its own.
struct ApiOperation {
  const char *id;
  const char *summary;
  const char *description;
  std::vector<Json> parameters;
  std::string status;
  Json success;
  std::vector<const char *> more_errors;  // beyond 400, 401, 403, 503
  Json body = nullptr;
};

Json param_ref(const char *name) {
  return ref("parameters", name);
}

Json api_operation(ApiOperation op) {
  Json out = {{"operationId", op.id},
              {"summary", op.summary},
              {"tags", {"notifications"}},
              {"security", {{{"bearerAuth", Json::array()}}}},
              {"description", op.description}};
  if (!op.parameters.empty())
    out["parameters"] = std::move(op.parameters);
  if (!op.body.is_null())
    out["requestBody"] = {{"required", true}, {"content", json_content(std::move(op.body))}};
  Json responses = {{op.status, std::move(op.success)}};
  const std::pair<const char *, const char *> common[] = {
      {"400", "BadRequest"}, {"401", "Unauthorized"}, {"403", "Forbidden"}, {"503", "Unavailable"}};
  for (const auto &[status, name] : common)
    responses[status] = ref("responses", name);
  const std::pair<const char *, const char *> others[] = {{"404", "NotFound"},
                                                          {"409", "Conflict"},
                                                          {"413", "TooLarge"},
                                                          {"415", "UnsupportedMediaType"}};
  for (const char *status : op.more_errors)
    for (const auto &[code, name] : others)
      if (std::string(status) == code)
        responses[status] = ref("responses", name);
  out["responses"] = std::move(responses);
  return out;
}

std::vector<Json> param_refs(std::initializer_list<const char *> names) {
  std::vector<Json> out;
  for (const char *n : names)
    out.push_back(param_ref(n));
  return out;
}

// The filters a notification listing and a group listing share.
// The parameters of a notification listing (`rows`) and a group listing: the same filters, and
// for the rows also their order and embedded related rows.
std::vector<Json> listing_params(bool rows) {
  std::vector<Json> out = param_refs({"limit", "after", "before", "ids", "filter"});
  if (rows)
    out.push_back(param_ref("orderBy"));
  for (Json &p : param_refs({"workspaceId", "read", "includeDeleted", "userId", "type", "total",
                             "types", "excludeTypes", "onlyUnread", "onlyAfter"}))
    out.push_back(std::move(p));
  if (rows)
    out.push_back(param_ref("expand"));
  return out;
}

Json notification_paths() {
  const Json notification = ref("schemas", "Notification");
  const Json success = ref("schemas", "Success");
  const Json scope_write = "Scope: notifications:write.";
  const Json id_path = Json::array({param_ref("id")});
  auto change = [&](const char *id, const char *summary, const char *result, Json schema,
                    std::vector<const char *> errors) {
    return api_operation({id, summary, "Scope: notifications:write.", param_refs({"userId"}), "200",
                          response(result, std::move(schema)), std::move(errors)});
  };
  Json create_body = {
      {"oneOf",
       {ref("schemas", "NewNotification"),
        {{"type", "array"}, {"minItems", 1}, {"items", ref("schemas", "NewNotification")}},
        ref("schemas", "FanOut")}}};
  Json idempotency_key = {{"name", "Idempotency-Key"},
                          {"in", "header"},
                          {"required", false},
                          {"description",
                           "Makes a retried create return the first response instead of creating "
                           "again; the same key with another body is 409."},
                          {"schema", bounded_text(false, 255)}};
  return {
      {"/api/notifications",
       {{"get", api_operation({"listNotifications",
                               "List notifications",
                               "Keyset-paginated, filtered and ordered by the query engine "
                               "(inbox.list). An admin token without user_id lists every user's "
                               "notifications. Scope: notifications:read.",
                               listing_params(true),
                               "200",
                               response("One page of notifications and its pageInfo.",
                                        ref("schemas", "NotificationPage")),
                               {}})},
        {"post",
         [&] {
           Json created = {{"oneOf", {notification, ref("schemas", "NotificationArray")}}};
           Json op = api_operation(
               {"createNotifications",
                "Create notifications",
                "Scope: notifications:send.",
                {idempotency_key},
                "201",
                response("Created: the notification (one object in) or "
                         "{\"data\": [...]} (an array, or a fan-out with userIds); recipients "
                         "with in_app off are named in \"skipped\".",
                         created),
                {"409", "413", "415"},
                create_body});
           op["responses"]["200"] = response(
               "Nothing was stored: every recipient had in_app off for the type. The same body: "
               "{\"userId\", \"skipped\": \"in_app\"} (one object in) or "
               "{\"data\": [], \"skipped\": [...]}.",
               created);
           return op;
         }()}}},
      {"/api/notifications/unread-count",
       {{"get",
         api_operation(
             {"unreadCount",
              "Get unread count",
              "Scope: notifications:read.",
              param_refs({"workspaceId", "userId"}),
              "200",
              response("Unread, not deleted, not expired notifications of the caller (count), and "
                       "those not seen yet (unseen).",
                       object_of({"count", "unseen"},
                                 {{"count", {{"type", "integer"}, {"minimum", 0}}},
                                  {"unseen", {{"type", "integer"}, {"minimum", 0}}}})),
              {}})}}},
      {"/api/notifications/read-all",
       {{"put",
         api_operation({"markAllRead",
                        "Mark all notifications as read",
                        "Scope: notifications:write.",
                        param_refs({"workspaceId", "userId"}),
                        "200",
                        response("How many changed.",
                                 object_of({"ok", "updated"},
                                           {{"ok", {{"type", "boolean"}}},
                                            {"updated", {{"type", "integer"}, {"minimum", 0}}}})),
                        {}})}}},
      {"/api/notifications/seen",
       {{"put",
         api_operation(
             {"markAllSeen",
              "Mark all notifications as seen",
              "Scope: notifications:write. Everything created up to now, in constant "
              "time; the unseen count drops to 0.",
              param_refs({"workspaceId", "userId"}),
              "200",
              response("The time of the mark.",
                       object_of({"ok", "seenAt"},
                                 {{"ok", {{"type", "boolean"}}},
                                  {"seenAt", {{"type", "string"}, {"format", "date-time"}}}})),
              {}})}}},
      {"/api/notifications/groups",
       {{"get",
         api_operation({"listNotificationGroups",
                        "List notification groups",
                        "Groups newest activity first with keyset cursors (inbox.groups). Without "
                        "filters a page is read from the group summaries the triggers keep; with "
                        "any filter the matching notifications are grouped, and the counts "
                        "describe those only. Scope: notifications:read.",
                        listing_params(false),
                        "200",
                        response("One page of groups and its pageInfo.",
                                 ref("schemas", "NotificationGroupPage")),
                        {}})}}},
      {"/api/notification-types",
       {{"get",
         api_operation(
             {"listNotificationTypes",
              "List notification types",
              "The registered types (inbox.register_type) and whether creates of "
              "other types are accepted or rejected (the "
              "pg_inbox.unregistered_types setting). Scope: notifications:read.",
              {},
              "200",
              response("The registry.",
                       object_of({"data", "unregisteredTypes"},
                                 {{"data", array_of(ref("schemas", "NotificationType"))},
                                  {"unregisteredTypes", string_enum({"accept", "reject"})}})),
              {}})}}},
      {"/api/notifications/{id}",
       {{"parameters", id_path},
        {"get", api_operation(
                    {"getNotification",
                     "Get a notification by ID",
                     "Scope: notifications:read (and notifications:write with markRead=true).",
                     {query_param("include_deleted", "true also finds a soft-deleted notification.",
                                  string_enum({"true", "false"})),
                      query_param("markRead", "true marks it read in the same call.",
                                  string_enum({"true", "false"})),
                      param_ref("userId")},
                     "200",
                     response("The notification.", notification),
                     {"404", "409"}})},
        {"patch", api_operation({"patchNotification",
                                 "Change read and archived states",
                                 "Scope: notifications:write.",
                                 param_refs({"userId"}),
                                 "200",
                                 response("The notification after the change.", notification),
                                 {"404", "413", "415"},
                                 {{"type", "object"},
                                  {"additionalProperties", false},
                                  {"minProperties", 1},
                                  {"properties",
                                   {{"read", {{"type", "boolean"}}},
                                    {"archived", {{"type", "boolean"}}}}}}})},
        {"delete", change("softDeleteNotification", "Soft-delete a notification",
                          "Soft-deleted: it leaves every default view and can be restored or "
                          "purged.",
                          success, {"404"})}}},
      {"/api/notifications/{id}/read",
       {{"parameters", id_path},
        {"put",
         change("markRead", "Mark notification as read",
                "The notification (a read one keeps its first readAt).", notification, {"404"})}}},
      {"/api/notifications/{id}/unread",
       {{"parameters", id_path},
        {"put", change("markUnread", "Mark notification as unread", "The notification.",
                       notification, {"404"})}}},
      {"/api/notifications/{id}/restore",
       {{"parameters", id_path},
        {"post", change("restoreNotification", "Restore a soft-deleted notification",
                        "The restored notification.", notification, {"404", "409"})}}},
      {"/api/notifications/{id}/purge",
       {{"parameters", id_path},
        {"delete", change("purgeNotification", "Permanently delete a soft-deleted notification",
                          "Gone for good.", success, {"404", "409"})}}},
  };
}

Json graphql_path() {
  const Json answer = ref("schemas", "GraphQLResponse");
  const char *transport =
      "A transport error in GraphQL's shape: {\"errors\": [{\"message\", \"extensions\": "
      "{\"code\"}}]} (INVALID_CREDENTIALS, INVALID_PAYLOAD, UNSUPPORTED_MEDIA_TYPE, "
      "CONTENT_TOO_LARGE, SERVICE_UNAVAILABLE).";
  auto operation = [&](const char *id, const char *summary, const char *last_status,
                       const char *last_description) {
    Json responses = {
        {"200", response("The GraphQL response; it carries \"data\" (and \"errors\" for field "
                         "errors).",
                         answer)},
        {"400", response("A request error (a document that does not parse or validate, a bad "
                         "body): the GraphQL response without \"data\".",
                         answer)}};
    for (const char *status : {"401", "415", "503"})
      responses[status] = response(transport, answer);
    responses[last_status] = response(last_description, answer);
    return Json{
        {"operationId", id},
        {"summary", summary},
        {"tags", {"graphql"}},
        {"security",
         {{{"bearerAuth", Json::array()}}, {{"accessToken", Json::array()}}, Json::object()}},
        {"responses", std::move(responses)}};
  };
  Json post =
      operation("graphqlPost", "Run a GraphQL request (Directus's system schema, notifications)",
                "413", transport);
  post["description"] =
      "Forwarded to inbox.graphql(). Without a token the request runs as the public role (the "
      "schema, no notifications).";
  post["requestBody"] = {
      {"required", true},
      {"content", json_content(object_of({"query"}, {{"query", {{"type", "string"}}},
                                                     {"variables", nullable("object")},
                                                     {"operationName", nullable("string")}}))}};
  Json get = operation("graphqlGet", "Run a GraphQL request given in the query string", "405",
                       "A mutation sent with GET (GraphQL's error shape, code "
                       "METHOD_NOT_ALLOWED); send it with POST.");
  get["parameters"] = {
      {{"name", "query"}, {"in", "query"}, {"required", true}, {"schema", {{"type", "string"}}}},
      query_param("variables", "JSON-encoded object.", {{"type", "string"}}),
      {{"name", "operationName"},
       {"in", "query"},
       {"required", false},
       {"schema", {{"type", "string"}}}}};
  get["description"] = "Queries only: a mutation sent with GET answers 405.";
  return {{"post", std::move(post)}, {"get", std::move(get)}};
}

Json operational_paths() {
  auto operation = [](const char *id, const char *summary, Json success) {
    return Json{{"get",
                 {{"operationId", id},
                  {"summary", summary},
                  {"tags", {"operations"}},
                  {"responses", {{"200", std::move(success)}}}}}};
  };
  auto status = [](const char *value) {
    return Json{{"type", "object"}, {"properties", {{"status", {{"const", value}}}}}};
  };
  Json ready = operation("readyz", "The database is reachable and has pg_inbox",
                         response("Ready.", status("ready")));
  ready["get"]["responses"]["503"] = ref("responses", "Unavailable");
  Json metrics = operation("metrics", "Prometheus metrics",
                           {{"description", "Prometheus text format 0.0.4."},
                            {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}});
  metrics["get"]["description"] =
      "Requests by route and status, latency histograms by route, pool gauges.";
  return {
      {"/healthz", operation("healthz", "The process is alive", response("Alive.", status("ok")))},
      {"/readyz", std::move(ready)},
      {"/metrics", std::move(metrics)},
      {"/openapi.json", operation("openapi", "This document",
                                  response("The OpenAPI 3.1 document.", {{"type", "object"}}))},
  };
}

// Delivery (55_delivery.sql): preferences, webhook endpoints and their log, unsubscribe links.
Json delivery_paths() {
  const Json object = {{"type", "object"}};
  auto path_param = [](const char *name, const char *description) {
    return Json{{"name", name},
                {"in", "path"},
                {"required", true},
                {"description", description},
                {"schema", {{"type", "string"}}}};
  };
  Json preference =
      object_of({"type", "channel", "enabled"}, {{"type", {{"type", "string"}}},
                                                 {"channel", string_enum({"in_app", "email"})},
                                                 {"enabled", {{"type", {"boolean", "null"}}}}});
  Json webhook_body = object_of(
      {"url", "events"}, {{"url", {{"type", "string"}, {"maxLength", 2048}}},
                          {"events", array_of({{"type", "string"}})},
                          {"types", array_of({{"type", "string"}})},
                          {"workspaceId", {{"type", {"string", "null"}}}},
                          {"userId", {{"type", {"string", "null"}}}},
                          {"secret", {{"type", {"string", "null"}}, {"pattern", "^whsec_"}}}});
  Json unsubscribe_page = {
      {"operationId", "unsubscribePage"},
      {"summary", "The page of an e-mail's unsubscribe link (changes nothing)"},
      {"tags", {"notifications"}},
      {"parameters", {path_param("token", "The token of the link.")}},
      {"responses",
       {{"200",
         {{"description", "An HTML page with the button that unsubscribes."},
          {"content", {{"text/html", {{"schema", {{"type", "string"}}}}}}}}},
        {"404", ref("responses", "NotFound")}}}};
  Json unsubscribe = {
      {"operationId", "unsubscribe"},
      {"summary", "Turns that type's e-mail off for that person (RFC 8058 one-click)"},
      {"tags", {"notifications"}},
      {"parameters", {path_param("token", "The token of the link.")}},
      {"responses",
       {{"200", response("Unsubscribed.", object)},
        {"400", ref("responses", "BadRequest")},
        {"404", ref("responses", "NotFound")}}}};
  return {
      {"/api/preferences",
       {{"get", api_operation({"getPreferences",
                               "The caller's delivery preferences",
                               "Per registered type, whether in_app and email are on. Scope: "
                               "notifications:read.",
                               param_refs({"userId"}),
                               "200",
                               response("The preferences.", object),
                               {}})},
        {"put", api_operation({"setPreferences",
                               "Turn channels on or off per type",
                               "One preference or an array of them (type * is every type; "
                               "enabled null forgets the choice). Scope: notifications:write.",
                               param_refs({"userId"}),
                               "200",
                               response("The preferences.", object),
                               {},
                               {{"oneOf", {preference, array_of(preference)}}}})}}},
      {"/api/webhooks",
       {{"get", api_operation({"listWebhooks",
                               "The webhook endpoints",
                               "Scope: admin.",
                               {},
                               "200",
                               response("The endpoints, without secrets.", object),
                               {}})},
        {"post", api_operation({"createWebhook",
                                "Register a webhook endpoint",
                                "Standard Webhooks 1.0. The answer carries the signing secret, "
                                "once. Scope: admin.",
                                {},
                                "201",
                                response("The endpoint and its secret.", object),
                                {},
                                webhook_body})}}},
      {"/api/webhooks/{id}",
       {{"parameters", {path_param("id", "The endpoint (wh_...).")}},
        {"delete", api_operation({"deleteWebhook",
                                  "Remove a webhook endpoint",
                                  "Scope: admin.",
                                  {},
                                  "200",
                                  response("Removed.", ref("schemas", "Success")),
                                  {"404"}})}}},
      {"/api/webhooks/{id}/deliveries",
       {{"parameters", {path_param("id", "The endpoint (wh_...).")}},
        {"get", api_operation({"listWebhookDeliveries",
                               "The newest deliveries of an endpoint and their attempts",
                               "Scope: admin.",
                               {query_param("limit", "At most this many (1 to 1000, default 50).",
                                            {{"type", "string"}})},
                               "200",
                               response("The deliveries.", object),
                               {"404"}})}}},
      {"/api/webhooks/{id}/deliveries/{delivery}/retry",
       {{"parameters",
         {path_param("id", "The endpoint (wh_...)."),
          path_param("delivery", "The delivery (msg_...).")}},
        {"post", api_operation({"retryWebhookDelivery",
                                "Send a finished delivery once more",
                                "Same id, now. Scope: admin.",
                                {},
                                "200",
                                response("The delivery.", object),
                                {"404", "409"}})}}},
      {"/api/unsubscribe/{token}",
       {{"get", std::move(unsubscribe_page)}, {"post", std::move(unsubscribe)}}},
  };
}

// The realtime routes (server/src/realtime/): their bodies are streams, described in words.
Json realtime_paths() {
  Json stream = {
      {"operationId", "streamNotifications"},
      {"summary", "The caller's change feed as server-sent events"},
      {"tags", {"notifications"}},
      {"description",
       "text/event-stream (Cache-Control: no-store, X-Accel-Buffering: no). It starts with "
       "`retry: 2000`, sends a `: ping` comment every 15 s (--stream-ping-ms), and each event as "
       "`id: <the user's event id>`, `event: <name>`, `data: <JSON>`: notification.created, "
       ".updated, .deleted, .restored (data: the notification as the list returns it, as it is "
       "when sent), .purged (data {\"id\"}), notification.read_all and notification.bulk "
       "(summaries of a statement that changed many rows: refetch), unread_count (data "
       "{\"count\"}, no id, at most one per batch) and reset (the resume point is older than the "
       "feed keeps or unknown: refetch; its id is the head the stream goes on from). A reconnect "
       "with Last-Event-ID (header) or last_event_id gets every event after it once, in order, "
       "then the live ones. Scope notifications:read; the token may come as ?access_token= "
       "(EventSource cannot send headers). Beyond --max-streams: 503 with Retry-After."},
      {"security", {{{"bearerAuth", Json::array()}}, {{"accessToken", Json::array()}}}},
      {"parameters",
       {query_param("workspace_id", "Only this workspace's events.", {{"type", "string"}}),
        query_param("user_id", "Admin tokens: whose feed.", {{"type", "string"}}),
        query_param("last_event_id", "Resume after this event id (as the Last-Event-ID header).",
                    {{"type", "string"}, {"pattern", "^[0-9]{1,18}$"}}),
        {{"name", "Last-Event-ID"},
         {"in", "header"},
         {"required", false},
         {"schema", {{"type", "string"}, {"pattern", "^[0-9]{1,18}$"}}}}}},
      {"responses",
       {{"200",
         {{"description", "The event stream."},
          {"content", {{"text/event-stream", {{"schema", {{"type", "string"}}}}}}}}},
        {"400", ref("responses", "BadRequest")},
        {"401", ref("responses", "Unauthorized")},
        {"403", ref("responses", "Forbidden")},
        {"503", ref("responses", "Unavailable")}}}};
  Json websocket = {
      {"operationId", "directusWebsocket"},
      {"summary", "Directus 11's realtime WebSocket, for directus_notifications"},
      {"tags", {"directus"}},
      {"description",
       "A WebSocket upgrade (a GET without one is 400). Messages: auth (within 10 s, or "
       "?access_token= at the upgrade: an invalid one is 401), subscribe (collection "
       "directus_notifications, event, query with fields and filter, item, uid) answered by an "
       "init frame, then create/update/delete frames whose data is read as GET /notifications "
       "shapes it; unsubscribe; ping/pong and a heartbeat every 30 s. Errors are frames "
       "{\"type\", \"status\": \"error\", \"error\": {\"code\", \"message\"}}."},
      {"responses",
       {{"101", {{"description", "Switching Protocols: the WebSocket."}}},
        {"400", {{"description", "Not a WebSocket upgrade."}}},
        {"401", {{"description", "An invalid ?access_token=."}}},
        {"503", {{"description", "Beyond --max-streams."}}}}}};
  return {{"/api/notifications/stream", {{"get", std::move(stream)}}},
          {"/websocket", {{"get", std::move(websocket)}}}};
}

Json document() {
  Json paths = notification_paths();
  paths.update(delivery_paths());
  paths.update(realtime_paths());
  paths["/graphql/system"] = graphql_path();
  paths.update(operational_paths());
  return {
      {"openapi", "3.1.0"},
      {"info",
       {{"title", "pg_inbox REST API"},
        {"version", "0.1.0"},
        {"description",
         "Per-user in-app notifications stored in PostgreSQL by the pg_inbox extension. Every "
         "/api/ route needs Authorization: Bearer <token> (inbox.create_token). Errors are "
         "{\"error\": {\"code\", \"message\"}}. An admin token acts for another user with the "
         "user_id query parameter; a token bound to a workspace sees only that workspace."}}},
      {"tags", {{{"name", "notifications"}}, {{"name", "operations"}}, {{"name", "graphql"}}}},
      {"paths", std::move(paths)},
      {"components",
       {{"securitySchemes",
         {{"bearerAuth",
           {{"type", "http"},
            {"scheme", "bearer"},
            {"description",
             "A token from inbox.create_token(user_id, scopes, workspace_id, expires_at)."}}},
          {"accessToken",
           {{"type", "apiKey"},
            {"in", "query"},
            {"name", "access_token"},
            {"description",
             "The bearer token given as ?access_token= (Directus and GraphQL routes)."}}}}},
        {"parameters", parameters()},
        {"schemas", schemas()},
        {"responses", responses()}}},
  };
}

}  // namespace

// Built beside routes.cpp: a route added there is added here (tests/http checks that every
// route the server answers is described, and that the document is valid OpenAPI 3.1).
const std::string &openapi_document() {
  static const std::string *const text = new std::string(document().dump());
  return *text;
}

}  // namespace pgi::server
