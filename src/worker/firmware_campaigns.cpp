// The firmware campaign runner (see firmware_campaigns.hpp).
#include "worker/firmware_campaigns.hpp"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "api/command_client.hpp"
#include "worker/command_sender.hpp"
#include "csms/firmware.hpp"
#include "messages/envelope.hpp"
#include "messages/timestamp.hpp"
#include "store/open_store.hpp"

namespace genx::worker {

using nlohmann::json;

namespace {

constexpr std::string_view kLease = "firmware:campaigns";

// Under genx.smart.*: the worker's RabbitMQ user owns its command reply queues there
// (deploy/rabbitmq/definitions.json).
// Under genx.smart.: the worker user's RabbitMQ permissions (deploy/rabbitmq).
std::string reply_queue(const app::Config& config) {
  return worker_reply_queue("genx.smart.firmware.", config.instance_id);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void add_firmware_campaign_topology(broker::Topology& topology, const app::Config& config) {
  topology.queues.push_back({reply_queue(config), false, true, true, {}});
}

struct FirmwareCampaignRunner::Impl {
  Impl(const app::Config& c, broker::BrokerClient& b)
      : config(c),
        broker(b),
        holder(c.instance_id + "/" + std::to_string(::getpid()) + "/" + std::to_string(now_ms())),
        commands(b, c.names, reply_queue(c), c.command_timeout) {}

  const app::Config& config;
  broker::BrokerClient& broker;
  const std::string holder;
  CommandSender commands;
  std::thread loop_thread;
  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;
  std::unique_ptr<store::Store> db;
  bool holding = false;

  void loop() {
    while (true) {
      {
        std::unique_lock lock(mu);
        wake.wait_for(lock, config.firmware_interval, [&] { return stopping; });
        if (stopping) break;
      }
      try {
        if (!db) db = store::open_store(config.database_url, store::Schema::require_current);
        round();
      } catch (const std::exception& e) {
        spdlog::warn("firmware campaigns: {} (retrying in the next round)", e.what());
        db.reset();
      }
    }
    if (db && holding) {
      try {
        db->release_site_lease(kLease, holder);
      } catch (const std::exception&) {
      }
    }
  }

  void round() {
    const auto ttl = 3 * config.command_timeout.count() + 5000;
    try {
      holding = db->acquire_site_lease(kLease, holder, now_ms(), ttl);
    } catch (const csms::TransientStoreError&) {
      holding = false;  // another worker renewed it at the same moment: it runs the campaigns
    }
    if (!holding) return;
    auto& firmware = db->firmware_store();
    std::vector<std::int64_t> changed;
    const auto sends = firmware.claim_firmware_sends(now_ms(), messages::format_timestamp(now_ms()), changed);
    std::vector<std::future<api::CommandResult>> answers;
    const std::string now = messages::format_timestamp(now_ms());
    for (const auto& send : sends) {
      auto promise = std::make_shared<std::promise<api::CommandResult>>();
      answers.push_back(promise->get_future());
      spdlog::info("firmware campaign {}: {} to {}", send.campaign_id, csms::firmware_send_action(send),
                   send.charge_point_id);
      commands.send(send.charge_point_id, csms::firmware_send_action(send), csms::firmware_send_payload(send, now),
                    [promise](api::CommandResult r) { promise->set_value(std::move(r)); });
    }
    for (std::size_t i = 0; i < sends.size(); ++i) {
      const auto result = answers[i].get();  // always completes: the command timeout ends it
      const auto& send = sends[i];
      std::string outcome = "Accepted";
      std::string detail;
      if (result.reply && result.reply->outcome == messages::CommandOutcome::kResult) {
        if (csms::firmware_send_has_request_id(send)) {  // a signed or 2.0.1 update answers a status
          const auto status = result.reply->payload.value("status", "");
          if (status != "Accepted") {
            outcome = "Rejected";
            detail = csms::firmware_send_action(send) + " answered " + status;
          }
        }
      } else if (result.reply && result.reply->outcome == messages::CommandOutcome::kCallError) {
        outcome = "Rejected";
        detail = "CALLERROR " + result.reply->error_code;
      } else if (result.offline) {
        outcome = "Offline";
        detail = "charger " + send.charge_point_id + " is not connected";
      } else if (result.timed_out || result.reply) {
        outcome = "Timeout";
        detail = "no answer within " + std::to_string(config.command_timeout.count()) + " ms";
      } else {
        outcome = "Offline";
        detail = "not sent: " + result.broker_error;
      }
      if (outcome != "Accepted") {
        spdlog::info("firmware campaign {}: {} {} ({})", send.campaign_id, send.charge_point_id, outcome, detail);
      }
      retrying([&] {
        firmware.record_firmware_answer(send, outcome, detail, messages::format_timestamp(now_ms()));
      });
      changed.push_back(send.campaign_id);
      publish_target(send.campaign_id, send.charge_point_id);
    }
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    for (const auto id : changed) publish_target(id, "");
  }

  // Runs a store write, again after a transient failure (up to 20 times, 10-200 ms apart).
  template <typename Fn>
  void retrying(Fn&& fn) {
    for (int attempt = 1;; ++attempt) {
      try {
        fn();
        return;
      } catch (const csms::TransientStoreError& e) {
        if (attempt >= 20) throw;
        spdlog::debug("firmware campaigns: retrying a write: {}", e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(200, 10 * attempt)));
      }
    }
  }

  // firmware.campaign.changed for the campaign (and one of its chargers).
  void publish_target(std::int64_t campaign_id, const std::string& charge_point_id) {
    auto campaign = db->firmware_store().campaign(campaign_id);
    if (!campaign) return;
    std::string target_status;
    if (!charge_point_id.empty()) {
      for (const auto& t : (*campaign)["targets"]) {
        if (t.value("chargePointId", "") == charge_point_id) target_status = t.value("status", "");
      }
    }
    campaign->erase("targets");
    auto event = csms::firmware_campaign_event(*campaign, charge_point_id, target_status);
    broker::Message message;
    message.exchange = config.names.exchange_events;
    message.routing_key = messages::event_routing_key(event.type);
    message.type = event.type;
    message.message_id = event.fields.value("eventId", "");
    message.body = messages::encode_event(event, messages::format_timestamp(now_ms()));
    broker.publish(std::move(message), [](broker::PublishOutcome o) {
      if (o != broker::PublishOutcome::kConfirmed) spdlog::warn("firmware.campaign.changed not published");
    });
  }
};

FirmwareCampaignRunner::FirmwareCampaignRunner(const app::Config& config, broker::BrokerClient& broker)
    : impl_(std::make_unique<Impl>(config, broker)) {}

FirmwareCampaignRunner::~FirmwareCampaignRunner() { stop(); }

void FirmwareCampaignRunner::start() {
  if (impl_->config.firmware_interval.count() == 0) {
    spdlog::info("firmware campaigns off in this worker (GENX_FIRMWARE_INTERVAL_MS=0)");
    return;
  }
  spdlog::info("firmware campaigns every {} ms (lease holder {})", impl_->config.firmware_interval.count(),
               impl_->holder);
  impl_->commands.start();
  impl_->loop_thread = std::thread([this] { impl_->loop(); });
}

void FirmwareCampaignRunner::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  if (impl_->loop_thread.joinable()) impl_->loop_thread.join();
  impl_->commands.stop();
}

}  // namespace genx::worker
