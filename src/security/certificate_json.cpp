// The api's JSON forms of the security extension's records (security/certificate_store.hpp).
#include "security/certificate_store.hpp"

namespace genx::security {

using nlohmann::json;

json security_event_json(const SecurityEvent& e) {
  return json{{"id", e.id},
              {"chargePointId", e.charge_point_id},
              {"type", e.type},
              {"timestamp", e.timestamp},
              {"techInfo", e.tech_info ? json(*e.tech_info) : json(nullptr)},
              {"source", e.source},
              {"receivedAt", e.received_at}};
}

json issued_certificate_json(const IssuedCertificate& c, bool with_chain) {
  json out{{"id", c.id},
           {"chargePointId", c.charge_point_id},
           {"serialNumber", c.serial_number},
           {"subject", c.subject},
           {"notBefore", c.not_before},
           {"notAfter", c.not_after},
           {"status", c.status},
           {"createdAt", c.created_at},
           {"updatedAt", c.updated_at}};
  if (with_chain) out["certificateChain"] = c.certificate_chain;
  return out;
}

json installed_certificate_json(const InstalledCertificate& c) {
  return json{{"certificateType", c.certificate_type},
              {"certificateHashData",
               {{"hashAlgorithm", c.hash_algorithm},
                {"issuerNameHash", c.issuer_name_hash},
                {"issuerKeyHash", c.issuer_key_hash},
                {"serialNumber", c.serial_number}}},
              {"updatedAt", c.updated_at}};
}

}  // namespace genx::security
