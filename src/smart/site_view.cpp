#include "smart/site_view.hpp"

#include <algorithm>
#include <cmath>

namespace genx::smart {

using nlohmann::json;

namespace {

std::optional<std::string> number_field(const json& body, const char* name, double min, double max,
                                        std::optional<double>& out) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return std::string(name) + ": expected a number";
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < min || v > max) {
    return std::string(name) + ": expected " + std::to_string(static_cast<int>(min)) + ".." +
           std::to_string(static_cast<int>(max));
  }
  out = v;
  return std::nullopt;
}

ProfileStatus status_from(std::string_view text) {
  if (text == "accepted") return ProfileStatus::kAccepted;
  if (text == "rejected") return ProfileStatus::kRejected;
  if (text == "offline") return ProfileStatus::kOffline;
  if (text == "pending") return ProfileStatus::kPending;
  return ProfileStatus::kNone;
}

}  // namespace

std::optional<std::string> check_id(std::string_view what, std::string_view id) {
  if (id.empty() || id.size() > 64) return std::string(what) + ": 1 to 64 characters";
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return std::string(what) + ": only letters, digits, '.', '_' and '-'";
  }
  return std::nullopt;
}

std::variant<SiteSettings, std::string> parse_site(std::string_view site_id, const json& body, double volts) {
  if (auto e = check_id("siteId", site_id)) return *e;
  if (!body.is_object()) {
    return std::string("body: expected a JSON object {name, maxCurrentA, maxPowerW, phases, minCurrentA}");
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "name" && key != "maxCurrentA" && key != "maxPowerW" && key != "phases" && key != "minCurrentA") {
      return "unknown field " + key + " (expected name, maxCurrentA, maxPowerW, phases, minCurrentA)";
    }
  }
  SiteSettings site;
  site.id = std::string(site_id);
  site.name = site.id;
  if (auto it = body.find("name"); it != body.end()) {
    if (!it->is_string() || it->get<std::string>().empty() || it->get<std::string>().size() > 100) {
      return std::string("name: expected a text of 1 to 100 characters");
    }
    site.name = it->get<std::string>();
  }
  auto given = [&](const char* name) { return body.contains(name) && !body[name].is_null(); };
  if (!given("maxCurrentA") && !given("maxPowerW")) {
    return std::string("maxCurrentA: required (amperes per phase), or maxPowerW (watts)");
  }
  std::optional<double> max, power, min, phases;
  if (auto e = number_field(body, "maxCurrentA", 0, 100000, max)) return *e;
  if (auto e = number_field(body, "maxPowerW", 0, 100000000, power)) return *e;
  if (auto e = number_field(body, "minCurrentA", 0, 1000, min)) return *e;
  if (auto e = number_field(body, "phases", 1, 3, phases)) return *e;
  if (phases && *phases != 1 && *phases != 3) return std::string("phases: 1 or 3");
  site.min_current_a = min.value_or(6);
  site.phases = phases ? static_cast<int>(*phases) : 3;
  site.max_power_w = power;
  if (max) {
    site.max_current_a = *max;
  } else {
    if (!(volts > 0)) return std::string("maxPowerW: no nominal voltage to convert it with");
    site.max_current_a = std::floor(*power / (volts * site.phases) * 10 + 1e-9) / 10;
  }
  return site;
}

double site_limit_a(const SiteSettings& site, double volts) {
  double limit = site.max_current_a;
  if (site.max_power_w && volts > 0 && site.phases > 0) {
    limit = std::min(limit, *site.max_power_w / (volts * site.phases));
  }
  return std::max(0.0, limit);
}

std::string charging_rate_unit(const std::optional<std::string>& allowed) {
  if (!allowed) return "A";
  std::string lower;
  for (char c : *allowed) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower.find("current") != std::string::npos) return "A";
  if (lower.find("power") != std::string::npos) return "W";
  return "A";
}

std::variant<int, std::string> parse_tag_priority(std::string_view id_tag, const json& body) {
  if (id_tag.empty() || id_tag.size() > 36) return std::string("idTag: 1 to 36 characters");
  if (!body.is_object()) return std::string("body: expected a JSON object {priority}");
  for (const auto& [key, value] : body.items()) {
    if (key != "priority") return "unknown field " + key + " (expected priority)";
  }
  if (!body.contains("priority")) return std::string("priority: required (-100..100)");
  std::optional<double> priority;
  if (auto e = number_field(body, "priority", -100, 100, priority)) return *e;
  if (!priority) return std::string("priority: required (-100..100)");
  if (*priority != std::floor(*priority)) return std::string("priority: expected a whole number");
  return static_cast<int>(*priority);
}

std::variant<SiteMember, std::string> parse_member(std::string_view charge_point_id, const json& body) {
  if (auto e = check_id("chargePointId", charge_point_id)) return *e;
  SiteMember member;
  member.charge_point_id = std::string(charge_point_id);
  if (body.is_null()) return member;
  if (!body.is_object()) return std::string("body: expected a JSON object {maxCurrentA, minCurrentA, priority} or none");
  for (const auto& [key, value] : body.items()) {
    if (key != "maxCurrentA" && key != "minCurrentA" && key != "priority") {
      return "unknown field " + key + " (expected maxCurrentA, minCurrentA, priority)";
    }
  }
  std::optional<double> priority;
  if (auto e = number_field(body, "maxCurrentA", 0, 1000, member.max_current_a)) return *e;
  if (auto e = number_field(body, "minCurrentA", 0, 1000, member.min_current_a)) return *e;
  if (auto e = number_field(body, "priority", -100, 100, priority)) return *e;
  if (priority && *priority != std::floor(*priority)) return std::string("priority: expected a whole number");
  if (member.max_current_a && member.min_current_a && *member.min_current_a > *member.max_current_a) {
    return std::string("minCurrentA: above maxCurrentA");
  }
  member.priority = priority ? static_cast<int>(*priority) : 0;
  return member;
}

std::vector<ChargerInput> allocation_inputs(const SiteState& state) {
  std::vector<ChargerInput> inputs;
  for (const auto& m : state.members) {
    ChargerInput c;
    c.charge_point_id = m.charge_point_id;
    c.max_current_a = m.max_current_a.value_or(kDefaultChargerMaxA);
    c.min_current_a = m.min_current_a;
    c.priority = m.priority;
    c.status = status_from(m.default_status);
    if (c.status == ProfileStatus::kAccepted || c.status == ProfileStatus::kOffline) c.in_force_a = m.default_limit_a;
    auto session = std::find_if(state.sessions.begin(), state.sessions.end(),
                                [&](const SiteSession& s) { return s.charge_point_id == m.charge_point_id; });
    if (session != state.sessions.end()) {
      c.transaction_id = session->transaction_id;
      c.connector_id = session->connector_id;
      c.started_at = session->started_at;
      c.measured_a = session->measured_a;
      if (session->tag_priority) c.priority = *session->tag_priority;
      auto limit = std::find_if(state.limits.begin(), state.limits.end(), [&](const SessionLimit& l) {
        return l.transaction_id == session->transaction_id;
      });
      if (limit != state.limits.end()) {
        c.status = status_from(limit->status);
        c.in_force_a = c.status == ProfileStatus::kAccepted || c.status == ProfileStatus::kOffline
                           ? std::optional<double>(limit->limit_a)
                           : std::nullopt;
        // A TxProfile not (yet) in force: the TxDefaultProfile still bounds the session.
        if (c.status == ProfileStatus::kRejected && m.default_status == "accepted") {
          c.status = ProfileStatus::kOffline;  // counted at the default it accepted, nothing sent
          c.in_force_a = m.default_limit_a;
        }
      }
    }
    inputs.push_back(std::move(c));
  }
  return inputs;
}

std::vector<LimitChange> session_default_changes(const SiteState& state, const std::vector<ChargerInput>& inputs,
                                                 const AllocationResult& result) {
  std::vector<LimitChange> changes;
  for (std::size_t i = 0; i < inputs.size() && i < result.chargers.size() && i < state.members.size(); ++i) {
    const auto& in = inputs[i];
    const auto& out = result.chargers[i];
    const auto& member = state.members[i];
    if (!in.transaction_id || out.worst_case) continue;
    const double minimum = std::min(member.min_current_a.value_or(state.site.min_current_a), in.max_current_a);
    const double want = std::min(minimum, out.limit_a);
    const bool known = member.default_status == "accepted" && member.default_limit_a.has_value();
    if (known && *member.default_limit_a <= want + 1e-6) continue;
    changes.push_back(LimitChange{member.charge_point_id, std::nullopt, 0, want});
  }
  return changes;
}

json site_document(const SiteState& state, double volts) {
  json chargers = json::array();
  json allocations = json::array();
  json defaults = json::array();
  double allocated = 0;
  double measured = 0;
  const auto inputs = allocation_inputs(state);
  auto unit_of = [&](const std::string& id) {
    for (const auto& m : state.members) {
      if (m.charge_point_id == id) return charging_rate_unit(m.allowed_rate_units);
    }
    return std::string("A");
  };
  for (const auto& c : inputs) {
    chargers.push_back(c.charge_point_id);
    const bool known = c.in_force_a.has_value() &&
                       (c.status == ProfileStatus::kAccepted || c.status == ProfileStatus::kOffline);
    const double counted = known ? *c.in_force_a : c.max_current_a;
    allocated += counted;
    if (c.transaction_id) {
      if (c.measured_a) measured += *c.measured_a;
      allocations.push_back(json{{"chargePointId", c.charge_point_id},
                                 {"connectorId", c.connector_id},
                                 {"transactionId", *c.transaction_id},
                                 {"limitA", counted},
                                 {"measuredA", c.measured_a ? json(*c.measured_a) : json()},
                                 {"paused", known && counted == 0},
                                 {"priority", c.priority},
                                 {"rateUnit", unit_of(c.charge_point_id)},
                                 {"status", to_string(c.status)}});
    } else {
      defaults.push_back(json{{"chargePointId", c.charge_point_id},
                              {"limitA", counted},
                              {"rateUnit", unit_of(c.charge_point_id)},
                              {"status", to_string(c.status)}});
    }
  }
  auto tenth = [](double v) { return std::round(v * 10) / 10; };
  return json{{"id", state.site.id},
              {"name", state.site.name},
              {"maxCurrentA", state.site.max_current_a},
              {"maxPowerW", state.site.max_power_w ? json(*state.site.max_power_w) : json()},
              {"limitA", std::floor(site_limit_a(state.site, volts) * 10 + 1e-9) / 10},
              {"phases", state.site.phases},
              {"minCurrentA", state.site.min_current_a},
              {"chargers", chargers},
              {"allocatedA", tenth(allocated)},
              {"measuredA", tenth(measured)},
              {"allocations", allocations},
              {"defaults", defaults}};
}

}  // namespace genx::smart
