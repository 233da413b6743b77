#include "gateway/charger_stream.hpp"

#include <boost/beast/websocket/teardown.hpp>

namespace genx::gateway {
namespace {

class PlainTransport final : public ChargerTransport {
 public:
  explicit PlainTransport(boost::asio::ip::tcp::socket socket) : stream_(std::move(socket)) {}
  boost::beast::tcp_stream& tcp() override { return stream_; }
  void read_some(boost::asio::mutable_buffer buffer, IoCompletion done) override {
    stream_.async_read_some(buffer, std::move(done));
  }
  void write_some(const WriteBuffers& buffers, IoCompletion done) override {
    stream_.async_write_some(buffers, std::move(done));
  }
  void teardown(boost::beast::role_type role, TeardownCompletion done) override {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream_, std::move(done));
  }

 private:
  boost::beast::tcp_stream stream_;
};

}  // namespace

std::unique_ptr<ChargerTransport> make_plain_transport(boost::asio::ip::tcp::socket socket) {
  return std::make_unique<PlainTransport>(std::move(socket));
}

}  // namespace genx::gateway
