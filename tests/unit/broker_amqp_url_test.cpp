#include <gtest/gtest.h>

#include <stdexcept>

#include "broker/broker_client.hpp"

using genx::broker::ConnectionSettings;
using genx::broker::parse_amqp_url;

TEST(AmqpUrl, PlainHostKeepsDefaultsForCredentialsAndVhost) {
  ConnectionSettings defaults;
  defaults.username = "env-user";
  defaults.password = "env-pass";
  defaults.vhost = "prod";
  const auto s = parse_amqp_url("amqp://localhost:5672", defaults);
  EXPECT_EQ(s.host, "localhost");
  EXPECT_EQ(s.port, 5672);
  EXPECT_FALSE(s.tls);
  EXPECT_EQ(s.username, "env-user");
  EXPECT_EQ(s.password, "env-pass");
  EXPECT_EQ(s.vhost, "prod");
}

TEST(AmqpUrl, CredentialsAndVhostAreDecoded) {
  const auto s = parse_amqp_url("amqp://us%40er:p%3Ass%2Fw@rabbit.example:5673/my%2Fvhost");
  EXPECT_EQ(s.username, "us@er");
  EXPECT_EQ(s.password, "p:ss/w");
  EXPECT_EQ(s.host, "rabbit.example");
  EXPECT_EQ(s.port, 5673);
  EXPECT_EQ(s.vhost, "my/vhost");
}

TEST(AmqpUrl, EscapedSlashIsTheRootVhost) {
  ConnectionSettings defaults;
  defaults.vhost = "other";
  EXPECT_EQ(parse_amqp_url("amqp://h/%2F", defaults).vhost, "/");
  EXPECT_EQ(parse_amqp_url("amqp://h/%2f", defaults).vhost, "/");
}

TEST(AmqpUrl, EmptyPathKeepsDefaultVhost) {
  ConnectionSettings defaults;
  defaults.vhost = "from-env";
  EXPECT_EQ(parse_amqp_url("amqp://h/", defaults).vhost, "from-env");
  EXPECT_EQ(parse_amqp_url("amqp://h", defaults).vhost, "from-env");
}

TEST(AmqpUrl, AmqpsDefaultsToTlsPort) {
  const auto s = parse_amqp_url("amqps://broker.example");
  EXPECT_TRUE(s.tls);
  EXPECT_EQ(s.port, 5671);
  const auto plain = parse_amqp_url("amqp://broker.example");
  EXPECT_FALSE(plain.tls);
  EXPECT_EQ(plain.port, 5672);
}

TEST(AmqpUrl, SchemeIsCaseInsensitive) { EXPECT_TRUE(parse_amqp_url("AMQPS://h").tls); }

TEST(AmqpUrl, UserWithoutPasswordKeepsDefaultPassword) {
  ConnectionSettings defaults;
  defaults.password = "secret";
  const auto s = parse_amqp_url("amqp://alice@h", defaults);
  EXPECT_EQ(s.username, "alice");
  EXPECT_EQ(s.password, "secret");
}

TEST(AmqpUrl, Ipv6Host) {
  const auto s = parse_amqp_url("amqp://[::1]:5690/v");
  EXPECT_EQ(s.host, "::1");
  EXPECT_EQ(s.port, 5690);
  EXPECT_EQ(s.vhost, "v");
}

TEST(AmqpUrl, QueryParameters) {
  const auto s = parse_amqp_url("amqp://h?heartbeat=10&connection_timeout=2500&connection_name=gw%20a");
  EXPECT_EQ(s.heartbeat_seconds, 10);
  EXPECT_EQ(s.connect_timeout.count(), 2500);
  EXPECT_EQ(s.connection_name, "gw a");
}

void expect_invalid(const std::string& url, const std::string& fragment) {
  try {
    parse_amqp_url(url);
    ADD_FAILURE() << url << " was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(AmqpUrl, ErrorsNameTheProblem) {
  expect_invalid("http://h", "scheme");
  expect_invalid("localhost:5672", "scheme");
  expect_invalid("amqp://h:notaport", "port");
  expect_invalid("amqp://h:0", "port");
  expect_invalid("amqp://h:65536", "port");
  expect_invalid("amqp://h:", "port");
  expect_invalid("amqp://h/a/b", "%2F");
  expect_invalid("amqp://h/%zz", "vhost");
  expect_invalid("amqp://u:%4@h", "password");
  expect_invalid("amqp://h?frame_max=1", "frame_max");
  expect_invalid("amqp://h?heartbeat=x", "heartbeat");
  expect_invalid("amqp://[::1", "IPv6");
}
