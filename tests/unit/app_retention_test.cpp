// Retention settings and who prunes (docs/operations.md "Data retention"); the pruning itself runs
// against a real SQLite file in tests/integration/retention_test.cpp.
#include <gtest/gtest.h>

#include "app/config.hpp"
#include "app/retention.hpp"

using genx::app::ConfigError;
using genx::app::load_config;
using genx::app::Variables;

namespace {

Variables env(std::initializer_list<std::pair<const std::string, std::string>> vars) {
  Variables v(vars);
  v.emplace("GENX_ENV_FILE", "");
  return v;
}

TEST(RetentionConfig, SafeDefaultsKeepRebuildFactsForever) {
  const auto c = load_config(env({}), {});
  EXPECT_EQ(c.retention.processed_messages_days, 14);
  EXPECT_EQ(c.retention.message_log_days, 30);
  EXPECT_EQ(c.retention.analytics_events_days, 7);
  EXPECT_EQ(c.retention.meter_values_days, 0);
  EXPECT_EQ(c.retention.status_history_days, 0);
  EXPECT_EQ(c.retention.batch_rows, 1000);
  EXPECT_EQ(c.prune_interval, std::chrono::seconds(3600));
}

TEST(RetentionConfig, EnvironmentAndFlags) {
  const auto c = load_config(env({{"GENX_RETENTION_METER_VALUES_DAYS", "400"},
                                  {"GENX_RETENTION_STATUS_HISTORY_DAYS", "90"}}),
                             {"--retention-message-log-days=0", "--prune-batch-rows", "50",
                              "--prune-interval-s", "0"});
  EXPECT_EQ(c.retention.meter_values_days, 400);
  EXPECT_EQ(c.retention.status_history_days, 90);
  EXPECT_EQ(c.retention.message_log_days, 0);
  EXPECT_EQ(c.retention.batch_rows, 50);
  EXPECT_EQ(c.prune_interval.count(), 0);
}

TEST(RetentionConfig, BadValuesNameTheSetting) {
  try {
    load_config(env({{"GENX_RETENTION_MESSAGE_LOG_DAYS", "-1"}}), {});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("GENX_RETENTION_MESSAGE_LOG_DAYS"), std::string::npos);
  }
  EXPECT_THROW(load_config(env({{"GENX_PRUNE_BATCH_ROWS", "0"}}), {}), ConfigError);
}

TEST(RetentionConfig, DedupeRecordsMustOutliveTheRetryChain) {
  // 1 day of dedupe records is plenty for the default retries (about 3 minutes)...
  EXPECT_NO_THROW(load_config(env({{"GENX_RETENTION_PROCESSED_MESSAGES_DAYS", "1"}}), {}));
  // ...but not for retries spread over 7 hours.
  try {
    load_config(env({{"GENX_RETENTION_PROCESSED_MESSAGES_DAYS", "1"},
                     {"GENX_RETRY_DELAYS", "1h,2h,4h"}}),
                {});
    FAIL() << "a retention shorter than 10 retry chains must be refused";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("GENX_RETENTION_PROCESSED_MESSAGES_DAYS: 1 day(s) is too short"),
              std::string::npos)
        << e.what();
  }
  // 0 keeps them forever: always safe.
  EXPECT_NO_THROW(load_config(env({{"GENX_RETENTION_PROCESSED_MESSAGES_DAYS", "0"},
                                   {"GENX_RETRY_DELAYS", "1h,2h,4h"}}),
                              {}));
}

TEST(RetentionConfig, OnlyOcppWorkerZeroPrunes) {
  auto c = load_config(env({}), {});
  EXPECT_TRUE(genx::app::prunes_periodically(c, "ocpp-worker"));
  EXPECT_FALSE(genx::app::prunes_periodically(c, "analytics"));
  EXPECT_FALSE(genx::app::prunes_periodically(c, "api"));
  c.role_index = 1;
  EXPECT_FALSE(genx::app::prunes_periodically(c, "ocpp-worker"));
  c.role_index = 0;
  c.prune_interval = std::chrono::seconds(0);
  EXPECT_FALSE(genx::app::prunes_periodically(c, "ocpp-worker"));
}

TEST(RetentionReport, OneLinePerTableAndTheTotal) {
  genx::store::PruneReport r;
  r.dry_run = true;
  r.tables = {{"processed_messages", 14, "2024-02-16T12:00:00.000Z", 1234, 0},
              {"meter_values", 0, "", 0, 0}};
  EXPECT_EQ(genx::app::format_prune_report(r),
            "table                        would remove  retention\n"
            "processed_messages                   1234  14 days (before 2024-02-16T12:00:00.000Z)\n"
            "meter_values                            0  kept forever\n"
            "total                                1234  (dry run: nothing removed)\n");
  r.dry_run = false;
  EXPECT_EQ(genx::app::format_prune_report(r).substr(0, 53),
            "table                             removed  retention\n");
}

}  // namespace
