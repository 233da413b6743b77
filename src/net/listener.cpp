#include "net/listener.hpp"

#include <stdexcept>

namespace genx::net {

void listen_on(boost::asio::ip::tcp::acceptor& acceptor, const std::string& bind_address, int port,
               std::string_view who, std::string_view hint) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(bind_address, ec);
  if (ec) throw std::runtime_error("invalid bind address " + bind_address);
  boost::asio::ip::tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol());
  acceptor.set_option(boost::asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint, ec);
  if (ec) {
    std::string message = std::string(who) + " cannot listen on " + bind_address + ":" + std::to_string(port) +
                          ": " + ec.message();
    if (!hint.empty()) message += " (" + std::string(hint) + ")";
    throw std::runtime_error(message);
  }
  acceptor.listen(boost::asio::socket_base::max_listen_connections);
}

}  // namespace genx::net
