#pragma once
// The CSMS business rules for OCPP 2.0.1 station-to-CSMS calls (docs/ocpp201.md),
// beside the 1.6 rules of processor.cpp: the same data model (a 2.0.1 station is a
// charger, an EVSE is a connector, a 2.0.1 transaction is a transaction row that keeps
// the station's string transactionId), the same billing and events. Pure: works against
// the unit of work the processor hands in, never throws but for the store's own errors
// and nlohmann::json errors on payloads that are not schema-valid (the processor turns
// those into a CALLERROR).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "csms/envelope.hpp"
#include "csms/write_store.hpp"

namespace genx::csms {

struct Policy;

// What a 2.0.1 rule needs from the processor's unit of work: the message, the store, the
// clock and the processor's shared helpers (events, warnings, billing, the 1.6 idTagInfo
// the 2.0.1 IdTokenInfo is made from). One object per message.
class V201Context {
 public:
  virtual ~V201Context() = default;
  virtual UnitOfWork& uow() = 0;
  virtual const Envelope& envelope() const = 0;
  virtual const Policy& policy() const = 0;
  virtual std::int64_t charger_id() const = 0;
  virtual std::int64_t received_ms() const = 0;
  virtual const std::string& received_at() const = 0;
  virtual const std::string& now() const = 0;
  virtual void emit(std::string type, nlohmann::json fields) = 0;
  virtual void warn(std::string text) = 0;
  // The 1.6 idTagInfo for a token (stored status, expiry, unknown-token policy).
  virtual nlohmann::json id_tag_info(const std::string& id_tag) = 0;
  // Sets stop.energy_wh / cost_minor / currency from the transaction's register readings
  // and the charger's tariff.
  virtual void bill(const TransactionRecord& transaction, TransactionStop& stop) = 0;
  // charging.stopped and transaction.completed for a stop.
  virtual void stopped_events(const TransactionRecord& transaction, const TransactionStop& stop) = 0;
  // transaction.completed alone, for figures restated after the stop.
  virtual void completed_event(const TransactionRecord& transaction, const TransactionStop& stop) = 0;
  // A transaction's start named a reservation: it is used (reservation.used), or a
  // warning says why not.
  virtual void use_reservation(std::int64_t reservation_id, std::int64_t transaction_id) = 0;
  // A LogStatusNotification (the same payload in 1.6's security extension and 2.0.1) moves
  // the log request GenX made (docs/diagnostics.md); a SecurityEventNotification (also
  // the same payload) announces security.event.
  virtual void log_status() = 0;
  virtual void security_event() = 0;
  // A FirmwareStatusNotification sets the charger's firmware status and moves the update
  // GenX asked for (the same rules for both versions); a boot records
  // the version an update installed (docs/firmware.md), as for 1.6.
  virtual void firmware_status() = 0;
  virtual void firmware_boot(const std::optional<std::string>& version) = 0;
  // SignCertificate's answer for the station's CSR (docs/security.md): Accepted when the
  // CSMS-side CA will sign it (the worker then sends CertificateSigned), else Rejected
  // with the reason logged and certificate.rejected announced.
  virtual nlohmann::json sign_certificate() = 0;
};

// The CALLRESULT payload or CALLERROR for one 2.0.1 call.
Reply dispatch_v201(V201Context& context);

}  // namespace genx::csms
