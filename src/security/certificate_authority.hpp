#pragma once
// The CSMS-side certificate authority of the OCPP 1.6 security extension (docs/security.md
// "Charger certificates"): checks a charger's SignCertificate CSR and signs it with the CA
// key configured by GENX_CA_CERT_FILE / GENX_CA_KEY_FILE. Also the certificate hash data
// (OCPP CertificateHashDataType) of a PEM certificate, for the api's installed-certificate
// list. OpenSSL's libcrypto; no other I/O than reading the two files at load.
//
// Threading: a loaded CertificateAuthority is immutable; check() and sign() may run on
// any thread at once.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace genx::security {

struct CaSettings {
  std::string cert_file;     // PEM, the CA certificate (also what the gateway trusts)
  std::string key_file;      // PEM, its private key
  int validity_days = 365;   // of the certificates it signs
  std::string organization;  // when not empty, a CSR's O must be exactly this (whitepaper)
};

struct SignedCertificate {
  std::string chain_pem;      // the charger's certificate, then the CA's (CertificateSigned)
  std::string serial_number;  // hex, lower case, as OCPP's serialNumber
  std::string subject;        // one line, e.g. "O=My CPO, CN=CP-042"
  std::string not_before;     // ISO 8601 UTC
  std::string not_after;
};

// OCPP CertificateHashDataType: SHA256 of the issuer name (DER) and of the issuer key.
struct CertificateHashData {
  std::string hash_algorithm = "SHA256";
  std::string issuer_name_hash;  // hex
  std::string issuer_key_hash;   // hex
  std::string serial_number;     // hex
  std::string subject;
};

class CertificateAuthority {
 public:
  // Reads and checks both files (the key must match the certificate, which must be a CA);
  // throws std::runtime_error naming the file and the problem.
  static std::shared_ptr<const CertificateAuthority> load(const CaSettings& settings);
  ~CertificateAuthority();
  CertificateAuthority(const CertificateAuthority&) = delete;
  CertificateAuthority& operator=(const CertificateAuthority&) = delete;

  // nullopt when the CSR may be signed for this charge point: PEM, its signature valid,
  // its subject CN exactly charge_point_id, its O the configured organisation (when one
  // is). Otherwise why not, for the log and the security event.
  std::optional<std::string> check(std::string_view csr_pem, std::string_view charge_point_id) const;
  // Signs a CSR that check() accepted: a client certificate (CA:FALSE, digitalSignature,
  // clientAuth) with the CSR's subject and key, a random serial, valid from now (minus
  // five minutes for clock skew) for validity_days. The error text when it cannot.
  std::variant<SignedCertificate, std::string> sign(std::string_view csr_pem) const;
  const CaSettings& settings() const { return settings_; }

 private:
  struct Keys;
  CertificateAuthority(CaSettings settings, std::unique_ptr<Keys> keys);
  CaSettings settings_;
  std::unique_ptr<Keys> keys_;
};

// The hash data of a PEM certificate (its first certificate), or why it cannot be read.
// The issuer key hash is of the certificate's own key when it is self-signed (a root, as
// InstallCertificate installs), else nullopt for that field is not knowable: empty text.
std::variant<CertificateHashData, std::string> certificate_hash_data(std::string_view pem);

}  // namespace genx::security
