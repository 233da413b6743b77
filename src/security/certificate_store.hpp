#pragma once
// The security extension's port (docs/security.md "Charger certificates and security
// events"): security events per charger, the certificates GenX's CA signed, the
// certificates a charger reported installed. Implemented per backend in
// store/{sqlite,postgres}/*_certificates.cpp, opened by store::open_certificate_store.
// Used by the ocpp-worker (events, signing) and the api (routes). Errors: csms's
// TransientStoreError when the database is busy or away. One object per thread.
// Timestamps are canonical ISO 8601 UTC text.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace genx::security {

struct SecurityEvent {
  std::int64_t id = 0;
  std::string charge_point_id;
  std::string type;
  std::string timestamp;
  std::optional<std::string> tech_info;
  std::string source;      // "charger" (SecurityEventNotification) or "csms"
  std::string message_id;  // the OCPP uniqueId it came with
  std::string received_at;
};

struct SecurityEventFilter {
  std::optional<std::string> charger;
  std::optional<std::string> type;
  std::optional<std::string> from;  // timestamp >= from
  std::optional<std::string> to;    // timestamp < to
  int limit = 100;
  int offset = 0;
};

struct SecurityEventPage {
  std::vector<SecurityEvent> items;  // newest first (timestamp, then id)
  std::int64_t total = 0;            // matching the filter, without limit/offset
};

struct IssuedCertificate {
  std::int64_t id = 0;
  std::string charge_point_id;
  std::string request_id;
  std::string serial_number;
  std::string subject;
  std::string not_before;
  std::string not_after;
  std::string certificate_chain;
  std::string status;
  std::string created_at;
  std::string updated_at;
};

struct InstalledCertificate {
  std::string charge_point_id;
  std::string certificate_type;
  std::string hash_algorithm;
  std::string issuer_name_hash;
  std::string issuer_key_hash;
  std::string serial_number;
  std::string updated_at;
};

nlohmann::json security_event_json(const SecurityEvent& event);
nlohmann::json issued_certificate_json(const IssuedCertificate& certificate, bool with_chain);
nlohmann::json installed_certificate_json(const InstalledCertificate& certificate);

class CertificateStore {
 public:
  virtual ~CertificateStore() = default;
  // Stores the event unless one with the same charger, message id and source is stored
  // (a redelivery); true when it stored it.
  virtual bool record_security_event(const SecurityEvent& event) = 0;
  virtual SecurityEventPage list_security_events(const SecurityEventFilter& filter) = 0;

  virtual std::optional<IssuedCertificate> find_issued(std::string_view charge_point_id,
                                                       std::string_view request_id) = 0;
  // Inserts it (id, created_at set); an existing one for the same request is returned
  // unchanged.
  virtual IssuedCertificate record_issued(const IssuedCertificate& certificate) = 0;
  virtual void set_issued_status(std::int64_t id, std::string_view status, std::string_view now) = 0;
  // Newest first.
  virtual std::vector<IssuedCertificate> list_issued(std::string_view charge_point_id) = 0;

  // What a GetInstalledCertificateIds answer listed for one type replaces what was known.
  virtual void replace_installed(std::string_view charge_point_id, std::string_view certificate_type,
                                 const std::vector<InstalledCertificate>& certificates, std::string_view now) = 0;
  virtual void add_installed(const InstalledCertificate& certificate) = 0;
  // Removes the certificate with this serial and issuer name hash (any type); true when one was.
  virtual bool remove_installed(std::string_view charge_point_id, std::string_view issuer_name_hash,
                                std::string_view serial_number) = 0;
  virtual std::vector<InstalledCertificate> list_installed(std::string_view charge_point_id) = 0;
};

}  // namespace genx::security
