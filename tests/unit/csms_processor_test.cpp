#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "csms/processor.hpp"
#include "ocpp/v16_validation.hpp"
#include "ocpp/v201_validation.hpp"

namespace genx::csms {
namespace {

using nlohmann::json;

// In-memory WriteStore: a copy of the whole state is the transaction; an exception
// thrown by the work discards it (rollback), a return replaces the state (commit).
class FakeStore final : public WriteStore {
 public:
  struct Charger {
    std::int64_t id = 0;
    std::optional<ChargerBoot> boot;
    std::optional<std::string> registration_status;
    bool pre_registered = false;
    std::string last_seen_at;
    std::optional<std::string> diagnostics_status;
    std::optional<std::string> firmware_status;
  };
  struct State {
    std::map<std::tuple<std::string, std::string, std::string>, ProcessedMessage> processed;
    std::map<std::string, Charger> chargers;
    std::map<std::pair<std::int64_t, int>, ConnectorStatus> connectors;
    std::map<std::string, IdTagRecord> id_tags;
    std::map<std::int64_t, TransactionRecord> transactions;
    std::vector<MeterSample> samples;
    std::vector<MessageLogEntry> log;
    std::vector<std::pair<std::int64_t, ConnectorStatus>> status_history;
    std::map<std::string, Tariff> tariffs;
    std::map<std::int64_t, TransactionStop> stops;
    std::map<std::int64_t, std::pair<std::int64_t, Reservation>> reservations;  // id -> (charger id, reservation)
    std::int64_t next_charger_id = 1;
    std::int64_t next_transaction_id = 1;
    // OCPP 2.0.1
    std::map<std::int64_t, std::string> ocpp_versions;
    std::vector<ReportedProfile> reported_profiles;
    std::map<std::pair<std::int64_t, std::string>, std::int64_t> ocpp_transaction_ids;
    std::vector<TransactionEventRecord> transaction_events;
    std::vector<DeviceModelEntry> device_model;
    std::vector<DiagnosticsFile> diagnostics;  // oldest first, seeded by a test
  };

  // Serializable, as the port promises: one unit of work at a time, also across threads.
  void in_transaction(const std::function<void(UnitOfWork&)>& work) override {
    std::lock_guard lock(mutex_);
    ++transactions_run;
    if (fail_next_transaction) {
      fail_next_transaction = false;
      throw csms::TransientStoreError("database is locked");
    }
    Work uow{state};  // works on a copy
    work(uow);
    state = std::move(uow.s);
  }

  State state;
  int transactions_run = 0;
  bool fail_next_transaction = false;

 private:
  std::mutex mutex_;
  class Work final : public UnitOfWork {
   public:
    explicit Work(const State& state) : s(state) {}
    State s;

    std::optional<ProcessedMessage> find_processed_reply(const MessageKey& k) override {
      const auto it = s.processed.find({k.device_id, k.unique_id, k.action});
      if (it == s.processed.end()) return std::nullopt;
      return it->second;
    }
    void save_processed_reply(const MessageKey& k, const ProcessedMessage& processed,
                              std::string_view) override {
      s.processed[{k.device_id, k.unique_id, k.action}] = processed;
    }
    std::int64_t touch_charger(std::string_view id, std::string_view seen_at) override {
      auto& c = charger_row(id);
      c.last_seen_at = std::string(seen_at);
      return c.id;
    }
    std::optional<ChargerRecord> find_charger(std::string_view id) override {
      const auto it = s.chargers.find(std::string(id));
      if (it == s.chargers.end()) return std::nullopt;
      return ChargerRecord{it->second.id, it->first, it->second.registration_status,
                           it->second.pre_registered};
    }
    std::int64_t upsert_charger_boot(const ChargerBoot& boot) override {
      auto& c = charger_row(boot.charge_point_id);
      c.boot = boot;
      c.registration_status = boot.registration_status;
      return c.id;
    }
    void set_diagnostics_status(std::int64_t id, std::string_view status) override {
      by_id(id).diagnostics_status = std::string(status);
    }
    void set_firmware_status(std::int64_t id, std::string_view status) override {
      by_id(id).firmware_status = std::string(status);
    }
    std::optional<DiagnosticsStatusChange> record_diagnostics_status(std::string_view charge_point_id, bool log,
                                                                   std::optional<std::int64_t> request_id,
                                                                   std::string_view status,
                                                                   std::string_view at) override {
      for (auto it = s.diagnostics.rbegin(); it != s.diagnostics.rend(); ++it) {
        const bool log_kind = it->kind != "Diagnostics";
        if (it->charge_point_id != charge_point_id || log_kind != log || (request_id && it->id != *request_id)) continue;
        if (it->status == status) return std::nullopt;
        DiagnosticsStatusChange change{*it, it->status};
        it->status = std::string(status);
        it->updated_at = std::string(at);
        change.file = *it;
        return change;
      }
      return std::nullopt;
    }
    std::optional<ConnectorStatus> find_connector_status(std::int64_t charger_id,
                                                         int connector_id) override {
      const auto it = s.connectors.find({charger_id, connector_id});
      if (it == s.connectors.end()) return std::nullopt;
      return it->second;
    }
    std::optional<ConnectorStatus> upsert_connector_status(std::int64_t charger_id,
                                                           const ConnectorStatus& st) override {
      auto previous = find_connector_status(charger_id, st.connector_id);
      s.connectors[{charger_id, st.connector_id}] = st;
      return previous;
    }
    std::optional<IdTagRecord> find_id_tag(std::string_view tag) override {
      const auto it = s.id_tags.find(std::string(tag));
      if (it == s.id_tags.end()) return std::nullopt;
      return it->second;
    }
    std::int64_t create_transaction(const NewTransaction& t) override {
      TransactionRecord r;
      r.id = s.next_transaction_id++;
      r.charger_id = t.charger_id;
      r.connector_id = t.connector_id;
      r.id_tag = t.id_tag;
      r.id_tag_status = t.id_tag_status;
      r.id_tag_info = t.id_tag_info;
      r.meter_start = t.meter_start;
      r.started_at = t.started_at;
      s.transactions[r.id] = r;
      if (t.ocpp_transaction_id) s.ocpp_transaction_ids[{t.charger_id, *t.ocpp_transaction_id}] = r.id;
      return r.id;
    }
    std::optional<TransactionRecord> find_transaction(std::int64_t id) override {
      const auto it = s.transactions.find(id);
      if (it == s.transactions.end()) return std::nullopt;
      return it->second;
    }
    std::optional<TransactionRecord> find_active_transaction(std::int64_t charger_id,
                                                             int connector_id) override {
      for (const auto& [id, t] : s.transactions) {
        if (t.charger_id == charger_id && t.connector_id == connector_id && t.active()) return t;
      }
      return std::nullopt;
    }
    std::optional<TransactionRecord> find_transaction_by_start(
        const TransactionStartKey& k) override {
      for (const auto& [id, t] : s.transactions) {  // ordered by id: the first one wins
        if (t.charger_id == k.charger_id && t.connector_id == k.connector_id &&
            t.id_tag == k.id_tag && t.meter_start == k.meter_start &&
            t.started_at == k.started_at) {
          return t;
        }
      }
      return std::nullopt;
    }
    void stop_transaction(std::int64_t id, const TransactionStop& stop) override {
      auto& t = s.transactions.at(id);
      t.meter_stop = stop.meter_stop;
      t.stopped_at = stop.stopped_at;
      t.stop_reason = stop.reason;
      s.stops[id] = stop;
    }
    std::size_t insert_meter_samples(const std::vector<MeterSample>& samples) override {
      const auto key = [](const MeterSample& m) {
        return std::make_tuple(m.charger_id, m.connector_id, m.transaction_id, m.timestamp,
                               m.measurand, m.phase, m.location, m.context);
      };
      std::size_t stored = 0;
      for (const auto& sample : samples) {
        const bool known = std::any_of(s.samples.begin(), s.samples.end(),
                                       [&](const MeterSample& m) { return key(m) == key(sample); });
        if (known) continue;
        s.samples.push_back(sample);
        ++stored;
      }
      return stored;
    }
    std::optional<Reservation> use_reservation(std::int64_t reservation_id, std::int64_t charger_id,
                                               std::int64_t transaction_id, std::string_view at) override {
      auto it = s.reservations.find(reservation_id);
      if (it == s.reservations.end() || it->second.first != charger_id) return std::nullopt;
      auto& r = it->second.second;
      if (r.status != "Requested" && r.status != "Accepted" && r.status != "Expired") return std::nullopt;
      r.status = "Used";
      r.transaction_id = transaction_id;
      r.updated_at = std::string(at);
      return r;
    }
    void append_message_log(const MessageLogEntry& entry) override { s.log.push_back(entry); }
    std::vector<std::int64_t> transaction_register_readings(std::int64_t id) override {
      std::vector<std::int64_t> readings;
      std::vector<const MeterSample*> ordered;  // by timestamp, then insertion (as the port says)
      for (const auto& m : s.samples) ordered.push_back(&m);
      std::stable_sort(ordered.begin(), ordered.end(), [](const MeterSample* a, const MeterSample* b) {
        return a->timestamp < b->timestamp;
      });
      for (const auto* m : ordered) {
        if (m->transaction_id != id) continue;
        if (auto wh = register_wh(m->measurand, m->unit, m->phase, m->format, m->value)) {
          readings.push_back(*wh);
        }
      }
      return readings;
    }
    void append_status_history(std::int64_t charger_id, const ConnectorStatus& st) override {
      s.status_history.emplace_back(charger_id, st);
    }
    std::optional<Tariff> find_tariff(std::string_view id) override {
      const auto it = s.tariffs.find(std::string(id));
      if (it == s.tariffs.end()) return std::nullopt;
      return it->second;
    }
    void record_reported_profile(const ReportedProfile& report) override { s.reported_profiles.push_back(report); }
    void set_charger_ocpp_version(std::int64_t id, std::string_view version) override {
      s.ocpp_versions[id] = std::string(version);
    }
    std::optional<TransactionRecord> find_transaction_by_ocpp_id(std::int64_t charger_id,
                                                                 std::string_view ocpp_id) override {
      const auto it = s.ocpp_transaction_ids.find({charger_id, std::string(ocpp_id)});
      if (it == s.ocpp_transaction_ids.end()) return std::nullopt;
      return find_transaction(it->second);
    }
    bool record_transaction_event(const TransactionEventRecord& e) override {
      for (const auto& known : s.transaction_events) {
        if (known.charger_id == e.charger_id && known.ocpp_transaction_id == e.ocpp_transaction_id &&
            known.seq_no == e.seq_no) {
          return false;
        }
      }
      s.transaction_events.push_back(e);
      return true;
    }
    void update_transaction_start(std::int64_t id, const TransactionStartUpdate& u) override {
      auto& t = s.transactions.at(id);
      t.connector_id = u.connector_id;
      t.id_tag = u.id_tag;
      t.id_tag_status = u.id_tag_status;
      t.meter_start = u.meter_start;
      t.started_at = u.started_at;
    }
    void restate_transaction_stop(std::int64_t id, const TransactionStop& stop) override {
      auto& t = s.transactions.at(id);
      t.meter_stop = stop.meter_stop;
      t.stopped_at = stop.stopped_at;
      t.stop_reason = stop.reason;
      s.stops[id] = stop;
    }
    void upsert_device_model(std::int64_t, const std::vector<DeviceModelEntry>& entries,
                             std::string_view) override {
      for (const auto& e : entries) s.device_model.push_back(e);
    }

   private:
    Charger& charger_row(std::string_view id) {
      auto [it, created] = s.chargers.try_emplace(std::string(id));
      if (created) it->second.id = s.next_charger_id++;
      return it->second;
    }
    Charger& by_id(std::int64_t id) {
      for (auto& [name, c] : s.chargers) {
        if (c.id == id) return c;
      }
      throw std::out_of_range("no charger");
    }
  };
};

class FixedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return now_; }
  std::chrono::system_clock::time_point now_ =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1705314600123));  // 2024-01-15T10:30:00.123Z
};

constexpr const char* kNow = "2024-01-15T10:30:00.123Z";

class ProcessorTest : public ::testing::Test {
 protected:
  Outcome send(const std::string& action, json payload, std::string unique_id = "",
               std::string device = "CP1") {
    Envelope e;
    e.device_id = std::move(device);
    e.message_type = action;
    e.unique_id = unique_id.empty() ? "m" + std::to_string(++counter_) : std::move(unique_id);
    e.payload = std::move(payload);
    e.timestamp = "2024-01-15T10:29:59.000Z";
    e.raw_data = json::array({2, e.unique_id, action, e.payload}).dump();
    MessageProcessor processor(store_, clock_, policy_);
    Outcome outcome = processor.process(e);
    if (outcome.reply.result) {
      const auto violation = ocpp::v16::validate_response(action, *outcome.reply.result);
      EXPECT_FALSE(violation.has_value())
          << action << " reply " << outcome.reply.result->dump() << " breaks the schema: "
          << (violation ? violation->description : "");
    }
    EXPECT_EQ(outcome.reply.unique_id, e.unique_id);
    return outcome;
  }

  json result(const Outcome& outcome) {
    EXPECT_TRUE(outcome.reply.result.has_value())
        << (outcome.reply.error ? outcome.reply.error->description : "");
    return outcome.reply.result.value_or(json());
  }

  static const DomainEvent* find_event(const Outcome& outcome, const std::string& type) {
    for (const auto& e : outcome.events) {
      if (e.type == type) return &e;
    }
    return nullptr;
  }

  json boot() {
    return result(send("BootNotification", {{"chargePointVendor", "Acme"},
                                            {"chargePointModel", "Fast-50"},
                                            {"chargePointSerialNumber", "SN-1"},
                                            {"firmwareVersion", "1.2.3"},
                                            {"meterType", "EM-1"}}));
  }

  std::int64_t start(const std::string& id_tag = "TAG1", int connector = 1,
                     std::int64_t meter_start = 1000) {
    const json r = result(send("StartTransaction", {{"connectorId", connector},
                                                    {"idTag", id_tag},
                                                    {"meterStart", meter_start},
                                                    {"timestamp", "2024-01-15T10:00:00Z"}}));
    return r.at("transactionId").get<std::int64_t>();
  }

  FakeStore store_;
  FixedClock clock_;
  Policy policy_;
  int counter_ = 0;
};

TEST_F(ProcessorTest, BootAcceptedByDefaultRecordsTheCharger) {
  const json r = boot();
  EXPECT_EQ(r, json({{"status", "Accepted"}, {"currentTime", kNow}, {"interval", 300}}));
  const auto& charger = store_.state.chargers.at("CP1");
  ASSERT_TRUE(charger.boot.has_value());
  EXPECT_EQ(charger.boot->vendor, "Acme");
  EXPECT_EQ(charger.boot->model, "Fast-50");
  EXPECT_EQ(charger.boot->serial_number, "SN-1");
  EXPECT_EQ(charger.boot->firmware_version, "1.2.3");
  EXPECT_EQ(charger.boot->meter_type, "EM-1");
  EXPECT_EQ(charger.registration_status, "Accepted");
  EXPECT_EQ(charger.last_seen_at, "2024-01-15T10:29:59.000Z");
}

TEST_F(ProcessorTest, BootPendingPolicyUsesRetryInterval) {
  policy_.unknown_charger = UnknownChargerPolicy::kPending;
  policy_.pending_retry_seconds = 42;
  const json r = boot();
  EXPECT_EQ(r.at("status"), "Pending");
  EXPECT_EQ(r.at("interval"), 42);
  EXPECT_EQ(store_.state.chargers.at("CP1").registration_status, "Pending");
}

TEST_F(ProcessorTest, BootRejectedIsRecordedAndRaisesAnError) {
  policy_.unknown_charger = UnknownChargerPolicy::kReject;
  const Outcome outcome = send("BootNotification",
                               {{"chargePointVendor", "Acme"}, {"chargePointModel", "X"}});
  EXPECT_EQ(result(outcome).at("status"), "Rejected");
  EXPECT_EQ(store_.state.chargers.at("CP1").registration_status, "Rejected");
  ASSERT_EQ(outcome.events.size(), 1u);
  EXPECT_EQ(outcome.events[0].type, "error.occurred");
  EXPECT_EQ(outcome.events[0].device_id, "CP1");
  EXPECT_EQ(outcome.events[0].fields.at("code"), "BootRejected");
}

TEST_F(ProcessorTest, PreRegisteredOrPreviouslyAcceptedChargerIsAcceptedUnderStrictPolicy) {
  policy_.unknown_charger = UnknownChargerPolicy::kAccept;
  EXPECT_EQ(boot().at("status"), "Accepted");
  policy_.unknown_charger = UnknownChargerPolicy::kReject;
  EXPECT_EQ(boot().at("status"), "Accepted");  // known from the accepted boot

  store_.state.chargers["CP2"].id = 99;
  store_.state.chargers["CP2"].pre_registered = true;
  const Outcome outcome = send("BootNotification",
                               {{"chargePointVendor", "Acme"}, {"chargePointModel", "X"}}, "",
                               "CP2");
  EXPECT_EQ(result(outcome).at("status"), "Accepted");
  EXPECT_TRUE(outcome.events.empty());
}

TEST_F(ProcessorTest, HeartbeatAnswersCurrentTimeAndTouchesLastSeen) {
  const Outcome outcome = send("Heartbeat", json::object());
  EXPECT_EQ(result(outcome), json({{"currentTime", kNow}}));
  EXPECT_TRUE(outcome.events.empty());
  EXPECT_EQ(store_.state.chargers.at("CP1").last_seen_at, "2024-01-15T10:29:59.000Z");
}

TEST_F(ProcessorTest, EveryMessageIsLoggedInAndOut) {
  send("Heartbeat", json::object(), "hb-1");
  ASSERT_EQ(store_.state.log.size(), 2u);
  EXPECT_EQ(store_.state.log[0].direction, "in");
  EXPECT_EQ(store_.state.log[0].action, "Heartbeat");
  EXPECT_EQ(store_.state.log[0].unique_id, "hb-1");
  EXPECT_EQ(store_.state.log[0].payload, R"([2,"hb-1","Heartbeat",{}])");
  EXPECT_EQ(store_.state.log[1].direction, "out");
  EXPECT_NE(store_.state.log[1].payload.find("currentTime"), std::string::npos);
}

TEST_F(ProcessorTest, DuplicateGetsStoredReplyAndStoredEventsNoWrites) {
  boot();
  const Outcome first = send("StartTransaction", {{"connectorId", 1}, {"idTag", "TAG1"},
                                                  {"meterStart", 10},
                                                  {"timestamp", "2024-01-15T10:00:00Z"}},
                             "start-1");
  ASSERT_FALSE(first.duplicate);
  ASSERT_EQ(first.events.size(), 1u);
  const auto transactions = store_.state.transactions.size();
  const auto log = store_.state.log.size();

  clock_.now_ += std::chrono::minutes(5);
  const Outcome again = send("StartTransaction", {{"connectorId", 1}, {"idTag", "TAG1"},
                                                  {"meterStart", 10},
                                                  {"timestamp", "2024-01-15T10:00:00Z"}},
                             "start-1");
  EXPECT_TRUE(again.duplicate);
  // The events of the first processing, republished as they were (a crash may have
  // stopped their publish): same ids and fields, same timestamp, not five minutes later.
  ASSERT_EQ(again.events.size(), 1u);
  EXPECT_EQ(again.events[0].type, first.events[0].type);
  EXPECT_EQ(again.events[0].device_id, first.events[0].device_id);
  EXPECT_EQ(again.events[0].fields, first.events[0].fields);
  EXPECT_EQ(again.events_timestamp, first.events_timestamp);
  EXPECT_FALSE(first.events_timestamp.empty());
  EXPECT_EQ(again.reply.result, first.reply.result);
  EXPECT_EQ(store_.state.transactions.size(), transactions);
  EXPECT_EQ(store_.state.log.size(), log);
}

TEST_F(ProcessorTest, SameUniqueIdFromAnotherChargerOrActionIsNotADuplicate) {
  send("Heartbeat", json::object(), "same", "CP1");
  EXPECT_FALSE(send("Heartbeat", json::object(), "same", "CP2").duplicate);
  EXPECT_FALSE(send("StatusNotification", {{"connectorId", 1}, {"status", "Available"},
                                           {"errorCode", "NoError"}},
                    "same", "CP1")
                   .duplicate);
}

TEST_F(ProcessorTest, TransientErrorPropagatesAndLeavesNothingBehind) {
  store_.fail_next_transaction = true;
  Envelope e;
  e.device_id = "CP1";
  e.message_type = "Heartbeat";
  e.unique_id = "x";
  MessageProcessor processor(store_, clock_, policy_);
  EXPECT_THROW(processor.process(e), csms::TransientStoreError);
  EXPECT_TRUE(store_.state.processed.empty());
  EXPECT_FALSE(processor.process(e).duplicate);  // the retry is processed for real
}

TEST_F(ProcessorTest, StatusNotificationUpdatesConnectorAndEmitsChange) {
  boot();
  send("StatusNotification", {{"connectorId", 1}, {"status", "Available"}, {"errorCode", "NoError"},
                              {"timestamp", "2024-01-15T10:00:00Z"}});
  const Outcome outcome =
      send("StatusNotification", {{"connectorId", 1}, {"status", "Charging"}, {"errorCode", "NoError"},
                                  {"info", "plugged"}, {"timestamp", "2024-01-15T10:05:00Z"}});
  EXPECT_EQ(result(outcome), json::object());
  const auto* event = find_event(outcome, "charger.status.changed");
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->fields.at("connectorId"), 1);
  EXPECT_EQ(event->fields.at("previousStatus"), "Available");
  EXPECT_EQ(event->fields.at("status"), "Charging");
  EXPECT_EQ(event->fields.at("errorCode"), "NoError");
  EXPECT_EQ(event->fields.at("info"), "plugged");
  EXPECT_TRUE(event->fields.at("vendorErrorCode").is_null());
  EXPECT_EQ(event->fields.at("chargerId"), store_.state.chargers.at("CP1").id);
  EXPECT_EQ(find_event(outcome, "error.occurred"), nullptr);
  const auto& connector = store_.state.connectors.at({store_.state.chargers.at("CP1").id, 1});
  EXPECT_EQ(connector.status, "Charging");
  EXPECT_EQ(connector.updated_at, "2024-01-15T10:05:00.000Z");
}

TEST_F(ProcessorTest, FirstStatusHasNullPreviousAndConnectorZeroIsTheChargePoint) {
  const Outcome outcome = send("StatusNotification",
                               {{"connectorId", 0}, {"status", "Available"}, {"errorCode", "NoError"}});
  const auto* event = find_event(outcome, "charger.status.changed");
  ASSERT_NE(event, nullptr);
  EXPECT_TRUE(event->fields.at("previousStatus").is_null());
  EXPECT_EQ(event->fields.at("connectorId"), 0);
  // without a charger timestamp the time the gateway received it counts
  EXPECT_EQ(event->fields.at("timestamp"), "2024-01-15T10:29:59.000Z");
}

TEST_F(ProcessorTest, FaultedStatusAlsoRaisesError) {
  const Outcome outcome =
      send("StatusNotification", {{"connectorId", 2}, {"status", "Faulted"},
                                  {"errorCode", "GroundFailure"}, {"vendorErrorCode", "E42"}});
  const auto* error = find_event(outcome, "error.occurred");
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->fields.at("connectorId"), 2);
  EXPECT_EQ(error->fields.at("errorCode"), "GroundFailure");
  EXPECT_EQ(error->fields.at("vendorErrorCode"), "E42");
  EXPECT_NE(find_event(outcome, "charger.status.changed"), nullptr);
}

TEST_F(ProcessorTest, OlderStatusNotificationDoesNotOverwriteNewerState) {
  send("StatusNotification", {{"connectorId", 1}, {"status", "Charging"}, {"errorCode", "NoError"},
                              {"timestamp", "2024-01-15T10:05:00Z"}});
  const Outcome stale =
      send("StatusNotification", {{"connectorId", 1}, {"status", "Available"},
                                  {"errorCode", "NoError"}, {"timestamp", "2024-01-15T10:00:00Z"}});
  EXPECT_EQ(result(stale), json::object());
  EXPECT_TRUE(stale.events.empty());
  EXPECT_FALSE(stale.warnings.empty());
  EXPECT_EQ(store_.state.connectors.at({store_.state.chargers.at("CP1").id, 1}).status, "Charging");
}

TEST_F(ProcessorTest, StatusFromAChargerClockInTheFutureDoesNotBlockLaterStatuses) {
  // received at 10:29:59 but stamped a day later by a charger with a wrong clock
  send("StatusNotification", {{"connectorId", 1}, {"status", "Charging"}, {"errorCode", "NoError"},
                              {"timestamp", "2024-01-16T10:00:00Z"}});
  const auto charger_id = store_.state.chargers.at("CP1").id;
  EXPECT_EQ(store_.state.connectors.at({charger_id, 1}).updated_at, "2024-01-15T10:29:59.000Z");
  // clock corrected; the next report carries the right time
  const Outcome next = send("StatusNotification", {{"connectorId", 1}, {"status", "Finishing"},
                                                   {"errorCode", "NoError"},
                                                   {"timestamp", "2024-01-15T10:29:59.500Z"}});
  EXPECT_NE(find_event(next, "charger.status.changed"), nullptr);
  EXPECT_EQ(store_.state.connectors.at({charger_id, 1}).status, "Finishing");
}

TEST_F(ProcessorTest, AuthorizeUsesStoredTagsExpiryAndPolicy) {
  store_.state.id_tags["GOOD"] = {"GOOD", "Accepted", "2030-01-01T00:00:00Z", "FLEET"};
  store_.state.id_tags["OLD"] = {"OLD", "Accepted", "2020-01-01T00:00:00Z", std::nullopt};
  store_.state.id_tags["BLOCKED"] = {"BLOCKED", "Blocked", std::nullopt, std::nullopt};

  EXPECT_EQ(result(send("Authorize", {{"idTag", "GOOD"}})),
            json::parse(R"({"idTagInfo":{"status":"Accepted","expiryDate":"2030-01-01T00:00:00.000Z","parentIdTag":"FLEET"}})"));
  EXPECT_EQ(result(send("Authorize", {{"idTag", "OLD"}})).at("idTagInfo").at("status"), "Expired");
  EXPECT_EQ(result(send("Authorize", {{"idTag", "BLOCKED"}})).at("idTagInfo").at("status"), "Blocked");
  EXPECT_EQ(result(send("Authorize", {{"idTag", "NOBODY"}})),
            json::parse(R"({"idTagInfo":{"status":"Accepted"}})"));
  policy_.unknown_tag = UnknownTagPolicy::kReject;
  EXPECT_EQ(result(send("Authorize", {{"idTag", "NOBODY"}})).at("idTagInfo").at("status"), "Invalid");
  EXPECT_TRUE(store_.state.id_tags.find("NOBODY") == store_.state.id_tags.end());
}

TEST_F(ProcessorTest, StartTransactionCreatesTransactionAndEmitsStarted) {
  boot();
  const Outcome outcome = send("StartTransaction", {{"connectorId", 1}, {"idTag", "TAG1"},
                                                    {"meterStart", 1500},
                                                    {"timestamp", "2024-01-15T10:00:00+01:00"}});
  const json r = result(outcome);
  const auto id = r.at("transactionId").get<std::int64_t>();
  EXPECT_EQ(r.at("idTagInfo").at("status"), "Accepted");
  const auto& t = store_.state.transactions.at(id);
  EXPECT_EQ(t.meter_start, 1500);
  EXPECT_EQ(t.connector_id, 1);
  EXPECT_EQ(t.started_at, "2024-01-15T09:00:00.000Z");
  const auto* event = find_event(outcome, "charging.started");
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->fields.at("transactionId"), id);
  EXPECT_EQ(event->fields.at("connectorId"), 1);
  EXPECT_EQ(event->fields.at("idTag"), "TAG1");
  EXPECT_EQ(event->fields.at("meterStart"), 1500);
  EXPECT_EQ(event->fields.at("timestamp"), "2024-01-15T09:00:00.000Z");
}

TEST_F(ProcessorTest, StartWithReservationIdConsumesTheChargersReservationOnce) {
  boot();
  const std::int64_t charger = store_.state.chargers.at("CP1").id;
  Reservation reservation;
  reservation.id = 12;
  reservation.charge_point_id = "CP1";
  reservation.connector_id = 1;
  reservation.id_tag = "TAG1";
  reservation.expiry_date = "2024-01-15T11:00:00.000Z";
  reservation.status = "Accepted";
  reservation.created_at = "2024-01-15T09:00:00.000Z";
  store_.state.reservations[12] = {charger, reservation};
  reservation.id = 13;
  store_.state.reservations[13] = {charger + 1, reservation};  // another charger's

  const Outcome outcome = send("StartTransaction", {{"connectorId", 1}, {"idTag", "TAG1"}, {"meterStart", 0},
                                                    {"reservationId", 12}, {"timestamp", "2024-01-15T10:00:00Z"}});
  const auto id = result(outcome).at("transactionId").get<std::int64_t>();
  EXPECT_EQ(store_.state.transactions.at(id).id, id);
  const auto& used = store_.state.reservations.at(12).second;
  EXPECT_EQ(used.status, "Used");
  EXPECT_EQ(used.transaction_id, id);
  const auto* event = find_event(outcome, "reservation.used");
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->fields.at("reservationId"), 12);
  EXPECT_EQ(event->fields.at("transactionId"), id);
  EXPECT_EQ(event->fields.at("connectorId"), 1);

  // A second start naming it (or another charger's reservation) consumes nothing.
  const Outcome again = send("StartTransaction", {{"connectorId", 2}, {"idTag", "TAG1"}, {"meterStart", 0},
                                                  {"reservationId", 12}, {"timestamp", "2024-01-15T10:05:00Z"}});
  EXPECT_EQ(find_event(again, "reservation.used"), nullptr);
  EXPECT_FALSE(again.warnings.empty());
  const Outcome foreign = send("StartTransaction", {{"connectorId", 2}, {"idTag", "TAG1"}, {"meterStart", 0},
                                                    {"reservationId", 13}, {"timestamp", "2024-01-15T10:06:00Z"}});
  EXPECT_EQ(find_event(foreign, "reservation.used"), nullptr);
  EXPECT_EQ(store_.state.reservations.at(13).second.status, "Accepted");
}

TEST_F(ProcessorTest, DiagnosticsAndLogStatusNotificationsMoveTheRequestGenXMade) {
  boot();
  auto request = [](std::int64_t id, std::string kind) {
    DiagnosticsFile f;
    f.id = id;
    f.charge_point_id = "CP1";
    f.kind = std::move(kind);
    f.status = "Accepted";
    return f;
  };
  store_.state.diagnostics = {request(1, "Diagnostics"), request(2, "SecurityLog"), request(3, "Diagnostics")};

  // 1.6 DiagnosticsStatusNotification has no requestId: the newest Diagnostics request.
  const Outcome uploading = send("DiagnosticsStatusNotification", {{"status", "Uploading"}});
  EXPECT_EQ(result(uploading), json::object());
  const auto* event = find_event(uploading, "diagnostics.status.changed");
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->fields.at("diagnosticsId"), 3);
  EXPECT_EQ(event->fields.at("status"), "Uploading");
  EXPECT_EQ(event->fields.at("previousStatus"), "Accepted");
  EXPECT_EQ(event->fields.at("source"), "charger");
  EXPECT_EQ(store_.state.diagnostics[0].status, "Accepted");
  EXPECT_EQ(store_.state.chargers.at("CP1").diagnostics_status, "Uploading");
  // The same status again changes nothing and raises no event.
  EXPECT_EQ(find_event(send("DiagnosticsStatusNotification", {{"status", "Uploading"}}), "diagnostics.status.changed"),
            nullptr);

  // LogStatusNotification names its request.
  const Outcome log = send("LogStatusNotification", {{"status", "Uploaded"}, {"requestId", 2}});
  EXPECT_EQ(result(log), json::object());
  event = find_event(log, "diagnostics.status.changed");
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->fields.at("diagnosticsId"), 2);
  EXPECT_EQ(event->fields.at("kind"), "SecurityLog");
  EXPECT_EQ(store_.state.diagnostics[1].status, "Uploaded");
  // One for a request GenX never made is accepted and moves nothing.
  const Outcome unknown = send("LogStatusNotification", {{"status", "Uploading"}, {"requestId", 99}});
  EXPECT_EQ(result(unknown), json::object());
  EXPECT_EQ(find_event(unknown, "diagnostics.status.changed"), nullptr);
}

TEST_F(ProcessorTest, StartWithRejectedTagStillGetsATransactionId) {
  store_.state.id_tags["BLOCKED"] = {"BLOCKED", "Blocked", std::nullopt, std::nullopt};
  const json r = result(send("StartTransaction", {{"connectorId", 1}, {"idTag", "BLOCKED"},
                                                  {"meterStart", 0},
                                                  {"timestamp", "2024-01-15T10:00:00Z"}}));
  EXPECT_EQ(r.at("idTagInfo").at("status"), "Blocked");
  EXPECT_TRUE(store_.state.transactions.count(r.at("transactionId").get<std::int64_t>()));
}

TEST_F(ProcessorTest, NewStartOnBusyConnectorClosesTheOpenTransaction) {
  const auto first = start("TAG1", 1, 1000);
  const Outcome outcome = send("StartTransaction", {{"connectorId", 1}, {"idTag", "TAG2"},
                                                    {"meterStart", 4000},
                                                    {"timestamp", "2024-01-15T11:00:00Z"}});
  const auto second = result(outcome).at("transactionId").get<std::int64_t>();
  EXPECT_NE(first, second);
  const auto& old = store_.state.transactions.at(first);
  EXPECT_FALSE(old.active());
  EXPECT_EQ(old.stop_reason, "Other");
  EXPECT_EQ(old.meter_stop, 4000);
  EXPECT_TRUE(store_.state.transactions.at(second).active());
  const auto* completed = find_event(outcome, "transaction.completed");
  ASSERT_NE(completed, nullptr);
  EXPECT_EQ(completed->fields.at("transactionId"), first);
  EXPECT_EQ(completed->fields.at("energyWh"), 3000);
}

TEST_F(ProcessorTest, MeterValuesAreStoredAndSummarised) {
  const auto id = start();
  const Outcome outcome = send(
      "MeterValues",
      json::parse(R"({"connectorId":1,"transactionId":)" + std::to_string(id) + R"(,"meterValue":[
        {"timestamp":"2024-01-15T10:10:00Z","sampledValue":[
          {"value":"2000","measurand":"Energy.Active.Import.Register","unit":"Wh"}]},
        {"timestamp":"2024-01-15T10:20:00Z","sampledValue":[
          {"value":"3.5","measurand":"Energy.Active.Import.Register","unit":"kWh","context":"Sample.Periodic"},
          {"value":"7.2","measurand":"Power.Active.Import","unit":"kW"},
          {"value":"55","measurand":"SoC","unit":"Percent","location":"EV"}]}]})"));
  EXPECT_EQ(result(outcome), json::object());
  ASSERT_EQ(store_.state.samples.size(), 4u);
  EXPECT_EQ(store_.state.samples[1].value, "3.5");
  EXPECT_EQ(store_.state.samples[1].unit, "kWh");
  EXPECT_EQ(store_.state.samples[1].context, "Sample.Periodic");
  EXPECT_EQ(store_.state.samples[1].transaction_id, id);
  EXPECT_EQ(store_.state.samples[3].location, "EV");
  EXPECT_EQ(store_.state.samples[3].timestamp, "2024-01-15T10:20:00.000Z");
  const auto* event = find_event(outcome, "meter.values");
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->fields.at("transactionId"), id);
  EXPECT_EQ(event->fields.at("connectorId"), 1);
  EXPECT_DOUBLE_EQ(event->fields.at("energyWh").get<double>(), 3500);
  EXPECT_DOUBLE_EQ(event->fields.at("powerW").get<double>(), 7200);
  EXPECT_DOUBLE_EQ(event->fields.at("soc").get<double>(), 55);
}

TEST_F(ProcessorTest, MeterValuesPerPhasePowerIsSummedAndDefaultMeasurandIsEnergy) {
  const Outcome outcome = send("MeterValues", json::parse(R"({"connectorId":1,"meterValue":[
        {"timestamp":"2024-01-15T10:10:00Z","sampledValue":[
          {"value":"1234"},
          {"value":"1000","measurand":"Power.Active.Import","phase":"L1","unit":"W"},
          {"value":"1100","measurand":"Power.Active.Import","phase":"L2","unit":"W"}]}]})"));
  const auto* event = find_event(outcome, "meter.values");
  ASSERT_NE(event, nullptr);
  EXPECT_TRUE(event->fields.at("transactionId").is_null());
  EXPECT_DOUBLE_EQ(event->fields.at("energyWh").get<double>(), 1234);
  EXPECT_DOUBLE_EQ(event->fields.at("powerW").get<double>(), 2100);
  EXPECT_FALSE(event->fields.contains("soc"));
}

TEST_F(ProcessorTest, MeterValuesForUnknownTransactionAreKeptWithoutLink) {
  const Outcome outcome = send("MeterValues", json::parse(R"({"connectorId":1,"transactionId":777,"meterValue":[
        {"timestamp":"2024-01-15T10:10:00Z","sampledValue":[{"value":"1"}]}]})"));
  EXPECT_EQ(result(outcome), json::object());
  ASSERT_EQ(store_.state.samples.size(), 1u);
  EXPECT_FALSE(store_.state.samples[0].transaction_id.has_value());
  EXPECT_FALSE(outcome.warnings.empty());
}

TEST_F(ProcessorTest, StopTransactionCompletesItWithEnergyAndDuration) {
  const auto id = start("TAG1", 1, 1000);
  const Outcome outcome = send(
      "StopTransaction",
      json::parse(R"({"transactionId":)" + std::to_string(id) + R"(,"meterStop":8500,
        "timestamp":"2024-01-15T10:45:30Z","idTag":"TAG1","reason":"EVDisconnected",
        "transactionData":[{"timestamp":"2024-01-15T10:45:30Z","sampledValue":[
          {"value":"8500","context":"Transaction.End"}]}]})"));
  EXPECT_EQ(result(outcome), json::parse(R"({"idTagInfo":{"status":"Accepted"}})"));
  const auto& t = store_.state.transactions.at(id);
  EXPECT_EQ(t.meter_stop, 8500);
  EXPECT_EQ(t.stopped_at, "2024-01-15T10:45:30.000Z");
  EXPECT_EQ(t.stop_reason, "EVDisconnected");
  ASSERT_EQ(store_.state.samples.size(), 1u);
  EXPECT_EQ(store_.state.samples[0].transaction_id, id);
  EXPECT_EQ(store_.state.samples[0].context, "Transaction.End");

  const auto* stopped = find_event(outcome, "charging.stopped");
  ASSERT_NE(stopped, nullptr);
  EXPECT_EQ(stopped->fields.at("transactionId"), id);
  EXPECT_EQ(stopped->fields.at("meterStop"), 8500);
  const auto* completed = find_event(outcome, "transaction.completed");
  ASSERT_NE(completed, nullptr);
  EXPECT_EQ(completed->fields.at("transactionId"), id);
  EXPECT_EQ(completed->fields.at("connectorId"), 1);
  EXPECT_EQ(completed->fields.at("energyWh"), 7500);
  EXPECT_EQ(completed->fields.at("durationSeconds"), 45 * 60 + 30);
  EXPECT_EQ(completed->fields.at("stopReason"), "EVDisconnected");
  EXPECT_EQ(completed->fields.at("meterStart"), 1000);
  EXPECT_EQ(completed->fields.at("meterStop"), 8500);
}

TEST_F(ProcessorTest, StopWithoutIdTagOrReasonAnswersEmptyAndDefaultsToLocal) {
  const auto id = start();
  const Outcome outcome = send("StopTransaction", {{"transactionId", id}, {"meterStop", 1200},
                                                   {"timestamp", "2024-01-15T10:30:00Z"}});
  EXPECT_EQ(result(outcome), json::object());
  EXPECT_EQ(store_.state.transactions.at(id).stop_reason, "Local");
  EXPECT_EQ(find_event(outcome, "transaction.completed")->fields.at("stopReason"), "Local");
}

TEST_F(ProcessorTest, StopOfUnknownTransactionAnswersEmptyWithWarning) {
  const Outcome outcome = send("StopTransaction", {{"transactionId", 4242}, {"meterStop", 1},
                                                   {"idTag", "TAG1"},
                                                   {"timestamp", "2024-01-15T10:30:00Z"}});
  EXPECT_EQ(result(outcome), json::object());
  EXPECT_TRUE(outcome.events.empty());
  ASSERT_FALSE(outcome.warnings.empty());
  EXPECT_NE(outcome.warnings[0].find("4242"), std::string::npos);
}

TEST_F(ProcessorTest, StopOfAnotherChargersTransactionChangesNothing) {
  const auto id = start();  // on CP1
  const Outcome outcome = send("StopTransaction", {{"transactionId", id}, {"meterStop", 99999},
                                                   {"timestamp", "2024-01-15T10:30:00Z"}},
                               "", "CP2");
  EXPECT_TRUE(outcome.events.empty());
  EXPECT_TRUE(store_.state.transactions.at(id).active());
}

TEST_F(ProcessorTest, SecondStopWithNewUniqueIdDoesNotChangeTheTransaction) {
  const auto id = start("TAG1", 1, 1000);
  send("StopTransaction", {{"transactionId", id}, {"meterStop", 2000},
                           {"timestamp", "2024-01-15T10:30:00Z"}});
  const Outcome again = send("StopTransaction", {{"transactionId", id}, {"meterStop", 9000},
                                                 {"idTag", "TAG1"},
                                                 {"timestamp", "2024-01-15T11:30:00Z"}});
  EXPECT_FALSE(again.duplicate);
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(result(again).at("idTagInfo").at("status"), "Accepted");
  EXPECT_EQ(store_.state.transactions.at(id).meter_stop, 2000);
  EXPECT_EQ(store_.state.transactions.at(id).stopped_at, "2024-01-15T10:30:00.000Z");
}

TEST_F(ProcessorTest, DataTransferAnswersUnknownVendor) {
  EXPECT_EQ(result(send("DataTransfer", {{"vendorId", "com.acme"}, {"data", "x"}})),
            json({{"status", "UnknownVendorId"}}));
}

TEST_F(ProcessorTest, FirmwareAndDiagnosticsStatusAreRecordedOnTheCharger) {
  EXPECT_EQ(result(send("FirmwareStatusNotification", {{"status", "Installing"}})), json::object());
  EXPECT_EQ(result(send("DiagnosticsStatusNotification", {{"status", "Uploaded"}})), json::object());
  EXPECT_EQ(store_.state.chargers.at("CP1").firmware_status, "Installing");
  EXPECT_EQ(store_.state.chargers.at("CP1").diagnostics_status, "Uploaded");
}

TEST_F(ProcessorTest, SignCertificateWithoutCaIsRejectedNotAnError) {
  const Outcome outcome = send("SignCertificate", {{"csr", "-----BEGIN CERTIFICATE REQUEST-----"}});
  ASSERT_FALSE(outcome.reply.error.has_value());
  EXPECT_EQ(result(outcome), json({{"status", "Rejected"}}));
}

TEST_F(ProcessorTest, SignCertificateFollowsTheCaCheck) {
  std::vector<std::string> checked;
  policy_.check_csr = [&](std::string_view csr, std::string_view cp) -> std::optional<std::string> {
    checked.push_back(std::string(csr) + "|" + std::string(cp));
    if (csr == "good") return std::nullopt;
    return "the csr is for CN \"CP2\", not for this charge point (CP1)";
  };
  const Outcome accepted = send("SignCertificate", {{"csr", "good"}});
  EXPECT_EQ(result(accepted), json({{"status", "Accepted"}}));
  EXPECT_EQ(find_event(accepted, "certificate.rejected"), nullptr);
  const Outcome rejected = send("SignCertificate", {{"csr", "other"}});
  EXPECT_EQ(result(rejected), json({{"status", "Rejected"}}));
  const DomainEvent* event = find_event(rejected, "certificate.rejected");
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->fields.at("reason"), "the csr is for CN \"CP2\", not for this charge point (CP1)");
  ASSERT_EQ(rejected.warnings.size(), 1u);
  EXPECT_NE(rejected.warnings[0].find("answered Rejected: the csr is for CN"), std::string::npos);
  EXPECT_EQ(checked, (std::vector<std::string>{"good|CP1", "other|CP1"}));
}

TEST_F(ProcessorTest, SecurityEventNotificationIsAnEvent) {
  const Outcome outcome = send("SecurityEventNotification",
                               {{"type", "FailedToAuthenticateAtCentralSystem"},
                                {"timestamp", "2024-01-15T10:00:00+01:00"},
                                {"techInfo", "bad key"}});
  EXPECT_EQ(result(outcome), json::object());
  const DomainEvent* event = find_event(outcome, "security.event");
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->fields.at("securityEventType"), "FailedToAuthenticateAtCentralSystem");
  EXPECT_EQ(event->fields.at("occurredAt"), "2024-01-15T09:00:00.000Z");
  EXPECT_EQ(event->fields.at("techInfo"), "bad key");
  EXPECT_EQ(event->fields.at("source"), "charger");
}

TEST_F(ProcessorTest, UnknownAndCsmsOnlyActionsGetErrors) {
  const Outcome unknown = send("FlyToTheMoon", json::object());
  ASSERT_TRUE(unknown.reply.error.has_value());
  EXPECT_EQ(unknown.reply.error->code, ocpp::ErrorCode::kNotImplemented);
  const Outcome reset = send("Reset", {{"type", "Hard"}});
  ASSERT_TRUE(reset.reply.error.has_value());
  EXPECT_EQ(reset.reply.error->code, ocpp::ErrorCode::kNotSupported);
  // recorded for idempotency too
  EXPECT_TRUE(send("Reset", {{"type", "Hard"}}, reset.reply.unique_id).duplicate);
}

TEST_F(ProcessorTest, MalformedPayloadGetsFormationViolationAndNoPartialWrites) {
  const Outcome outcome = send("StartTransaction", {{"connectorId", "one"}, {"idTag", "TAG1"}});
  ASSERT_TRUE(outcome.reply.error.has_value());
  EXPECT_EQ(outcome.reply.error->code, ocpp::ErrorCode::kFormationViolation);
  EXPECT_TRUE(outcome.events.empty());
  EXPECT_TRUE(store_.state.transactions.empty());
  EXPECT_EQ(store_.state.processed.size(), 1u);
}

// ---- billing and event ids (issue 7) ----

TEST_F(ProcessorTest, StopBillsTheSessionByTheTariffAndCarriesTheCostInTheEvent) {
  policy_.tariff = Tariff{350000, 20000, 500000, "EUR"};  // 0.35/kWh, 0.02/min, 0.50 fee
  boot();
  const auto id = start("TAG1", 1, 1000);
  // 10:00 -> 11:30 = 90 min; 12,345 Wh: 4.32075 + 1.80 + 0.50 = 6.62075 -> 6.62
  const auto out = send("StopTransaction", {{"transactionId", id},
                                            {"meterStop", 13345},
                                            {"timestamp", "2024-01-15T11:30:00Z"}});
  const auto& stop = store_.state.stops.at(id);
  EXPECT_EQ(stop.energy_wh, 12345);
  EXPECT_EQ(stop.cost_minor, 662);
  EXPECT_EQ(stop.currency, "EUR");
  const auto* completed = find_event(out, "transaction.completed");
  ASSERT_NE(completed, nullptr);
  EXPECT_EQ(completed->fields["costMinor"], 662);
  EXPECT_EQ(completed->fields["currency"], "EUR");
  EXPECT_EQ(completed->fields["energyWh"], 12345);
}

TEST_F(ProcessorTest, MeterResetDuringTheSessionIsBilledFromTheReadings) {
  policy_.tariff = Tariff{1000000, 0, 0, "EUR"};  // 1.00 per kWh
  boot();
  const auto id = start("TAG1", 1, 90000);
  send("MeterValues", {{"connectorId", 1},
                       {"transactionId", id},
                       {"meterValue", json::array({{{"timestamp", "2024-01-15T10:20:00Z"},
                                                    {"sampledValue", json::array({{{"value", "95000"}}})}},
                                                   {{"timestamp", "2024-01-15T10:40:00Z"},
                                                    {"sampledValue", json::array({{{"value", "2000"}}})}}})}});
  // 90000 -> 95000 (+5000), reset -> 2000 (+2000), stop 3500 (+1500) = 8500 Wh.
  const auto out = send("StopTransaction", {{"transactionId", id},
                                            {"meterStop", 3500},
                                            {"timestamp", "2024-01-15T11:00:00Z"}});
  EXPECT_EQ(store_.state.stops.at(id).energy_wh, 8500);
  EXPECT_EQ(store_.state.stops.at(id).cost_minor, 850);
  EXPECT_EQ(find_event(out, "transaction.completed")->fields["energyWh"], 8500);
}

TEST_F(ProcessorTest, PerChargerTariffOverridesTheDefault) {
  policy_.tariff = Tariff{350000, 0, 0, "EUR"};
  store_.state.tariffs["CP1"] = Tariff{100000, 0, 250000, "EUR"};  // 0.10/kWh + 0.25
  boot();
  const auto id = start("TAG1", 1, 0);
  send("StopTransaction", {{"transactionId", id}, {"meterStop", 10000},
                           {"timestamp", "2024-01-15T10:10:00Z"}});
  EXPECT_EQ(store_.state.stops.at(id).cost_minor, 125);
}

TEST_F(ProcessorTest, EventsCarryAnIdStableAcrossRedeliveryAndStatusHistoryIsKept) {
  boot();
  const auto first = send("StatusNotification", {{"connectorId", 1},
                                                 {"status", "Faulted"},
                                                 {"errorCode", "GroundFailure"},
                                                 {"timestamp", "2024-01-15T10:00:00Z"}},
                          "st-1");
  ASSERT_EQ(first.events.size(), 2u);
  EXPECT_EQ(first.events[0].fields["eventId"], "CP1/st-1/StatusNotification/charger.status.changed");
  EXPECT_EQ(first.events[1].fields["eventId"], "CP1/st-1/StatusNotification/error.occurred");
  EXPECT_EQ(first.events[0].fields["statusAt"], "2024-01-15T10:00:00.000Z");
  EXPECT_TRUE(first.events[0].fields["previousStatusAt"].is_null());
  const auto again = send("StatusNotification", {{"connectorId", 1},
                                                 {"status", "Faulted"},
                                                 {"errorCode", "GroundFailure"},
                                                 {"timestamp", "2024-01-15T10:00:00Z"}},
                          "st-1");
  EXPECT_TRUE(again.duplicate);
  ASSERT_EQ(again.events.size(), 2u);
  EXPECT_EQ(again.events[0].fields["eventId"], first.events[0].fields["eventId"]);
  EXPECT_EQ(again.events[1].fields["eventId"], first.events[1].fields["eventId"]);
  ASSERT_EQ(store_.state.status_history.size(), 1u);
  EXPECT_EQ(store_.state.status_history[0].second.status, "Faulted");
}

TEST_F(ProcessorTest, DuplicateOfAMessageStoredWithoutEventsGetsTheReplyOnly) {
  // A row written before schema version 6 has a reply and no events.
  store_.state.processed[{"CP1", "old-1", "Heartbeat"}] =
      ProcessedMessage{
      messages::encode_stored_reply(Reply{"old-1", json{{"currentTime", "2024-01-15T10:00:00.000Z"}}, std::nullopt}),
      ""};
  const auto outcome = send("Heartbeat", json::object(), "old-1");
  EXPECT_TRUE(outcome.duplicate);
  EXPECT_TRUE(outcome.events.empty());
  EXPECT_EQ(result(outcome).at("currentTime"), "2024-01-15T10:00:00.000Z");
}

TEST_F(ProcessorTest, DuplicateWithUnreadableStoredEventsIsStillAnswered) {
  store_.state.processed[{"CP1", "bad-1", "Heartbeat"}] =
      ProcessedMessage{
      messages::encode_stored_reply(Reply{"bad-1", json{{"currentTime", "2024-01-15T10:00:00.000Z"}}, std::nullopt}),
      "{not json"};
  const auto outcome = send("Heartbeat", json::object(), "bad-1");
  EXPECT_TRUE(outcome.duplicate);
  EXPECT_TRUE(outcome.events.empty());
  EXPECT_EQ(result(outcome).at("currentTime"), "2024-01-15T10:00:00.000Z");
  ASSERT_EQ(outcome.warnings.size(), 1u);
  EXPECT_NE(outcome.warnings[0].find("unreadable"), std::string::npos);
}


// ---- Resent transaction messages (docs/design.md "Resent calls"): a charger resends a call under
// a new message id after an error or a timeout, so transaction messages are idempotent by
// their content, not only by (deviceId, uniqueId, action).

json start_payload(int connector = 1, std::int64_t meter_start = 1500,
                   const std::string& timestamp = "2024-01-15T10:00:00Z") {
  return {{"connectorId", connector},
          {"idTag", "TAG1"},
          {"meterStart", meter_start},
          {"timestamp", timestamp}};
}

bool has_warning(const Outcome& outcome, const std::string& text) {
  return std::any_of(outcome.warnings.begin(), outcome.warnings.end(),
                     [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

TEST_F(ProcessorTest, ResentStartUnderANewIdGetsTheSameTransactionAndIdTagInfo) {
  store_.state.id_tags["TAG1"] = {"TAG1", "Accepted", "2025-01-01T00:00:00Z", "PARENT"};
  const Outcome first = send("StartTransaction", start_payload(), "start-a");
  const json answer = result(first);
  ASSERT_NE(find_event(first, "charging.started"), nullptr);

  // The tag is blocked in between: the resend still gets what the start was answered.
  store_.state.id_tags["TAG1"].status = "Blocked";
  const Outcome again = send("StartTransaction", start_payload(), "start-b");
  EXPECT_FALSE(again.duplicate);  // a new message id: not the message-id dedupe
  EXPECT_EQ(result(again), answer);
  EXPECT_EQ(answer.at("idTagInfo"),
            json({{"status", "Accepted"},
                  {"expiryDate", "2025-01-01T00:00:00.000Z"},
                  {"parentIdTag", "PARENT"}}));
  EXPECT_EQ(store_.state.transactions.size(), 1u);
  EXPECT_TRUE(store_.state.transactions.begin()->second.active());
  EXPECT_TRUE(again.events.empty());  // no second charging.started
  EXPECT_TRUE(has_warning(again, "repeats the start of transaction"));
}

TEST_F(ProcessorTest, ResentStartInAnotherTimestampFormatIsTheSameStart) {
  const auto id = result(send("StartTransaction", start_payload(1, 1500, "2024-01-15T10:00:00Z")))
                      .at("transactionId");
  const Outcome again =
      send("StartTransaction", start_payload(1, 1500, "2024-01-15T11:00:00.000+01:00"));
  EXPECT_EQ(result(again).at("transactionId"), id);
  EXPECT_EQ(store_.state.transactions.size(), 1u);
}

TEST_F(ProcessorTest, ResentStartAfterTheStopAnswersTheStoppedTransaction) {
  const auto id = result(send("StartTransaction", start_payload())).at("transactionId");
  send("StopTransaction", {{"transactionId", id}, {"meterStop", 2500},
                           {"timestamp", "2024-01-15T10:30:00Z"}});
  const Outcome late = send("StartTransaction", start_payload());
  EXPECT_EQ(result(late).at("transactionId"), id);
  EXPECT_TRUE(late.events.empty());
  ASSERT_EQ(store_.state.transactions.size(), 1u);
  EXPECT_EQ(store_.state.transactions.at(id.get<std::int64_t>()).meter_stop, 2500);
}

TEST_F(ProcessorTest, AStartThatDiffersInAnyKeyFieldIsANewTransaction) {
  const auto first = result(send("StartTransaction", start_payload(1, 1500))).at("transactionId");
  // Each differs from the first in one field of the key.
  const auto other_meter =
      result(send("StartTransaction", start_payload(1, 1501))).at("transactionId");
  const auto other_time =
      result(send("StartTransaction", start_payload(1, 1501, "2024-01-15T10:00:01Z")))
          .at("transactionId");
  const auto other_connector =
      result(send("StartTransaction", start_payload(2, 1500))).at("transactionId");
  json other_tag_payload = start_payload(1, 1501, "2024-01-15T10:00:01Z");
  other_tag_payload["idTag"] = "TAG2";
  const auto other_tag =
      result(send("StartTransaction", other_tag_payload)).at("transactionId");
  const auto other_charger =
      result(send("StartTransaction", start_payload(1, 1500), "", "CP2")).at("transactionId");
  const std::set<json> ids{first, other_meter, other_time, other_connector, other_tag,
                           other_charger};
  EXPECT_EQ(ids.size(), 6u);
  EXPECT_EQ(store_.state.transactions.size(), 6u);
}

TEST_F(ProcessorTest, ResentStopKeepsTheFirstStopAndAnswersTheSame) {
  const auto id = result(send("StartTransaction", start_payload())).at("transactionId");
  const json stop = {{"transactionId", id}, {"meterStop", 2500}, {"idTag", "TAG1"},
                     {"reason", "EVDisconnected"}, {"timestamp", "2024-01-15T10:30:00Z"}};
  const Outcome first = send("StopTransaction", stop, "stop-a");
  ASSERT_NE(find_event(first, "transaction.completed"), nullptr);
  const Outcome again = send("StopTransaction", stop, "stop-b");
  EXPECT_FALSE(again.duplicate);
  EXPECT_EQ(result(again), result(first));
  EXPECT_EQ(result(again).at("idTagInfo"), json({{"status", "Accepted"}}));
  EXPECT_TRUE(again.events.empty());  // no second transaction.completed
  EXPECT_TRUE(has_warning(again, "a resent stop, left unchanged"));
  EXPECT_FALSE(has_warning(again, "conflict"));
  const auto& t = store_.state.transactions.at(id.get<std::int64_t>());
  EXPECT_EQ(t.meter_stop, 2500);
  EXPECT_EQ(t.stop_reason, "EVDisconnected");
  EXPECT_EQ(store_.state.stops.at(id.get<std::int64_t>()).energy_wh, 1000);
}

TEST_F(ProcessorTest, ASecondStopWithAnotherMeterStopIsLoggedAsAConflictNotApplied) {
  const auto id = result(send("StartTransaction", start_payload())).at("transactionId");
  send("StopTransaction", {{"transactionId", id}, {"meterStop", 2500}, {"reason", "Local"},
                           {"timestamp", "2024-01-15T10:30:00Z"}});
  const Outcome other = send("StopTransaction", {{"transactionId", id}, {"meterStop", 2600},
                                                 {"reason", "Remote"},
                                                 {"timestamp", "2024-01-15T10:31:00Z"}});
  EXPECT_EQ(result(other), json::object());
  EXPECT_TRUE(other.events.empty());
  EXPECT_TRUE(has_warning(other, "conflict: this stop says meterStop 2600"));
  EXPECT_TRUE(has_warning(other, "kept meterStop 2500 and reason Local"));
  const auto& t = store_.state.transactions.at(id.get<std::int64_t>());
  EXPECT_EQ(t.meter_stop, 2500);
  EXPECT_EQ(t.stop_reason, "Local");
  EXPECT_EQ(t.stopped_at, "2024-01-15T10:30:00.000Z");
}

json meter_payload(const json& transaction_id, const std::string& timestamp, const std::string& wh,
                   const std::string& power_w = "7000") {
  return {{"connectorId", 1},
          {"transactionId", transaction_id},
          {"meterValue",
           json::array({{{"timestamp", timestamp},
                         {"sampledValue",
                          json::array({{{"value", wh},
                                        {"measurand", "Energy.Active.Import.Register"},
                                        {"unit", "Wh"}},
                                       {{"value", power_w},
                                        {"measurand", "Power.Active.Import"},
                                        {"unit", "W"}}})}}})}};
}

TEST_F(ProcessorTest, ResentMeterValuesAreStoredOnceAndAnnouncedOnce) {
  const auto id = result(send("StartTransaction", start_payload())).at("transactionId");
  const Outcome first = send("MeterValues", meter_payload(id, "2024-01-15T10:10:00Z", "1800"), "mv-a");
  ASSERT_NE(find_event(first, "meter.values"), nullptr);
  const Outcome again = send("MeterValues", meter_payload(id, "2024-01-15T10:10:00Z", "1800"), "mv-b");
  EXPECT_EQ(result(again), json::object());
  EXPECT_EQ(store_.state.samples.size(), 2u);
  EXPECT_TRUE(again.events.empty());
  EXPECT_TRUE(has_warning(again, "2 of 2 meter samples"));

  // Another phase of the same instant is another sample; the known ones stay single.
  json partly = meter_payload(id, "2024-01-15T10:10:00Z", "1800");
  partly["meterValue"][0]["sampledValue"].push_back(
      {{"value", "16"}, {"measurand", "Current.Import"}, {"phase", "L1"}, {"unit", "A"}});
  const Outcome mixed = send("MeterValues", partly, "mv-c");
  EXPECT_EQ(store_.state.samples.size(), 3u);
  EXPECT_NE(find_event(mixed, "meter.values"), nullptr);
}

TEST_F(ProcessorTest, TransactionDataOfAStopIsNotStoredTwiceWithItsMeterValues) {
  const auto id = result(send("StartTransaction", start_payload())).at("transactionId");
  const json sample = meter_payload(id, "2024-01-15T10:20:00Z", "2400");
  send("MeterValues", sample);
  send("StopTransaction", {{"transactionId", id}, {"meterStop", 2500},
                           {"timestamp", "2024-01-15T10:30:00Z"},
                           {"transactionData", sample.at("meterValue")}});
  EXPECT_EQ(store_.state.samples.size(), 2u);
  EXPECT_EQ(store_.state.stops.at(id.get<std::int64_t>()).energy_wh, 1000);
}

TEST_F(ProcessorTest, ADeadLetteredStartReplayedAfterTheChargersResendChangesNothing) {
  // The first attempt went to the DLQ (its charger was answered InternalError and resent
  // it under a new id, which was applied); an operator replays the DLQ later.
  const Outcome resent = send("StartTransaction", start_payload(), "resent-1");
  const Outcome replayed = send("StartTransaction", start_payload(), "original-1");
  EXPECT_EQ(result(replayed).at("transactionId"), result(resent).at("transactionId"));
  EXPECT_TRUE(replayed.events.empty());
  EXPECT_EQ(store_.state.transactions.size(), 1u);
  // And the replayed copy's own redelivery is answered from the message-id store.
  const Outcome redelivered = send("StartTransaction", start_payload(), "original-1");
  EXPECT_TRUE(redelivered.duplicate);
  EXPECT_EQ(result(redelivered).at("transactionId"), result(resent).at("transactionId"));
}

TEST_F(ProcessorTest, ResentStatusNotificationWithItsTimestampIsStoredOnce) {
  const json status = {{"connectorId", 1}, {"status", "Faulted"}, {"errorCode", "GroundFailure"},
                       {"timestamp", "2024-01-15T10:05:00Z"}};
  const Outcome first = send("StatusNotification", status, "st-a");
  ASSERT_NE(find_event(first, "charger.status.changed"), nullptr);
  const Outcome again = send("StatusNotification", status, "st-b");
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(store_.state.status_history.size(), 1u);
  EXPECT_TRUE(has_warning(again, "not stored again"));
  // The same status reported again later is a new report.
  json later = status;
  later["timestamp"] = "2024-01-15T10:06:00Z";
  const Outcome next = send("StatusNotification", later, "st-c");
  EXPECT_NE(find_event(next, "charger.status.changed"), nullptr);
  EXPECT_EQ(store_.state.status_history.size(), 2u);
}

TEST_F(ProcessorTest, TwoWorkersRacingOnTheSameStartCreateOneTransaction) {
  // Two workers (each its own processor, one serializable store) get the same start of
  // each of 200 chargers at once, under different message ids.
  constexpr int kChargers = 200;
  std::vector<Outcome> a(kChargers), b(kChargers);
  auto worker = [&](std::vector<Outcome>& out, const std::string& prefix) {
    MessageProcessor processor(store_, clock_, policy_);
    for (int i = 0; i < kChargers; ++i) {
      Envelope e;
      e.device_id = "RACE" + std::to_string(i);
      e.message_type = "StartTransaction";
      e.unique_id = prefix + std::to_string(i);
      e.payload = start_payload(1, 1000 + i);
      e.timestamp = "2024-01-15T10:29:59.000Z";
      out[i] = processor.process(e);
    }
  };
  std::thread first(worker, std::ref(a), "w1-");
  std::thread second(worker, std::ref(b), "w2-");
  first.join();
  second.join();
  ASSERT_EQ(store_.state.transactions.size(), static_cast<std::size_t>(kChargers));
  for (int i = 0; i < kChargers; ++i) {
    ASSERT_TRUE(a[i].reply.result && b[i].reply.result) << i;
    EXPECT_EQ(a[i].reply.result->at("transactionId"), b[i].reply.result->at("transactionId")) << i;
    EXPECT_EQ(a[i].events.size() + b[i].events.size(), 1u) << "charging.started once, charger " << i;
  }
}

// ---- OCPP 2.0.1 (csms/v201_handlers.cpp) ----

class V201Test : public ProcessorTest {
 protected:
  Outcome send201(const std::string& action, json payload, std::string unique_id = "") {
    Envelope e;
    e.device_id = "CS201";
    e.ocpp_version = "2.0.1";
    e.message_type = action;
    e.unique_id = unique_id.empty() ? "v" + std::to_string(++counter_) : std::move(unique_id);
    e.payload = std::move(payload);
    e.timestamp = "2024-01-15T10:29:59.000Z";
    e.raw_data = json::array({2, e.unique_id, action, e.payload}).dump();
    MessageProcessor processor(store_, clock_, policy_);
    Outcome outcome = processor.process(e);
    if (outcome.reply.result) {
      const auto violation = ocpp::v201::validate_response(action, *outcome.reply.result);
      EXPECT_FALSE(violation.has_value()) << action << " reply " << outcome.reply.result->dump()
                                          << " breaks the 2.0.1 schema: "
                                          << (violation ? violation->description : "");
    }
    return outcome;
  }

  static json energy(const std::string& at, double wh, const std::string& context) {
    return json::array({{{"timestamp", at},
                         {"sampledValue",
                          {{{"value", wh},
                            {"context", context},
                            {"measurand", "Energy.Active.Import.Register"},
                            {"unitOfMeasure", {{"unit", "Wh"}}}}}}}});
  }

  static json event(const std::string& type, int seq, const std::string& at, json meter = nullptr) {
    json e = {{"eventType", type},
              {"timestamp", at},
              {"triggerReason", type == "Started" ? "Authorized" : type == "Ended" ? "StopAuthorized" : "MeterValuePeriodic"},
              {"seqNo", seq},
              {"transactionInfo", {{"transactionId", "tx-\u00e9/1 a"}}},
              {"evse", {{"id", 2}, {"connectorId", 1}}}};
    if (type == "Started") e["idToken"] = {{"idToken", "TOKEN201"}, {"type", "ISO14443"}};
    if (type == "Ended") e["transactionInfo"]["stoppedReason"] = "EVDisconnected";
    if (!meter.is_null()) e["meterValue"] = std::move(meter);
    return e;
  }
};

TEST_F(V201Test, BootTakesVendorAndModelFromChargingStationAndRecordsTheVersion) {
  const json r = result(send201("BootNotification", {{"reason", "PowerUp"},
                                                     {"chargingStation", {{"vendorName", "Volt"},
                                                                          {"model", "V2"},
                                                                          {"firmwareVersion", "9"}}}}));
  EXPECT_EQ(r, json({{"status", "Accepted"}, {"currentTime", kNow}, {"interval", 300}}));
  const auto& charger = store_.state.chargers.at("CS201");
  EXPECT_EQ(charger.boot->vendor, "Volt");
  EXPECT_EQ(charger.boot->model, "V2");
  EXPECT_EQ(store_.state.ocpp_versions.at(charger.id), "2.0.1");
}

TEST_F(V201Test, TransactionEventsMakeOneBilledTransactionAndAResendChangesNothing) {
  policy_.tariff.energy_per_kwh_micro = 300000;  // 0.30 per kWh
  const json started = result(send201("TransactionEvent", event("Started", 0, "2024-01-15T10:00:00Z",
                                                                   energy("2024-01-15T10:00:00Z", 1000, "Transaction.Begin"))));
  EXPECT_EQ(started.at("idTokenInfo").at("status"), "Accepted");
  const json updated = event("Updated", 1, "2024-01-15T10:15:00Z", energy("2024-01-15T10:15:00Z", 4000, "Sample.Periodic"));
  result(send201("TransactionEvent", updated));
  const auto samples = store_.state.samples.size();
  const Outcome resent = send201("TransactionEvent", updated);  // new message id, same seqNo
  EXPECT_TRUE(resent.events.empty());
  EXPECT_EQ(store_.state.samples.size(), samples);
  const Outcome ended = send201("TransactionEvent", event("Ended", 2, "2024-01-15T10:30:00Z",
                                                          energy("2024-01-15T10:30:00Z", 11000, "Transaction.End")));
  ASSERT_EQ(store_.state.transactions.size(), 1U);
  const auto& t = store_.state.transactions.begin()->second;
  EXPECT_EQ(t.connector_id, 2);
  EXPECT_EQ(t.id_tag, "TOKEN201");
  EXPECT_EQ(t.meter_start, 1000);
  EXPECT_EQ(t.meter_stop, 11000);
  EXPECT_EQ(t.stop_reason, "EVDisconnected");
  EXPECT_EQ(store_.state.stops.at(t.id).energy_wh, 10000);
  EXPECT_EQ(store_.state.stops.at(t.id).cost_minor, 300);
  const auto* completed = find_event(ended, "transaction.completed");
  ASSERT_NE(completed, nullptr);
  EXPECT_EQ(completed->fields.at("energyWh"), 10000);
}

TEST_F(V201Test, TransactionReplayedOutOfOrderIsReconstructed) {
  // Offline: the station sends Ended first, then the Started and Updated it queued.
  send201("TransactionEvent", event("Ended", 2, "2024-01-15T10:30:00Z",
                                    energy("2024-01-15T10:30:00Z", 11000, "Transaction.End")));
  send201("TransactionEvent", event("Started", 0, "2024-01-15T10:00:00Z",
                                    energy("2024-01-15T10:00:00Z", 1000, "Transaction.Begin")));
  send201("TransactionEvent", event("Updated", 1, "2024-01-15T10:15:00Z",
                                    energy("2024-01-15T10:15:00Z", 4000, "Sample.Periodic")));
  ASSERT_EQ(store_.state.transactions.size(), 1U);
  const auto& t = store_.state.transactions.begin()->second;
  EXPECT_EQ(t.started_at, "2024-01-15T10:00:00.000Z");
  EXPECT_EQ(t.stopped_at, "2024-01-15T10:30:00.000Z");
  EXPECT_EQ(t.meter_start, 1000);
  EXPECT_EQ(t.id_tag, "TOKEN201");
  EXPECT_EQ(store_.state.stops.at(t.id).energy_wh, 10000);
}

TEST_F(V201Test, ALateEventAfterEndedIsBilledAgainAndAnnouncedOnlyWhenItBringsSomethingNew) {
  send201("TransactionEvent", event("Ended", 2, "2024-01-15T10:30:00Z",
                                    energy("2024-01-15T10:30:00Z", 11000, "Transaction.End")));
  // The Started arrives after the Ended: an earlier start and reading, billed again and announced.
  const Outcome late = send201("TransactionEvent", event("Started", 0, "2024-01-15T10:00:00Z",
                                                         energy("2024-01-15T10:00:00Z", 1000, "Transaction.Begin")));
  const auto& t = store_.state.transactions.begin()->second;
  EXPECT_EQ(store_.state.stops.at(t.id).energy_wh, 10000);
  const auto* completed = find_event(late, "transaction.completed");
  ASSERT_NE(completed, nullptr) << "the restated figures are announced";
  EXPECT_EQ(completed->fields.at("energyWh"), 10000);
  EXPECT_EQ(completed->fields.at("meterStart"), 1000);
  EXPECT_EQ(find_event(late, "charging.stopped"), nullptr) << "stopped once";
  // An event after the end that brings nothing new (no samples, nothing earlier) changes
  // nothing and announces nothing.
  json nothing = event("Updated", 3, "2024-01-15T10:20:00Z");
  nothing["triggerReason"] = "Trigger";
  const Outcome idle = send201("TransactionEvent", nothing);
  EXPECT_TRUE(idle.events.empty());
  EXPECT_EQ(store_.state.stops.at(t.id).energy_wh, 10000);
}

TEST_F(V201Test, ATransactionWithoutEvseWaitsForItsEvseBeforeAnnouncingItsStart) {
  json started = event("Started", 0, "2024-01-15T10:00:00Z", energy("2024-01-15T10:00:00Z", 1000, "Transaction.Begin"));
  started.erase("evse");
  const Outcome first = send201("TransactionEvent", started);
  EXPECT_EQ(find_event(first, "charging.started"), nullptr) << "no EVSE yet: no connectorId to announce";
  EXPECT_EQ(store_.state.transactions.begin()->second.connector_id, 0);
  const Outcome named = send201("TransactionEvent", event("Updated", 1, "2024-01-15T10:05:00Z",
                                                          energy("2024-01-15T10:05:00Z", 2000, "Sample.Periodic")));
  const auto* announced = find_event(named, "charging.started");
  ASSERT_NE(announced, nullptr) << "announced once the EVSE is known";
  EXPECT_EQ(announced->fields.at("connectorId"), 2);
  EXPECT_EQ(store_.state.transactions.begin()->second.connector_id, 2);
}

TEST_F(V201Test, ATransactionNoEventPutOnAnEvseEndsOnEvseOne) {
  json started = event("Started", 0, "2024-01-15T10:00:00Z", energy("2024-01-15T10:00:00Z", 1000, "Transaction.Begin"));
  started["transactionInfo"]["transactionId"] = "no-evse";
  started.erase("evse");
  send201("TransactionEvent", started);
  json ended = event("Ended", 1, "2024-01-15T10:30:00Z", energy("2024-01-15T10:30:00Z", 3000, "Transaction.End"));
  ended["transactionInfo"]["transactionId"] = "no-evse";
  ended.erase("evse");
  const Outcome end = send201("TransactionEvent", ended);
  for (const char* type : {"charging.started", "charging.stopped", "transaction.completed"}) {
    const auto* e = find_event(end, type);
    ASSERT_NE(e, nullptr) << type;
    EXPECT_EQ(e->fields.at("connectorId"), 1) << type;
  }
  EXPECT_EQ(store_.state.transactions.begin()->second.connector_id, 1);
}

TEST_F(V201Test, AStartNamingAReservationUsesIt) {
  json started = event("Started", 0, "2024-01-15T10:00:00Z");
  started["reservationId"] = 77;
  const Outcome outcome = send201("TransactionEvent", started);
  // The fake store holds no reservation 77: the start says so and keeps going.
  ASSERT_EQ(store_.state.transactions.size(), 1U);
  bool warned = false;
  for (const auto& w : outcome.warnings) warned = warned || w.find("reservation 77") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST_F(V201Test, NotifyReportIsStoredAsTheDeviceModel) {
  result(send201("NotifyReport",
                 {{"requestId", 1},
                  {"generatedAt", "2024-01-15T10:00:00Z"},
                  {"seqNo", 0},
                  {"reportData",
                   {{{"component", {{"name", "EVSE"}, {"evse", {{"id", 1}}}}},
                     {"variable", {{"name", "Power"}}},
                     {"variableAttribute", {{{"type", "Actual"}, {"value", "22000"}, {"mutability", "ReadOnly"}},
                                            {{"type", "MaxSet"}, {"value", "22000"}}}}}}}}));
  ASSERT_EQ(store_.state.device_model.size(), 2U);
  EXPECT_EQ(store_.state.device_model[0].component, "EVSE");
  EXPECT_EQ(store_.state.device_model[0].evse_id, 1);
  EXPECT_EQ(store_.state.device_model[0].value, "22000");
  EXPECT_EQ(store_.state.device_model[1].attribute_type, "MaxSet");
}

}  // namespace
}  // namespace genx::csms
