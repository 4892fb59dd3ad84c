#include "openapi.hpp"

namespace pgi::server {

// Kept by hand beside routes.cpp: a route added there is added here (tests/http checks that
// every route the server answers is described).
const std::string &openapi_document() {
  static const std::string *const document = new std::string(R"json({
 "openapi": "3.1.0",
 "info": {
  "title": "pg_inbox REST API",
  "version": "0.1.0",
  "description": "Per-user in-app notifications stored in PostgreSQL by the pg_inbox extension. Every /api/ route needs Authorization: Bearer <token> (inbox.create_token). Errors are {\"error\": {\"code\", \"message\"}}. An admin token acts for another user with the user_id query parameter; a token bound to a workspace sees only that workspace."
 },
 "tags": [
  {
   "name": "notifications"
  },
  {
   "name": "operations"
  },
  {
   "name": "graphql"
  }
 ],
 "paths": {
  "/api/notifications": {
   "get": {
    "operationId": "listNotifications",
    "summary": "List notifications",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "Keyset-paginated, filtered and ordered by the query engine (inbox.list). An admin token without user_id lists every user's notifications. Scope: notifications:read.",
    "parameters": [
     {
      "$ref": "#/components/parameters/limit"
     },
     {
      "$ref": "#/components/parameters/after"
     },
     {
      "$ref": "#/components/parameters/before"
     },
     {
      "$ref": "#/components/parameters/ids"
     },
     {
      "$ref": "#/components/parameters/filter"
     },
     {
      "$ref": "#/components/parameters/orderBy"
     },
     {
      "$ref": "#/components/parameters/workspaceId"
     },
     {
      "$ref": "#/components/parameters/read"
     },
     {
      "$ref": "#/components/parameters/includeDeleted"
     },
     {
      "$ref": "#/components/parameters/userId"
     },
     {
      "$ref": "#/components/parameters/type"
     },
     {
      "$ref": "#/components/parameters/total"
     },
     {
      "$ref": "#/components/parameters/types"
     },
     {
      "$ref": "#/components/parameters/excludeTypes"
     },
     {
      "$ref": "#/components/parameters/onlyUnread"
     },
     {
      "$ref": "#/components/parameters/onlyAfter"
     }
    ],
    "responses": {
     "200": {
      "description": "One page of notifications and its pageInfo.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/NotificationPage"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   },
   "post": {
    "operationId": "createNotifications",
    "summary": "Create notifications",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "Scope: notifications:send.",
    "parameters": [
     {
      "name": "Idempotency-Key",
      "in": "header",
      "required": false,
      "description": "Makes a retried create return the first response instead of creating again; the same key with another body is 409.",
      "schema": {
       "type": "string",
       "minLength": 1,
       "maxLength": 255
      }
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "oneOf": [
         {
          "$ref": "#/components/schemas/NewNotification"
         },
         {
          "type": "array",
          "minItems": 1,
          "items": {
           "$ref": "#/components/schemas/NewNotification"
          }
         },
         {
          "$ref": "#/components/schemas/FanOut"
         }
        ]
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Created: the notification (one object in) or {\"data\": [...]} (an array, or a fan-out with userIds).",
      "content": {
       "application/json": {
        "schema": {
         "oneOf": [
          {
           "$ref": "#/components/schemas/Notification"
          },
          {
           "$ref": "#/components/schemas/NotificationArray"
          }
         ]
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     },
     "413": {
      "$ref": "#/components/responses/TooLarge"
     },
     "415": {
      "$ref": "#/components/responses/UnsupportedMediaType"
     }
    }
   }
  },
  "/api/notifications/unread-count": {
   "get": {
    "operationId": "unreadCount",
    "summary": "Get unread count",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "Scope: notifications:read.",
    "parameters": [
     {
      "$ref": "#/components/parameters/workspaceId"
     },
     {
      "$ref": "#/components/parameters/userId"
     }
    ],
    "responses": {
     "200": {
      "description": "Unread, not deleted notifications of the caller.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "count"
         ],
         "properties": {
          "count": {
           "type": "integer",
           "minimum": 0
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/notifications/read-all": {
   "put": {
    "operationId": "markAllRead",
    "summary": "Mark all notifications as read",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "Scope: notifications:write.",
    "parameters": [
     {
      "$ref": "#/components/parameters/workspaceId"
     },
     {
      "$ref": "#/components/parameters/userId"
     }
    ],
    "responses": {
     "200": {
      "description": "How many changed.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "ok",
          "updated"
         ],
         "properties": {
          "ok": {
           "type": "boolean"
          },
          "updated": {
           "type": "integer",
           "minimum": 0
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/notifications/groups": {
   "get": {
    "operationId": "listNotificationGroups",
    "summary": "List notification groups",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "Groups newest activity first with keyset cursors (inbox.groups). Without filters a page is read from the group summaries the triggers keep; with any filter the matching notifications are grouped, and the counts describe those only. Scope: notifications:read.",
    "parameters": [
     {
      "$ref": "#/components/parameters/limit"
     },
     {
      "$ref": "#/components/parameters/after"
     },
     {
      "$ref": "#/components/parameters/before"
     },
     {
      "$ref": "#/components/parameters/ids"
     },
     {
      "$ref": "#/components/parameters/filter"
     },
     {
      "$ref": "#/components/parameters/workspaceId"
     },
     {
      "$ref": "#/components/parameters/read"
     },
     {
      "$ref": "#/components/parameters/includeDeleted"
     },
     {
      "$ref": "#/components/parameters/userId"
     },
     {
      "$ref": "#/components/parameters/type"
     },
     {
      "$ref": "#/components/parameters/types"
     },
     {
      "$ref": "#/components/parameters/excludeTypes"
     },
     {
      "$ref": "#/components/parameters/onlyUnread"
     },
     {
      "$ref": "#/components/parameters/onlyAfter"
     },
     {
      "$ref": "#/components/parameters/total"
     }
    ],
    "responses": {
     "200": {
      "description": "One page of groups and its pageInfo.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/NotificationGroupPage"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/notification-types": {
   "get": {
    "operationId": "listNotificationTypes",
    "summary": "List notification types",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "The registered types (inbox.register_type) and whether creates of other types are accepted or rejected (the pg_inbox.unregistered_types setting). Scope: notifications:read.",
    "responses": {
     "200": {
      "description": "The registry.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "required": [
          "data",
          "unregisteredTypes"
         ],
         "properties": {
          "data": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/NotificationType"
           }
          },
          "unregisteredTypes": {
           "type": "string",
           "enum": [
            "accept",
            "reject"
           ]
          }
         }
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/api/notifications/{id}": {
   "parameters": [
    {
     "$ref": "#/components/parameters/id"
    }
   ],
   "get": {
    "operationId": "getNotification",
    "summary": "Get a notification by ID",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "Scope: notifications:read (and notifications:write with markRead=true).",
    "parameters": [
     {
      "name": "include_deleted",
      "in": "query",
      "required": false,
      "description": "true also finds a soft-deleted notification.",
      "schema": {
       "type": "string",
       "enum": [
        "true",
        "false"
       ]
      }
     },
     {
      "name": "markRead",
      "in": "query",
      "required": false,
      "description": "true marks it read in the same call.",
      "schema": {
       "type": "string",
       "enum": [
        "true",
        "false"
       ]
      }
     },
     {
      "$ref": "#/components/parameters/userId"
     }
    ],
    "responses": {
     "200": {
      "description": "The notification.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Notification"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     }
    }
   },
   "patch": {
    "operationId": "patchNotification",
    "summary": "Change read and archived states",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "Scope: notifications:write.",
    "parameters": [
     {
      "$ref": "#/components/parameters/userId"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "additionalProperties": false,
        "minProperties": 1,
        "properties": {
         "read": {
          "type": "boolean"
         },
         "archived": {
          "type": "boolean"
         }
        }
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "The notification after the change.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Notification"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "413": {
      "$ref": "#/components/responses/TooLarge"
     },
     "415": {
      "$ref": "#/components/responses/UnsupportedMediaType"
     }
    }
   },
   "delete": {
    "operationId": "softDeleteNotification",
    "summary": "Soft-delete a notification",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "Scope: notifications:write.",
    "parameters": [
     {
      "$ref": "#/components/parameters/userId"
     }
    ],
    "responses": {
     "200": {
      "description": "Soft-deleted: it leaves every default view and can be restored or purged.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Success"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   }
  },
  "/api/notifications/{id}/read": {
   "parameters": [
    {
     "$ref": "#/components/parameters/id"
    }
   ],
   "put": {
    "operationId": "markRead",
    "summary": "Mark notification as read",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "Scope: notifications:write.",
    "parameters": [
     {
      "$ref": "#/components/parameters/userId"
     }
    ],
    "responses": {
     "200": {
      "description": "The notification (a read one keeps its first readAt).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Notification"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   }
  },
  "/api/notifications/{id}/unread": {
   "parameters": [
    {
     "$ref": "#/components/parameters/id"
    }
   ],
   "put": {
    "operationId": "markUnread",
    "summary": "Mark notification as unread",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "Scope: notifications:write.",
    "parameters": [
     {
      "$ref": "#/components/parameters/userId"
     }
    ],
    "responses": {
     "200": {
      "description": "The notification.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Notification"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   }
  },
  "/api/notifications/{id}/restore": {
   "parameters": [
    {
     "$ref": "#/components/parameters/id"
    }
   ],
   "post": {
    "operationId": "restoreNotification",
    "summary": "Restore a soft-deleted notification",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "Scope: notifications:write.",
    "parameters": [
     {
      "$ref": "#/components/parameters/userId"
     }
    ],
    "responses": {
     "200": {
      "description": "The restored notification.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Notification"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     }
    }
   }
  },
  "/api/notifications/{id}/purge": {
   "parameters": [
    {
     "$ref": "#/components/parameters/id"
    }
   ],
   "delete": {
    "operationId": "purgeNotification",
    "summary": "Permanently delete a soft-deleted notification",
    "tags": [
     "notifications"
    ],
    "security": [
     {
      "bearerAuth": []
     }
    ],
    "description": "Scope: notifications:write.",
    "parameters": [
     {
      "$ref": "#/components/parameters/userId"
     }
    ],
    "responses": {
     "200": {
      "description": "Gone for good.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Success"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/BadRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthorized"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     }
    }
   }
  },
  "/graphql/system": {
   "post": {
    "operationId": "graphqlPost",
    "summary": "Run a GraphQL request (Directus's system schema, notifications)",
    "tags": [
     "graphql"
    ],
    "description": "Forwarded to inbox.graphql(). Without a token the request runs as the public role (the schema, no notifications).",
    "security": [
     {
      "bearerAuth": []
     },
     {
      "accessToken": []
     },
     {}
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "required": [
         "query"
        ],
        "properties": {
         "query": {
          "type": "string"
         },
         "variables": {
          "type": [
           "object",
           "null"
          ]
         },
         "operationName": {
          "type": [
           "string",
           "null"
          ]
         }
        }
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "The GraphQL response; it carries \"data\" (and \"errors\" for field errors).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQLResponse"
        }
       }
      }
     },
     "400": {
      "description": "A request error (a document that does not parse or validate, a bad body): the GraphQL response without \"data\".",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQLResponse"
        }
       }
      }
     },
     "401": {
      "description": "A transport error in GraphQL's shape: {\"errors\": [{\"message\", \"extensions\": {\"code\"}}]} (INVALID_CREDENTIALS, INVALID_PAYLOAD, UNSUPPORTED_MEDIA_TYPE, CONTENT_TOO_LARGE, SERVICE_UNAVAILABLE).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQLResponse"
        }
       }
      }
     },
     "415": {
      "description": "A transport error in GraphQL's shape: {\"errors\": [{\"message\", \"extensions\": {\"code\"}}]} (INVALID_CREDENTIALS, INVALID_PAYLOAD, UNSUPPORTED_MEDIA_TYPE, CONTENT_TOO_LARGE, SERVICE_UNAVAILABLE).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQLResponse"
        }
       }
      }
     },
     "503": {
      "description": "A transport error in GraphQL's shape: {\"errors\": [{\"message\", \"extensions\": {\"code\"}}]} (INVALID_CREDENTIALS, INVALID_PAYLOAD, UNSUPPORTED_MEDIA_TYPE, CONTENT_TOO_LARGE, SERVICE_UNAVAILABLE).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQLResponse"
        }
       }
      }
     },
     "413": {
      "description": "A transport error in GraphQL's shape: {\"errors\": [{\"message\", \"extensions\": {\"code\"}}]} (INVALID_CREDENTIALS, INVALID_PAYLOAD, UNSUPPORTED_MEDIA_TYPE, CONTENT_TOO_LARGE, SERVICE_UNAVAILABLE).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQLResponse"
        }
       }
      }
     }
    }
   },
   "get": {
    "operationId": "graphqlGet",
    "summary": "Run a GraphQL request given in the query string",
    "tags": [
     "graphql"
    ],
    "security": [
     {
      "bearerAuth": []
     },
     {
      "accessToken": []
     },
     {}
    ],
    "parameters": [
     {
      "name": "query",
      "in": "query",
      "required": true,
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "variables",
      "in": "query",
      "required": false,
      "description": "JSON-encoded object.",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "operationName",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "The GraphQL response; it carries \"data\" (and \"errors\" for field errors).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQLResponse"
        }
       }
      }
     },
     "400": {
      "description": "A request error (a document that does not parse or validate, a bad body): the GraphQL response without \"data\".",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQLResponse"
        }
       }
      }
     },
     "401": {
      "description": "A transport error in GraphQL's shape: {\"errors\": [{\"message\", \"extensions\": {\"code\"}}]} (INVALID_CREDENTIALS, INVALID_PAYLOAD, UNSUPPORTED_MEDIA_TYPE, CONTENT_TOO_LARGE, SERVICE_UNAVAILABLE).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQLResponse"
        }
       }
      }
     },
     "415": {
      "description": "A transport error in GraphQL's shape: {\"errors\": [{\"message\", \"extensions\": {\"code\"}}]} (INVALID_CREDENTIALS, INVALID_PAYLOAD, UNSUPPORTED_MEDIA_TYPE, CONTENT_TOO_LARGE, SERVICE_UNAVAILABLE).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQLResponse"
        }
       }
      }
     },
     "503": {
      "description": "A transport error in GraphQL's shape: {\"errors\": [{\"message\", \"extensions\": {\"code\"}}]} (INVALID_CREDENTIALS, INVALID_PAYLOAD, UNSUPPORTED_MEDIA_TYPE, CONTENT_TOO_LARGE, SERVICE_UNAVAILABLE).",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQLResponse"
        }
       }
      }
     },
     "405": {
      "description": "A mutation sent with GET (GraphQL's error shape, code METHOD_NOT_ALLOWED); send it with POST.",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/GraphQLResponse"
        }
       }
      }
     }
    },
    "description": "Queries only: a mutation sent with GET answers 405."
   }
  },
  "/healthz": {
   "get": {
    "operationId": "healthz",
    "summary": "The process is alive",
    "tags": [
     "operations"
    ],
    "responses": {
     "200": {
      "description": "Alive.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "status": {
           "const": "ok"
          }
         }
        }
       }
      }
     }
    }
   }
  },
  "/readyz": {
   "get": {
    "operationId": "readyz",
    "summary": "The database is reachable and has pg_inbox",
    "tags": [
     "operations"
    ],
    "responses": {
     "200": {
      "description": "Ready.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "status": {
           "const": "ready"
          }
         }
        }
       }
      }
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/metrics": {
   "get": {
    "operationId": "metrics",
    "summary": "Prometheus metrics",
    "tags": [
     "operations"
    ],
    "description": "Requests by route and status, latency histograms by route, pool gauges.",
    "responses": {
     "200": {
      "description": "Prometheus text format 0.0.4.",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   }
  },
  "/openapi.json": {
   "get": {
    "operationId": "openapi",
    "summary": "This document",
    "tags": [
     "operations"
    ],
    "responses": {
     "200": {
      "description": "The OpenAPI 3.1 document.",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  }
 },
 "components": {
  "securitySchemes": {
   "bearerAuth": {
    "type": "http",
    "scheme": "bearer",
    "description": "A token from inbox.create_token(user_id, scopes, workspace_id, expires_at)."
   },
   "accessToken": {
    "type": "apiKey",
    "in": "query",
    "name": "access_token",
    "description": "The bearer token given as ?access_token= (Directus and GraphQL routes)."
   }
  },
  "parameters": {
   "id": {
    "name": "id",
    "in": "path",
    "required": true,
    "description": "The notification's public id (ntf_...).",
    "schema": {
     "type": "string"
    }
   },
   "limit": {
    "name": "limit",
    "in": "query",
    "required": false,
    "description": "Page size, 1 to 100 (default 100).",
    "schema": {
     "type": "string",
     "pattern": "^[0-9]+$"
    }
   },
   "after": {
    "name": "after",
    "in": "query",
    "required": false,
    "description": "Keyset cursor: the page after this row (pageInfo.endCursor).",
    "schema": {
     "type": "string"
    }
   },
   "before": {
    "name": "before",
    "in": "query",
    "required": false,
    "description": "Keyset cursor: the page before this row (pageInfo.startCursor).",
    "schema": {
     "type": "string"
    }
   },
   "ids": {
    "name": "ids",
    "in": "query",
    "required": false,
    "description": "Comma-separated public ids; narrows the result within the caller's scope.",
    "schema": {
     "type": "string"
    }
   },
   "filter": {
    "name": "filter",
    "in": "query",
    "required": false,
    "description": "JSON-encoded filter: AND/OR/NOT and per-field operators (eq, neq, in, notIn, lt, lte, gt, gte, contains, startsWith, endsWith, isNull, ...).",
    "schema": {
     "type": "string"
    }
   },
   "orderBy": {
    "name": "orderBy",
    "in": "query",
    "required": false,
    "description": "JSON-encoded array of {field: direction}; asc, desc, asc_nulls_first, asc_nulls_last, desc_nulls_first, desc_nulls_last.",
    "schema": {
     "type": "string"
    }
   },
   "workspaceId": {
    "name": "workspace_id",
    "in": "query",
    "required": false,
    "description": "Only this workspace.",
    "schema": {
     "type": "string",
     "minLength": 1
    }
   },
   "read": {
    "name": "read",
    "in": "query",
    "required": false,
    "description": "Only read (true) or unread (false) notifications.",
    "schema": {
     "type": "string",
     "enum": [
      "true",
      "false"
     ]
    }
   },
   "includeDeleted": {
    "name": "include_deleted",
    "in": "query",
    "required": false,
    "description": "false (default): active only; true: active and soft-deleted; only: the trash.",
    "schema": {
     "type": "string",
     "enum": [
      "false",
      "true",
      "only"
     ]
    }
   },
   "userId": {
    "name": "user_id",
    "in": "query",
    "required": false,
    "description": "The user whose notifications to act on: only an admin token may name another user.",
    "schema": {
     "type": "string"
    }
   },
   "type": {
    "name": "type",
    "in": "query",
    "required": false,
    "description": "Only notifications of this type.",
    "schema": {
     "type": "string"
    }
   },
   "total": {
    "name": "total",
    "in": "query",
    "required": false,
    "description": "false: pageInfo.total is null and not computed (a filtered count over a large inbox costs more than its page). Default true.",
    "schema": {
     "type": "string",
     "enum": [
      "true",
      "false"
     ]
    }
   },
   "types": {
    "name": "types[]",
    "in": "query",
    "required": false,
    "description": "Only these types (Mastodon's types[]); repeat the parameter, or give types=a,b.",
    "schema": {
     "type": "array",
     "items": {
      "type": "string"
     }
    },
    "style": "form",
    "explode": true
   },
   "excludeTypes": {
    "name": "exclude_types[]",
    "in": "query",
    "required": false,
    "description": "Not these types (Mastodon's exclude_types[]); repeat the parameter, or give exclude_types=a,b.",
    "schema": {
     "type": "array",
     "items": {
      "type": "string"
     }
    },
    "style": "form",
    "explode": true
   },
   "onlyUnread": {
    "name": "only_unread",
    "in": "query",
    "required": false,
    "description": "true: unread only (Diaspora's only_unread), as read=false.",
    "schema": {
     "type": "string",
     "enum": [
      "true",
      "false"
     ]
    }
   },
   "onlyAfter": {
    "name": "only_after",
    "in": "query",
    "required": false,
    "description": "Only notifications changed (updatedAt) after this ISO-8601 time (Diaspora's only_after).",
    "schema": {
     "type": "string"
    }
   }
  },
  "schemas": {
   "Notification": {
    "type": "object",
    "description": "A notification in the API shape (inbox.to_json).",
    "required": [
     "id",
     "userId",
     "type",
     "data",
     "read",
     "createdAt"
    ],
    "properties": {
     "id": {
      "type": "string",
      "pattern": "^ntf_[0-9a-z]{13}$",
      "examples": [
       "ntf_9wtr4mfdtxq5z"
      ]
     },
     "userId": {
      "type": "string"
     },
     "workspaceId": {
      "type": [
       "string",
       "null"
      ]
     },
     "type": {
      "type": "string",
      "examples": [
       "info",
       "warning",
       "error",
       "success"
      ]
     },
     "title": {
      "type": [
       "string",
       "null"
      ]
     },
     "body": {
      "type": [
       "string",
       "null"
      ]
     },
     "data": {
      "type": "object"
     },
     "read": {
      "type": "boolean"
     },
     "readAt": {
      "type": [
       "string",
       "null"
      ],
      "format": "date-time"
     },
     "archived": {
      "type": "boolean"
     },
     "archivedAt": {
      "type": [
       "string",
       "null"
      ],
      "format": "date-time"
     },
     "deletedAt": {
      "type": [
       "string",
       "null"
      ],
      "format": "date-time"
     },
     "actorId": {
      "type": [
       "string",
       "null"
      ]
     },
     "collection": {
      "type": [
       "string",
       "null"
      ]
     },
     "item": {
      "type": [
       "string",
       "null"
      ]
     },
     "groupKey": {
      "type": [
       "string",
       "null"
      ]
     },
     "createdAt": {
      "type": "string",
      "format": "date-time"
     },
     "updatedAt": {
      "type": "string",
      "format": "date-time"
     }
    }
   },
   "NotificationArray": {
    "type": "object",
    "required": [
     "data"
    ],
    "properties": {
     "data": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Notification"
      }
     }
    }
   },
   "NotificationPage": {
    "type": "object",
    "required": [
     "data",
     "pageInfo"
    ],
    "properties": {
     "data": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Notification"
      }
     },
     "pageInfo": {
      "$ref": "#/components/schemas/PageInfo"
     }
    }
   },
   "PageInfo": {
    "type": "object",
    "required": [
     "total",
     "hasNextPage",
     "hasPreviousPage",
     "startCursor",
     "endCursor"
    ],
    "properties": {
     "total": {
      "type": [
       "integer",
       "null"
      ],
      "minimum": 0
     },
     "hasNextPage": {
      "type": "boolean"
     },
     "hasPreviousPage": {
      "type": "boolean"
     },
     "startCursor": {
      "type": [
       "string",
       "null"
      ]
     },
     "endCursor": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   },
   "NewNotification": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "userId"
    ],
    "properties": {
     "userId": {
      "type": "string",
      "minLength": 1,
      "maxLength": 255
     },
     "workspaceId": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 255
     },
     "type": {
      "type": "string",
      "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$",
      "default": "info"
     },
     "title": {
      "type": [
       "string",
       "null"
      ],
      "maxLength": 1000
     },
     "body": {
      "type": [
       "string",
       "null"
      ],
      "maxLength": 20000
     },
     "data": {
      "type": "object",
      "default": {}
     },
     "actorId": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 255
     },
     "collection": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 255
     },
     "item": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 255
     },
     "groupKey": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 255
     }
    }
   },
   "FanOut": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "userIds"
    ],
    "properties": {
     "userIds": {
      "type": "array",
      "minItems": 1,
      "uniqueItems": true,
      "items": {
       "type": "string",
       "minLength": 1,
       "maxLength": 255
      }
     },
     "workspaceId": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 255
     },
     "type": {
      "type": "string",
      "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$",
      "default": "info"
     },
     "title": {
      "type": [
       "string",
       "null"
      ],
      "maxLength": 1000
     },
     "body": {
      "type": [
       "string",
       "null"
      ],
      "maxLength": 20000
     },
     "data": {
      "type": "object",
      "default": {}
     },
     "actorId": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 255
     },
     "collection": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 255
     },
     "item": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 255
     },
     "groupKey": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 255
     }
    }
   },
   "Success": {
    "type": "object",
    "required": [
     "success"
    ],
    "properties": {
     "success": {
      "type": "boolean"
     }
    }
   },
   "Error": {
    "type": "object",
    "required": [
     "error"
    ],
    "properties": {
     "error": {
      "type": "object",
      "required": [
       "code",
       "message"
      ],
      "properties": {
       "code": {
        "type": "string",
        "description": "snake_case: bad_request, invalid_parameter, null_value, check_violation, invalid_input, invalid_text, limit_exceeded, unauthorized, forbidden, not_found, method_not_allowed, conflict, wrong_state, payload_too_large, length_required, uri_too_long, unsupported_media_type, too_many_headers, internal_error, database_unavailable, database_not_ready, pool_exhausted, timeout, retry."
       },
       "message": {
        "type": "string"
       },
       "detail": {
        "type": "string"
       },
       "hint": {
        "type": "string"
       }
      }
     }
    }
   },
   "GraphQLResponse": {
    "type": "object",
    "properties": {
     "data": {
      "type": [
       "object",
       "null"
      ]
     },
     "errors": {
      "type": "array",
      "items": {
       "type": "object",
       "required": [
        "message"
       ],
       "properties": {
        "message": {
         "type": "string"
        },
        "locations": {
         "type": "array"
        },
        "path": {
         "type": "array"
        },
        "extensions": {
         "type": "object"
        }
       }
      }
     }
    }
   },
   "NotificationGroup": {
    "type": "object",
    "description": "Every notification of the user with one groupKey; a notification without one is a group of its own, named ungrouped-<its id> (Mastodon's grouped notifications).",
    "required": [
     "groupKey",
     "notificationsCount",
     "unreadCount",
     "type",
     "latestAt",
     "mostRecentNotificationId",
     "sampleActorIds"
    ],
    "properties": {
     "groupKey": {
      "type": "string"
     },
     "notificationsCount": {
      "type": "integer",
      "minimum": 1
     },
     "unreadCount": {
      "type": "integer",
      "minimum": 0
     },
     "type": {
      "type": "string",
      "description": "The type of the group's most recent notification."
     },
     "latestAt": {
      "type": "string",
      "format": "date-time"
     },
     "mostRecentNotificationId": {
      "type": "string"
     },
     "sampleActorIds": {
      "type": "array",
      "maxItems": 8,
      "items": {
       "type": "string"
      },
      "description": "Up to 8 distinct actors, most recent first."
     }
    }
   },
   "NotificationGroupPage": {
    "type": "object",
    "required": [
     "data",
     "pageInfo"
    ],
    "properties": {
     "data": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/NotificationGroup"
      }
     },
     "pageInfo": {
      "$ref": "#/components/schemas/PageInfo"
     }
    }
   },
   "NotificationType": {
    "type": "object",
    "required": [
     "name",
     "description",
     "aggregate",
     "builtin"
    ],
    "properties": {
     "name": {
      "type": "string"
     },
     "description": {
      "type": "string"
     },
     "aggregate": {
      "type": "boolean",
      "description": "Creates of this type add their actor to an unread notification with the same groupKey."
     },
     "builtin": {
      "type": "boolean"
     }
    }
   }
  },
  "responses": {
   "BadRequest": {
    "description": "Bad input: a query parameter, filter, orderBy, cursor or body (code invalid_parameter, null_value, check_violation, invalid_input, ...).",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Unauthorized": {
    "description": "Missing, unknown, expired or revoked token.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Forbidden": {
    "description": "The token lacks the scope, or names another user or workspace.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "NotFound": {
    "description": "No such notification for this caller (another user's id answers the same).",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Conflict": {
    "description": "Wrong state (restore of an active notification, purge of an active one) or an Idempotency-Key reused with another body.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "TooLarge": {
    "description": "The body is larger than the server's limit.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "UnsupportedMediaType": {
    "description": "The body is not application/json.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "MethodNotAllowed": {
    "description": "The path exists but not with this method (see Allow).",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Unavailable": {
    "description": "The database is unreachable, too slow (statement timeout) or every connection is busy; retry.",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   }
  }
 }
})json");
  return *document;
}

}  // namespace pgi::server
