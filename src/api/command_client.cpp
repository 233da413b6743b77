// The api's side of commands to chargers (see command_client.hpp).
#include "api/command_client.hpp"

#include <random>

#include <spdlog/spdlog.h>

namespace genx::api {

namespace {

std::string random_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(36, '-');
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    id[i] = kHex[rng() & 0xf];
  }
  id[14] = '4';
  return id;
}

std::int64_t unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Shared with broker callbacks and timers, which may outlive a send() call.
struct CommandClient::State {
  std::mutex mu;
  struct Pending {
    messages::CommandRequest request;
    Done done;
  };
  std::map<std::string, Pending> pending;  // by command id
};

CommandClient::CommandClient(broker::BrokerClient& broker, broker::Names names, std::string reply_queue,
                             std::chrono::milliseconds timeout, Post post, Schedule schedule)
    : broker_(broker),
      names_(std::move(names)),
      reply_queue_(std::move(reply_queue)),
      timeout_(timeout),
      post_(std::move(post)),
      schedule_(std::move(schedule)),
      state_(std::make_shared<State>()) {}

CommandClient::~CommandClient() = default;

void CommandClient::start() {
  std::weak_ptr<State> weak = state_;
  broker_.consume(
      reply_queue_, 0,
      [this, weak](broker::Delivery&& d) {
        if (weak.expired()) return;
        auto parsed = messages::decode_command_reply(d.body);
        if (auto* error = std::get_if<std::string>(&parsed)) {
          spdlog::warn("api: unusable command reply {}: {}", d.correlation_id, *error);
          return;
        }
        auto reply = std::get<messages::CommandReply>(std::move(parsed));
        CommandResult result;
        result.reply = std::move(reply);
        complete(d.correlation_id, std::move(result));
      },
      true);
}

void CommandClient::complete(const std::string& command_id, CommandResult result) {
  State::Pending pending;
  {
    std::lock_guard lock(state_->mu);
    auto it = state_->pending.find(command_id);
    if (it == state_->pending.end()) return;  // already ended (late reply, or timed out)
    pending = std::move(it->second);
    state_->pending.erase(it);
  }
  result.request = std::move(pending.request);
  post_([done = std::move(pending.done), result = std::move(result)]() mutable { done(std::move(result)); });
}

void CommandClient::send(std::string device_id, std::string action, nlohmann::json payload, Done done) {
  messages::CommandRequest request;
  request.command_id = random_id();
  request.device_id = std::move(device_id);
  request.action = std::move(action);
  request.payload = std::move(payload);
  request.deadline_ms = unix_millis() + timeout_.count();

  broker::Message message;
  message.exchange = names_.exchange_commands;
  message.routing_key = request.device_id;
  message.body = messages::encode_command_request(request);
  message.message_id = request.command_id;
  message.correlation_id = request.command_id;
  message.reply_to = reply_queue_;
  message.type = request.action;
  message.expiration = timeout_;
  message.mandatory = true;
  message.persistent = false;  // worthless after the timeout; nobody replays it

  const std::string id = request.command_id;
  {
    std::lock_guard lock(state_->mu);
    state_->pending.emplace(id, State::Pending{std::move(request), std::move(done)});
  }
  std::weak_ptr<State> weak = state_;
  schedule_(timeout_, [this, weak, id] {
    if (weak.expired()) return;
    CommandResult result;
    result.timed_out = true;
    complete(id, std::move(result));
  });
  broker_.publish(std::move(message), [this, weak, id](broker::PublishOutcome outcome) {
    if (weak.expired() || outcome == broker::PublishOutcome::kConfirmed) return;
    CommandResult result;
    if (outcome == broker::PublishOutcome::kReturned) {
      result.offline = true;
    } else {
      result.broker_error = outcome == broker::PublishOutcome::kNacked ? "RabbitMQ refused the command"
                                                                        : "RabbitMQ unavailable";
    }
    complete(id, std::move(result));
  });
}

}  // namespace genx::api
