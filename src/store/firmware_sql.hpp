#pragma once
// Firmware management in SQL common to both backends (csms/firmware.hpp ports; tables of
// migration 14). Each backend hands in its statement runner (store/sql_tx.hpp).
#include <memory>

#include "csms/firmware.hpp"
#include "store/sql_tx.hpp"

namespace genx::store {

// The worker's part, on the unit of work's own transaction.
std::unique_ptr<csms::FirmwareUnit> make_firmware_unit(SqlTx& tx);
// The api's and the campaign runner's port; each call runs its own transaction.
std::unique_ptr<csms::FirmwareStore> make_firmware_store(SqlRunner runner);

}  // namespace genx::store
