#pragma once
// The TLS side of the gateway (wss://, OCPP security profiles 2 and 3): the server
// context built from files named in the configuration, and the TLS handshake of each
// accepted socket. Include only from gateway sources (brings Asio through
// charger_stream.hpp; the OpenSSL and Beast SSL templates stay in tls_listener.cpp).
//
// - TLS 1.2 and newer only; the TLS 1.2 cipher list is configurable (TLS 1.3 uses
//   OpenSSL's defaults); no compression, no renegotiation, server cipher preference.
// - With a client CA file: the server asks every client for a certificate; one that is
//   presented must chain to that CA (else the handshake fails, logged with the reason
//   and the certificate's subject); none is fine here (profile 2 chargers have none —
//   the profile check after the HTTP request refuses a profile 3 charger without one).
// - reload(): builds a new context from the same files; new handshakes use it,
//   connections made before keep theirs (never dropped). A reload that fails (missing
//   file, key not matching the certificate) keeps the old context and throws.
// Thread-safety: reload() may run on any thread, handshake() on the I/O thread.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "gateway/charger_stream.hpp"

namespace genx::gateway {

struct TlsFiles {
  std::string certificate_chain_file;  // PEM: server certificate, then intermediates
  std::string private_key_file;        // PEM
  std::string client_ca_file;          // PEM CA(s) for client certificates; empty = none asked
  std::string ciphers;                 // OpenSSL cipher list for TLS 1.2
};

inline constexpr const char* kDefaultTlsCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

class TlsServer {
 public:
  explicit TlsServer(TlsFiles files);  // loads the files; throws std::runtime_error naming the problem
  ~TlsServer();
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  void reload();
  // A short description of the certificate in use (subject, expiry), for logs.
  std::string describe() const;

  // Runs the server side of the TLS handshake on socket within `timeout`; done gets the
  // transport, or nullptr when the handshake failed (already logged).
  void handshake(boost::asio::ip::tcp::socket socket, std::chrono::steady_clock::duration timeout,
                 std::function<void(std::unique_ptr<ChargerTransport>)> done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace genx::gateway
