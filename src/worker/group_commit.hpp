#pragma once
// Group commit for the ocpp-worker: several deliveries processed in ONE database
// transaction (one fsync instead of one per message).
//
// BatchWriteStore is a csms::WriteStore that runs each unit of work of a MessageProcessor
// directly on the UnitOfWork of an outer transaction the worker already opened. Units of
// work run in delivery order, so the database ends as if they had committed one by one
// (per-charger order and idempotency keys are kept: a duplicate within the batch sees
// the reply saved by the first). It has no savepoints, so a unit of work that throws
// poisons the batch: the exception propagates, any further unit of work throws
// BatchAbandoned, and the worker rolls the whole batch back and processes its messages
// one by one in their own transactions. Nothing is acked before the outer transaction
// commits and every publish it caused is confirmed.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <spdlog/spdlog.h>

#include "broker/broker_client.hpp"
#include "csms/envelope.hpp"
#include "messages/envelope.hpp"
#include "csms/processor.hpp"
#include "csms/write_store.hpp"

namespace genx::app {

struct BatchAbandoned : std::runtime_error {
  BatchAbandoned() : std::runtime_error("batch abandoned: a message failed inside the group commit") {}
};

class BatchWriteStore : public csms::WriteStore {
 public:
  explicit BatchWriteStore(csms::UnitOfWork& uow) : uow_(uow) {}
  void in_transaction(const std::function<void(csms::UnitOfWork&)>& work) override {
    if (poisoned_) throw BatchAbandoned();
    try {
      work(uow_);
    } catch (...) {
      poisoned_ = true;
      throw;
    }
  }

 private:
  csms::UnitOfWork& uow_;
  bool poisoned_ = false;
};

// The worker's group commit. run(batch) processes the deliveries the worker took in one
// go (at most max_batch in all) in one transaction and keeps their outcomes;
// the worker then handles each delivery as before, taking its outcome with take() instead
// of processing it again. When the group transaction fails for any reason nothing is
// kept and every message goes through the worker's one-by-one path (and its retry and
// dead-letter rules). Used by one thread.
class GroupCommit {
 public:
  GroupCommit(csms::WriteStore& store, const csms::Clock& clock, csms::Policy policy,
              std::size_t max_batch)
      : store_(store), clock_(clock), policy_(policy), max_batch_(max_batch) {}

  // Decodes the envelopes itself (tests; the worker passes what it decoded already).
  void run(const broker::Delivery& first, const std::vector<broker::Delivery>& waiting) {
    std::vector<broker::Delivery> all;
    all.push_back(first);
    all.insert(all.end(), waiting.begin(), waiting.end());
    std::vector<std::optional<csms::Envelope>> envelopes;
    for (const auto& d : all) {
      auto parsed = messages::decode_envelope(d.body);
      if (auto* envelope = std::get_if<csms::Envelope>(&parsed)) {
        envelopes.emplace_back(std::move(*envelope));
      } else {
        envelopes.emplace_back();
      }
    }
    run(all, envelopes);
  }

  // batch[i] and its decoded envelope (nullopt: not decodable, left to the one-by-one
  // path), in delivery order; batch[0] is the one handled next.
  void run(const std::vector<broker::Delivery>& batch,
           const std::vector<std::optional<csms::Envelope>>& envelopes) {
    if (max_batch_ <= 1 || batch.empty() || outcomes_.count(key(batch[0])) != 0) return;
    // Outcomes left behind by deliveries of an earlier connection (redelivered with new
    // tags) are dropped; their redelivery is answered from the stored reply.
    if (outcomes_.size() > 4 * max_batch_) outcomes_.clear();
    std::vector<std::pair<Key, const csms::Envelope*>> group;
    for (std::size_t i = 0; i < batch.size() && group.size() < max_batch_; ++i) {
      if (!envelopes[i]) continue;
      if (i > 0 && outcomes_.count(key(batch[i])) != 0) continue;
      group.emplace_back(key(batch[i]), &*envelopes[i]);
    }
    if (group.size() <= 1) return;  // nothing to group: the one-by-one path is the same
    std::map<Key, csms::Outcome> done;
    try {
      store_.in_transaction([&](csms::UnitOfWork& uow) {
        done.clear();
        BatchWriteStore batch_store(uow);
        csms::MessageProcessor processor(batch_store, clock_, policy_);
        for (const auto& [k, envelope] : group) done[k] = processor.process(*envelope);
      });
    } catch (const std::exception& e) {
      spdlog::debug("group commit of {} messages not possible ({}); processing them one by one",
                    group.size(), e.what());
      return;
    }
    outcomes_.merge(done);
  }

  std::optional<csms::Outcome> take(const broker::Delivery& d) {
    auto it = outcomes_.find(key(d));
    if (it == outcomes_.end()) return std::nullopt;
    csms::Outcome outcome = std::move(it->second);
    outcomes_.erase(it);
    return outcome;
  }

  // Forgets outcomes of deliveries that will not be handled (stop, reconnect).
  void clear() { outcomes_.clear(); }

 private:
  using Key = std::tuple<std::uint64_t, std::uint16_t, std::uint64_t>;
  static Key key(const broker::Delivery& d) { return {d.generation, d.channel, d.delivery_tag}; }

  csms::WriteStore& store_;
  const csms::Clock& clock_;
  csms::Policy policy_;
  std::size_t max_batch_;
  std::map<Key, csms::Outcome> outcomes_;
};

}  // namespace genx::app
