// Operations pieces that need no network: the Prometheus text rendering, the queue
// monitor's reading of a management API answer, the ops port layout and the settings.
#include <gtest/gtest.h>

#include "api/queue_monitor.hpp"
#include "app/config.hpp"
#include "runtime/ops.hpp"
#include "metrics/metrics.hpp"

using genx::metrics::Registry;

namespace {
genx::app::Variables env(std::initializer_list<std::pair<const std::string, std::string>> vars) {
  genx::app::Variables v(vars);
  v.emplace("GENX_ENV_FILE", "");
  return v;
}
}  // namespace

TEST(Metrics, CountersWithLabelsRenderInTheTextFormat) {
  Registry r;
  auto& calls = r.counter("genx_test_calls_total", "calls by action", {"action"});
  calls.with({"Heartbeat"}).inc();
  calls.with({"Heartbeat"}).inc(2);
  calls.with({"Boot\"Notification\\\n"}).inc();
  std::string text = r.render();
  EXPECT_NE(text.find("# HELP genx_test_calls_total calls by action\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE genx_test_calls_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("genx_test_calls_total{action=\"Heartbeat\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("genx_test_calls_total{action=\"Boot\\\"Notification\\\\\\n\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_THROW(calls.with({}), std::invalid_argument);
  EXPECT_THROW(calls.with({"x"}).inc(-1), std::invalid_argument);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry r;
  auto& h = r.histogram("genx_test_seconds", "latency", {"action"}, {0.1, 1});
  h.with({"A"}).observe(0.05);
  h.with({"A"}).observe(0.5);
  h.with({"A"}).observe(5);
  std::string text = r.render();
  EXPECT_NE(text.find("# TYPE genx_test_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("genx_test_seconds_bucket{action=\"A\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("genx_test_seconds_bucket{action=\"A\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("genx_test_seconds_bucket{action=\"A\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("genx_test_seconds_sum{action=\"A\"} 5.55\n"), std::string::npos);
  EXPECT_NE(text.find("genx_test_seconds_count{action=\"A\"} 3\n"), std::string::npos);
}

TEST(Metrics, CallbackGaugesAreReadAtRenderTime) {
  Registry r;
  double value = 1;
  r.add_callback("genx_test_connected", "connected", [&] { return value; });
  EXPECT_NE(r.render().find("genx_test_connected 1\n"), std::string::npos);
  value = 7;
  EXPECT_NE(r.render().find("genx_test_connected 7\n"), std::string::npos);
}

TEST(QueueMonitor, ReadsManagementAnswerForOurQueuesOnly) {
  auto answer = nlohmann::json::parse(R"([
    {"name":"ocpp_messages","messages":12,"messages_ready":10,"messages_unacknowledged":2,
     "consumers":4,"message_stats":{"publish":100,"publish_details":{"rate":5.5},
     "deliver_get":90,"deliver_get_details":{"rate":4.0},"ack":88,"ack_details":{"rate":3.5},
     "redeliver_details":{"rate":0.5}}},
    {"name":"ocpp_messages.dlq","messages":3,"consumers":0,
     "message_stats":{"publish":3,"publish_details":{"rate":0.25}}},
    {"name":"ocpp_messages.retry.1","messages":1,"consumers":0},
    {"name":"analytics.dlq","messages":0,"consumers":0,"arguments":{"x-max-length":500,"x-overflow":"drop-head"},
     "effective_policy_definition":{"max-length":200}},
    {"name":"someone_elses_queue","messages":999,"consumers":1},
    {"name":"ocpp_messages_other","messages":5,"consumers":1}
  ])");
  auto rows = genx::api::queues_from_management(answer, {"ocpp_messages", "analytics"});
  ASSERT_EQ(rows.size(), 4u) << rows.dump();
  const auto& main = rows[0];
  EXPECT_EQ(main["name"], "ocpp_messages");
  EXPECT_EQ(main["messages"], 12);
  EXPECT_EQ(main["messagesReady"], 10);
  EXPECT_EQ(main["unacked"], 2);
  EXPECT_EQ(main["consumers"], 4);
  EXPECT_DOUBLE_EQ(main["publishRate"].get<double>(), 5.5);
  EXPECT_DOUBLE_EQ(main["deliverRate"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(main["ackRate"].get<double>(), 3.5);
  EXPECT_DOUBLE_EQ(main["redeliverRate"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(main["errorRate"].get<double>(), 0.25) << "the rate its DLQ fills";
  EXPECT_EQ(main["acked"], 88);
  EXPECT_EQ(main["deadLetter"], false);
  EXPECT_TRUE(main["maxLength"].is_null()) << "no x-max-length";
  EXPECT_EQ(rows[1]["name"], "ocpp_messages.dlq");
  EXPECT_EQ(rows[1]["deadLetter"], true);
  EXPECT_DOUBLE_EQ(rows[1]["errorRate"].get<double>(), 0.25);
  EXPECT_EQ(rows[2]["name"], "ocpp_messages.retry.1");
  EXPECT_DOUBLE_EQ(rows[2]["publishRate"].get<double>(), 0.0) << "no message_stats yet";
  EXPECT_EQ(rows[3]["name"], "analytics.dlq");
  EXPECT_EQ(rows[3]["maxLength"], 200) << "the lower of the x-max-length argument and the policy";
  EXPECT_TRUE(genx::api::queues_from_management(nlohmann::json::object(), {"x"}).empty());
}

TEST(Ops, PortLayoutGivesEveryRoleInstanceItsOwnPort) {
  EXPECT_EQ(genx::app::ops_port(9100, "gateway", 0), 9100);
  EXPECT_EQ(genx::app::ops_port(9100, "ocpp-worker", 0), 9110);
  EXPECT_EQ(genx::app::ops_port(9100, "ocpp-worker", 63), 9173);
  EXPECT_EQ(genx::app::ops_port(9100, "notifier", 1), 9201);
  EXPECT_EQ(genx::app::ops_port(9100, "analytics", 0), 9300);
  EXPECT_EQ(genx::app::ops_port(9100, "analytics", 63), 9363);
  EXPECT_EQ(genx::app::ops_port(0, "gateway", 0), 0) << "GENX_HEALTH_PORT=0 turns it off";
  auto c = genx::app::load_config(env({{"GENX_OCPP_WORKERS", "3"}, {"GENX_NOTIFIERS", "0"}}), {});
  auto endpoints = genx::app::local_role_endpoints(c, {"gateway", "ocpp-worker", "notifier"});
  ASSERT_EQ(endpoints.size(), 4u);
  EXPECT_EQ(endpoints[3].name, "ocpp-worker.2");
  EXPECT_EQ(endpoints[3].url, "http://127.0.0.1:9112");
  auto two = genx::app::load_config(env({{"GENX_OCPP_WORKERS", "1"}, {"GENX_ANALYTICS", "2"}}), {});
  endpoints = genx::app::local_role_endpoints(two, {"gateway", "ocpp-worker", "analytics"});
  ASSERT_EQ(endpoints.size(), 4u);
  EXPECT_EQ(endpoints[3].name, "analytics.1");
  EXPECT_EQ(endpoints[3].url, "http://127.0.0.1:9301");
  EXPECT_THROW(genx::app::load_config(env({{"GENX_HEALTH_PORT", "65300"}}), {}),
               genx::app::ConfigError)
      << "analytics 63 would be beyond port 65535";
}

TEST(Ops, QueueBoundSettings) {
  auto c = genx::app::load_config(env({}), {});
  EXPECT_EQ(c.names.charging_events_max_length, 0) << "charging_events is opt-in";
  EXPECT_EQ(c.names.notifications_max_length, 0) << "notifications is opt-in";
  EXPECT_EQ(c.names.dead_letter_max_length, 100000);
  auto d = genx::app::load_config(env({{"GENX_CHARGING_EVENTS_MAX_LENGTH", "50000"}}),
                                  {"--notifications-max-length", "1000", "--dlq-max-length", "10"});
  EXPECT_EQ(d.names.charging_events_max_length, 50000);
  EXPECT_EQ(d.names.notifications_max_length, 1000);
  EXPECT_EQ(d.names.dead_letter_max_length, 10);
  EXPECT_THROW(genx::app::load_config(env({{"GENX_CHARGING_EVENTS_MAX_LENGTH", "-1"}}), {}),
               genx::app::ConfigError);
  EXPECT_THROW(genx::app::load_config(env({{"GENX_DLQ_MAX_LENGTH", "0"}}), {}),
               genx::app::ConfigError)
      << "a dead-letter queue is always bounded";
}

TEST(Ops, SettingsAreValidated) {
  auto c = genx::app::load_config(env({{"RABBITMQ_URL", "amqp://u:secret@mq:5705/v"}}), {});
  EXPECT_EQ(c.management_url, "http://mq:15705") << "AMQP port + 10000 by default";
  EXPECT_EQ(c.management_username, "u");
  EXPECT_EQ(c.management_password, "secret");
  EXPECT_EQ(c.log_format, "text");
  EXPECT_EQ(c.notifiers, 1);
  auto d = genx::app::load_config(
      env({{"RABBITMQ_MANAGEMENT_URL", "http://mgmt:15672/"}, {"GENX_LOG_FORMAT", "JSON"}}),
      {"--notifiers", "2", "--health-port", "0"});
  EXPECT_EQ(d.management_url, "http://mgmt:15672");
  EXPECT_EQ(d.log_format, "json");
  EXPECT_EQ(d.notifiers, 2);
  EXPECT_EQ(d.health_port, 0);
  EXPECT_THROW(genx::app::load_config(env({{"GENX_LOG_FORMAT", "xml"}}), {}), genx::app::ConfigError);
  EXPECT_THROW(genx::app::load_config(env({{"RABBITMQ_MANAGEMENT_URL", "mgmt:15672"}}), {}),
               genx::app::ConfigError);
  EXPECT_THROW(genx::app::load_config(env({{"GENX_QUEUE_POLL_INTERVAL", "0"}}), {}),
               genx::app::ConfigError);
  EXPECT_THROW(genx::app::load_config(env({{"GENX_ROLE_INDEX", "64"}}), {}), genx::app::ConfigError);
}
