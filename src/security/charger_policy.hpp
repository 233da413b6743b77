#pragma once
// Who may open an OCPP connection (docs/security.md): the charger's security profile
// decides what the handshake must prove. Pure: no I/O, no OpenSSL types.
//
//   profile 0  nothing (unsecured; development and the behaviour before profiles)
//   profile 1  HTTP Basic auth: user = charge point id, the charger's password
//   profile 2  TLS (wss://) + HTTP Basic auth
//   profile 3  TLS with a client certificate that chains to the configured CA and whose
//              subject CN is the charge point id (no password)
//
// A charger is never accepted below its own profile (a profile 2/3 charger on ws:// is
// refused without looking at its password; profile 3 without a client certificate is
// refused). A client certificate, when presented, must name the charge point id
// whatever the profile. Unknown charge point ids have profile 0 (or the configured
// minimum, GATEWAY_MIN_SECURITY_PROFILE).
#include <optional>
#include <string>
#include <string_view>

namespace genx::security {

// What the database knows about one charger's security (store: charger_security).
struct ChargerSecurity {
  int profile = 0;
  std::optional<std::string> password_hash;  // encoded (password_hash.hpp)
};

struct BasicCredentials {
  std::string username;
  std::string password;
};

// "Basic BASE64(user:password)" (RFC 7617; the scheme is case-insensitive). nullopt when
// the header is not Basic or not decodable; the password may contain ':'.
std::optional<BasicCredentials> parse_basic_authorization(std::string_view header);

// True when the certificate subject's common name is exactly the charge point id
// (case-sensitive, as the id in the URL is).
bool common_name_matches(std::string_view common_name, std::string_view charge_point_id);

// What the connection showed at the handshake.
struct ConnectionFacts {
  std::string charge_point_id;                   // from the URL, decoded
  bool tls = false;                              // arrived on the TLS listener
  std::optional<std::string> client_certificate_cn;  // set only when the chain verified
  std::optional<std::string> authorization;      // the Authorization header, if any
};

struct Verdict {
  enum class Kind {
    kAccept,
    kCheckPassword,  // credentials parsed and aimed at this charger: verify them
    kUnauthorized,   // 401 + WWW-Authenticate: Basic (TLS, or profile 1)
    kForbidden,      // 403: a password would not help (transport or certificate)
  };
  Kind kind = Kind::kAccept;
  int profile = 0;                       // the effective profile
  std::string reason;                    // for the log and the response body; no secret
  std::optional<BasicCredentials> credentials;  // with kCheckPassword
};

// The decision before any password is checked. `security` is nullopt for a charger the
// database does not know.
Verdict evaluate_connection(const std::optional<ChargerSecurity>& security, int min_profile,
                            const ConnectionFacts& facts);

}  // namespace genx::security
