#include "worker/command_sender.hpp"

#include <unistd.h>

#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace genx::worker {

namespace net = boost::asio;

std::string worker_reply_queue(std::string_view prefix, const std::string& instance_id) {
  return std::string(prefix) + instance_id + "." + std::to_string(::getpid()) + ".replies";
}

struct CommandSender::Impl {
  Impl(broker::BrokerClient& broker, const broker::Names& names, std::string reply_queue,
       std::chrono::milliseconds timeout)
      : work_guard(net::make_work_guard(ioc)),
        commands(
            broker, names, std::move(reply_queue), timeout, [](std::function<void()> fn) { fn(); },
            [this](std::chrono::milliseconds delay, std::function<void()> fn) {
              auto timer = std::make_shared<net::steady_timer>(ioc, delay);
              timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
                if (!ec) fn();
              });
            }) {}

  net::io_context ioc;  // the command timers
  net::executor_work_guard<net::io_context::executor_type> work_guard;
  api::CommandClient commands;
  std::thread timers;
};

CommandSender::CommandSender(broker::BrokerClient& broker, const broker::Names& names, std::string reply_queue,
                             std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(broker, names, std::move(reply_queue), timeout)) {}

CommandSender::~CommandSender() { stop(); }

void CommandSender::start() {
  if (impl_->timers.joinable()) return;
  impl_->commands.start();
  impl_->timers = std::thread([this] { impl_->ioc.run(); });
}

void CommandSender::stop() {
  impl_->work_guard.reset();
  impl_->ioc.stop();
  if (impl_->timers.joinable()) impl_->timers.join();
}

void CommandSender::send(std::string device_id, std::string action, nlohmann::json payload,
                         api::CommandClient::Done done) {
  impl_->commands.send(std::move(device_id), std::move(action), std::move(payload), std::move(done));
}

std::chrono::milliseconds CommandSender::timeout() const { return impl_->commands.timeout(); }

}  // namespace genx::worker
