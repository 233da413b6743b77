#include "broker/ack_barrier.hpp"

#include <algorithm>
#include <utility>

namespace genx::broker {

const char* outcome_name(PublishOutcome outcome) {
  switch (outcome) {
    case PublishOutcome::kConfirmed: return "confirmed";
    case PublishOutcome::kNacked: return "refused by the broker";
    case PublishOutcome::kReturned: return "returned as unroutable";
    case PublishOutcome::kConnectionLost: return "connection lost";
    case PublishOutcome::kStopped: return "stopped";
  }
  return "unknown";
}

DelayedTasks::DelayedTasks() : thread_([this] { loop(); }) {}

DelayedTasks::~DelayedTasks() { stop(); }

bool DelayedTasks::schedule(std::chrono::milliseconds delay, Task task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    tasks_.emplace(std::chrono::steady_clock::now() + delay, std::move(task));
  }
  wake_.notify_one();
  return true;
}

std::size_t DelayedTasks::pending() const {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

void DelayedTasks::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void DelayedTasks::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) break;
    if (tasks_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto first = tasks_.begin();
    if (first->first > std::chrono::steady_clock::now()) {
      wake_.wait_until(lock, first->first);
      continue;
    }
    Task task = std::move(first->second);
    tasks_.erase(first);
    lock.unlock();
    task(false);
    lock.lock();
  }
  // Nothing waits forever: what is left learns that we stop.
  auto left = std::move(tasks_);
  tasks_.clear();
  lock.unlock();
  for (auto& [at, task] : left) task(true);
}

void AckBarrier::publish_all(std::vector<Message> messages, AckBarrierHooks hooks,
                             RepublishPolicy policy) {
  if (messages.empty()) {
    hooks.finish(true, PublishOutcome::kConfirmed);
    return;
  }
  auto barrier = std::make_shared<AckBarrier>(messages.size(), std::move(hooks), policy);
  for (std::size_t i = 0; i < messages.size(); ++i) barrier->send(i, std::move(messages[i]));
}

AckBarrier::AckBarrier(std::size_t count, AckBarrierHooks hooks, RepublishPolicy policy)
    : hooks_(std::move(hooks)),
      policy_(policy),
      started_(std::chrono::steady_clock::now()),
      remaining_(count),
      refusals_(count, 0) {}

void AckBarrier::send(std::size_t index, Message message) {
  Message copy = message;  // kept for a republish
  hooks_.publish(std::move(message), [self = shared_from_this(), index,
                                      copy = std::move(copy)](PublishOutcome outcome) mutable {
    if (outcome == PublishOutcome::kConfirmed) {
      self->settle(true, outcome);
      return;
    }
    const bool refused = outcome == PublishOutcome::kNacked || outcome == PublishOutcome::kReturned;
    if (!refused) {
      self->settle(false, outcome);
      return;
    }
    int attempt = 0;
    {
      std::lock_guard lock(self->mutex_);
      attempt = ++self->refusals_[index];
    }
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - self->started_);
    auto delay = self->policy_.first_delay;
    for (int i = 1; i < attempt && delay < self->policy_.max_delay; ++i) delay *= 2;
    delay = std::min(delay, self->policy_.max_delay);
    if (elapsed + delay > self->policy_.give_up_after) {
      self->settle(false, outcome);
      return;
    }
    if (self->hooks_.on_republish) self->hooks_.on_republish(copy, outcome, attempt, delay);
    auto again = std::make_shared<Message>(std::move(copy));
    const bool kept = self->hooks_.schedule(delay, [self, index, again, outcome](bool stopped) {
      if (stopped) {
        self->settle(false, outcome);
      } else {
        self->send(index, std::move(*again));
      }
    });
    if (!kept) self->settle(false, outcome);
  });
}

void AckBarrier::settle(bool ok, PublishOutcome outcome) {
  bool last = false;
  bool failed = false;
  PublishOutcome bad = PublishOutcome::kConfirmed;
  {
    std::lock_guard lock(mutex_);
    if (!ok) {
      failed_ = true;
      bad_outcome_ = outcome;
    }
    last = --remaining_ == 0;
    failed = failed_;
    bad = bad_outcome_;
  }
  if (last) hooks_.finish(!failed, bad);
}

}  // namespace genx::broker
