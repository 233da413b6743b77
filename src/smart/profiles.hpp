#pragma once
// OCPP 1.6 charging profiles (Smart Charging profile) as GenX builds, checks and reads
// them. Pure: JSON in, JSON out; thread-safe; never throws on any JSON input.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace genx::smart {

// The ids and stack level of the profiles the site allocation sends (docs/smart-charging.md). A new
// one with the same id replaces the old one on the charger.
inline constexpr int kSiteDefaultProfileId = 9001;  // TxDefaultProfile, connector 0
inline constexpr int kSiteTxProfileId = 9002;       // TxProfile of the running transaction
inline constexpr int kSiteStackLevel = 1;

// A limit as sent: rounded down to 0.1 A and, in double arithmetic, an exact multiple of
// 0.1 (what the schema's "multipleOf": 0.1 checks), never below 0.
double schema_limit(double amperes);

// How a charger takes the allocation's profiles: its protocol version, the unit ("A", or
// "W": limit_a x volts x phases, rounded down to a whole watt) and the volts per phase.
struct ProfileForm {
  std::string ocpp_version = "1.6";
  std::string rate_unit = "A";
  double volts = 230;
};

// The limit as sent in `unit`: schema_limit(limit_a), or whole watts.
double site_limit_value(double limit_a, int phases, const ProfileForm& form);

// The SetChargingProfile payload of the allocation: a Relative profile, one period from
// 0 s with `phases` phases. 1.6: {connectorId, csChargingProfiles}; 2.0.1: {evseId,
// chargingProfile: {id, ..., chargingSchedule: [{id, chargingRateUnit, ...}]}} with the
// station's transactionId (text) for a TxProfile.
nlohmann::json site_tx_profile_request(std::int64_t transaction_id, int connector_id, double limit_a,
                                       int phases, const ProfileForm& form = {},
                                       const std::string& ocpp_transaction_id = "");
nlohmann::json site_default_profile_request(double limit_a, int phases, const ProfileForm& form = {});

// The ClearChargingProfile payloads that remove what the allocation installed (the
// TxDefaultProfile and the TxProfile, by id), in the charger's version.
std::vector<nlohmann::json> site_clear_requests(const std::string& ocpp_version);

// What the api checks beyond the OCPP 2.0.1 schema of SetChargingProfile /
// ClearChargingProfile / GetCompositeSchedule: a ChargingStationMaxProfile only on EVSE 0,
// a TxProfile on an EVSE above 0 with a transactionId, periods from 0 and increasing.
std::optional<std::string> check_profile_command_v201(std::string_view action, const nlohmann::json& payload);

// What the api checks beyond the schema of SetChargingProfile / RemoteStartTransaction /
// ClearChargingProfile / GetCompositeSchedule payloads (OCPP 1.6 rules the schema cannot
// say): ChargePointMaxProfile only on connector 0; TxProfile only on a connector above
// 0 (SetChargingProfile) and only TxProfile in RemoteStartTransaction; Recurring needs
// recurrencyKind; Absolute and Recurring need startSchedule, Relative has none;
// periods start at 0 and increase. Returns the error naming the field, or nullopt.
std::optional<std::string> check_profile_command(std::string_view action, const nlohmann::json& payload);

// The columns a charging-profile command is listed by (GET .../charging-profiles).
struct ProfileSummary {
  std::optional<std::int64_t> charging_profile_id;  // ClearChargingProfile: its "id"
  std::optional<std::string> purpose;
  std::optional<std::int64_t> stack_level;
  std::optional<std::int64_t> transaction_id;
  std::optional<double> limit;  // of the first period
  std::optional<std::string> rate_unit;
};
ProfileSummary summarize_profile_command(std::string_view action, const nlohmann::json& request);

// A profile stored on a charger (the sim's model of the Smart Charging profile).
struct InstalledProfile {
  int connector_id = 0;
  nlohmann::json profile;  // csChargingProfiles
};

// The limit in amperes per phase in force at `now_unix_s` for `connector_id` (and the
// running transaction, if any, started at `tx_start_unix_s`): per purpose the highest
// stack level whose schedule covers the moment; TxProfile (of that transaction) over
// TxDefaultProfile (connector before 0); ChargePointMaxProfile caps everything. W limits
// become amperes at 230 V per phase. nullopt when no profile applies.
std::optional<double> composite_limit_a(const std::vector<InstalledProfile>& profiles, int connector_id,
                                        std::optional<std::int64_t> transaction_id,
                                        std::int64_t tx_start_unix_s, std::int64_t now_unix_s);

// Applies SetChargingProfile / ClearChargingProfile to a charger's installed profiles
// (replacing by chargingProfileId, or by purpose + stack level + connector). Returns the
// OCPP status to answer.
std::string install_profile(std::vector<InstalledProfile>& profiles, const nlohmann::json& request);
std::string clear_profiles(std::vector<InstalledProfile>& profiles, const nlohmann::json& request);

}  // namespace genx::smart
