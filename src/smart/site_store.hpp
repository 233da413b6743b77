#pragma once
// The port of smart charging (docs/smart-charging.md): sites, the chargers in
// them, the limits GenX sent and what the chargers answered, the per-site allocation
// lease. Implemented by each backend in store/ (SQLite, PostgreSQL).
//
// Promises of an implementation:
// - Each call is one database transaction; a call that returned is durable.
// - TransientStoreError (csms/store_error.hpp) when the database is busy, locked or
//   unreachable; nothing is then changed and the caller may retry.
// - acquire_site_lease is atomic across processes sharing the database: at any moment at
//   most one holder has an unexpired lease on a site.
// Thread-safety: an object is used by one thread at a time; open one per thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "csms/store_error.hpp"

namespace genx::smart {

struct SiteSettings {
  std::string id;
  std::string name;
  double max_current_a = 0;  // per phase
  int phases = 3;
  double min_current_a = 6;
  std::optional<double> max_power_w{};  // the grid limit in watts, when set (besides max_current_a)
};

// A charger in a site, with its own bounds and the TxDefaultProfile GenX keeps on it.
struct SiteMember {
  std::string charge_point_id;
  std::optional<double> max_current_a;  // nullopt: 32 A
  std::optional<double> min_current_a;  // nullopt: the site's
  int priority = 0;
  std::optional<double> default_limit_a;  // the TxDefaultProfile limit last sent
  std::string default_status = "none";    // what the charger answered (ProfileStatus text)
  // The charger's stored configuration ChargingScheduleAllowedChargingRateUnit, if known
  // ("Current", "Power", "Current,Power"): the unit its profiles are sent in.
  std::optional<std::string> allowed_rate_units{};
  std::string ocpp_version = "1.6";  // "2.0.1": profiles go out in the 2.0.1 form
};

// A running transaction on a charger of the site.
struct SiteSession {
  std::string charge_point_id;
  int connector_id = 1;
  std::int64_t transaction_id = 0;
  std::string started_at;
  std::optional<double> measured_a;  // latest Current.Import (highest phase), amperes
  std::string id_tag{};
  std::optional<int> tag_priority{};   // the id tag's priority (tag_priorities), when set
  std::string ocpp_transaction_id{};  // a 2.0.1 station's own transactionId ("" for 1.6)
};

// The TxProfile limit GenX last sent for a running transaction.
struct SessionLimit {
  std::string charge_point_id;
  int connector_id = 1;
  std::int64_t transaction_id = 0;
  double limit_a = 0;
  std::string status;  // ProfileStatus text: accepted, rejected, offline, pending
  std::string updated_at;
};

// A charging-profile command GenX sent and its answer.
struct ProfileRecord {
  std::string charge_point_id;
  int connector_id = 0;
  std::string action;  // SetChargingProfile, ClearChargingProfile, RemoteStartTransaction
  std::string source;  // "api" (an operator) or "site" (the allocation)
  nlohmann::json request;
  std::string status;  // the charger's status, or the outcome (timeout, offline, CallError code)
};

// A priority for the sessions of one id tag (over the charger's priority).
struct TagPriority {
  std::string id_tag;
  int priority = 0;
  std::string updated_at;
};

// A charger that left a site (taken out, moved to another, or its site deleted): the
// profiles GenX installed there are to be cleared.
struct SiteDeparture {
  std::string charge_point_id;
  std::string site_id;
  std::string left_at;
  std::string ocpp_version = "1.6";  // "" when GenX never saw the charger (nothing to clear)
  std::string now_in_site{};  // the site the charger is in now ("" when none)
};

// What the allocation needs of one site, read in one transaction (a consistent view).
struct SiteState {
  SiteSettings site;
  std::vector<SiteMember> members;
  std::vector<SiteSession> sessions;
  std::vector<SessionLimit> limits;
};

class SiteStore {
 public:
  virtual ~SiteStore() = default;

  // Creates or changes a site.
  virtual void put_site(const SiteSettings& site) = 0;
  virtual std::vector<SiteSettings> list_sites() = 0;
  virtual std::optional<SiteSettings> find_site(std::string_view site_id) = 0;
  // Deletes the site with its memberships and limits; false when there was none.
  virtual bool delete_site(std::string_view site_id) = 0;

  // Puts the charger in the site (taking it out of any other: a charger is in at most
  // one), keeping what GenX knows of its TxDefaultProfile when it stays in the same site.
  virtual void put_site_member(std::string_view site_id, const SiteMember& member) = 0;
  virtual bool delete_site_member(std::string_view site_id, std::string_view charge_point_id) = 0;
  virtual std::vector<SiteMember> site_members(std::string_view site_id) = 0;
  // The running transactions of the site's chargers, with their latest measured current.
  virtual std::vector<SiteSession> site_sessions(std::string_view site_id) = 0;
  // The TxProfile limits of the site's running transactions.
  virtual std::vector<SessionLimit> session_limits(std::string_view site_id) = 0;
  // The site with its members, sessions and limits as of one moment; nullopt when no site.
  virtual std::optional<SiteState> site_state(std::string_view site_id) = 0;

  virtual void set_default_limit(std::string_view charge_point_id, double limit_a, std::string_view status) = 0;
  virtual void set_session_limit(std::string_view site_id, const SessionLimit& limit) = 0;

  virtual void record_profile(const ProfileRecord& record) = 0;
  // {chargePointId, profiles:[{id, connectorId, action, source, chargingProfileId,
  // purpose, stackLevel, transactionId, limit, request, status, sentAt}]}, newest first.
  virtual nlohmann::json charging_profiles(std::string_view charge_point_id, int limit) = 0;

  // Priorities per id tag (-100..100): a session charging with the tag ranks by it.
  virtual void put_tag_priority(std::string_view id_tag, int priority) = 0;
  virtual bool delete_tag_priority(std::string_view id_tag) = 0;
  virtual std::vector<TagPriority> tag_priorities() = 0;

  // Chargers that left a site since their profiles were last cleared (delete_site_member,
  // delete_site and moving a charger to another site record one; putting it back in its
  // site forgets it). forget_departure removes the record when it is still the same.
  virtual std::vector<SiteDeparture> site_departures() = 0;
  virtual void forget_departure(std::string_view charge_point_id, std::string_view left_at) = 0;

  // Takes or renews the site's lease for `holder` until now + ttl; false when another
  // holder's lease has not expired.
  virtual bool acquire_site_lease(std::string_view site_id, std::string_view holder, std::int64_t now_ms,
                                  std::int64_t ttl_ms) = 0;
  virtual void release_site_lease(std::string_view site_id, std::string_view holder) = 0;
};

}  // namespace genx::smart
