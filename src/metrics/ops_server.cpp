#include "metrics/ops_server.hpp"

#include <atomic>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "net/listener.hpp"

namespace genx::metrics {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

class OpsSession : public std::enable_shared_from_this<OpsSession> {
 public:
  OpsSession(tcp::socket socket, std::function<HealthReport()>& health, Registry& registry)
      : stream_(std::move(socket)), health_(health), registry_(registry) {}

  void read() {
    request_ = {};
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->respond();
                     });
  }

 private:
  void respond() {
    std::string_view target(request_.target().data(), request_.target().size());
    target = target.substr(0, target.find('?'));
    response_ = {};
    response_.version(request_.version());
    response_.set(http::field::server, "genx");
    response_.set(http::field::cache_control, "no-store");
    if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      response_.result(http::status::method_not_allowed);
      response_.set(http::field::content_type, "application/json");
      response_.body() = R"({"error":"method not allowed"})";
    } else if (target == "/health") {
      HealthReport report;
      try {
        report = health_();
      } catch (const std::exception& e) {
        report.healthy = false;
        report.body["error"] = e.what();
      }
      report.body["status"] = report.healthy ? "healthy" : "unhealthy";
      response_.result(report.healthy ? http::status::ok : http::status::service_unavailable);
      response_.set(http::field::content_type, "application/json");
      response_.body() = report.body.dump();
    } else if (target == "/metrics") {
      response_.result(http::status::ok);
      response_.set(http::field::content_type, "text/plain; version=0.0.4");
      response_.body() = registry_.render();
    } else {
      response_.result(http::status::not_found);
      response_.set(http::field::content_type, "application/json");
      response_.body() = R"x({"error":"not found (try /health or /metrics)"})x";
    }
    if (request_.method() == http::verb::head) response_.body().clear();
    response_.keep_alive(request_.keep_alive());
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (self->response_.keep_alive()) {
                          self->read();
                        } else {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                        }
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::function<HealthReport()>& health_;
  Registry& registry_;
};

}  // namespace

struct OpsServer::Impl : std::enable_shared_from_this<OpsServer::Impl> {
  std::string bind_address;
  int port;
  std::function<HealthReport()> health;
  Registry& registry;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  std::atomic<bool> stopping{false};
  int bound_port = 0;

  Impl(std::string b, int p, std::function<HealthReport()> h, Registry& r)
      : bind_address(std::move(b)), port(p), health(std::move(h)), registry(r) {}

  void accept() {
    acceptor.async_accept(ioc, [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
      if (self->stopping) return;
      if (!ec) std::make_shared<OpsSession>(std::move(s), self->health, self->registry)->read();
      self->accept();
    });
  }
};

OpsServer::OpsServer(std::string bind_address, int port, std::function<HealthReport()> health,
                     Registry& registry)
    : impl_(std::make_shared<Impl>(std::move(bind_address), port, std::move(health), registry)) {}

OpsServer::~OpsServer() { stop(); }

void OpsServer::start() {
  auto& impl = *impl_;
  genx::net::listen_on(impl.acceptor, impl.bind_address, impl.port, "health/metrics endpoint",
                       "set GENX_HEALTH_PORT");
  impl.bound_port = impl.acceptor.local_endpoint().port();
  spdlog::info("health and metrics on http://{}:{}/health and /metrics", impl.bind_address,
               impl.bound_port);
  impl.accept();
  impl.thread = std::thread([self = impl_] { self->ioc.run(); });
}

void OpsServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  net::post(impl_->ioc, [impl = impl_] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->ioc.stop();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

int OpsServer::port() const { return impl_->bound_port; }

HttpResult http_get(const std::string& url, int timeout_ms, const std::string& authorization) {
  HttpResult result;
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    result.error = "only http:// URLs are supported: " + url;
    return result;
  }
  std::string rest = url.substr(kScheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  std::string host = authority;
  std::string port = "80";
  if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }

  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, authority);
  request.set(http::field::user_agent, "genx");
  if (!authorization.empty()) request.set(http::field::authorization, authorization);
  http::response<http::string_body> response;
  beast::error_code failure;

  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  resolver.async_resolve(host, port, [&](beast::error_code ec, tcp::resolver::results_type r) {
    if (ec) { failure = ec; return; }
    stream.async_connect(r, [&](beast::error_code ec2, const tcp::endpoint&) {
      if (ec2) { failure = ec2; return; }
      http::async_write(stream, request, [&](beast::error_code ec3, std::size_t) {
        if (ec3) { failure = ec3; return; }
        http::async_read(stream, buffer, response, [&](beast::error_code ec4, std::size_t) {
          if (ec4) failure = ec4;
        });
      });
    });
  });
  ioc.run_for(std::chrono::milliseconds(timeout_ms + 200));
  if (!ioc.stopped()) {
    result.error = "timed out";
    return result;
  }
  if (failure) {
    result.error = failure.message();
    return result;
  }
  result.status = static_cast<int>(response.result_int());
  result.body = std::move(response.body());
  return result;
}

}  // namespace genx::metrics
