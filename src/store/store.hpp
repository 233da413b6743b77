#pragma once
// The Store: everything GenX keeps (DESIGN.md "Storage"). One interface, several
// backends (SQLite now, PostgreSQL next). Read side returns JSON documents with the
// field names the REST API publishes (documented in README.md).
//
// Errors: TransientStoreError when the database is busy, locked or unreachable (the
// caller may retry the whole unit of work); any other exception is a bug or bad data.
// Thread-safety: a Store object is used by one thread at a time; open one per thread.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace genx::store {

struct TransientStoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TransactionFilter {
  std::optional<std::string> charger;  // charge point identity
  std::optional<bool> active;          // true: only open transactions; false: only stopped
  int limit = 100;
  int offset = 0;
};

class ReadStore {
 public:
  virtual ~ReadStore() = default;
  // Cheap round trip to the database; throws TransientStoreError when unavailable.
  virtual void ping() = 0;
  virtual nlohmann::json list_chargers() = 0;                                   // array
  virtual std::optional<nlohmann::json> charger(std::string_view identity) = 0; // with "connectors"
  virtual nlohmann::json list_transactions(const TransactionFilter& filter) = 0; // array
  virtual std::optional<nlohmann::json> transaction(std::int64_t id) = 0;      // with "meterValues"
};

}  // namespace genx::store
