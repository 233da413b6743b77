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

// ---- node lists (RABBITMQ_URL for a cluster) --------------------------------------

using genx::broker::BrokerNode;
using genx::broker::NodeRotation;
using genx::broker::parse_amqp_urls;

std::vector<std::string> node_names(const ConnectionSettings& s) {
  std::vector<std::string> out;
  for (const auto& n : s.nodes) out.push_back(genx::broker::describe(n));
  return out;
}

TEST(AmqpUrlList, OneUrlIsOneNodeInHostAndPort) {
  const auto s = parse_amqp_urls("amqp://u@h1:5690/v");
  EXPECT_TRUE(s.nodes.empty()) << "one node: the client uses host and port";
  EXPECT_EQ(s.host, "h1");
  EXPECT_EQ(s.port, 5690);
  EXPECT_EQ(s.vhost, "v");
}

TEST(AmqpUrlList, FullUrlsShareTheLoginWrittenOnAnyNode) {
  ConnectionSettings defaults;
  defaults.password = "from-file";
  defaults.vhost = "default-vhost";
  const auto s = parse_amqp_urls("amqp://u@h1:5672,amqp://u@h2:5673/vhost", defaults);
  EXPECT_EQ(node_names(s), (std::vector<std::string>{"h1:5672", "h2:5673"}));
  EXPECT_EQ(s.host, "h1");
  EXPECT_EQ(s.port, 5672);
  EXPECT_EQ(s.username, "u");
  EXPECT_EQ(s.password, "from-file");  // RABBITMQ_PASSWORD_FILE
  EXPECT_EQ(s.vhost, "vhost");         // written once, on the last node
}

TEST(AmqpUrlList, ShortNodesTakeTheFirstNodesSchemeAndDefaultPort) {
  const auto s = parse_amqp_urls(" amqps://u@h1 , h2:5681 ,[::1],h4/%2F?heartbeat=7");
  EXPECT_TRUE(s.tls);
  EXPECT_EQ(node_names(s), (std::vector<std::string>{"h1:5671", "h2:5681", "[::1]:5671", "h4:5671"}));
  EXPECT_EQ(s.vhost, "/");
  EXPECT_EQ(s.heartbeat_seconds, 7);
}

void expect_invalid_list(const std::string& text, const std::string& fragment) {
  try {
    parse_amqp_urls(text);
    ADD_FAILURE() << text << " was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << text << ": " << e.what();
  }
}

TEST(AmqpUrlList, ErrorsNameTheNodeAndTheProblem) {
  expect_invalid_list("amqp://h1,,h3", "node 2 of 3 is empty");
  expect_invalid_list("amqp://h1,", "node 2 of 2 is empty");
  expect_invalid_list(",amqp://h1", "node 1 of 2 is empty");
  expect_invalid_list("h1,amqp://h2", "node 1 of 2: missing scheme");
  expect_invalid_list("amqp://h1,h2:99999", "node 2 of 2: bad port '99999'");
  expect_invalid_list("amqp://h1,http://h2", "node 2 of 2: unsupported scheme 'http'");
  expect_invalid_list("amqp://h1,amqps://h2", "node 2 uses another scheme");
  expect_invalid_list("amqp://a@h1,b@h2", "disagree on the user name (node 2 differs)");
  expect_invalid_list("amqp://h1/x,h2/y", "disagree on the vhost");
  expect_invalid_list("amqp://u:p@h1,u:q@h2", "disagree on the password");
  expect_invalid_list("amqp://h1?heartbeat=5,h2?heartbeat=6", "disagree on the heartbeat");
  expect_invalid_list("amqp://h1:5672,h2,h1", "node 3 (h1:5672) is listed twice");
  expect_invalid_list("amqp://h1,h2?frame_max=1", "node 2 of 2: unknown query parameter 'frame_max'");
}

TEST(AmqpUrlList, PasswordsNeverAppearInErrors) {
  try {
    parse_amqp_urls("amqp://u:hunter2@h1,u:other@h2");
    ADD_FAILURE() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("other"), std::string::npos) << e.what();
  }
}

TEST(NodeRotation, StartsAtTheFirstAndMovesRoundRobin) {
  NodeRotation r({{"a", 1}, {"b", 2}, {"c", 3}});
  EXPECT_EQ(r.current().host, "a");
  EXPECT_EQ(r.next().host, "b");
  EXPECT_EQ(r.current().host, "b");
  EXPECT_EQ(r.next().host, "c");
  EXPECT_EQ(r.next().host, "a");  // wraps around
  EXPECT_EQ(r.index(), 0u);
  EXPECT_EQ(r.size(), 3u);
}

TEST(NodeRotation, OneNodeStaysOnIt) {
  NodeRotation r({{"only", 5672}});
  EXPECT_EQ(r.next().host, "only");
  EXPECT_EQ(r.next().port, 5672);
}

TEST(NodeRotation, NoNodeIsRefused) { EXPECT_THROW(NodeRotation({}), std::invalid_argument); }
