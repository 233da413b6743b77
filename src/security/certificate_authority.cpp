#include "security/certificate_authority.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace genx::security {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string(what) + " " + path + ": cannot be read");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Bio memory_bio(std::string_view text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

std::string hex(const unsigned char* data, std::size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0xf]);
  }
  return out;
}

std::string sha256_hex(const unsigned char* data, std::size_t size) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(data, size, digest);
  return hex(digest, sizeof digest);
}

// The entries of `name` with this NID, as UTF-8 (the first one), or nullopt.
std::optional<std::string> name_entry(const X509_NAME* name, int nid) {
  const int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return std::nullopt;
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

std::string one_line(const X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string iso_time(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return "";
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

std::string serial_hex(const X509* cert) {
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return "";
  char* text = BN_bn2hex(bn.get());
  std::string out(text);
  OPENSSL_free(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // OpenSSL pads to whole bytes; OCPP compares serials as hex numbers: no leading zeros.
  const auto first = out.find_first_not_of('0');
  return first == std::string::npos ? "0" : out.substr(first);
}

std::string to_pem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

ReqPtr read_csr(std::string_view pem) {
  auto bio = memory_bio(pem);
  ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return req;
}

bool add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

struct CertificateAuthority::Keys {
  X509Ptr cert;
  KeyPtr key;
  std::string cert_pem;
};

CertificateAuthority::CertificateAuthority(CaSettings settings, std::unique_ptr<Keys> keys)
    : settings_(std::move(settings)), keys_(std::move(keys)) {}

CertificateAuthority::~CertificateAuthority() = default;

std::shared_ptr<const CertificateAuthority> CertificateAuthority::load(const CaSettings& settings) {
  auto keys = std::make_unique<Keys>();
  const std::string cert_text = read_file(settings.cert_file, "GENX_CA_CERT_FILE");
  const std::string key_text = read_file(settings.key_file, "GENX_CA_KEY_FILE");
  {
    auto bio = memory_bio(cert_text);
    keys->cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!keys->cert) {
    throw std::runtime_error("GENX_CA_CERT_FILE " + settings.cert_file + ": not a PEM certificate (" +
                             openssl_error() + ")");
  }
  {
    auto bio = memory_bio(key_text);
    keys->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!keys->key) {
    throw std::runtime_error("GENX_CA_KEY_FILE " + settings.key_file +
                             ": not an unencrypted PEM private key (" + openssl_error() + ")");
  }
  if (X509_check_private_key(keys->cert.get(), keys->key.get()) != 1) {
    ERR_clear_error();
    throw std::runtime_error("GENX_CA_KEY_FILE " + settings.key_file + " is not the key of GENX_CA_CERT_FILE " +
                             settings.cert_file);
  }
  if (X509_check_ca(keys->cert.get()) == 0) {
    throw std::runtime_error("GENX_CA_CERT_FILE " + settings.cert_file +
                             " is not a CA certificate (basicConstraints CA:TRUE is missing)");
  }
  if (settings.validity_days < 1) throw std::runtime_error("GENX_CA_CERT_DAYS must be at least 1");
  keys->cert_pem = to_pem(keys->cert.get());
  return std::shared_ptr<const CertificateAuthority>(new CertificateAuthority(settings, std::move(keys)));
}

std::optional<std::string> CertificateAuthority::check(std::string_view csr_pem,
                                                       std::string_view charge_point_id) const {
  auto req = read_csr(csr_pem);
  if (!req) return "the csr is not a PEM certificate signing request";
  KeyPtr key(X509_REQ_get_pubkey(req.get()));
  if (!key) return "the csr has no readable public key";
  if (X509_REQ_verify(req.get(), key.get()) != 1) {
    ERR_clear_error();
    return "the csr's signature does not verify";
  }
  const X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  const auto cn = name_entry(subject, NID_commonName);
  if (!cn) return "the csr has no subject CN (it must be the charge point id " + std::string(charge_point_id) + ")";
  if (*cn != charge_point_id) {
    return "the csr is for CN \"" + *cn + "\", not for this charge point (" + std::string(charge_point_id) + ")";
  }
  if (!settings_.organization.empty()) {
    const auto o = name_entry(subject, NID_organizationName);
    if (!o || *o != settings_.organization) {
      return "the csr's organisation (O) is \"" + o.value_or("") + "\", not \"" + settings_.organization + "\"";
    }
  }
  return std::nullopt;
}

std::variant<SignedCertificate, std::string> CertificateAuthority::sign(std::string_view csr_pem) const {
  auto req = read_csr(csr_pem);
  if (!req) return std::string("the csr is not a PEM certificate signing request");
  KeyPtr key(X509_REQ_get_pubkey(req.get()));
  if (!key) return std::string("the csr has no readable public key");
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  // A random positive 127-bit serial: unique without a counter shared by the workers.
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return "cannot make a serial number: " + openssl_error();
  }
  X509_set_issuer_name(cert.get(), X509_get_subject_name(keys_->cert.get()));
  X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(req.get()));
  X509_set_pubkey(cert.get(), key.get());
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), settings_.validity_days, 0, nullptr);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, keys_->cert.get(), cert.get(), nullptr, nullptr, 0);
  if (!add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature,keyAgreement") ||
      !add_extension(cert.get(), &ctx, NID_ext_key_usage, "clientAuth") ||
      !add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash") ||
      !add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid")) {
    return "cannot add the certificate's extensions: " + openssl_error();
  }
  if (X509_sign(cert.get(), keys_->key.get(), EVP_sha256()) == 0) return "cannot sign: " + openssl_error();
  SignedCertificate out;
  out.chain_pem = to_pem(cert.get()) + keys_->cert_pem;
  out.serial_number = serial_hex(cert.get());
  out.subject = one_line(X509_get_subject_name(cert.get()));
  out.not_before = iso_time(X509_get0_notBefore(cert.get()));
  out.not_after = iso_time(X509_get0_notAfter(cert.get()));
  return out;
}

std::variant<CertificateHashData, std::string> certificate_hash_data(std::string_view pem) {
  X509Ptr cert;
  {
    auto bio = memory_bio(pem);
    cert.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!cert) {
    ERR_clear_error();
    return std::string("not a PEM certificate");
  }
  CertificateHashData out;
  const X509_NAME* issuer = X509_get_issuer_name(cert.get());
  const unsigned char* der = nullptr;
  std::size_t der_size = 0;
  if (X509_NAME_get0_der(issuer, &der, &der_size) != 1) return std::string("unreadable issuer name");
  out.issuer_name_hash = sha256_hex(der, der_size);
  if (X509_check_issued(cert.get(), cert.get()) == X509_V_OK) {
    const ASN1_BIT_STRING* key = X509_get0_pubkey_bitstr(cert.get());
    if (key != nullptr) {
      out.issuer_key_hash =
          sha256_hex(ASN1_STRING_get0_data(key), static_cast<std::size_t>(ASN1_STRING_length(key)));
    }
  }
  out.serial_number = serial_hex(cert.get());
  out.subject = one_line(X509_get_subject_name(cert.get()));
  return out;
}

}  // namespace genx::security
