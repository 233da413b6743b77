#pragma once
// Opening a listening socket the way every GenX server does (gateway, api, notifier, the
// per-role ops endpoint): resolve the bind address, reuse_address, bind with an error
// that names the server and the address, listen.
//
// Included only by the servers' .cpp files (it brings Asio's TCP header with it).
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

namespace genx::net {

// Throws std::runtime_error("invalid bind address X") or
// "<who> cannot listen on X:PORT: <reason>[ (<hint>)]".
void listen_on(boost::asio::ip::tcp::acceptor& acceptor, const std::string& bind_address, int port,
               std::string_view who, std::string_view hint = {});

}  // namespace genx::net
