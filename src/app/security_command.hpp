#pragma once
// Operator commands for charger security (docs/security.md):
//   genx chargers set-password ID [--generate]   password from stdin (prompted on a
//                                                terminal, never from argv); --generate
//                                                makes one and prints it once
//   genx chargers set-profile ID 0|1|2|3
//   genx chargers security ID                    profile and whether a password is set
#include <optional>
#include <string>
#include <vector>

#include "security/credential_store.hpp"

namespace genx::app {

// The exit code, or nullopt when `sub` is not one of these commands.
std::optional<int> run_charger_security_command(security::CredentialStore& store, const std::string& sub,
                                                const std::vector<std::string>& positional, bool generate);

}  // namespace genx::app
