// Library load: settings. One _PG_init for the whole module; parts that need set-up at load
// time add a call here.

#include "pg/pg.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace {

// What a create does with a type that is not in inbox.notification_types. Read from SQL with
// current_setting('pg_inbox.unregistered_types', true), so it also applies in a session that
// has not loaded the library yet (a value set with ALTER DATABASE is then a placeholder).
int unregistered_types = 0;

const struct config_enum_entry kUnregisteredTypeChoices[] = {
    {"accept", 0, false},
    {"reject", 1, false},
    {nullptr, 0, false},
};

// Delivery (55_delivery.sql, issue 15). Read from SQL with current_setting(name, true) as above.
char *email_column = nullptr;
char *delivery_retention = nullptr;
bool webhook_allow_private = false;
double delivery_backoff_scale = 1.0;
int delivery_max_attempts = 10;

void define_delivery_settings() {
  DefineCustomStringVariable(
      "pg_inbox.email_column",
      "The column of the recipient relation's table that holds a user's e-mail address.",
      "Empty (the default): no e-mail is queued.", &email_column, "", PGC_USERSET, 0, nullptr,
      nullptr, nullptr);
  DefineCustomStringVariable(
      "pg_inbox.delivery_retention", "How long finished deliveries are kept before pruning.",
      nullptr, &delivery_retention, "7 days", PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable(
      "pg_inbox.webhook_allow_private",
      "Whether webhook URLs may point at loopback, private and internal addresses.",
      "Off (the default) for production; tests turn it on.", &webhook_allow_private, false,
      PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomRealVariable("pg_inbox.delivery_backoff_scale",
                           "A factor on the retry schedule of deliveries (1: as Standard "
                           "Webhooks has it; tests make it shorter).",
                           nullptr, &delivery_backoff_scale, 1.0, 0.0, 1.0, PGC_USERSET, 0, nullptr,
                           nullptr, nullptr);
  DefineCustomIntVariable(
      "pg_inbox.delivery_max_attempts", "Attempts of a delivery before it is marked failed.",
      nullptr, &delivery_max_attempts, 10, 1, 10, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

}  // namespace

extern "C" void _PG_init(void) {
  DefineCustomEnumVariable(
      "pg_inbox.unregistered_types",
      "Whether notifications of a type missing from inbox.notification_types are accepted.",
      "accept (the default) or reject, which makes creating one an error.", &unregistered_types, 0,
      kUnregisteredTypeChoices, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  define_delivery_settings();
  MarkGUCPrefixReserved("pg_inbox");
}
