#pragma once
// The api's local authorization list port (docs/local-list.md): id tags as a resource
// (with their localList mark) and what GenX knows of each charger's list (versions,
// status, the entries it believes the charger holds). Implemented in new files of each
// backend (store/sqlite/sqlite_local_list.cpp, store/postgres/postgres_local_list.cpp),
// opened with store::open_local_list_store. Errors and threading as the other api ports
// (read_store.hpp): TransientStoreError when the database is busy or away; one object per
// thread. Timestamps are canonical ISO 8601 UTC text.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "csms/local_list.hpp"
#include "csms/store_error.hpp"

namespace genx::api {

struct IdTagRecord {
  csms::LocalListEntry tag;
  bool local_list = false;  // marked for the local authorization list
  std::string updated_at;
};

// Status of a charger's list: Unknown (GenX has not learnt it yet), InSync (the charger
// accepted the list as it is now), OutOfDate (a tag changed since), Failed (the charger
// refused the last push or its list cannot hold the list).
struct LocalListState {
  std::string charge_point_id;
  std::string ocpp_version;
  std::optional<std::int64_t> sent_version;      // of GenX's last accepted SendLocalList
  std::optional<std::int64_t> reported_version;  // the charger's last GetLocalListVersion answer
  std::string status = "Unknown";
  std::optional<std::string> last_answer;  // e.g. "Accepted", "VersionMismatch", "offline"
  std::optional<std::string> reported_at;
  std::optional<std::string> pushed_at;
  std::optional<std::string> updated_at;
  std::vector<csms::LocalListEntry> held;  // what GenX believes the charger holds
  // From the charger's stored configuration (GetConfiguration), when known.
  std::optional<std::int64_t> local_auth_list_max_length;
  std::optional<std::int64_t> send_local_list_max_length;
};

class LocalListStore {
 public:
  virtual ~LocalListStore() = default;
  // Ordered by id tag; local_list set: only the tags marked (true) or not (false).
  virtual std::vector<IdTagRecord> list_id_tags(std::optional<bool> local_list) = 0;
  virtual std::optional<IdTagRecord> find_id_tag(std::string_view id_tag) = 0;
  // Inserts or replaces the tag (updated_at = now).
  virtual void put_id_tag(const IdTagRecord& tag, std::string_view now) = 0;
  // The list: every marked tag, ordered by id tag.
  virtual std::vector<csms::LocalListEntry> local_list() = 0;
  // nullopt: no such charger. A charger GenX never pushed to has status Unknown.
  virtual std::optional<LocalListState> local_list_state(std::string_view charge_point_id) = 0;
  // OCPP 1.6 and 2.0.1 chargers last seen at or after online_since (all when empty), by id.
  virtual std::vector<std::string> local_list_chargers(std::string_view online_since) = 0;
  // A GetLocalListVersion answer. Status becomes OutOfDate when it differs from the
  // version GenX last sent (Unknown stays Unknown, Failed stays Failed).
  virtual void record_reported_version(std::string_view charge_point_id, std::int64_t version,
                                       std::string_view now) = 0;
  // An accepted SendLocalList: the charger now holds `held` at `version`.
  virtual void record_list_sent(std::string_view charge_point_id, std::int64_t version,
                                const std::vector<csms::LocalListEntry>& held, std::string_view now) = 0;
  // Sets status and last answer (last_answer empty: unchanged); returns the status before.
  virtual std::string set_local_list_status(std::string_view charge_point_id, std::string_view status,
                                            std::string_view last_answer, std::string_view now) = 0;
  // After a change of the list: every InSync charger becomes OutOfDate; returns them.
  virtual std::vector<std::string> mark_local_lists_out_of_date(std::string_view now) = 0;
  // Chargers whose list version GenX should ask (GetLocalListVersion): 1.6 or 2.0.1, seen at or
  // after online_since, booted since GenX last asked (or never asked) while the list is
  // in use (a tag is marked or GenX has a state for the charger). Each returned one is
  // claimed (asked_at = now): two processes never both get the same charger.
  virtual std::vector<std::string> claim_version_checks(std::string_view online_since, std::string_view now,
                                                        int limit) = 0;
};

}  // namespace genx::api
