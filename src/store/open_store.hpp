#pragma once
// Opening the configured Store from DATABASE_URL (DESIGN.md "Configuration").
//
// Store = the write port of the business rules (csms::WriteStore) + the read side for
// the API (ReadStore) + the operator's provisioning operations. Both backends implement
// it; see store/store.hpp and csms/write_store.hpp for the error and threading promises
// (TransientStoreError when busy/locked/unreachable; one thread at a time per object:
// open one Store per thread or process).
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "analytics/analytics_store.hpp"
#include "csms/commands.hpp"
#include "csms/write_store.hpp"
#include "security/charger_policy.hpp"
#include "store/retention.hpp"
#include "store/store.hpp"
#include "store/token_store.hpp"

namespace genx::store {

class Store : public csms::WriteStore,
              public ReadStore,
              public analytics::AnalyticsStore,
              public TokenStore {
 public:
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
  // Records what an answered command taught (GetConfiguration keys, an accepted
  // ChangeConfiguration value, a ChangeAvailability per connector) in one transaction;
  // creates the charger row when the charger never booted. Idempotent per effect.
  virtual void record_command_effect(std::string_view identity, const csms::CommandEffect& effect) = 0;
  // {chargePointId, configurationKey:[{key, value, readonly, rebootRequired, source,
  // updatedAt}], unknownKey:[...], availability:[{connectorId, availability, scheduled,
  // updatedAt}]}; nullopt when the charger is unknown.
  virtual std::optional<nlohmann::json> charger_configuration(std::string_view identity) = 0;
  // Sets (or with nullopt removes) the tariff override of a charge point.
  virtual void set_tariff(std::string_view charge_point_id, std::optional<csms::Tariff> tariff) = 0;
  // [{chargePointId, energyPerKwh, timePerMinute, sessionFee, updatedAt}] (prices as decimals).
  virtual nlohmann::json list_tariffs() = 0;
  // Security of a charge point (README "Security"); nullopt when none was ever set
  // (the charger then has profile 0).
  virtual std::optional<security::ChargerSecurity> charger_security(std::string_view charge_point_id) = 0;
  // {chargePointId, securityProfile, passwordSet, updatedAt}: what an operator may see
  // (never the hash); nullopt when none was set.
  virtual std::optional<nlohmann::json> charger_security_summary(std::string_view charge_point_id) = 0;
  // Sets the profile (0-3) and/or the password hash (security/password_hash.hpp); an
  // argument left nullopt keeps its value (profile 0 and no password for a new row).
  // Throws std::invalid_argument on an empty id or a profile outside 0-3.
  virtual void set_charger_security(std::string_view charge_point_id, std::optional<int> profile,
                                    std::optional<std::string> password_hash) = 0;

  // Data retention (store/retention.hpp): one pass that removes (or with dry_run only
  // counts) every row older than its table's retention at now_ms, in short batches.
  // Never removes data of open transactions. Call outside any transaction.
  virtual PruneReport prune(const RetentionPolicy& policy, std::int64_t now_ms, bool dry_run) = 0;
  // The earliest time from which every fact of a rebuild is still stored (nullopt: no
  // meter value or status report was ever pruned).
  virtual std::optional<RetainedHorizon> retained_horizon() = 0;
};

// Accepts "sqlite://relative/path.db", "sqlite:///absolute/path.db", "sqlite::memory:".
// Creates the database file's parent directory, opens the database and applies pending
// migrations. "postgresql://..." throws std::invalid_argument("PostgreSQL backend not
// built yet"); any other form throws std::invalid_argument naming the problem.
// Throws TransientStoreError when the database is busy/locked/unreachable at open.
std::unique_ptr<Store> open_store(const std::string& database_url);

}  // namespace genx::store
