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
  // Wakes the work thread only when that can end its wait: the first delivery, the
  // batch it is filling is complete, or a delivery someone awaits (reply_to set) arrived
  // (not once per delivery while it waits for a batch to fill).
  bool push(broker::Delivery&& d, bool preferred = false) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (stopped_ || size() >= capacity_) return false;
      const bool awaited = !d.reply_to.empty();
      if (awaited) ++awaited_;
      (preferred ? preferred_ : items_).push_back(std::move(d));
      wake = !filling_ || size() == 1 || size() >= fill_target_ || awaited;
    }
    if (wake) cv_.notify_one();
    return true;
  }

  // Work thread: waits for a first delivery, then up to `fill` for `max` to be waiting,
  // and takes what is waiting (at most max, the preferred lane first) in one go: one
  // wake-up per batch, no copies. A waiting delivery someone awaits (reply_to set: a
  // charger or the api waits for its answer) ends the fill wait at once, so only
  // deliveries nobody waits for are held back to fill a batch. Empty once stopped.
  std::vector<broker::Delivery> pop_batch(std::size_t max,
                                          std::chrono::milliseconds fill = std::chrono::milliseconds(0)) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return stopped_ || size() > 0; });
    if (!stopped_ && fill.count() > 0 && size() < max && awaited_ == 0) {
      filling_ = true;
      fill_target_ = max;
      cv_.wait_for(lock, fill, [&] { return stopped_ || size() >= max || awaited_ > 0; });
      filling_ = false;
    }
    std::vector<broker::Delivery> batch;
    if (stopped_) return batch;
    const std::size_t n = std::min(max, size());
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto& lane = preferred_.empty() ? items_ : preferred_;
      if (!lane.front().reply_to.empty()) --awaited_;
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
    awaited_ = 0;
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
  std::size_t awaited_ = 0;      // waiting deliveries with reply_to set
  bool filling_ = false;         // the work thread waits for a batch to fill
  std::size_t fill_target_ = 0;  // ... of this many
};

}  // namespace genx::runtime
