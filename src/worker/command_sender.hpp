#pragma once
// Commands the ocpp-worker itself sends to chargers: the site allocation's profiles, a
// firmware campaign's updates, the CA's CertificateSigned. They take the api's command
// path (api::CommandClient: the commands exchange routes each to the gateway holding the
// charger, the answer comes back on a reply queue of this process, a timeout ends it);
// this adds what a worker has no loop of its own for: the timers, on a thread of their
// own. Answers (`done`) run on the broker's thread or the timer thread: keep them short.
//
// Threading: send() from any thread; start() once, stop() before destruction (also done
// by the destructor).
#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "api/command_client.hpp"
#include "broker/broker_client.hpp"
#include "broker/topology.hpp"

namespace genx::worker {

// The exclusive reply queue of one sender: "{prefix}{instance}.{pid}.replies". Several
// workers may share GENX_INSTANCE_ID (standalone processes on one host, e.g.
// genx-ocpp-worker@N), so the pid keeps their queues apart. The prefix is what the
// RabbitMQ permissions of the worker's user allow (deploy/rabbitmq/definitions.json).
std::string worker_reply_queue(std::string_view prefix, const std::string& instance_id);

class CommandSender {
 public:
  CommandSender(broker::BrokerClient& broker, const broker::Names& names, std::string reply_queue,
                std::chrono::milliseconds timeout);
  ~CommandSender();
  CommandSender(const CommandSender&) = delete;
  CommandSender& operator=(const CommandSender&) = delete;

  // Registers the reply consumer and starts the timer thread.
  void start();
  void stop();
  void send(std::string device_id, std::string action, nlohmann::json payload, api::CommandClient::Done done);
  std::chrono::milliseconds timeout() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace genx::worker
