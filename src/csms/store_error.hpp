#pragma once
// The one error every store port shares (csms/write_store.hpp, api/read_store.hpp,
// analytics/analytics_store.hpp, auth/token_store.hpp, security/credential_store.hpp,
// store/admin_store.hpp): the database is busy, locked, unreachable, or refused the unit
// of work for a reason that goes away on retry (a PostgreSQL serialization failure or
// deadlock). Nothing of the unit was committed; the caller may retry the whole unit.
// Header only, no I/O: any module may include it.
#include <stdexcept>

namespace genx::csms {

struct TransientStoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace genx::csms
