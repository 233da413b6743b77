#pragma once
// OCPP 2.0.1 smart-charging calls from a station (docs/smart-charging.md):
// NotifyChargingLimit and ReportChargingProfiles are stored beside the profiles GenX sent
// (charging_profiles, source "charger"; GET /api/chargers/{id}/charging-profiles).
// Pure: works against the unit of work; nlohmann::json errors only on payloads that are
// not schema-valid.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "csms/write_store.hpp"

namespace genx::csms {

// Stores a NotifyChargingLimit (one row) or ReportChargingProfiles (one row per profile).
// Returns the CALLRESULT payload ({}).
nlohmann::json record_charging_report_v201(UnitOfWork& uow, std::string_view device_id, std::string_view action,
                                           const nlohmann::json& payload, const std::string& received_at);

}  // namespace genx::csms
