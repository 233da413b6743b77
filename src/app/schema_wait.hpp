#pragma once
// Only `genx db migrate` and the ocpp-worker migrate the database (store/open_store.hpp).
// The gateway, api, notifier and analytics call wait_for_schema before they open their
// ports: when the schema is behind they log why and wait (config.schema_wait, setting
// GENX_SCHEMA_WAIT_SECONDS), then throw with a clear message; they never migrate.
#include <string_view>

#include "app/config.hpp"

namespace genx::app {

void wait_for_schema(const Config& config, std::string_view role);

}  // namespace genx::app
