// The PostgreSQL store's schema (postgres_schema.cpp): what `okuri serve --store` and `okuri
// store copy` create, migrate and check before anything else.
#pragma once

#include "service/pg_connection.hpp"

namespace okuri::svc {

// Creates the tables or brings them to this okuri's version, recorded in schema_migrations (one
// starting worker at a time, under an advisory lock). Throws StoreError for a newer schema.
void postgres_migrate(PgConnection& c);
// Refuses a database laid out for another partition count, saying what to do.
void postgres_check_layout(PgConnection& c);

}  // namespace okuri::svc
