#pragma once
// The one hand-off between a role's broker thread and its work thread: deliveries the
// broker thread pushes, the work thread drains. Bounded: its capacity is the consumer's
// prefetch, which RabbitMQ never exceeds (unacked deliveries), so push never blocks the
// broker thread; a push beyond it (a broker that ignored the prefetch) is refused and the
// caller hands the delivery back.
//
// Two lanes: deliveries pushed with `preferred` (the high class queue of quorum mode,
// broker/topology.hpp) are taken before every other waiting delivery, so a driver's call
// overtakes telemetry already received; within a lane the order is kept.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

#include "broker/broker_client.hpp"

namespace genx::runtime {

class HandOff {
 public:
  explicit HandOff(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Broker thread. False when full or stopped (the delivery was not taken).
  bool push(broker::Delivery&& d, bool preferred = false) {
    {
      std::lock_guard lock(mutex_);
      if (stopped_ || size() >= capacity_) return false;
      (preferred ? preferred_ : items_).push_back(std::move(d));
    }
    cv_.notify_one();
    return true;
  }

  // Work thread: waits for a first delivery, then up to `fill` for `max` to be waiting,
  // and takes what is waiting (at most max) in one go: one wake-up per batch, no copies.
  // Empty once stopped.
  std::vector<broker::Delivery> pop_batch(std::size_t max,
                                          std::chrono::milliseconds fill = std::chrono::milliseconds(0)) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return stopped_ || size() > 0; });
    if (!stopped_ && fill.count() > 0 && size() < max) {
      cv_.wait_for(lock, fill, [&] { return stopped_ || size() >= max; });
    }
    std::vector<broker::Delivery> batch;
    if (stopped_) return batch;
    const std::size_t n = std::min(max, size());
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto& lane = preferred_.empty() ? items_ : preferred_;
      batch.push_back(std::move(lane.front()));
      lane.pop_front();
    }
    return batch;
  }

  // Any thread: wakes the work thread; pop_batch returns empty from now on.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  bool stopped() const {
    std::lock_guard lock(mutex_);
    return stopped_;
  }

  // What was received but not taken (to hand back to RabbitMQ at the stop).
  std::deque<broker::Delivery> take_all() {
    std::lock_guard lock(mutex_);
    auto all = std::exchange(preferred_, {});
    for (auto& d : items_) all.push_back(std::move(d));
    items_.clear();
    return all;
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::size_t size() const { return preferred_.size() + items_.size(); }  // under mutex_

  std::deque<broker::Delivery> preferred_;
  std::deque<broker::Delivery> items_;
  bool stopped_ = false;
};

}  // namespace genx::runtime
