#include "csms/local_list.hpp"

#include <algorithm>
#include <map>

#include "messages/timestamp.hpp"

namespace genx::csms {

using nlohmann::json;

namespace {

constexpr std::string_view kIdTagStatuses[] = {"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"};
constexpr std::size_t kIdTagMax = 20;  // CiString20Type

std::vector<LocalListEntry> sorted(std::vector<LocalListEntry> list) {
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.id_tag < b.id_tag; });
  return list;
}

json id_tag_info(const LocalListEntry& e) {
  json info = {{"status", e.status}};
  if (e.expiry_date) info["expiryDate"] = *e.expiry_date;
  if (e.parent_id_tag) info["parentIdTag"] = *e.parent_id_tag;
  return info;
}

}  // namespace

std::vector<LocalListChange> local_list_diff(const std::vector<LocalListEntry>& held,
                                             const std::vector<LocalListEntry>& wanted) {
  std::map<std::string, const LocalListEntry*> have;
  for (const auto& e : held) have[e.id_tag] = &e;
  std::map<std::string, LocalListChange> changes;
  for (const auto& e : wanted) {
    auto it = have.find(e.id_tag);
    if (it == have.end() || !(*it->second == e)) changes[e.id_tag] = LocalListChange{e.id_tag, e};
    if (it != have.end()) have.erase(it);
  }
  for (const auto& [tag, entry] : have) changes[tag] = LocalListChange{tag, std::nullopt};
  std::vector<LocalListChange> out;
  out.reserve(changes.size());
  for (auto& [tag, change] : changes) out.push_back(std::move(change));
  return out;
}

std::vector<LocalListSend> plan_local_list(const std::vector<LocalListEntry>& wanted,
                                           const std::vector<LocalListEntry>& held, bool differential,
                                           std::int64_t base_version, std::optional<std::int64_t> chunk) {
  std::vector<LocalListChange> lines;
  if (differential) {
    lines = local_list_diff(held, wanted);
    if (lines.empty()) return {};
  } else {
    for (const auto& e : sorted(wanted)) lines.push_back(LocalListChange{e.id_tag, e});
  }
  const std::size_t size = chunk && *chunk > 0 ? static_cast<std::size_t>(*chunk) : std::max<std::size_t>(lines.size(), 1);
  std::vector<LocalListSend> sends;
  std::size_t at = 0;
  do {
    LocalListSend send;
    send.update_type = !differential && sends.empty() ? "Full" : "Differential";
    send.version = base_version + static_cast<std::int64_t>(sends.size()) + 1;
    const std::size_t end = std::min(lines.size(), at + size);
    send.changes.assign(lines.begin() + static_cast<std::ptrdiff_t>(at), lines.begin() + static_cast<std::ptrdiff_t>(end));
    at = end;
    sends.push_back(std::move(send));
  } while (at < lines.size());
  return sends;
}

std::vector<LocalListEntry> apply_local_list_send(std::vector<LocalListEntry> held, const LocalListSend& send) {
  std::map<std::string, LocalListEntry> list;
  if (send.update_type != "Full") {
    for (auto& e : held) list[e.id_tag] = std::move(e);
  }
  for (const auto& change : send.changes) {
    if (change.entry) {
      list[change.id_tag] = *change.entry;
    } else {
      list.erase(change.id_tag);
    }
  }
  std::vector<LocalListEntry> out;
  out.reserve(list.size());
  for (auto& [tag, entry] : list) out.push_back(std::move(entry));
  return out;
}

json send_local_list_payload(const LocalListSend& send) {
  json payload = {{"listVersion", send.version}, {"updateType", send.update_type}};
  if (!send.changes.empty()) {
    json list = json::array();
    for (const auto& change : send.changes) {
      json line = {{"idTag", change.id_tag}};
      if (change.entry) line["idTagInfo"] = id_tag_info(*change.entry);
      list.push_back(std::move(line));
    }
    payload["localAuthorizationList"] = std::move(list);
  }
  return payload;
}

json send_local_list_payload_v201(const LocalListSend& send) {
  json payload = {{"versionNumber", send.version}, {"updateType", send.update_type}};
  if (!send.changes.empty()) {
    json list = json::array();
    for (const auto& change : send.changes) {
      json line = {{"idToken", {{"idToken", change.id_tag}, {"type", kLocalListIdTokenType}}}};
      if (change.entry) {
        json info = {{"status", change.entry->status}};
        if (change.entry->expiry_date) info["cacheExpiryDateTime"] = *change.entry->expiry_date;
        if (change.entry->parent_id_tag) info["groupIdToken"] = {{"idToken", *change.entry->parent_id_tag}, {"type", "Central"}};
        line["idTokenInfo"] = std::move(info);
      }
      list.push_back(std::move(line));
    }
    payload["localAuthorizationList"] = std::move(list);
  }
  return payload;
}

namespace {
std::optional<std::int64_t> whole_number(const json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float() && v.get<double>() >= 0 && v.get<double>() < 1e12) {
    return static_cast<std::int64_t>(v.get<double>());
  }
  if (v.is_string()) {
    const auto parsed = json::parse(v.get<std::string>(), nullptr, false);
    if (parsed.is_number_integer()) return parsed.get<std::int64_t>();
  }
  return std::nullopt;
}
}  // namespace

void add_device_model_limit(LocalListLimits& limits, std::string_view variable,
                            const std::optional<std::string>& value,
                            const std::optional<std::string>& characteristics) {
  if (variable == "ItemsPerMessage" && value) {
    if (auto n = whole_number(json(*value)); n && *n > 0) limits.max_per_send = n;
  } else if (variable == "Entries" && characteristics) {
    const auto parsed = json::parse(*characteristics, nullptr, false);
    if (parsed.is_object() && parsed.contains("maxLimit")) {
      if (auto n = whole_number(parsed.at("maxLimit")); n && *n >= 0) limits.max_entries = n;
    }
  }
}

json local_list_entry_json(const LocalListEntry& e) {
  return {{"idTag", e.id_tag},
          {"status", e.status},
          {"expiryDate", e.expiry_date ? json(*e.expiry_date) : json(nullptr)},
          {"parentIdTag", e.parent_id_tag ? json(*e.parent_id_tag) : json(nullptr)}};
}

std::variant<IdTagUpdate, std::string> parse_id_tag_update(std::string_view id_tag, const json& body) {
  if (id_tag.empty()) return std::string("idTag: must not be empty");
  if (id_tag.size() > kIdTagMax) return "idTag: at most 20 characters (OCPP 1.6 CiString20), got " + std::to_string(id_tag.size());
  if (!body.is_object()) return std::string("body: expected a JSON object {\"status\", \"expiryDate\"?, \"parentIdTag\"?, \"localList\"?}");
  for (const auto& [key, value] : body.items()) {
    if (key != "status" && key != "expiryDate" && key != "parentIdTag" && key != "localList" && key != "idTag") {
      return key + ": unknown field (expected status, expiryDate, parentIdTag, localList)";
    }
  }
  if (body.contains("idTag") && body["idTag"] != json(std::string(id_tag))) {
    return "idTag: the body names another id tag than the path (" + std::string(id_tag) + ")";
  }
  IdTagUpdate update;
  update.tag.id_tag = std::string(id_tag);
  update.tag.status = "Accepted";
  if (body.contains("status")) {
    const auto& s = body["status"];
    if (!s.is_string() || std::find(std::begin(kIdTagStatuses), std::end(kIdTagStatuses), s.get<std::string>()) ==
                              std::end(kIdTagStatuses)) {
      return std::string("status: expected Accepted, Blocked, Expired, Invalid or ConcurrentTx");
    }
    update.tag.status = s.get<std::string>();
  }
  if (body.contains("expiryDate") && !body["expiryDate"].is_null()) {
    const auto& e = body["expiryDate"];
    auto canonical = e.is_string() ? messages::normalize_timestamp(e.get<std::string>()) : std::nullopt;
    if (!canonical) return std::string("expiryDate: expected an ISO 8601 date-time such as 2030-01-01T00:00:00Z, or null");
    update.tag.expiry_date = *canonical;
  }
  if (body.contains("parentIdTag") && !body["parentIdTag"].is_null()) {
    const auto& p = body["parentIdTag"];
    if (!p.is_string() || p.get<std::string>().empty() || p.get<std::string>().size() > kIdTagMax) {
      return std::string("parentIdTag: expected 1 to 20 characters (OCPP 1.6 CiString20), or null");
    }
    update.tag.parent_id_tag = p.get<std::string>();
  }
  if (body.contains("localList")) {
    if (!body["localList"].is_boolean()) return std::string("localList: expected true or false");
    update.local_list = body["localList"].get<bool>();
  }
  return update;
}

std::optional<std::string> local_list_too_long(std::size_t entries, std::optional<std::int64_t> max) {
  if (!max || *max < 0 || entries <= static_cast<std::size_t>(*max)) return std::nullopt;
  return "the local list has " + std::to_string(entries) + " entries; the charger holds at most " +
         std::to_string(*max) + " (LocalAuthListMaxLength)";
}

}  // namespace genx::csms
