#pragma once
// RecentIds: a bounded memory of the last `capacity` event ids, so the notifier forwards
// an at-least-once event (docs/design.md "Reliability": a redelivered message republishes its
// stored events, same eventId) to its clients only once. The oldest id is forgotten
// first; a duplicate arriving after `capacity` newer ids is forwarded again. Pure, not
// thread-safe (the notifier uses it on its consumer thread only).
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

namespace genx::notifier {

class RecentIds {
 public:
  explicit RecentIds(std::size_t capacity);

  // True when `id` is new (it is now remembered); false when it was seen recently.
  // The empty id is never remembered: it always counts as new.
  bool first_time(std::string_view id);

  std::size_t size() const { return ids_.size(); }

 private:
  std::size_t capacity_;
  std::unordered_set<std::string> ids_;
  std::deque<std::string_view> order_;  // views of the set's elements, oldest first
};

}  // namespace genx::notifier
