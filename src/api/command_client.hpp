#pragma once
// CommandClient: the api's side of commands to chargers (docs/api.md "Remote commands").
// send() publishes the command on the commands exchange with routing key = charge point
// id, mandatory, a TTL (expiration = the timeout), reply_to = this api's exclusive reply
// queue and correlation_id = the command id; then exactly one of these ends it:
// - the gateway holding the charger answers (reply on the reply queue),
// - RabbitMQ returns it (no gateway holds the charger): offline,
// - the broker refuses or loses it: broker_error,
// - nothing within the timeout: timed_out.
//
// Threading: send() and start() may be called from any thread; `done` always runs
// through `post` (the api's I/O thread), never inline, never twice. Nothing blocks:
// the api's one thread keeps serving while commands wait (no thread per command).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "broker/broker_client.hpp"
#include "broker/topology.hpp"
#include "messages/commands.hpp"

namespace genx::api {

struct CommandResult {
  messages::CommandRequest request;
  std::optional<messages::CommandReply> reply;  // the gateway's answer
  bool offline = false;                     // returned: no gateway holds the charger
  bool timed_out = false;
  std::string broker_error;  // non-empty: RabbitMQ refused or lost the command
};

class CommandClient {
 public:
  using Post = std::function<void(std::function<void()>)>;
  using Schedule = std::function<void(std::chrono::milliseconds, std::function<void()>)>;
  using Done = std::function<void(CommandResult)>;

  CommandClient(broker::BrokerClient& broker, broker::Names names, std::string reply_queue,
                std::chrono::milliseconds timeout, Post post, Schedule schedule);
  ~CommandClient();

  // Registers the reply consumer (call once, before or after the broker starts).
  void start();
  void send(std::string device_id, std::string action, nlohmann::json payload, Done done);
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  struct State;
  void complete(const std::string& command_id, CommandResult result);

  broker::BrokerClient& broker_;
  broker::Names names_;
  std::string reply_queue_;
  std::chrono::milliseconds timeout_;
  Post post_;
  Schedule schedule_;
  std::shared_ptr<State> state_;
};

}  // namespace genx::api
