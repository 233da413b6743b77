#pragma once
// The security extension in the ocpp-worker (docs/security.md "Charger certificates and
// security events"): after the processor answered a charger's call,
//   - SecurityEventNotification: the event is stored per charger (security_events);
//   - SignCertificate answered Rejected: a security event of source "csms" is stored;
//   - SignCertificate answered Accepted: once that answer is on its way, the CSR is signed
//     with the CSMS-side CA on a thread of its own and sent to the charger as
//     CertificateSigned through the gateways (the command path, like the site allocation);
//     the certificate and the charger's answer are stored (issued_certificates) and
//     certificate.signed is published.
// Redeliveries are harmless: events are stored once per (charger, uniqueId), a CSR once
// per (charger, uniqueId) and only re-sent while the charger has not accepted it.
//
// Threading: record() on the worker's thread (it may throw TransientStoreError: the
// message then takes the worker's retry path); submit() from any thread; start() once,
// stop() before destruction.
#include <memory>
#include <optional>
#include <string>

#include "app/config.hpp"
#include "broker/broker_client.hpp"
#include "broker/topology.hpp"
#include "csms/processor.hpp"
#include "messages/envelope.hpp"
#include "security/certificate_authority.hpp"

namespace genx::worker {

// Adds the signer's reply queue (its CertificateSigned answers) to the worker's topology.
void add_certificate_signer_topology(const app::Config& config, broker::Topology& topology);

class CertificateSigner {
 public:
  // ca: nullptr when no CA is configured (nothing is ever signed).
  CertificateSigner(const app::Config& config, broker::BrokerClient& broker,
                    std::shared_ptr<const security::CertificateAuthority> ca);
  ~CertificateSigner();
  CertificateSigner(const CertificateSigner&) = delete;
  CertificateSigner& operator=(const CertificateSigner&) = delete;

  // Stores what this processed call teaches (see above). Returns the CSR to sign when the
  // call was a SignCertificate answered Accepted: pass it to submit() once the answer is
  // published.
  std::optional<std::string> record(const messages::Envelope& envelope, const csms::Outcome& outcome);
  // ocpp_version: "1.6" or "2.0.1", the form of the CertificateSigned sent.
  void submit(std::string charge_point_id, std::string request_id, std::string csr, std::string ocpp_version);

  void start();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace genx::worker
