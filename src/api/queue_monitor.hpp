#pragma once
// Queue monitoring (DESIGN.md "Outside interfaces": GET /api/queues): reads every GenX
// queue, dead-letter queues included, from the RabbitMQ management plugin's HTTP API —
// length, ready/unacked, consumers, publish/deliver/ack/redeliver rates, and an error
// rate (for a queue: the rate at which its dead-letter queue fills; for a DLQ: its own
// publish rate). When the management API cannot be reached it falls back to passive
// declares over AMQP (messages and consumers only; rates are null, source "amqp").
//
// Alerts: start() runs a thread that polls every `poll` and publishes one
// `notification.error.occurred` event on events_exchange when a queue's depth reaches
// queue_alert_depth (code QueueBacklog) or a DLQ's depth reaches dlq_alert_depth (code
// DeadLetters), and when a bounded queue (x-max-length, from its arguments or a policy)
// reaches 90% of its limit (code QueueFull: with drop-head it is losing its oldest
// messages; genx_queue_full_alerts_total counts these); it alerts again only after the
// depth fell below the threshold.
//
// Threading: snapshot() may be called from any thread (it blocks up to ~5 s per
// request); stop() joins the alert thread (the destructor calls it).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/broker_client.hpp"

namespace genx::api {

struct QueueMonitorOptions {
  std::string management_url = "http://localhost:15672";  // no trailing slash
  std::string username = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  std::vector<std::string> queues;  // exact names; "<name>." prefixes match too (retry queues)
  std::string events_exchange = "events_exchange";
  long queue_alert_depth = 10000;  // 0 = off
  long dlq_alert_depth = 1;        // 0 = off
  std::chrono::seconds poll{10};
};

class QueueMonitor {
 public:
  QueueMonitor(QueueMonitorOptions options, broker::BrokerClient* broker);
  ~QueueMonitor();
  QueueMonitor(const QueueMonitor&) = delete;
  QueueMonitor& operator=(const QueueMonitor&) = delete;

  // Array of {name, messages, messagesReady, unacked, consumers, publishRate,
  // deliverRate, ackRate, redeliverRate, errorRate (messages/s), published, delivered,
  // acked (totals since the queue was created), maxLength (x-max-length or null),
  // deadLetter, source}, by name.
  nlohmann::json snapshot();
  void start();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses a management API /api/queues answer into the snapshot shape, keeping only
// the queues that match `queues` (exact or "<name>." prefix). Pure; unit-tested.
nlohmann::json queues_from_management(const nlohmann::json& answer,
                                      const std::vector<std::string>& queues);

}  // namespace genx::api
