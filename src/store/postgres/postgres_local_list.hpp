#pragma once
// PostgreSQL implementation of api::LocalListStore (docs/local-list.md) on its own
// connection (opened at first use, reopened after it broke).
#include <memory>
#include <string>

#include "api/local_list_store.hpp"

namespace genx::store {

// conninfo: as postgres_conninfo() builds it.
std::unique_ptr<api::LocalListStore> open_postgres_local_list(const std::string& conninfo);

}  // namespace genx::store
