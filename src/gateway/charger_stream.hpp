#pragma once
// ChargerStream: one charger's byte stream, plain TCP (ws://) or TLS (wss://), behind
// one concrete type, so the session code (gateway.cpp) is written once and the TLS
// templates are compiled in tls_listener.cpp only. It models Asio's AsyncReadStream and
// AsyncWriteStream, and Beast's websocket teardown and close_socket hooks, so
// http::async_read and websocket::stream<ChargerStream> work on it.
//
// Price of the type erasure: each read_some / write_some allocates its completion
// once; the handler's associated executor is not used — completions run on the
// stream's executor, which is right for the gateway's one I/O thread (no strands).
// Reads fill the first non-empty buffer of a sequence, writes take at most 8 buffers
// per call (both allowed by read_some / write_some semantics).
//
// Include only from gateway sources: it brings Beast and Asio.
#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace genx::gateway {

// A move-only, type-erased completion handler, called at most once.
template <class... Args>
class ErasedCompletion {
 public:
  ErasedCompletion() = default;
  template <class Handler, class = std::enable_if_t<!std::is_same_v<std::decay_t<Handler>, ErasedCompletion>>>
  explicit ErasedCompletion(Handler&& handler)
      : holder_(std::make_unique<Holder<std::decay_t<Handler>>>(std::forward<Handler>(handler))) {}
  void operator()(Args... args) {
    auto holder = std::move(holder_);
    holder->call(std::move(args)...);
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void call(Args... args) = 0;
  };
  template <class Handler>
  struct Holder final : Base {
    explicit Holder(Handler&& h) : handler(std::move(h)) {}
    explicit Holder(const Handler& h) : handler(h) {}
    void call(Args... args) override { std::move(handler)(std::move(args)...); }
    Handler handler;
  };
  std::unique_ptr<Base> holder_;
};

using IoCompletion = ErasedCompletion<boost::beast::error_code, std::size_t>;
using TeardownCompletion = ErasedCompletion<boost::beast::error_code>;

// Up to 8 buffers of one gathered write.
struct WriteBuffers {
  std::array<boost::asio::const_buffer, 8> items{};
  std::size_t count = 0;
  const boost::asio::const_buffer* begin() const { return items.data(); }
  const boost::asio::const_buffer* end() const { return items.data() + count; }
};

// What the transport proved about the peer.
struct PeerInfo {
  bool tls = false;
  // The subject CN of a client certificate whose chain the TLS handshake verified.
  std::optional<std::string> client_certificate_cn;
};

class ChargerTransport {
 public:
  virtual ~ChargerTransport() = default;
  virtual boost::beast::tcp_stream& tcp() = 0;
  virtual void read_some(boost::asio::mutable_buffer buffer, IoCompletion done) = 0;
  virtual void write_some(const WriteBuffers& buffers, IoCompletion done) = 0;
  // The transport's part of a WebSocket close (TLS close_notify, TCP shutdown).
  virtual void teardown(boost::beast::role_type role, TeardownCompletion done) = 0;
  const PeerInfo& peer() const { return peer_; }

 protected:
  PeerInfo peer_;
};

std::unique_ptr<ChargerTransport> make_plain_transport(boost::asio::ip::tcp::socket socket);

class ChargerStream {
 public:
  using executor_type = boost::asio::any_io_executor;

  explicit ChargerStream(std::unique_ptr<ChargerTransport> transport) : transport_(std::move(transport)) {}

  executor_type get_executor() { return transport_->tcp().get_executor(); }
  const PeerInfo& peer() const { return transport_->peer(); }
  boost::asio::ip::tcp::socket& socket() { return transport_->tcp().socket(); }
  void expires_after(std::chrono::steady_clock::duration d) { transport_->tcp().expires_after(d); }
  void expires_never() { transport_->tcp().expires_never(); }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
         ++it) {
      first = *it;
      if (first.size() != 0) break;
    }
    return boost::asio::async_initiate<ReadHandler, void(boost::beast::error_code, std::size_t)>(
        [this](auto&& h, boost::asio::mutable_buffer b) {
          transport_->read_some(b, IoCompletion(std::forward<decltype(h)>(h)));
        },
        handler, first);
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    WriteBuffers list;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && list.count < list.items.size(); ++it) {
      boost::asio::const_buffer b = *it;
      if (b.size() != 0) list.items[list.count++] = b;
    }
    return boost::asio::async_initiate<WriteHandler, void(boost::beast::error_code, std::size_t)>(
        [this](auto&& h, const WriteBuffers& l) {
          transport_->write_some(l, IoCompletion(std::forward<decltype(h)>(h)));
        },
        handler, list);
  }

  // Beast hooks, found by argument-dependent lookup.
  friend void beast_close_socket(ChargerStream& stream) {
    boost::beast::error_code ignored;
    stream.socket().close(ignored);
  }
  template <class TeardownHandler>
  friend void async_teardown(boost::beast::role_type role, ChargerStream& stream, TeardownHandler&& handler) {
    stream.transport_->teardown(role, TeardownCompletion(std::forward<TeardownHandler>(handler)));
  }
  friend void teardown(boost::beast::role_type, ChargerStream& stream, boost::beast::error_code& ec) {
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    stream.socket().close(ec);
  }

 private:
  std::unique_ptr<ChargerTransport> transport_;
};

}  // namespace genx::gateway
