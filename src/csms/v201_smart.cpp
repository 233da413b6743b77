#include "csms/v201_smart.hpp"

#include "smart/profiles.hpp"

namespace genx::csms {

using nlohmann::json;

json record_charging_report_v201(UnitOfWork& uow, std::string_view device_id, std::string_view action,
                                 const json& payload, const std::string& received_at) {
  const int evse = payload.contains("evseId") ? payload.at("evseId").get<int>() : 0;
  if (action == "ReportChargingProfiles") {
    const std::string source = payload.at("chargingLimitSource").get<std::string>();
    for (const auto& profile : payload.at("chargingProfile")) {
      json request{{"requestId", payload.at("requestId")},
                   {"chargingLimitSource", source},
                   {"evseId", evse},
                   {"chargingProfile", profile}};
      const auto s = smart::summarize_profile_command("ReportChargingProfiles", request);
      uow.record_reported_profile(ReportedProfile{std::string(device_id), evse, "ReportChargingProfiles",
                                                  s.charging_profile_id, s.purpose, s.stack_level, s.limit,
                                                  request.dump(), source, received_at});
    }
    return json::object();
  }
  if (action == "ClearedChargingLimit") {
    // The external limit is lifted: kept in the same history, after the NotifyChargingLimit.
    uow.record_reported_profile(ReportedProfile{std::string(device_id), evse, "ClearedChargingLimit", {}, {}, {}, {},
                                                payload.dump(), payload.at("chargingLimitSource").get<std::string>(),
                                                received_at});
    return json::object();
  }
  // NotifyChargingLimit: the limit an external system (EMS, SO, CSO...) put on the station.
  ReportedProfile report{std::string(device_id), evse, "NotifyChargingLimit", {}, {}, {}, {}, payload.dump(),
                         payload.at("chargingLimit").at("chargingLimitSource").get<std::string>(), received_at};
  if (auto it = payload.find("chargingSchedule"); it != payload.end() && it->is_array() && !it->empty()) {
    const json& periods = (*it)[0].at("chargingSchedulePeriod");
    if (periods.is_array() && !periods.empty()) report.limit = periods[0].at("limit").get<double>();
  }
  uow.record_reported_profile(report);
  return json::object();
}

}  // namespace genx::csms
