// The ocpp-worker role: consumes ocpp_messages, runs the business rules in one database
// transaction per message (messages already waiting share one: group commit, see
// worker/group_commit.hpp), replies to the gateway with the ready OCPP frame, publishes
// domain events (each on events_exchange, and the whole group's in ONE events.batch
// message for the analytics queue), and acks a group's deliveries only after their
// commit and every publish they caused are confirmed. The broker connection, ops server,
// signals, hand-off queue and stop order are the role runtime's (runtime/role.hpp).
//
// Failures (docs/design.md "Reliability"): a transient one (database busy or gone) sends the
// message to the next delay queue "<queue>.retry.<delay>" (broker/retry.hpp); after the
// last delay, or at once when the message can never succeed (unparseable, unknown
// envelope version, a rule that throws), it goes to "<queue>.dlq" with the reason in its
// headers. Either way the original is acked only after the copy is confirmed. A call the
// gateway awaits (reply_to set) that is dead-lettered gets a CALLERROR InternalError as
// soon as the DLQ copy is confirmed, so the charger is not left waiting for
// GENX_REPLY_TIMEOUT_MS.
//
// Events are at-least-once with stable ids: the processor stores a message's events with
// its reply in the same transaction, and a redelivery (e.g. after a crash between the
// commit and the confirms) publishes the stored events again.
#include <atomic>
#include <csignal>
#include <optional>
#include <utility>

#include <spdlog/spdlog.h>

#include "app/logging.hpp"
#include "app/retention.hpp"
#include "broker/ack_barrier.hpp"
#include "broker/retry.hpp"
#include "csms/processor.hpp"
#include "messages/envelope.hpp"
#include "runtime/ops.hpp"
#include "runtime/role.hpp"
#include "store/open_store.hpp"
#include "worker/group_commit.hpp"
#include "worker/certificate_signer.hpp"
#include "worker/site_allocator.hpp"
#include "worker/firmware_campaigns.hpp"
#include "worker/worker.hpp"
#include "worker/worker_metrics.hpp"

namespace genx::worker {
namespace {

using app::Config;
using app::GroupCommit;
using app::LogContext;
using app::Pruner;
namespace worker_metrics = app::worker_metrics;

// Acks the delivery once every publish it caused is confirmed (broker/ack_barrier.hpp:
// a refused publish is sent again after a backoff, the delivery held meanwhile; a lost
// connection or giving up hands it back; the reply and events are idempotent on
// redelivery). `on_confirmed` runs just before the ack.
void settle_after_publishes(broker::BrokerClient& broker, broker::DelayedTasks& later,
                            std::vector<broker::Delivery> deliveries, std::vector<broker::Message> publishes,
                            std::function<void()> on_confirmed = {}) {
  broker::AckBarrierHooks hooks;
  hooks.publish = [&broker](broker::Message m, broker::BrokerClient::PublishCallback cb) {
    broker.publish(std::move(m), std::move(cb));
  };
  hooks.schedule = [&later](std::chrono::milliseconds delay, broker::DelayedTasks::Task task) {
    return later.schedule(delay, std::move(task));
  };
  hooks.on_republish = [id = deliveries.front().message_id](const broker::Message& m, broker::PublishOutcome o,
                                                  int attempt, std::chrono::milliseconds delay) {
    worker_metrics::republished();
    // The first refusal of a message and then every 5th: a refusing node refuses many.
    if (attempt == 1 || attempt % 5 == 0) {
      spdlog::warn("publish {} for {} {} (attempt {}); publishing it again in {} ms, the message held",
                   m.message_id, id, broker::outcome_name(o), attempt, delay.count());
    }
  };
  hooks.finish = [&broker, deliveries = std::move(deliveries), on_confirmed = std::move(on_confirmed)](
                     bool confirmed, broker::PublishOutcome o) {
    if (confirmed) {
      if (on_confirmed) on_confirmed();
      for (const auto& d : deliveries) {
        broker.ack(d);
        worker_metrics::acked();
      }
    } else {
      for (const auto& d : deliveries) {
        spdlog::warn("publish for {} not confirmed ({}); returning the message to the queue",
                     d.message_id, broker::outcome_name(o));
        broker.nack(d, true);
        worker_metrics::nacked(true);
      }
    }
  };
  broker::AckBarrier::publish_all(std::move(publishes), std::move(hooks));
}

void settle_after_publishes(broker::BrokerClient& broker, broker::DelayedTasks& later,
                            broker::Delivery delivery, std::vector<broker::Message> publishes,
                            std::function<void()> on_confirmed = {}) {
  std::vector<broker::Delivery> one;
  one.push_back(std::move(delivery));
  settle_after_publishes(broker, later, std::move(one), std::move(publishes), std::move(on_confirmed));
}

// What the processed messages of one batch leave to do: their replies and events go out
// together with ONE events.batch message for the analytics queue (instead of a persisted
// message per event), and the batch's deliveries are acked once every one of those
// publishes is confirmed. A delivery that failed settles on its own (retry, DLQ).
struct GroupSettlement {
  std::vector<broker::Delivery> deliveries;
  std::vector<broker::Message> publishes;
  std::vector<std::string> analytics_events;  // encoded, for the events.batch message
  std::vector<std::function<void()>> on_confirmed;
};

// The ready frame for a gateway that sends envelope version 2 (it forwards it to the
// charger as is); the older {"uniqueId",...} form for a gateway not yet upgraded, which
// sends version 1 and reads only that (docs/design.md "Message envelope versions").
std::string reply_body(int envelope_version, const messages::Reply& reply) {
  return envelope_version >= 2 ? messages::reply_frame(reply) : messages::encode_stored_reply(reply);
}

std::int64_t now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int run(const Config& config) {
  // The CSMS-side CA (GENX_CA_*), loaded before anything starts: a bad file stops the worker.
  std::shared_ptr<const security::CertificateAuthority> ca;
  if (!config.ca.cert_file.empty()) ca = security::CertificateAuthority::load(config.ca);
  auto topology = site_allocator_topology(config);
  add_certificate_signer_topology(config, topology);
  add_firmware_campaign_topology(topology, config);
  runtime::Role role(config, "ocpp-worker", topology);
  role.on_signal_log("finishing the current message");
  worker_metrics::declare();
  broker::BrokerClient& broker = role.broker();
  // The ocpp-worker migrates the database (as `genx db migrate` does); the other roles
  // wait for the schema (app/schema_wait.hpp).
  auto store = store::open_write_store(config.database_url);
  csms::SystemClock clock;
  csms::Policy policy = config.policy;
  if (ca) {
    policy.check_csr = [ca](std::string_view csr, std::string_view charge_point_id) {
      return ca->check(csr, charge_point_id);
    };
  }
  csms::MessageProcessor processor(*store, clock, policy);
  // Group commit: the deliveries already waiting are processed in one transaction (one
  // fsync); each is still replied to and acked on its own after the commit and confirms.
  const auto group_size =
      static_cast<std::size_t>(std::min(config.worker_commit_batch, config.worker_prefetch));
  GroupCommit group(*store, clock, policy, group_size);
  // Each event also goes to events_exchange on its own (routing key notification.<type>):
  // persisted only when a durable queue for outside integrations reads it.
  const bool events_persistent = config.names.charging_events_max_length > 0;

  // Quorum queues have no priorities: the high class has a queue of its own, taken first
  // (broker/topology.hpp core_topology).
  const bool quorum = config.names.queue_type == broker::QueueType::kQuorum;
  const std::string high_queue = quorum ? broker::high_class_queue(config.names.queue_ocpp_messages) : "";
  auto& handoff = role.consume_to_handoff(config.names.queue_ocpp_messages,
                                          static_cast<std::uint16_t>(config.worker_prefetch), high_queue);
  auto health_store = store::open_read_store(config.database_url);
  role.health(config.names.queue_ocpp_messages, [&](metrics::HealthReport& report) {
    report.body["checks"]["database"] = app::database_check(*health_store, report.healthy);
  });

  // Data retention: worker 0 prunes on its own connection and thread, in short batches.
  std::unique_ptr<Pruner> pruner;
  if (app::prunes_periodically(config, "ocpp-worker")) {
    pruner = std::make_unique<Pruner>(store::open_admin_store(config.database_url), config.retention,
                                      config.prune_interval, clock);
  }
  // Site load management on its own thread (worker/site_allocator.hpp).
  SiteAllocator allocator(config, broker);
  // Security events and certificate signing (worker/certificate_signer.hpp).
  CertificateSigner signer(config, broker, ca);
  // Firmware campaigns on their own thread (worker/firmware_campaigns.hpp).
  FirmwareCampaignRunner firmware_campaigns(config, broker);
  spdlog::info("ocpp-worker consuming {}{} (prefetch {})", quorum ? high_queue + " first, then " : "",
               config.names.queue_ocpp_messages, config.worker_prefetch);

  // error.occurred for a dead-lettered message (best effort: the DLQ keeps the message).
  auto publish_failure = [&](const std::string& device_id, const std::string& action,
                             const std::string& message_id, const std::string& reason) {
    messages::DomainEvent event{"error.occurred", device_id,
                            {{"code", "ProcessingFailed"},
                             {"message", reason},
                             {"action", action},
                             {"messageId", message_id}}};
    broker::Message message;
    message.exchange = config.names.exchange_events;
    message.routing_key = messages::event_routing_key(event.type);
    message.type = event.type;
    message.message_id = message_id + ".error";
    message.body = messages::encode_event(event, messages::format_timestamp(now_millis()));
    broker.publish(std::move(message), [](broker::PublishOutcome) {});
  };
  // Republishes of refused publishes (broker/ack_barrier.hpp), on a thread of their own.
  broker::DelayedTasks later;
  broker::RetryDelays retry_delays;
  for (auto ms : config.names.retry_delays_ms) retry_delays.emplace_back(ms);
  // Sends a copy to a delay queue or the DLQ; acks the original once it is confirmed.
  auto reroute = [&](broker::Delivery&& d, broker::Message copy) {
    std::vector<broker::Message> one;
    one.push_back(std::move(copy));
    settle_after_publishes(broker, later, std::move(d), std::move(one));
  };
  // The gateway awaits calls that need a decision (reply_to set): once the DLQ holds the
  // message, tell it at once that the call failed instead of letting it time out. The
  // reason stays in the logs and the DLQ headers; the charger only learns that the CSMS
  // could not process the call.
  auto failure_answer = [](const broker::Delivery& d, const std::string& unique_id,
                           int envelope_version) -> std::optional<broker::Message> {
    if (d.reply_to.empty() || unique_id.empty()) return std::nullopt;
    broker::Message reply;
    reply.routing_key = d.reply_to;
    reply.correlation_id = d.correlation_id;
    reply.message_id = d.message_id + ".reply";
    reply.persistent = false;
    ocpp::CallError error;
    error.unique_id = unique_id;
    error.code = ocpp::ErrorCode::kInternalError;
    error.description =
        "The CSMS could not process this call; it was moved to the dead-letter queue for an "
        "operator";
    reply.body = reply_body(envelope_version, messages::Reply{unique_id, std::nullopt, std::move(error)});
    return reply;
  };
  auto dead_letter = [&](broker::Delivery&& d, const std::string& reason,
                         const std::string& unique_id = {}, int envelope_version = messages::kEnvelopeVersion) {
    auto copy = broker::dead_letter_message(d, reason, messages::format_timestamp(now_millis()));
    // One DLQ for both classes (the high queue's messages too): "<ocpp_messages>.dlq".
    copy.routing_key = broker::dead_letter_queue(config.names.queue_ocpp_messages);
    spdlog::error("message {} dead-lettered to {}: {}", copy.message_id, copy.routing_key, reason);
    worker_metrics::nacked(false);
    auto answer = failure_answer(d, unique_id, envelope_version);
    std::vector<broker::Message> one;
    one.push_back(std::move(copy));
    // Answered only once the DLQ copy is confirmed: a copy that is never confirmed goes
    // back to the queue and will still be processed, so the charger keeps waiting.
    std::function<void()> send_answer;
    if (answer) {
      send_answer = [&broker, answer = std::make_shared<broker::Message>(std::move(*answer))] {
        std::string id = answer->correlation_id;
        broker.publish(std::move(*answer), [id = std::move(id)](broker::PublishOutcome r) {
          if (r != broker::PublishOutcome::kConfirmed) {
            spdlog::warn("error answer for dead-lettered call {} not confirmed", id);
          }
        });
      };
    }
    settle_after_publishes(broker, later, std::move(d), std::move(one), std::move(send_answer));
  };

  // One message: its decoded envelope (or why it is unreadable) and its outcome.
  auto handle = [&](std::optional<broker::Delivery> delivery,
                    const std::optional<messages::Envelope>& decoded, const std::string& decode_error,
                    std::chrono::steady_clock::time_point taken_at, GroupSettlement& settlement) {
    LogContext log_context{{"messageId", delivery->message_id}};
    if (!decoded) {
      publish_failure("", delivery->type, delivery->message_id, "unreadable message: " + decode_error);
      dead_letter(std::move(*delivery), "cannot be processed: " + decode_error);
      return;
    }
    const auto& envelope = *decoded;
    log_context.set("deviceId", envelope.device_id);
    log_context.set("action", envelope.message_type);
    double db_seconds = 0;

    std::optional<csms::Outcome> outcome;
    std::optional<std::string> csr_to_sign;
    try {
      auto db_started = std::chrono::steady_clock::now();
      outcome = group.take(*delivery);
      if (!outcome) outcome = processor.process(envelope);
      csr_to_sign = signer.record(envelope, *outcome);
      db_seconds = worker_metrics::seconds_since(db_started);
    } catch (const csms::TransientStoreError& e) {
      const int attempt = broker::attempt_of(*delivery);
      worker_metrics::retried();
      if (auto retry = broker::retry_message(*delivery, retry_delays)) {
        spdlog::warn("{} {} from {}: database unavailable ({}); attempt {} failed, retrying via {}",
                     envelope.message_type, envelope.unique_id, envelope.device_id, e.what(), attempt,
                     retry->routing_key);
        reroute(std::move(*delivery), std::move(*retry));
      } else {
        std::string reason = "database unavailable after " + std::to_string(attempt) +
                             " attempts: " + e.what();
        publish_failure(envelope.device_id, envelope.message_type, envelope.message_id, reason);
        dead_letter(std::move(*delivery), reason, envelope.unique_id, envelope.version);
      }
      return;
    } catch (const std::exception& e) {
      std::string reason = std::string("processing failed: ") + e.what();
      publish_failure(envelope.device_id, envelope.message_type, envelope.message_id, reason);
      dead_letter(std::move(*delivery), reason, envelope.unique_id, envelope.version);
      return;
    }
    if (!config.test_crash_after_commit.empty() && !outcome->duplicate &&
        envelope.message_type == config.test_crash_after_commit) {
      // GENX_TEST_FAULT (tests only): die between the commit and the publishes.
      spdlog::critical("GENX_TEST_FAULT: killing this worker after committing {} {}",
                       envelope.message_type, envelope.unique_id);
      spdlog::default_logger()->flush();
      std::raise(SIGKILL);
    }

    const bool has_publishes = !delivery->reply_to.empty() || !outcome->events.empty();
    if (!delivery->reply_to.empty()) {
      broker::Message reply;
      reply.routing_key = delivery->reply_to;
      reply.correlation_id = delivery->correlation_id;
      reply.message_id = envelope.message_id + ".reply";
      reply.body = reply_body(envelope.version, outcome->reply);
      reply.persistent = false;
      settlement.publishes.push_back(std::move(reply));
    }
    // The time of the first processing: a republished event is the same event.
    const std::string timestamp = outcome->events_timestamp.empty()
                                      ? messages::format_timestamp(now_millis())
                                      : outcome->events_timestamp;
    for (const auto& event : outcome->events) {
      broker::Message message;
      message.exchange = config.names.exchange_events;
      message.routing_key = messages::event_routing_key(event.type);
      message.type = event.type;
      message.message_id = envelope.message_id + "." + event.type;
      message.body = messages::encode_event(event, timestamp);
      // Persisted only for a durable reader (charging_events); the dashboards' feed is
      // live, and analytics gets the event in the group's events.batch.
      message.persistent = events_persistent;
      settlement.analytics_events.push_back(message.body);
      settlement.publishes.push_back(std::move(message));
    }
    for (const auto& warning : outcome->warnings) {
      spdlog::warn("{} {} from {}: {}", envelope.message_type, envelope.unique_id,
                   envelope.device_id, warning);
    }
    if (!outcome->duplicate &&
        (envelope.message_type == "StartTransaction" || envelope.message_type == "StopTransaction" ||
         envelope.message_type == "MeterValues" || envelope.message_type == "TransactionEvent")) {
      allocator.poke();  // a session started or stopped, or its draw changed (1.6 or 2.0.1)
    }
    double processing_seconds = worker_metrics::seconds_since(taken_at);
    worker_metrics::processed(envelope.message_type, outcome->duplicate, processing_seconds,
                              db_seconds);
    log_context.set("latencyMs", std::to_string(processing_seconds * 1000.0));
    spdlog::debug("{} {} from {} processed{}", envelope.message_type, envelope.unique_id,
                  envelope.device_id, outcome->duplicate ? " (duplicate)" : "");
    if (!has_publishes) {
      broker.ack(*delivery);
      worker_metrics::acked();
      return;
    }
    // An accepted CSR is signed once its answer is on its way (every publish confirmed).
    if (csr_to_sign) {
      settlement.on_confirmed.push_back([&signer, device = envelope.device_id, request = envelope.unique_id,
                                         csr = *csr_to_sign, version = envelope.ocpp_version] {
        signer.submit(device, request, csr, version);
      });
    }
    settlement.deliveries.push_back(std::move(*delivery));
  };

  // The batch's publishes, its events.batch for analytics, and the acks once all are confirmed.
  auto settle = [&](GroupSettlement&& settlement) {
    if (settlement.deliveries.empty()) return;
    if (!settlement.analytics_events.empty()) {
      broker::Message batch;
      batch.routing_key = config.names.queue_analytics;  // the default exchange: that queue
      batch.type = messages::kEventBatchType;
      batch.message_id = settlement.deliveries.front().message_id + ".events";
      batch.body = messages::encode_event_batch(settlement.analytics_events);
      settlement.publishes.push_back(std::move(batch));
    }
    std::function<void()> on_confirmed;
    if (!settlement.on_confirmed.empty()) {
      on_confirmed = [all = std::move(settlement.on_confirmed)] {
        for (const auto& f : all) f();
      };
    }
    settle_after_publishes(broker, later, std::move(settlement.deliveries), std::move(settlement.publishes),
                           std::move(on_confirmed));
  };

  return role.run([&] {
    allocator.start();
    signer.start();
    firmware_campaigns.start();
    // Everything waiting (up to the group size) in one go: one wake-up, each envelope
    // decoded once, the group committed together, then its replies and events published
    // together (one events.batch for analytics) and its deliveries acked once all are
    // confirmed. A stop hands the rest back (their redelivery is answered from the
    // stored reply).
    while (true) {
      // Deliveries nobody awaits (answered on confirm) may wait up to
      // GENX_WORKER_COMMIT_WAIT_MS for more to share the commit; an awaited one ends it.
      auto batch = handoff.pop_batch(std::max<std::size_t>(group_size, 1),
                                     group_size > 1 ? config.worker_commit_wait
                                                    : std::chrono::milliseconds(0));
      if (batch.empty()) break;
      const auto taken_at = std::chrono::steady_clock::now();
      std::vector<std::optional<messages::Envelope>> envelopes(batch.size());
      std::vector<std::string> errors(batch.size());
      for (std::size_t i = 0; i < batch.size(); ++i) {
        auto parsed = messages::decode_envelope(batch[i].body);
        if (auto* e = std::get_if<messages::Envelope>(&parsed)) {
          envelopes[i] = std::move(*e);
        } else {
          errors[i] = std::move(std::get<std::string>(parsed));
        }
      }
      if (batch.size() > 1) group.run(batch, envelopes);
      GroupSettlement settlement;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (role.stopping()) {
          for (std::size_t j = i; j < batch.size(); ++j) broker.nack(batch[j], true);
          break;
        }
        handle(std::move(batch[i]), envelopes[i], errors[i], i == 0 ? taken_at : std::chrono::steady_clock::now(),
               settlement);
      }
      settle(std::move(settlement));
    }
    allocator.stop();
    signer.stop();
    firmware_campaigns.stop();
    if (pruner) pruner->stop();
    // Deliveries held for a republish are handed back now, before the broker closes.
    later.stop();
  });
}

}  // namespace genx::worker
