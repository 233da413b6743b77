#pragma once
// The operator's port (genx id-tags, chargers register, tariff, db prune, analytics
// rebuild, db migrate): provisioning, data retention and the schema version. Implemented
// by each backend in store/. Errors: csms::TransientStoreError when the database is busy
// or unreachable; one object per thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "csms/store_error.hpp"
#include "csms/tariff.hpp"
#include "store/retention.hpp"

namespace genx::store {

using csms::TransientStoreError;

class AdminStore {
 public:
  virtual ~AdminStore() = default;
  // Adds or replaces an id tag (status: Accepted, Blocked, Expired, Invalid, ConcurrentTx;
  // expiry: ISO 8601, stored in canonical UTC form). Throws std::invalid_argument on a
  // bad status, an empty/over-20-character tag or an unreadable expiry.
  virtual void upsert_id_tag(std::string_view tag, std::string_view status,
                             std::optional<std::string> expiry,
                             std::optional<std::string> parent) = 0;
  // Pre-provisions a charge point: its BootNotification is Accepted whatever the
  // unknown-charger policy. Idempotent.
  virtual void register_charger(std::string_view identity) = 0;
  // [{idTag, status, expiryDate, parentIdTag, updatedAt}] ordered by idTag.
  virtual nlohmann::json list_id_tags() = 0;
  // Sets (or with nullopt removes) the tariff override of a charge point.
  virtual void set_tariff(std::string_view charge_point_id, std::optional<csms::Tariff> tariff) = 0;
  // [{chargePointId, energyPerKwh, timePerMinute, sessionFee, updatedAt}] (prices as decimals).
  virtual nlohmann::json list_tariffs() = 0;
  // Data retention (store/retention.hpp): one pass that removes (or with dry_run only
  // counts) every row older than its table's retention at now_ms, in short batches.
  // Never removes data of open transactions. Call outside any transaction.
  virtual PruneReport prune(const RetentionPolicy& policy, std::int64_t now_ms, bool dry_run) = 0;
  // The earliest time from which every fact of a rebuild is still stored (nullopt: no
  // meter value or status report was ever pruned).
  virtual std::optional<RetainedHorizon> retained_horizon() = 0;
  // The highest migration applied to this database.
  virtual int schema_version() = 0;
};

}  // namespace genx::store
