#include "notifier/recent_ids.hpp"

namespace genx::notifier {

RecentIds::RecentIds(std::size_t capacity) : capacity_(capacity) {}

bool RecentIds::first_time(std::string_view id) {
  if (id.empty() || capacity_ == 0) return true;
  auto [it, inserted] = ids_.emplace(id);
  if (!inserted) return false;
  // A set element keeps its address across rehashes, so the view stays valid until erased.
  order_.push_back(*it);
  if (order_.size() > capacity_) {
    ids_.erase(std::string(order_.front()));
    order_.pop_front();
  }
  return true;
}

}  // namespace genx::notifier
