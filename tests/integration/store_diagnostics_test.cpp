// Diagnostics uploads in the store (api::DiagnosticsStore and the unit of work's
// record_diagnostics_status), on every backend (store_backends.hpp): ids, tokens by
// digest, one claim per token also across connections, the received file, the charger's
// notifications moving the right request, retention.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "csms/processor.hpp"
#include "store/open_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class FixedClock final : public csms::Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(1705314600000));
  }
};

class DiagnosticsStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("genx-diagnostics-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = std::make_unique<testing::TestDatabase>(GetParam(), dir_);
    store_ = open_store(db_->url(), Schema::migrate);
    diagnostics_ = open_diagnostics_store(db_->url());
  }
  void TearDown() override {
    diagnostics_.reset();
    store_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  csms::Outcome send(const std::string& action, json payload, const std::string& unique_id,
                     const std::string& device = "CP1") {
    csms::Envelope e;
    e.device_id = device;
    e.message_type = action;
    e.unique_id = unique_id;
    e.payload = std::move(payload);
    e.timestamp = "2024-01-15T10:29:59.000Z";
    e.raw_data = json::array({2, unique_id, action, e.payload}).dump();
    csms::MessageProcessor processor(*store_, clock_, {});
    return processor.process(e);
  }

  fs::path dir_;
  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<api::DiagnosticsStore> diagnostics_;
  FixedClock clock_;
};

INSTANTIATE_TEST_SUITE_P(Backends, DiagnosticsStoreTest, ::testing::Values("sqlite", "postgres"),
                         testing::backend_name);

constexpr const char* kNow = "2024-01-15T10:00:00.000Z";

TEST_P(DiagnosticsStoreTest, RequestsTokensClaimsAndFiles) {
  const auto first = diagnostics_->create_diagnostics("CP1", "Diagnostics", "digest-1", kNow);
  const auto second = diagnostics_->create_diagnostics("CP1", "SecurityLog", "digest-2", kNow);
  EXPECT_EQ(first.status, "Requested");
  EXPECT_EQ(second.id, first.id + 1);
  EXPECT_EQ(diagnostics_->find_diagnostics_by_token("digest-2")->id, second.id);
  EXPECT_FALSE(diagnostics_->find_diagnostics_by_token("digest-3").has_value());

  auto accepted = diagnostics_->set_diagnostics_status(first.id, "Accepted", std::nullopt, "d.zip", kNow);
  EXPECT_EQ(accepted->status, "Accepted");
  EXPECT_EQ(accepted->file_name, "d.zip");

  // One claim per token, also from a second connection.
  auto other = open_diagnostics_store(db_->url());
  EXPECT_TRUE(diagnostics_->claim_upload(first.id, kNow));
  EXPECT_FALSE(other->claim_upload(first.id, kNow));
  EXPECT_TRUE(other->find_diagnostics(first.id)->token_used);

  api::DiagnosticsUpload upload{"", 42, "abc", "1-x.upload"};
  auto received = diagnostics_->record_upload(first.id, upload, "2024-01-15T10:05:00.000Z");
  EXPECT_EQ(received->status, "Uploaded");
  EXPECT_EQ(received->file_name, "d.zip");  // an upload without a name keeps the answer's
  EXPECT_EQ(received->file_size, 42);
  EXPECT_EQ(received->received_at, "2024-01-15T10:05:00.000Z");

  auto all = diagnostics_->list_diagnostics(std::nullopt, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, second.id);  // newest first
  EXPECT_TRUE(diagnostics_->list_diagnostics(std::string("CP2"), 10).empty());
}

TEST_P(DiagnosticsStoreTest, NotificationsMoveTheRequestOfTheirKind) {
  send("BootNotification", {{"chargePointVendor", "V"}, {"chargePointModel", "M"}}, "b1");
  const auto diag = diagnostics_->create_diagnostics("CP1", "Diagnostics", "d1", kNow);
  const auto log = diagnostics_->create_diagnostics("CP1", "DiagnosticsLog", "d2", kNow);
  diagnostics_->create_diagnostics("CP2", "Diagnostics", "d3", kNow);

  auto out = send("DiagnosticsStatusNotification", {{"status", "Uploading"}}, "n1");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].fields.at("diagnosticsId"), diag.id);
  EXPECT_EQ(diagnostics_->find_diagnostics(diag.id)->status, "Uploading");
  EXPECT_EQ(diagnostics_->find_diagnostics(log.id)->status, "Requested");

  out = send("LogStatusNotification", {{"status", "UploadFailure"}, {"requestId", log.id}}, "n2");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].fields.at("previousStatus"), "Requested");
  EXPECT_EQ(diagnostics_->find_diagnostics(log.id)->status, "UploadFailure");
  // A request id of the wrong kind (a Diagnostics request) is not a log request.
  out = send("LogStatusNotification", {{"status", "Uploaded"}, {"requestId", diag.id}}, "n3");
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(diagnostics_->find_diagnostics(diag.id)->status, "Uploading");
}

TEST_P(DiagnosticsStoreTest, RetentionFindsTheOldOnes) {
  const auto old = diagnostics_->create_diagnostics("CP1", "Diagnostics", "o", "2024-01-01T00:00:00.000Z");
  diagnostics_->create_diagnostics("CP1", "Diagnostics", "n", "2024-02-01T00:00:00.000Z");
  const auto before = diagnostics_->diagnostics_created_before("2024-01-15T00:00:00.000Z", 10);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].id, old.id);
  diagnostics_->delete_diagnostics(old.id);
  EXPECT_FALSE(diagnostics_->find_diagnostics(old.id).has_value());
  EXPECT_EQ(diagnostics_->list_diagnostics(std::nullopt, 10).size(), 1u);
}

}  // namespace
}  // namespace genx::store
