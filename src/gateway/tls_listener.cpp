#include "gateway/tls_listener.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <mutex>
#include <stdexcept>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <spdlog/spdlog.h>

namespace genx::gateway {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

std::string name_text(X509_NAME* name) {
  if (name == nullptr) return "?";
  char buf[512];
  X509_NAME_oneline(name, buf, sizeof buf);
  return buf;
}

// The subject's one common name, as UTF-8; nullopt when there is none, several, or one
// with an embedded NUL.
std::optional<std::string> common_name(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  if (subject == nullptr) return std::nullopt;
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, index) >= 0) return std::nullopt;
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return std::nullopt;
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  if (cn.find('\0') != std::string::npos) return std::nullopt;
  return cn;
}

// Why a client certificate was refused, noted by the verify callback for the log line.
// Kept in an ex_data slot of our own (Asio owns the SSL object's app data).
struct VerifyNote {
  std::string failure;
};

int verify_note_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::shared_ptr<ssl::context> build_context(const TlsFiles& files) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  auto fail = [](const std::string& what) { throw std::runtime_error(what + ": " + openssl_errors()); };
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) fail("cannot require TLS 1.2");
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                   ssl::context::single_dh_use);
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  const std::string ciphers = files.ciphers.empty() ? kDefaultTlsCiphers : files.ciphers;
  if (SSL_CTX_set_cipher_list(native, ciphers.c_str()) != 1) fail("GATEWAY_TLS_CIPHERS \"" + ciphers + "\"");
  if (SSL_CTX_use_certificate_chain_file(native, files.certificate_chain_file.c_str()) != 1) {
    fail("GATEWAY_TLS_CERT_FILE " + files.certificate_chain_file);
  }
  if (SSL_CTX_use_PrivateKey_file(native, files.private_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    fail("GATEWAY_TLS_KEY_FILE " + files.private_key_file);
  }
  if (SSL_CTX_check_private_key(native) != 1) fail("GATEWAY_TLS_KEY_FILE does not match GATEWAY_TLS_CERT_FILE");
  if (!files.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, files.client_ca_file.c_str(), nullptr) != 1) {
      fail("GATEWAY_TLS_CA_FILE " + files.client_ca_file);
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_file.c_str());
    if (names == nullptr) fail("GATEWAY_TLS_CA_FILE " + files.client_ca_file + " names no CA");
    SSL_CTX_set_client_CA_list(native, names);
    // Ask for a client certificate; verify one when presented; none is decided later
    // by the charger's profile.
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, [](int preverified, X509_STORE_CTX* store) -> int {
      if (preverified == 0) {
        auto* ssl_handle = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
        auto* note = ssl_handle ? static_cast<VerifyNote*>(SSL_get_ex_data(ssl_handle, verify_note_index())) : nullptr;
        if (note != nullptr && note->failure.empty()) {
          X509* cert = X509_STORE_CTX_get_current_cert(store);
          note->failure = std::string(X509_verify_cert_error_string(X509_STORE_CTX_get_error(store))) +
                          " (certificate " + (cert ? name_text(X509_get_subject_name(cert)) : "?") +
                          ", issuer " + (cert ? name_text(X509_get_issuer_name(cert)) : "?") + ")";
        }
      }
      return preverified;
    });
    static constexpr unsigned char kSessionContext[] = "genx-gateway";
    SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  }
  return ctx;
}

class TlsTransport final : public ChargerTransport {
 public:
  TlsTransport(tcp::socket socket, std::shared_ptr<ssl::context> ctx)
      : ctx_(std::move(ctx)), stream_(beast::tcp_stream(std::move(socket)), *ctx_) {
    peer_.tls = true;
    SSL_set_ex_data(stream_.native_handle(), verify_note_index(), &note_);
  }
  ~TlsTransport() override { SSL_set_ex_data(stream_.native_handle(), verify_note_index(), nullptr); }

  beast::tcp_stream& tcp() override { return beast::get_lowest_layer(stream_); }
  void read_some(net::mutable_buffer buffer, IoCompletion done) override {
    stream_.async_read_some(buffer, std::move(done));
  }
  void write_some(const WriteBuffers& buffers, IoCompletion done) override {
    stream_.async_write_some(buffers, std::move(done));
  }
  void teardown(beast::role_type role, TeardownCompletion done) override {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream_, std::move(done));
  }

  template <class Handler>
  void async_handshake(Handler&& handler) {
    stream_.async_handshake(ssl::stream_base::server, std::forward<Handler>(handler));
  }

  // After a successful handshake: the verified client certificate's CN, if any.
  void note_peer() {
    SSL* native = stream_.native_handle();
    X509* cert = SSL_get1_peer_certificate(native);
    if (cert == nullptr) return;
    if (SSL_get_verify_result(native) == X509_V_OK) peer_.client_certificate_cn = common_name(cert);
    X509_free(cert);
  }
  const std::string& verify_failure() const { return note_.failure; }

 private:
  std::shared_ptr<ssl::context> ctx_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  VerifyNote note_;
};

std::string certificate_summary(const std::shared_ptr<ssl::context>& ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx->native_handle());
  if (cert == nullptr) return "no certificate";
  std::string text = name_text(X509_get_subject_name(cert));
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio != nullptr) {
    ASN1_TIME_print(bio, X509_get0_notAfter(cert));
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    text += ", valid until " + std::string(data, static_cast<std::size_t>(n));
    BIO_free(bio);
  }
  return text;
}

}  // namespace

struct TlsServer::Impl {
  TlsFiles files;
  mutable std::mutex mutex;
  std::shared_ptr<ssl::context> context;  // guarded by mutex

  std::shared_ptr<ssl::context> current() const {
    std::lock_guard lock(mutex);
    return context;
  }
};

TlsServer::TlsServer(TlsFiles files) : impl_(std::make_shared<Impl>()) {
  impl_->files = std::move(files);
  impl_->context = build_context(impl_->files);
}

TlsServer::~TlsServer() = default;

void TlsServer::reload() {
  auto fresh = build_context(impl_->files);
  std::lock_guard lock(impl_->mutex);
  impl_->context = std::move(fresh);
}

std::string TlsServer::describe() const { return certificate_summary(impl_->current()); }

void TlsServer::handshake(tcp::socket socket, std::chrono::steady_clock::duration timeout,
                          std::function<void(std::unique_ptr<ChargerTransport>)> done) {
  beast::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  auto transport = std::make_unique<TlsTransport>(std::move(socket), impl_->current());
  transport->tcp().expires_after(timeout);
  auto* raw = transport.get();
  raw->async_handshake([transport = std::move(transport), done = std::move(done), remote](beast::error_code ec) mutable {
    if (ec) {
      if (!transport->verify_failure().empty()) {
        spdlog::warn("TLS handshake from {} refused: client certificate {}", remote.address().to_string(),
                     transport->verify_failure());
      } else {
        spdlog::info("TLS handshake from {} failed: {}", remote.address().to_string(), ec.message());
      }
      done(nullptr);
      return;
    }
    transport->note_peer();
    transport->tcp().expires_never();
    done(std::move(transport));
  });
}

}  // namespace genx::gateway
