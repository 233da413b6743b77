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
#include <stdexcept>

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

}  // namespace genx::app
