#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "app/config.hpp"

using genx::app::ConfigError;
using genx::app::load_config;
using genx::app::Variables;

namespace {
// No .env file is read in these tests: GENX_ENV_FILE points nowhere readable by default.
Variables env(std::initializer_list<std::pair<const std::string, std::string>> vars) {
  Variables v(vars);
  v.emplace("GENX_ENV_FILE", "");
  return v;
}
}  // namespace

TEST(Config, DefaultsMatchDesign) {
  auto c = load_config(env({}), {});
  EXPECT_EQ(c.amqp.host, "localhost");
  EXPECT_EQ(c.amqp.port, 5672);
  EXPECT_EQ(c.amqp.vhost, "/");
  EXPECT_EQ(c.names.queue_ocpp_messages, "ocpp_messages");
  EXPECT_EQ(c.names.exchange_events, "events_exchange");
  EXPECT_EQ(c.database_url, "sqlite://var/genx.db");
  EXPECT_EQ(c.gateway_port, 9000);
  EXPECT_EQ(c.api_port, 8080);
  EXPECT_EQ(c.notify_port, 8081);
  EXPECT_FALSE(c.api_token.has_value());
  EXPECT_FALSE(c.instance_id.empty());
}

// SQLite has one writer: genx run starts one ocpp-worker on it unless told otherwise;
// PostgreSQL commits in parallel and gets two.
TEST(Config, OcppWorkersDefaultFollowsTheDatabase) {
  EXPECT_EQ(load_config(env({}), {}).ocpp_workers, 1);
  EXPECT_EQ(load_config(env({{"DATABASE_URL", "postgresql://genx@127.0.0.1:5432/genx"}}), {}).ocpp_workers, 2);
  EXPECT_EQ(load_config(env({{"GENX_OCPP_WORKERS", "3"}}), {}).ocpp_workers, 3);
  EXPECT_EQ(load_config(env({{"DATABASE_URL", "postgresql://genx@127.0.0.1:5432/genx"},
                             {"GENX_OCPP_WORKERS", "1"}}), {}).ocpp_workers, 1);
}

TEST(Config, EnvironmentAndFlagsOverrideInOrder) {
  auto c = load_config(env({{"GATEWAY_PORT", "9100"}, {"RABBITMQ_QUEUE_OCPP_MESSAGES", "q1"}}),
                       {"--gateway-port", "9200", "--api-port=8181"});
  EXPECT_EQ(c.gateway_port, 9200);
  EXPECT_EQ(c.api_port, 8181);
  EXPECT_EQ(c.names.queue_ocpp_messages, "q1");
}

TEST(Config, MalformedValuesNameTheSetting) {
  try {
    load_config(env({{"GATEWAY_PORT", "90x0"}}), {});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("GATEWAY_PORT"), std::string::npos);
  }
  EXPECT_THROW(load_config(env({{"API_PORT", "70000"}}), {}), ConfigError);
  EXPECT_THROW(load_config(env({{"GENX_UNKNOWN_TAG_POLICY", "maybe"}}), {}), ConfigError);
  EXPECT_THROW(load_config(env({{"DATABASE_URL", "mysql://x"}}), {}), ConfigError);
  EXPECT_THROW(load_config(env({{"RABBITMQ_URL", "http://x"}}), {}), ConfigError);
  EXPECT_THROW(load_config(env({}), {"--no-such-flag=1"}), ConfigError);
  EXPECT_THROW(load_config(env({}), {"--gateway-port"}), ConfigError);
}

// The api's read side (docs/operations.md "PostgreSQL operations"): unset means DATABASE_URL; a
// URL of another scheme is refused by name, without echoing it (it may hold a password).
TEST(Config, DatabaseReadUrl) {
  EXPECT_EQ(load_config(env({}), {}).database_read_url, "");
  EXPECT_EQ(load_config(env({{"DATABASE_READ_URL", "postgresql://genx_read@db:5432/genx?sslmode=verify-full"}}), {})
                .database_read_url,
            "postgresql://genx_read@db:5432/genx?sslmode=verify-full");
  EXPECT_EQ(load_config(env({}), {"--database-read-url", "postgres://r@db/genx"}).database_read_url,
            "postgres://r@db/genx");
  try {
    load_config(env({{"DATABASE_READ_URL", "mysql://reader:hunter2@db/genx"}}), {});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("DATABASE_READ_URL"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
}

TEST(Config, EnvFileParsing) {
  auto vars = genx::app::parse_env_file(
      "# comment\nRABBITMQ_URL=amqp://h:5673\nexport API_TOKEN=\"s3cret\"\n\nX='a b' \nY=1 # note\n");
  EXPECT_EQ(vars.at("RABBITMQ_URL"), "amqp://h:5673");
  EXPECT_EQ(vars.at("API_TOKEN"), "s3cret");
  EXPECT_EQ(vars.at("X"), "a b");
  EXPECT_EQ(vars.at("Y"), "1");
  EXPECT_THROW(genx::app::parse_env_file("NOEQUALS\n"), ConfigError);
}

TEST(Config, UrlCredentialsWinOverSeparateVariables) {
  auto c = load_config(env({{"RABBITMQ_URL", "amqp://alice:pw@broker:5673/prod"},
                            {"RABBITMQ_USERNAME", "bob"}}),
                       {});
  EXPECT_EQ(c.amqp.host, "broker");
  EXPECT_EQ(c.amqp.port, 5673);
  EXPECT_EQ(c.amqp.username, "alice");
  EXPECT_EQ(c.amqp.vhost, "prod");
  auto d = load_config(env({{"RABBITMQ_URL", "amqp://broker"}, {"RABBITMQ_USERNAME", "bob"},
                            {"RABBITMQ_VHOST", "v"}}),
                       {});
  EXPECT_EQ(d.amqp.username, "bob");
  EXPECT_EQ(d.amqp.vhost, "v");
}

// docs/configuration.md is generated from the settings table: a setting added, changed or
// removed in the code without regenerating the page fails here.
TEST(Config, ConfigurationReferenceIsGeneratedFromTheTable) {
  std::ifstream in(std::string(GENX_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md not found";
  std::stringstream buffer;
  buffer << in.rdbuf();
  EXPECT_EQ(buffer.str(), genx::app::settings_reference())
      << "docs/configuration.md is stale: run build/genx config reference > docs/configuration.md";
  for (const auto& s : genx::app::settings_table()) {
    EXPECT_NE(buffer.str().find(std::string("| `") + s.env + "` |"), std::string::npos) << s.env;
    EXPECT_NE(*s.doc, '\0') << s.env << " has no documentation text";
  }
}

// A setting in the table (and so in the docs) that no code reads any more is "documented
// but gone": its name must appear in the sources besides its table entry.
TEST(Config, EverySettingInTheTableIsReadSomewhere) {
  std::string sources;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(std::string(GENX_SOURCE_DIR) + "/src")) {
    const auto ext = entry.path().extension();
    if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) continue;
    std::ifstream in(entry.path());
    sources += std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  for (const auto& s : genx::app::settings_table()) {
    const std::string quoted = std::string("\"") + s.env + "\"";
    std::size_t count = 0;
    for (auto at = sources.find(quoted); at != std::string::npos; at = sources.find(quoted, at + 1)) ++count;
    EXPECT_GE(count, 2u) << s.env << " is in the settings table but nothing reads it";
  }
}

TEST(Config, EachSettingAndFlagIsDefinedOnce) {
  std::set<std::string> envs;
  std::set<std::string> flags;
  for (const auto& s : genx::app::settings_table()) {
    EXPECT_TRUE(envs.insert(s.env).second) << s.env << " is listed twice in settings_table";
    if (*s.flag) {
      EXPECT_TRUE(flags.insert(s.flag).second) << s.flag << " is listed twice in settings_table";
    }
  }
}

TEST(Config, AnalyticsTariffAndTimeZoneSettings) {
  auto d = load_config(env({}), {});
  EXPECT_EQ(d.analytics_processes, 1);
  EXPECT_EQ(d.analytics_batch_size, 1000);
  EXPECT_EQ(d.analytics_batch_wait.count(), 1000);
  EXPECT_EQ(d.time_zone, "UTC");
  EXPECT_EQ(d.policy.tariff.energy_per_kwh_micro, 0);
  EXPECT_EQ(d.policy.tariff.currency, "EUR");
  auto c = load_config(env({{"GENX_TARIFF_ENERGY_PER_KWH", "0.35"},
                            {"GENX_TARIFF_TIME_PER_MINUTE", "0.02"},
                            {"GENX_TARIFF_SESSION_FEE", "1"},
                            {"GENX_TARIFF_CURRENCY", "CHF"},
                            {"GENX_TIMEZONE", "Europe/Zurich"}}),
                       {"--analytics-batch-size", "7", "--analytics", "0"});
  EXPECT_EQ(c.policy.tariff.energy_per_kwh_micro, 350000);
  EXPECT_EQ(c.policy.tariff.time_per_minute_micro, 20000);
  EXPECT_EQ(c.policy.tariff.session_fee_micro, 1000000);
  EXPECT_EQ(c.policy.tariff.currency, "CHF");
  EXPECT_EQ(c.time_zone, "Europe/Zurich");
  EXPECT_EQ(c.analytics_batch_size, 7);
  EXPECT_EQ(c.analytics_processes, 0);
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"GENX_TARIFF_ENERGY_PER_KWH", "-0.1"}, {"GENX_TARIFF_SESSION_FEE", "1,50"},
           {"GENX_TARIFF_CURRENCY", "eur"}, {"GENX_TIMEZONE", "Nowhere/Town"},
           {"GENX_ANALYTICS_BATCH_SIZE", "0"}}) {
    try {
      load_config(env({{key, value}}), {});
      ADD_FAILURE() << key << "=" << value << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

TEST(Config, SecretsAreRefusedOnTheCommandLine) {
  for (const char* flag : {"--rabbitmq-password", "--api-token", "--rabbitmq-management-password"}) {
    try {
      load_config(env({}), {flag, "hunter2-secret"});
      ADD_FAILURE() << flag << " accepted";
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("command line"), std::string::npos) << what;
      EXPECT_EQ(what.find("hunter2-secret"), std::string::npos) << "the error repeats the secret: " << what;
    }
  }
  try {
    load_config(env({}), {"--rabbitmq-url", "amqp://u:hunter2-secret@host:5672/"});
    ADD_FAILURE() << "a password in --rabbitmq-url accepted";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("RABBITMQ_PASSWORD"), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2-secret"), std::string::npos) << what;
  }
  // Without a password the flag is fine; in the environment the password is fine.
  auto c = load_config(env({{"RABBITMQ_PASSWORD", "pw-from-env"}}), {"--rabbitmq-url", "amqp://u@host:5672/"});
  EXPECT_EQ(c.amqp.username, "u");
  EXPECT_EQ(c.amqp.password, "pw-from-env");
  auto d = load_config(env({{"RABBITMQ_URL", "amqp://u:pw-in-url@host:5672/"}}), {});
  EXPECT_EQ(d.amqp.password, "pw-in-url");
}

TEST(Config, RabbitmqUrlListsTheNodesOfACluster) {
  auto c = load_config(env({{"RABBITMQ_URL", "amqp://genx@n1:6101,n2:6102,n3:6103/prod"},
                            {"RABBITMQ_PASSWORD", "pw"}}),
                       {});
  ASSERT_EQ(c.amqp.nodes.size(), 3u);
  EXPECT_EQ(c.amqp.nodes[2].host, "n3");
  EXPECT_EQ(c.amqp.nodes[2].port, 6103);
  EXPECT_EQ(c.amqp.username, "genx");
  EXPECT_EQ(c.amqp.password, "pw");
  EXPECT_EQ(c.amqp.vhost, "prod");
  // The management API defaults to the first node's.
  EXPECT_EQ(c.management_url, "http://n1:16101");
  try {
    load_config(env({{"RABBITMQ_URL", "amqp://n1,,n3"}}), {});
    ADD_FAILURE() << "an empty node accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("RABBITMQ_URL: invalid RabbitMQ URL: node 2 of 3 is empty"),
              std::string::npos)
        << e.what();
  }
  // A password on any node of the flag is refused (flags show in ps).
  try {
    load_config(env({}), {"--rabbitmq-url", "amqp://n1,amqp://u:hunter2-secret@n2"});
    ADD_FAILURE() << "a password in --rabbitmq-url accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2-secret"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("RABBITMQ_PASSWORD"), std::string::npos) << e.what();
  }
}

TEST(Config, BrokerPasswordFileTlsFilesVhostAndMetricsAuth) {
  const auto dir = std::filesystem::temp_directory_path() / ("genx-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = (dir / "pw").string();
  std::ofstream(file) << "pw-from-file\n";
  auto c = load_config(env({{"RABBITMQ_PASSWORD", "other"},
                            {"RABBITMQ_PASSWORD_FILE", file},
                            {"RABBITMQ_VHOST", "tenant-a"},
                            {"RABBITMQ_URL", "amqps://broker.example:5671"},
                            {"RABBITMQ_CA_FILE", file},
                            {"GENX_METRICS_AUTH", "token"}}),
                       {});
  EXPECT_EQ(c.amqp.password, "pw-from-file");
  EXPECT_EQ(c.amqp.vhost, "tenant-a");
  EXPECT_TRUE(c.amqp.tls);
  EXPECT_EQ(c.amqp.ca_file, file);
  EXPECT_FALSE(c.metrics_open);
  EXPECT_TRUE(load_config(env({}), {}).metrics_open);
  EXPECT_THROW(load_config(env({{"RABBITMQ_PASSWORD_FILE", (dir / "missing").string()}}), {}), ConfigError);
  EXPECT_THROW(load_config(env({{"RABBITMQ_CERT_FILE", file}}), {}), ConfigError);  // no key
  EXPECT_THROW(load_config(env({{"GENX_METRICS_AUTH", "maybe"}}), {}), ConfigError);
  std::filesystem::remove_all(dir);
}

TEST(Config, TestFaultHookIsOffByDefaultAndChecked) {
  EXPECT_TRUE(load_config(env({}), {}).test_crash_after_commit.empty());
  EXPECT_EQ(load_config(env({{"GENX_TEST_FAULT", "crash-after-commit:StartTransaction"}}), {})
                .test_crash_after_commit,
            "StartTransaction");
  EXPECT_THROW(load_config(env({{"GENX_TEST_FAULT", "crash-after-commit:"}}), {}), ConfigError);
  EXPECT_THROW(load_config(env({{"GENX_TEST_FAULT", "explode"}}), {}), ConfigError);
}
