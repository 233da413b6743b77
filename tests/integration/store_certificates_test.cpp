// The security extension's store (security::CertificateStore, migration 0016) on every
// backend (store_backends.hpp): security events stored once per message, filtered and
// paged; issued certificates once per request; installed certificates replaced per type.
#include <gtest/gtest.h>

#include "store/open_certificate_store.hpp"
#include "store/open_store.hpp"
#include "store_backends.hpp"

namespace genx::store {
namespace {

class CertificateStoreTest : public testing::StoreTestBase {
 protected:
  void SetUp() override {
    StoreTestBase::SetUp();  // a migrated database of its own
    certs_ = open_certificate_store(db_->url());
  }
  void TearDown() override {
    certs_.reset();
    StoreTestBase::TearDown();
  }

  static security::SecurityEvent event(std::string cp, std::string type, std::string at, std::string message_id,
                                       std::string source = "charger") {
    return {0, std::move(cp), std::move(type), std::move(at), std::nullopt, std::move(source), std::move(message_id),
            "2024-01-15T10:00:00.000Z"};
  }

  std::unique_ptr<security::CertificateStore> certs_;
};

INSTANTIATE_TEST_SUITE_P(Backends, CertificateStoreTest, ::testing::Values("sqlite", "postgres"),
                         testing::backend_name);

TEST_P(CertificateStoreTest, SecurityEventsAreStoredOncePerMessageAndFiltered) {
  auto first = event("CP1", "FailedToAuthenticateAtCentralSystem", "2024-01-15T08:00:00.000Z", "m1");
  first.tech_info = "bad key";
  EXPECT_TRUE(certs_->record_security_event(first));
  EXPECT_FALSE(certs_->record_security_event(first)) << "a redelivery stores nothing";
  // The same uniqueId from GenX itself is another event.
  EXPECT_TRUE(certs_->record_security_event(event("CP1", "SignCertificateRejected", "2024-01-15T08:00:00.000Z", "m1", "csms")));
  EXPECT_TRUE(certs_->record_security_event(event("CP1", "SettingSystemTime", "2024-01-15T09:00:00.000Z", "m2")));
  EXPECT_TRUE(certs_->record_security_event(event("CP2", "SettingSystemTime", "2024-01-15T09:30:00.000Z", "m1")));

  security::SecurityEventFilter all;
  auto page = certs_->list_security_events(all);
  EXPECT_EQ(page.total, 4);
  ASSERT_EQ(page.items.size(), 4u);
  EXPECT_EQ(page.items[0].charge_point_id, "CP2");  // newest first
  EXPECT_EQ(page.items[3].tech_info.value_or(""), "bad key");

  security::SecurityEventFilter cp1;
  cp1.charger = "CP1";
  cp1.type = "SettingSystemTime";
  page = certs_->list_security_events(cp1);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].timestamp, "2024-01-15T09:00:00.000Z");

  security::SecurityEventFilter window;
  window.from = "2024-01-15T08:30:00.000Z";
  window.to = "2024-01-15T09:30:00.000Z";  // exclusive
  page = certs_->list_security_events(window);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].message_id, "m2");

  security::SecurityEventFilter paged;
  paged.limit = 2;
  paged.offset = 2;
  page = certs_->list_security_events(paged);
  EXPECT_EQ(page.total, 4);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[1].tech_info.value_or(""), "bad key");
}

TEST_P(CertificateStoreTest, AnIssuedCertificateIsRecordedOncePerRequest) {
  security::IssuedCertificate c;
  c.charge_point_id = "CP1";
  c.request_id = "req-1";
  c.serial_number = "abc";
  c.subject = "CN = CP1";
  c.not_before = "2024-01-15T10:00:00.000Z";
  c.not_after = "2025-01-15T10:00:00.000Z";
  c.certificate_chain = "PEM";
  c.status = "Signed";
  c.created_at = "2024-01-15T10:00:00.000Z";
  const auto stored = certs_->record_issued(c);
  EXPECT_GT(stored.id, 0);
  auto again = c;
  again.serial_number = "def";
  EXPECT_EQ(certs_->record_issued(again).serial_number, "abc") << "the first one stays";
  certs_->set_issued_status(stored.id, "Accepted", "2024-01-15T10:00:01.000Z");
  const auto found = certs_->find_issued("CP1", "req-1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->status, "Accepted");
  EXPECT_EQ(found->updated_at, "2024-01-15T10:00:01.000Z");
  EXPECT_FALSE(certs_->find_issued("CP2", "req-1").has_value());
  EXPECT_EQ(certs_->list_issued("CP1").size(), 1u);
}

TEST_P(CertificateStoreTest, InstalledCertificatesAreReplacedPerTypeAndRemovedBySerial) {
  auto cert = [](std::string serial) {
    security::InstalledCertificate c;
    c.hash_algorithm = "SHA256";
    c.issuer_name_hash = "AA";
    c.issuer_key_hash = "bb";
    c.serial_number = std::move(serial);
    return c;
  };
  certs_->replace_installed("CP1", "CentralSystemRootCertificate", {cert("1"), cert("2")}, "2024-01-15T10:00:00.000Z");
  certs_->replace_installed("CP1", "ManufacturerRootCertificate", {cert("3")}, "2024-01-15T10:00:00.000Z");
  EXPECT_EQ(certs_->list_installed("CP1").size(), 3u);
  certs_->replace_installed("CP1", "CentralSystemRootCertificate", {cert("2")}, "2024-01-15T11:00:00.000Z");
  auto list = certs_->list_installed("CP1");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].serial_number, "2");
  EXPECT_EQ(list[0].updated_at, "2024-01-15T11:00:00.000Z");
  EXPECT_TRUE(certs_->remove_installed("CP1", "aa", "2")) << "hashes compare without case";
  EXPECT_FALSE(certs_->remove_installed("CP1", "aa", "2"));
  auto added = cert("4");
  added.charge_point_id = "CP1";
  added.certificate_type = "CentralSystemRootCertificate";
  added.updated_at = "2024-01-15T12:00:00.000Z";
  certs_->add_installed(added);
  certs_->add_installed(added);  // the same certificate again: one row
  EXPECT_EQ(certs_->list_installed("CP1").size(), 2u);
  EXPECT_TRUE(certs_->list_installed("CP2").empty());
}

}  // namespace
}  // namespace genx::store
