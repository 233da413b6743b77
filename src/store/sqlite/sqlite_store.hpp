#pragma once
// The SQLite backend of Store (DESIGN.md "Storage"): one database file shared by every
// process on one machine.
//
// - WAL journal, synchronous=FULL: a unit of work that returned from in_transaction
//   is on disk (the charger gets its CALLRESULT only after that), even on power loss.
// - Write units of work start with BEGIN IMMEDIATE, so two processes writing the same
//   file queue on SQLite's write lock (busy timeout) instead of failing half-way; when
//   the lock is not obtained within the busy timeout, TransientStoreError.
// - Migrations (store/sqlite/migrations/NNNN_name.sql, embedded at build time) run at
//   open when SqliteOptions::migrate, in one transaction, recorded in schema_migrations;
//   opening the same file from several processes at once applies each migration once.
//   Without it the open throws SchemaBehindError when a migration is pending.
// - Foreign keys on; prepared statements are cached per object.
// Threading: one SqliteStore object (one SQLite connection) per thread at a time.
#include <memory>
#include <string>

#include "store/open_store.hpp"

namespace genx::store {

using api::StatsQuery;
using api::TransactionFilter;
using api::ChargerPage;
using api::ChargerQuery;
using api::kChargerStatuses;
using auth::ApiTokenRecord;

struct SqliteOptions {
  int busy_timeout_ms = 5000;  // how long a writer waits for another writer
  bool migrate = true;         // false: require the schema to be current (never migrate)
};

class SqliteStore final : public Store {
 public:
  // path: a file path or ":memory:". Opens and migrates; the parent directory must exist.
  explicit SqliteStore(const std::string& path, SqliteOptions options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  void in_transaction(const std::function<void(csms::UnitOfWork&)>& work) override;

  void ping() override;
  ChargerPage list_chargers(const ChargerQuery& query) override;
  nlohmann::json charger_summary(const std::string& online_since) override;
  std::int64_t count_transactions(const TransactionFilter& filter) override;
  std::optional<nlohmann::json> charger(std::string_view identity) override;
  nlohmann::json list_transactions(const TransactionFilter& filter) override;
  std::optional<nlohmann::json> transaction(std::int64_t id) override;
  nlohmann::json transaction_ids_for(std::string_view ocpp_transaction_id) override;
  std::optional<nlohmann::json> device_model(std::string_view identity) override;

  void upsert_id_tag(std::string_view tag, std::string_view status,
                     std::optional<std::string> expiry,
                     std::optional<std::string> parent) override;
  void register_charger(std::string_view identity) override;
  nlohmann::json list_id_tags() override;
  void record_command_effect(std::string_view identity, const csms::CommandEffect& effect) override;
  std::optional<nlohmann::json> charger_configuration(std::string_view identity) override;
  std::optional<csms::Reservation> create_reservation(std::string_view charge_point_id,
                                                      const csms::ReservationRequest& request,
                                                      std::string_view now) override;
  csms::Reservation record_reservation(std::string_view charge_point_id, const csms::Reservation& r,
                                       std::string_view now) override;
  std::optional<csms::Reservation> change_reservation_status(std::int64_t id, std::string_view to,
                                                             const std::vector<std::string>& from,
                                                             std::string_view now) override;
  std::optional<csms::Reservation> find_reservation(std::int64_t id) override;
  std::vector<csms::Reservation> list_reservations(const api::ReservationFilter& filter) override;
  std::vector<csms::Reservation> expire_reservations(std::string_view now) override;
  void set_tariff(std::string_view charge_point_id, std::optional<csms::Tariff> tariff) override;
  nlohmann::json list_tariffs() override;
  std::optional<security::ChargerSecurity> charger_security(std::string_view charge_point_id) override;
  std::optional<nlohmann::json> charger_security_summary(std::string_view charge_point_id) override;
  void set_charger_security(std::string_view charge_point_id, std::optional<int> profile,
                            std::optional<std::string> password_hash) override;

  nlohmann::json stats_series(const StatsQuery& query) override;
  nlohmann::json stats_by_charger(const StatsQuery& query) override;
  std::int64_t stats_unique_id_tags(const StatsQuery& query) override;
  std::int64_t stats_connector_count(const std::optional<std::string>& charger) override;

  void in_analytics_transaction(
      const std::function<void(analytics::AnalyticsUnit&)>& work) override;

  std::int64_t create_api_token(std::string_view name, std::string_view role,
                                std::string_view digest) override;
  nlohmann::json list_api_tokens() override;
  bool revoke_api_token(std::string_view id_or_name) override;
  std::optional<ApiTokenRecord> find_api_token(std::string_view digest) override;
  bool has_active_api_tokens() override;
  PruneReport prune(const RetentionPolicy& policy, std::int64_t now_ms, bool dry_run) override;
  std::optional<RetainedHorizon> retained_horizon() override;

  void put_site(const smart::SiteSettings& site) override;
  std::vector<smart::SiteSettings> list_sites() override;
  std::optional<smart::SiteSettings> find_site(std::string_view site_id) override;
  bool delete_site(std::string_view site_id) override;
  void put_site_member(std::string_view site_id, const smart::SiteMember& member) override;
  bool delete_site_member(std::string_view site_id, std::string_view charge_point_id) override;
  std::vector<smart::SiteMember> site_members(std::string_view site_id) override;
  std::vector<smart::SiteSession> site_sessions(std::string_view site_id) override;
  std::vector<smart::SessionLimit> session_limits(std::string_view site_id) override;
  std::optional<smart::SiteState> site_state(std::string_view site_id) override;
  void set_default_limit(std::string_view charge_point_id, double limit_a, std::string_view status) override;
  void set_session_limit(std::string_view site_id, const smart::SessionLimit& limit) override;
  void record_profile(const smart::ProfileRecord& record) override;
  nlohmann::json charging_profiles(std::string_view charge_point_id, int limit) override;
  bool acquire_site_lease(std::string_view site_id, std::string_view holder, std::int64_t now_ms,
                          std::int64_t ttl_ms) override;
  void release_site_lease(std::string_view site_id, std::string_view holder) override;
  void put_tag_priority(std::string_view id_tag, int priority) override;
  bool delete_tag_priority(std::string_view id_tag) override;
  std::vector<smart::TagPriority> tag_priorities() override;
  std::vector<smart::SiteDeparture> site_departures() override;
  void forget_departure(std::string_view charge_point_id, std::string_view left_at) override;

  // The highest migration applied to this database.
  int schema_version() override;

  csms::FirmwareStore& firmware_store() override;

 private:
  // The site reads without a transaction of their own (the caller's).
  std::vector<smart::SiteMember> read_members(std::string_view site_id);
  std::vector<smart::SiteSession> read_sessions(std::string_view site_id);
  std::vector<smart::SessionLimit> read_limits(std::string_view site_id);
  // Records that chargers left a site (the caller's transaction); `where` selects them.
  void record_departures(std::string_view site_id, std::string_view where, std::string_view charge_point_id);
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<csms::FirmwareStore> firmware_store_;
};

// Opens (creating the parent directory when missing) and, unless options.migrate is
// false, migrates a SQLite database.
std::unique_ptr<SqliteStore> open_sqlite_store(const std::string& path,
                                               SqliteOptions options = {});

}  // namespace genx::store
