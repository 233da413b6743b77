#pragma once
// The Local Authorization List as GenX derives and sends it to OCPP 1.6 and 2.0.1 chargers
// (docs/local-list.md).
// Pure: no I/O. The list is the id tags marked for it, each with its idTagInfo; GenX
// remembers per charger what it believes the charger holds (the entries of its last
// accepted sends) and plans the SendLocalList calls that bring the charger to the list:
// Differential when the charger's version is known and is the one GenX last sent, Full
// otherwise, split into chunks of at most SendLocalListMaxLength entries (the first of a
// Full plan is Full, the rest Differential), each with a higher listVersion.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace genx::csms {

// One id tag of the list with its idTagInfo.
struct LocalListEntry {
  std::string id_tag;
  std::string status;                       // Accepted, Blocked, Expired, Invalid, ConcurrentTx
  std::optional<std::string> expiry_date;   // canonical ISO 8601 UTC
  std::optional<std::string> parent_id_tag;
  bool operator==(const LocalListEntry&) const = default;
};

// One line of a SendLocalList: an entry to add or replace, or (entry empty) an id tag to
// remove (Differential only).
struct LocalListChange {
  std::string id_tag;
  std::optional<LocalListEntry> entry;
  bool operator==(const LocalListChange&) const = default;
};

struct LocalListSend {
  std::string update_type;  // "Full" or "Differential"
  std::int64_t version = 0;
  std::vector<LocalListChange> changes;
};

// The changes that turn `held` into `wanted` (both any order): additions and changed
// idTagInfo with the entry, removals without; sorted by id tag.
std::vector<LocalListChange> local_list_diff(const std::vector<LocalListEntry>& held,
                                             const std::vector<LocalListEntry>& wanted);

// The sends that bring a charger holding `held` to `wanted`. differential: the charger's
// version is known and is GenX's last one (else Full). base_version: the highest version
// the charger has had (sent or reported); the sends carry base_version+1, +2, ...
// chunk: SendLocalListMaxLength (nullopt or <= 0: no limit). An empty Differential plan
// (nothing changed) has no sends.
std::vector<LocalListSend> plan_local_list(const std::vector<LocalListEntry>& wanted,
                                           const std::vector<LocalListEntry>& held, bool differential,
                                           std::int64_t base_version, std::optional<std::int64_t> chunk);

// What the charger holds after it accepted `send` on top of `held` (sorted by id tag).
std::vector<LocalListEntry> apply_local_list_send(std::vector<LocalListEntry> held, const LocalListSend& send);

// The SendLocalList payload (valid against the 1.6 schema; an empty list is left out).
nlohmann::json send_local_list_payload(const LocalListSend& send);

// The same send in OCPP 2.0.1 form (valid against the 2.0.1 schema): versionNumber, and per
// line an idToken of type kLocalListIdTokenType (GenX's id tags carry no token type; the
// cards drivers present are ISO 14443 RFID) with an idTokenInfo: status, expiryDate as
// cacheExpiryDateTime, the parent as a groupIdToken of type Central (as Authorize answers).
inline constexpr const char* kLocalListIdTokenType = "ISO14443";
nlohmann::json send_local_list_payload_v201(const LocalListSend& send);

// {idTag, status, expiryDate, parentIdTag} as the api shows an entry.
nlohmann::json local_list_entry_json(const LocalListEntry& entry);

// An id tag as an operator writes it (PUT /api/id-tags/{idTag}):
// {"status":"Accepted","expiryDate"?,"parentIdTag"?,"localList"?}.
struct IdTagUpdate {
  LocalListEntry tag;
  std::optional<bool> local_list;  // absent: unchanged (false for a new tag)
};
// The update, or the problem naming the field. id_tag is the path's id tag.
std::variant<IdTagUpdate, std::string> parse_id_tag_update(std::string_view id_tag, const nlohmann::json& body);

// The list limits of an OCPP 2.0.1 station, from its device model (NotifyReport; component
// LocalAuthListCtrlr, Actual attribute): ItemsPerMessage's value is the most entries one
// SendLocalList may carry (1.6: SendLocalListMaxLength), the maxLimit of Entries'
// variableCharacteristics the most the station holds (1.6: LocalAuthListMaxLength).
struct LocalListLimits {
  std::optional<std::int64_t> max_entries;
  std::optional<std::int64_t> max_per_send;
};
// Takes one device-model row into `limits` (other variables and unreadable values are
// ignored). characteristics: the stored variableCharacteristics JSON.
void add_device_model_limit(LocalListLimits& limits, std::string_view variable,
                            const std::optional<std::string>& value,
                            const std::optional<std::string>& characteristics);

// A problem with the list's size for a charger that holds at most `max` entries
// (LocalAuthListMaxLength), or nullopt.
std::optional<std::string> local_list_too_long(std::size_t entries, std::optional<std::int64_t> max);

}  // namespace genx::csms
