#pragma once
// The CSMS business rules for OCPP 1.6 charger-to-CSMS calls. Pure: works against the
// WriteStore port and a Clock; no broker, no socket.
//
// process() handles one envelope as one unit of work (one database transaction):
// idempotent on (deviceId, uniqueId, action): a message seen before gets the stored
// reply and the stored events (same eventIds, same timestamp) and changes nothing. Bad business input becomes a CALLERROR/CALLRESULT value;
// TransientStoreError propagates (the caller retries); nothing else is expected to throw.
// Payloads are expected schema-valid (the gateway validates); a payload that is not
// (e.g. a replayed message) gets a CALLERROR reply, and only that reply is recorded.
// Events are returned, never published here: publish them after process() returns.
// Every event carries "eventId" = deviceId/uniqueId/action/type (stable across
// redeliveries of the same charger message), so consumers can count it exactly once.
// Charger ordering: process one charger's messages in the order the charger sent them.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "csms/envelope.hpp"
#include "csms/tariff.hpp"
#include "csms/write_store.hpp"

namespace genx::csms {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
};

enum class UnknownChargerPolicy { kAccept, kPending, kReject };
enum class UnknownTagPolicy { kAccept, kReject };

struct Policy {
  UnknownChargerPolicy unknown_charger = UnknownChargerPolicy::kAccept;
  UnknownTagPolicy unknown_tag = UnknownTagPolicy::kAccept;
  int heartbeat_interval_seconds = 300;
  int pending_retry_seconds = 60;  // BootNotification interval when Pending/Rejected
  Tariff tariff;                   // default; a per-charger override in the store wins
  // The CSMS-side CA's check of a SignCertificate CSR (security/certificate_authority.hpp):
  // nullopt when it may be signed for this charge point, else why not. Unset: no CA is
  // configured, every CSR is answered Rejected.
  std::function<std::optional<std::string>(std::string_view csr, std::string_view charge_point_id)> check_csr;
};

struct Outcome {
  Reply reply;
  std::vector<DomainEvent> events;  // publish after commit (again on a duplicate)
  std::string events_timestamp;     // the events' "timestamp": when first processed
  bool duplicate = false;           // answered from the idempotency store
  std::vector<std::string> warnings;  // odd but handled input, for the caller to log
};

class MessageProcessor {
 public:
  MessageProcessor(WriteStore& store, const Clock& clock, Policy policy);
  Outcome process(const Envelope& envelope);

 private:
  WriteStore& store_;
  const Clock& clock_;
  Policy policy_;
};

}  // namespace genx::csms
