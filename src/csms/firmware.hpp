#pragma once
// Firmware management (OCPP 1.6 Firmware Management profile and the security extension's
// signed updates; docs/firmware.md): what a charger's firmware status means for the update
// GenX asked for, what an operator's campaign must hold, the request each target is sent,
// and the firmware.* events. Pure: JSON in, values out, no I/O; thread-safe.
//
// Life of a campaign target (the charger in a campaign):
//   Pending -> Sent (UpdateFirmware / SignedUpdateFirmware on its way or answered)
//           -> Downloading -> Downloaded -> Installing -> Installed
//   or a failure: DownloadFailed, InstallationFailed (reported by the charger),
//   Rejected (a CALLERROR, or a SignedUpdateFirmware answered other than Accepted),
//   Offline (no gateway holds the charger), Timeout (no answer to the request within the
//   command timeout, or no Installed within the campaign's timeoutSeconds);
//   Cancelled (still Pending when the campaign was cancelled).
// At most maxConcurrent targets of a campaign are Sent..Installing at once. A failed
// target goes back to Pending on retry.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "messages/envelope.hpp"

namespace genx::csms {

// Sent, Downloading, Downloaded, Installing: counted against maxConcurrent.
bool firmware_target_in_progress(std::string_view status);
// DownloadFailed, InstallationFailed, Rejected, Offline, Timeout: what retry resets.
bool firmware_target_failed(std::string_view status);
// The campaign step a charger's FirmwareStatus (1.6 or signed) stands for; nullopt for
// Idle (nothing going on) and words that say nothing about progress.
std::optional<std::string> firmware_target_step(std::string_view charger_status);

// What an operator asks for: POST /api/firmware/campaigns
// {name?, location, retrieveDate?, retries?, retryInterval?, installDate?, maxConcurrent?,
//  timeoutSeconds?, chargePointIds? | model?, signed?, signingCertificate?, signature?}.
struct FirmwareCampaignRequest {
  std::string name;
  std::string location;
  std::optional<std::string> retrieve_date;  // canonical; nullopt: when sent
  std::optional<std::int64_t> retries;
  std::optional<std::int64_t> retry_interval;
  std::optional<std::string> install_date;  // signed only
  bool is_signed = false;
  std::optional<std::string> signing_certificate;
  std::optional<std::string> signature;
  std::int64_t max_concurrent = 1;
  std::int64_t timeout_s = 3600;
  std::vector<std::string> charge_point_ids;  // explicit targets, or
  std::optional<std::string> model;           // every charger of this chargePointModel
};

// The request, or the error for HTTP 400 naming the field.
std::variant<FirmwareCampaignRequest, std::string> parse_firmware_campaign(const nlohmann::json& body);

// One target's request as the campaign runner sends it.
struct FirmwareSend {
  std::int64_t campaign_id = 0;
  std::int64_t target_id = 0;  // the requestId of a SignedUpdateFirmware
  std::string charge_point_id;
  std::string location;
  std::optional<std::string> retrieve_date;
  std::optional<std::int64_t> retries;
  std::optional<std::int64_t> retry_interval;
  bool is_signed = false;
  std::optional<std::string> signing_certificate;
  std::optional<std::string> signature;
  std::optional<std::string> install_date;
  // The target is an OCPP 2.0.1 station: its UpdateFirmware has the form of 1.6's
  // SignedUpdateFirmware (requestId, firmware {location, retrieveDateTime, ...}), the
  // signing certificate and signature only for a signed campaign, and answers a status.
  bool v201 = false;
};
// UpdateFirmware | SignedUpdateFirmware (1.6), UpdateFirmware (2.0.1).
std::string firmware_send_action(const FirmwareSend& send);
// Whether the target is told its requestId and answers with a status (signed or 2.0.1).
bool firmware_send_has_request_id(const FirmwareSend& send);
// Valid against UpdateFirmware.json / SignedUpdateFirmware.json (2.0.1: its
// UpdateFirmware); retrieveDate `now` when unset.
nlohmann::json firmware_send_payload(const FirmwareSend& send, std::string_view now);

// An UpdateFirmware / SignedUpdateFirmware request with what the charger answered
// (passthrough or campaign): kept as the charger's latest request.
struct FirmwareRequest {
  std::string action;
  std::string location;
  std::optional<std::string> retrieve_date;
  std::optional<std::int64_t> request_id;
  std::string answer;  // Accepted (UpdateFirmware's empty answer), the signed status, or the failure
  std::optional<std::int64_t> campaign_id;
};
// The request an answered passthrough command made; nullopt for other actions.
std::optional<FirmwareRequest> firmware_request(std::string_view action, const nlohmann::json& request,
                                                const nlohmann::json& response);

// firmware.campaign.changed: {campaignId, status, counts, chargePointId?, targetStatus?}.
// eventId "firmware-campaign/{id}/{updatedAt}/{chargePointId or campaign}/{status}".
messages::DomainEvent firmware_campaign_event(const nlohmann::json& campaign, std::string_view charge_point_id,
                                              std::string_view target_status);

// ---- ports ----

// What the worker's unit of work (csms::UnitOfWork::firmware) records, in the same
// transaction as the message it comes from. Effects commute: a status applies only when
// it was received after the stored one (telemetry may be processed out of order).
struct FirmwareStatusRecorded {
  std::optional<std::string> previous_status;
  bool applied = false;  // newest status of the charger
  // The campaign target the status advanced, if any.
  std::optional<std::int64_t> campaign_id;
  std::optional<std::string> previous_target_status;
  std::optional<std::string> target_status;
  nlohmann::json campaign;  // the campaign summary after, when campaign_id
};
struct FirmwareBootRecorded {
  std::string status;  // the charger's latest firmware status (Installing, Installed, ...)
  std::string firmware_version;
  std::string target_status;  // when campaign_id
  std::optional<std::int64_t> campaign_id;
  nlohmann::json campaign;  // the campaign summary after, when campaign_id
};
class FirmwareUnit {
 public:
  virtual ~FirmwareUnit() = default;
  // A FirmwareStatusNotification / SignedFirmwareStatusNotification received at `at`.
  virtual FirmwareStatusRecorded record_firmware_status(std::string_view charge_point_id, std::string_view action,
                                                        std::string_view status, std::optional<std::int64_t> request_id,
                                                        std::string_view at) = 0;
  // A BootNotification: when the latest status is Installing/InstallRebooting/Installed
  // and no version was recorded since the request, its firmwareVersion is the one the
  // update installed. nullopt when nothing was recorded.
  virtual std::optional<FirmwareBootRecorded> record_firmware_boot(std::string_view charge_point_id,
                                                                   std::string_view firmware_version,
                                                                   std::string_view at) = 0;
};

// A campaign the store refused to create or change: HTTP status and message.
struct FirmwareRefusal {
  int status = 400;
  std::string message;
};

// The api's and the campaign runner's port (implemented by each backend in store/).
// Each call is one transaction; TransientStoreError when the database is busy or away.
// One object per thread. Documents are the api's JSON (docs/firmware.md).
class FirmwareStore {
 public:
  virtual ~FirmwareStore() = default;
  virtual void record_firmware_request(std::string_view charge_point_id, const FirmwareRequest& request,
                                       std::string_view now) = 0;
  // {chargePointId, firmwareVersion, status, statusAt, request, installedVersion,
  //  installedAt, campaign, history:[...]}; nullopt when the charger is unknown.
  virtual std::optional<nlohmann::json> firmware_document(std::string_view charge_point_id, int history_limit) = 0;
  virtual std::variant<nlohmann::json, FirmwareRefusal> create_campaign(const FirmwareCampaignRequest& request,
                                                                        std::string_view now) = 0;
  virtual nlohmann::json list_campaigns(int limit) = 0;  // newest first, without targets
  virtual std::optional<nlohmann::json> campaign(std::int64_t id) = 0;  // with targets
  // Failed targets (all, or those in `only`) back to Pending; the campaign Running again.
  virtual std::variant<nlohmann::json, FirmwareRefusal> retry_campaign(std::int64_t id,
                                                                       const std::vector<std::string>& only,
                                                                       std::string_view now) = 0;
  // Pending targets Cancelled, the campaign Cancelled (in-progress ones are still tracked).
  virtual std::variant<nlohmann::json, FirmwareRefusal> cancel_campaign(std::int64_t id, std::string_view now) = 0;

  // ---- the campaign runner (one at a time: it holds the lease) ----
  // Times out overdue targets, claims up to each Running campaign's free slots of
  // Pending targets (now Sent), completes campaigns with nothing left to do. Returns the
  // requests to send; changed_campaigns gets the ids of campaigns that changed.
  virtual std::vector<FirmwareSend> claim_firmware_sends(std::int64_t now_ms, std::string_view now,
                                                         std::vector<std::int64_t>& changed_campaigns) = 0;
  // What became of a send: "Accepted" keeps the target Sent; a failure status (Rejected,
  // Offline, Timeout) with its detail ends it when it is still Sent. Records the request
  // on the charger too.
  virtual void record_firmware_answer(const FirmwareSend& send, std::string_view outcome, std::string_view detail,
                                      std::string_view now) = 0;
};

}  // namespace genx::csms
