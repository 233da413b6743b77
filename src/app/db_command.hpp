#pragma once
// `genx db copy --from URL --to URL [--force]` (store/copy.hpp) and
// `genx db grant read|api|worker ROLE` (store/postgres/postgres_roles.hpp). Exit 0 on
// success, 1 when the copy or the grant failed (nothing changed), 2 on a usage error.
#include <map>
#include <string>
#include <vector>

#include "app/config.hpp"

namespace genx::app {

int run_db_copy(const std::map<std::string, std::string>& own, bool force);
int run_db_grant(const Config& config, const std::vector<std::string>& positional);

}  // namespace genx::app
