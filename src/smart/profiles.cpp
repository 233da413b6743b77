#include "smart/profiles.hpp"

#include <algorithm>
#include <cmath>

#include "messages/timestamp.hpp"

namespace genx::smart {

using nlohmann::json;

namespace {

constexpr double kVoltsPerPhase = 230.0;

const json* field(const json& j, const char* name) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

std::string text(const json& j, const char* name) {
  const json* f = field(j, name);
  return f != nullptr && f->is_string() ? f->get<std::string>() : std::string();
}

std::optional<double> number(const json& j, const char* name) {
  const json* f = field(j, name);
  if (f == nullptr || !f->is_number()) return std::nullopt;
  return f->get<double>();
}

json site_profile(int id, const char* purpose, double limit_a, int phases, const ProfileForm& form) {
  const std::string unit = form.rate_unit == "W" ? "W" : "A";
  json periods =
      json::array({{{"startPeriod", 0}, {"limit", site_limit_value(limit_a, phases, form)}, {"numberPhases", phases}}});
  if (form.ocpp_version == "2.0.1") {
    return json{{"id", id},
                {"stackLevel", kSiteStackLevel},
                {"chargingProfilePurpose", purpose},
                {"chargingProfileKind", "Relative"},
                {"chargingSchedule",
                 json::array({{{"id", id}, {"chargingRateUnit", unit}, {"chargingSchedulePeriod", periods}}})}};
  }
  return json{{"chargingProfileId", id},
              {"stackLevel", kSiteStackLevel},
              {"chargingProfilePurpose", purpose},
              {"chargingProfileKind", "Relative"},
              {"chargingSchedule", {{"chargingRateUnit", unit}, {"chargingSchedulePeriod", periods}}}};
}

std::optional<std::string> check_profile(const json& profile, const std::string& where) {
  const std::string purpose = text(profile, "chargingProfilePurpose");
  const std::string kind = text(profile, "chargingProfileKind");
  const json* schedule = field(profile, "chargingSchedule");
  if (kind == "Recurring" && field(profile, "recurrencyKind") == nullptr) {
    return where + ".recurrencyKind: required for a Recurring profile";
  }
  if (kind != "Recurring" && field(profile, "recurrencyKind") != nullptr) {
    return where + ".recurrencyKind: only for a Recurring profile";
  }
  if (purpose != "TxProfile" && field(profile, "transactionId") != nullptr) {
    return where + ".transactionId: only a TxProfile names a transaction";
  }
  if (schedule == nullptr) return std::nullopt;  // the schema already said so
  const bool has_start = field(*schedule, "startSchedule") != nullptr;
  if (kind == "Relative" && has_start) {
    return where + ".chargingSchedule.startSchedule: a Relative profile starts with the transaction, it has none";
  }
  if ((kind == "Absolute" || kind == "Recurring") && !has_start) {
    return where + ".chargingSchedule.startSchedule: required for an " + kind + " profile";
  }
  if (has_start && !messages::parse_timestamp(text(*schedule, "startSchedule"))) {
    return where + ".chargingSchedule.startSchedule: not a date-time";
  }
  const json* periods = field(*schedule, "chargingSchedulePeriod");
  if (periods == nullptr || !periods->is_array()) return std::nullopt;
  if (periods->empty()) return where + ".chargingSchedule.chargingSchedulePeriod: at least one period";
  double previous = -1;
  for (std::size_t i = 0; i < periods->size(); ++i) {
    const auto start = number((*periods)[i], "startPeriod");
    const std::string at = where + ".chargingSchedule.chargingSchedulePeriod[" + std::to_string(i) + "]";
    if (!start) continue;
    if (i == 0 && *start != 0) return at + ".startPeriod: the first period starts at 0";
    if (*start <= previous) return at + ".startPeriod: periods must start in increasing order";
    previous = *start;
    if (auto limit = number((*periods)[i], "limit"); limit && *limit < 0) return at + ".limit: must not be negative";
    if (auto phases = number((*periods)[i], "numberPhases"); phases && (*phases < 1 || *phases > 3)) {
      return at + ".numberPhases: 1, 2 or 3";
    }
  }
  return std::nullopt;
}

// The limit of one profile at `now`, in amperes; nullopt when its schedule does not cover now.
std::optional<double> profile_limit(const json& profile, std::int64_t tx_start, bool in_tx, std::int64_t now) {
  const json* schedule = field(profile, "chargingSchedule");
  if (schedule == nullptr) return std::nullopt;
  const std::string kind = text(profile, "chargingProfileKind");
  if (auto from = text(profile, "validFrom"); !from.empty()) {
    if (auto t = messages::parse_timestamp(from); t && now < *t / 1000) return std::nullopt;
  }
  if (auto to = text(profile, "validTo"); !to.empty()) {
    if (auto t = messages::parse_timestamp(to); t && now >= *t / 1000) return std::nullopt;
  }
  std::int64_t start = now;
  if (kind == "Relative") {
    start = in_tx ? tx_start : now;
  } else if (auto s = messages::parse_timestamp(text(*schedule, "startSchedule"))) {
    start = *s / 1000;
    if (kind == "Recurring" && now >= start) {
      const std::int64_t period = text(profile, "recurrencyKind") == "Weekly" ? 7 * 86400 : 86400;
      start += ((now - start) / period) * period;
    }
  }
  const std::int64_t offset = now - start;
  if (offset < 0) return std::nullopt;
  if (auto duration = number(*schedule, "duration"); duration && offset >= *duration) return std::nullopt;
  const std::string unit = text(*schedule, "chargingRateUnit");
  const json* periods = field(*schedule, "chargingSchedulePeriod");
  if (periods == nullptr || !periods->is_array()) return std::nullopt;
  std::optional<double> limit;
  for (const auto& p : *periods) {
    auto s = number(p, "startPeriod");
    auto l = number(p, "limit");
    if (!s || !l || *s > static_cast<double>(offset)) break;
    const double phases = number(p, "numberPhases").value_or(3);
    limit = unit == "W" ? *l / (kVoltsPerPhase * phases) : *l;
  }
  return limit;
}

}  // namespace

double schema_limit(double amperes) {
  if (!(amperes > 0)) return 0;
  auto tenths = static_cast<std::int64_t>(std::floor(amperes * 10 + 1e-6));
  for (; tenths > 0; --tenths) {
    const double value = static_cast<double>(tenths) / 10.0;
    const double ratio = value / 0.1;
    if (value <= amperes + 1e-9 && ratio == std::floor(ratio)) return value;
  }
  return 0;
}

double site_limit_value(double limit_a, int phases, const ProfileForm& form) {
  if (form.rate_unit != "W") return schema_limit(limit_a);
  if (!(limit_a > 0) || !(form.volts > 0)) return 0;
  return std::floor(limit_a * form.volts * std::max(1, phases) + 1e-6);
}

json site_tx_profile_request(std::int64_t transaction_id, int connector_id, double limit_a, int phases,
                             const ProfileForm& form, const std::string& ocpp_transaction_id) {
  json profile = site_profile(kSiteTxProfileId, "TxProfile", limit_a, phases, form);
  if (form.ocpp_version == "2.0.1") {
    profile["transactionId"] = ocpp_transaction_id.empty() ? std::to_string(transaction_id) : ocpp_transaction_id;
    return json{{"evseId", connector_id}, {"chargingProfile", profile}};
  }
  profile["transactionId"] = transaction_id;
  return json{{"connectorId", connector_id}, {"csChargingProfiles", profile}};
}

json site_default_profile_request(double limit_a, int phases, const ProfileForm& form) {
  json profile = site_profile(kSiteDefaultProfileId, "TxDefaultProfile", limit_a, phases, form);
  if (form.ocpp_version == "2.0.1") return json{{"evseId", 0}, {"chargingProfile", profile}};
  return json{{"connectorId", 0}, {"csChargingProfiles", profile}};
}

std::vector<json> site_clear_requests(const std::string& ocpp_version) {
  if (ocpp_version == "2.0.1") {
    return {json{{"chargingProfileId", kSiteDefaultProfileId}}, json{{"chargingProfileId", kSiteTxProfileId}}};
  }
  return {json{{"id", kSiteDefaultProfileId}}, json{{"id", kSiteTxProfileId}}};
}

std::optional<std::string> check_profile_command_v201(std::string_view action, const json& payload) {
  if (action != "SetChargingProfile") return std::nullopt;
  const json* profile = field(payload, "chargingProfile");
  if (profile == nullptr) return std::nullopt;
  const std::string purpose = text(*profile, "chargingProfilePurpose");
  const auto evse = number(payload, "evseId").value_or(0);
  if (purpose == "ChargingStationMaxProfile" && evse != 0) {
    return std::string("evseId: a ChargingStationMaxProfile is set on EVSE 0 (the charging station)");
  }
  if (purpose == "TxProfile") {
    if (evse < 1) return std::string("evseId: a TxProfile is set on the EVSE of the transaction (1 or more)");
    if (field(*profile, "transactionId") == nullptr) {
      return std::string("chargingProfile.transactionId: a TxProfile names its transaction");
    }
  } else if (field(*profile, "transactionId") != nullptr) {
    return std::string("chargingProfile.transactionId: only a TxProfile names a transaction");
  }
  const json* schedules = field(*profile, "chargingSchedule");
  if (schedules == nullptr || !schedules->is_array()) return std::nullopt;
  for (std::size_t k = 0; k < schedules->size(); ++k) {
    const json* periods = field((*schedules)[k], "chargingSchedulePeriod");
    if (periods == nullptr || !periods->is_array()) continue;
    double previous = -1;
    for (std::size_t i = 0; i < periods->size(); ++i) {
      const auto start = number((*periods)[i], "startPeriod");
      if (!start) continue;
      const std::string at = "chargingProfile.chargingSchedule[" + std::to_string(k) + "].chargingSchedulePeriod[" +
                             std::to_string(i) + "].startPeriod";
      if (i == 0 && *start != 0) return at + ": the first period starts at 0";
      if (*start <= previous) return at + ": periods must start in increasing order";
      previous = *start;
    }
  }
  return std::nullopt;
}

std::optional<std::string> check_profile_command(std::string_view action, const json& payload) {
  if (action == "SetChargingProfile") {
    const json* profile = field(payload, "csChargingProfiles");
    if (profile == nullptr) return std::nullopt;
    const std::string purpose = text(*profile, "chargingProfilePurpose");
    const auto connector = number(payload, "connectorId").value_or(0);
    if (purpose == "ChargePointMaxProfile" && connector != 0) {
      return std::string("connectorId: a ChargePointMaxProfile is set on connector 0 (the charge point)");
    }
    if (purpose == "TxProfile" && connector < 1) {
      return std::string("connectorId: a TxProfile is set on the connector of the transaction (1 or more)");
    }
    if (connector < 0) return std::string("connectorId: 0 (the charge point) or a connector number");
    return check_profile(*profile, "csChargingProfiles");
  }
  if (action == "RemoteStartTransaction") {
    const json* profile = field(payload, "chargingProfile");
    if (profile == nullptr) return std::nullopt;
    if (text(*profile, "chargingProfilePurpose") != "TxProfile") {
      return std::string("chargingProfile.chargingProfilePurpose: RemoteStartTransaction takes a TxProfile");
    }
    if (field(*profile, "transactionId") != nullptr) {
      return std::string("chargingProfile.transactionId: the transaction does not exist yet; leave it out");
    }
    return check_profile(*profile, "chargingProfile");
  }
  if (action == "GetCompositeSchedule") {
    if (auto d = number(payload, "duration"); d && *d < 1) return std::string("duration: at least 1 second");
    if (auto c = number(payload, "connectorId"); c && *c < 0) return std::string("connectorId: 0 or more");
  }
  return std::nullopt;
}

ProfileSummary summarize_profile_command(std::string_view action, const json& request) {
  ProfileSummary s;
  const json* profile = action == "SetChargingProfile"       ? field(request, "csChargingProfiles")
                        : action == "RemoteStartTransaction" ? field(request, "chargingProfile")
                                                             : &request;
  // The 2.0.1 forms: SetChargingProfile {evseId, chargingProfile{id, chargingSchedule:[...]}},
  // ClearChargingProfile {chargingProfileId, chargingProfileCriteria}, a report's profile.
  const bool v201 = (action == "SetChargingProfile" && profile == nullptr && field(request, "chargingProfile")) ||
                    action == "ReportChargingProfiles" ||
                    (action == "ClearChargingProfile" && (field(request, "chargingProfileId") ||
                                                          field(request, "chargingProfileCriteria")));
  if (action == "SetChargingProfile" && profile == nullptr) profile = field(request, "chargingProfile");
  if (action == "ReportChargingProfiles") profile = field(request, "chargingProfile");
  if (profile == nullptr) return s;
  if (v201) {
    auto integer_of = [](const json& j, const char* name) -> std::optional<std::int64_t> {
      if (auto n = number(j, name)) return static_cast<std::int64_t>(*n);
      return std::nullopt;
    };
    if (action == "ClearChargingProfile") {
      s.charging_profile_id = integer_of(request, "chargingProfileId");
      if (const json* c = field(request, "chargingProfileCriteria")) {
        if (auto p = text(*c, "chargingProfilePurpose"); !p.empty()) s.purpose = p;
        s.stack_level = integer_of(*c, "stackLevel");
      }
      return s;
    }
    s.charging_profile_id = integer_of(*profile, "id");
    if (auto p = text(*profile, "chargingProfilePurpose"); !p.empty()) s.purpose = p;
    s.stack_level = integer_of(*profile, "stackLevel");
    if (const json* schedules = field(*profile, "chargingSchedule"); schedules && schedules->is_array() &&
                                                                      !schedules->empty()) {
      const json& schedule = (*schedules)[0];
      if (auto u = text(schedule, "chargingRateUnit"); !u.empty()) s.rate_unit = u;
      if (const json* periods = field(schedule, "chargingSchedulePeriod"); periods && periods->is_array() &&
                                                                            !periods->empty()) {
        s.limit = number((*periods)[0], "limit");
      }
    }
    return s;
  }
  auto integer = [&](const char* name) -> std::optional<std::int64_t> {
    if (auto n = number(*profile, name)) return static_cast<std::int64_t>(*n);
    return std::nullopt;
  };
  s.charging_profile_id = integer(action == "ClearChargingProfile" ? "id" : "chargingProfileId");
  if (auto p = text(*profile, "chargingProfilePurpose"); !p.empty()) s.purpose = p;
  s.stack_level = integer("stackLevel");
  s.transaction_id = integer("transactionId");
  if (const json* schedule = field(*profile, "chargingSchedule")) {
    if (auto u = text(*schedule, "chargingRateUnit"); !u.empty()) s.rate_unit = u;
    if (const json* periods = field(*schedule, "chargingSchedulePeriod"); periods && periods->is_array() &&
                                                                          !periods->empty()) {
      s.limit = number((*periods)[0], "limit");
    }
  }
  return s;
}

std::optional<double> composite_limit_a(const std::vector<InstalledProfile>& profiles, int connector_id,
                                        std::optional<std::int64_t> transaction_id, std::int64_t tx_start_unix_s,
                                        std::int64_t now_unix_s) {
  // Per purpose: (stack level, connector specificity) of the winner and its limit.
  struct Best {
    int stack = -1;
    int connector = -1;
    std::optional<double> limit;
  };
  Best max_profile, tx_default, tx;
  for (const auto& installed : profiles) {
    const json& p = installed.profile;
    const std::string purpose = text(p, "chargingProfilePurpose");
    const int stack = static_cast<int>(number(p, "stackLevel").value_or(0));
    Best* best = nullptr;
    if (purpose == "ChargePointMaxProfile") {
      best = &max_profile;
    } else if (installed.connector_id != 0 && installed.connector_id != connector_id) {
      continue;
    } else if (purpose == "TxDefaultProfile") {
      best = &tx_default;
    } else if (purpose == "TxProfile") {
      if (!transaction_id) continue;
      if (auto id = number(p, "transactionId"); id && static_cast<std::int64_t>(*id) != *transaction_id) continue;
      best = &tx;
    } else {
      continue;
    }
    auto limit = profile_limit(p, tx_start_unix_s, transaction_id.has_value(), now_unix_s);
    if (!limit) continue;
    if (installed.connector_id < best->connector ||
        (installed.connector_id == best->connector && stack <= best->stack)) {
      continue;
    }
    *best = Best{stack, installed.connector_id, limit};
  }
  std::optional<double> limit = tx.limit ? tx.limit : tx_default.limit;
  if (max_profile.limit) limit = limit ? std::min(*limit, *max_profile.limit) : *max_profile.limit;
  return limit;
}

std::string install_profile(std::vector<InstalledProfile>& profiles, const json& request) {
  const json* profile = field(request, "csChargingProfiles");
  if (profile == nullptr) return "Rejected";
  const int connector = static_cast<int>(number(request, "connectorId").value_or(-1));
  if (connector < 0) return "Rejected";
  const auto id = number(*profile, "chargingProfileId");
  const auto stack = number(*profile, "stackLevel");
  const std::string purpose = text(*profile, "chargingProfilePurpose");
  std::erase_if(profiles, [&](const InstalledProfile& p) {
    if (number(p.profile, "chargingProfileId") == id) return true;
    return p.connector_id == connector && text(p.profile, "chargingProfilePurpose") == purpose &&
           number(p.profile, "stackLevel") == stack;
  });
  profiles.push_back({connector, *profile});
  return "Accepted";
}

std::string clear_profiles(std::vector<InstalledProfile>& profiles, const json& request) {
  const auto id = number(request, "id");
  const auto connector = number(request, "connectorId");
  const std::string purpose = text(request, "chargingProfilePurpose");
  const auto stack = number(request, "stackLevel");
  const auto before = profiles.size();
  std::erase_if(profiles, [&](const InstalledProfile& p) {
    if (id) return number(p.profile, "chargingProfileId") == id;
    if (connector && static_cast<int>(*connector) != p.connector_id) return false;
    if (!purpose.empty() && text(p.profile, "chargingProfilePurpose") != purpose) return false;
    if (stack && number(p.profile, "stackLevel") != stack) return false;
    return true;
  });
  return profiles.size() == before ? "Unknown" : "Accepted";
}

}  // namespace genx::smart
