#pragma once
// `genx tokens create --name N --role read|operator | list | revoke ID|NAME`: API tokens
// (auth/access.hpp) in the database. create prints the new token once, on stdout, and
// stores only its digest; list prints JSON without any secret. Exit 0 on success, 1 when
// the database fails or the token is unknown, 2 on a usage error.
#include <string>
#include <vector>

namespace genx::app {

int run_tokens_command(std::vector<std::string> args);

}  // namespace genx::app
