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

}  // namespace

extern "C" void _PG_init(void) {
  DefineCustomEnumVariable(
      "pg_inbox.unregistered_types",
      "Whether notifications of a type missing from inbox.notification_types are accepted.",
      "accept (the default) or reject, which makes creating one an error.", &unregistered_types, 0,
      kUnregisteredTypeChoices, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("pg_inbox");
}
