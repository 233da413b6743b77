#pragma once
// Least privilege on PostgreSQL (docs/operations.md "PostgreSQL operations"): what each part of
// GenX needs, granted to roles the database administrator created (genx db grant).
//
//   owner   owns the schema: genx db migrate, genx db copy, the operator commands
//           (the role of DATABASE_URL when `genx db migrate` first ran)
//   worker  ocpp-worker and analytics: SELECT, INSERT, UPDATE, DELETE on every table
//           (processing, aggregates, pruning); never DDL: migrations come from the owner
//   api     the api's DATABASE_URL: SELECT on every table; INSERT on chargers (a command
//           to an unknown charger); INSERT, UPDATE on charger_configuration,
//           connector_availability (what commands taught) and charger_security (profile
//           and password set through the api)
//   read    SELECT on every table: the api's DATABASE_READ_URL, the gateway (charger
//           credentials) and the notifier (API tokens)
// Every grant also sets the owner's default privileges, so tables a later migration
// creates are granted the same way (run genx db grant again after an upgrade that adds
// writes for the api; the release notes say when).
#include <string>
#include <vector>

namespace genx::store {

// kind: "read", "api" or "worker"; role: an existing PostgreSQL role. Runs as the user of
// url (the schema owner). Returns the statements it ran. Throws std::invalid_argument on
// an unknown kind or a role that does not exist, std::runtime_error on a database error.
std::vector<std::string> grant_postgres_role(const std::string& url, const std::string& password_file,
                                             const std::string& kind, const std::string& role);

}  // namespace genx::store
