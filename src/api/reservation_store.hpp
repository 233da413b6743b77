#pragma once
// The api's reservation port (docs/reservations.md): reservations as the operator's
// resource endpoints and the ReserveNow / CancelReservation answers keep them. Implemented
// by each backend in store/. Errors and threading as the other api ports (read_store.hpp):
// TransientStoreError when the database is busy or away; one object per thread.
// Timestamps are canonical ISO 8601 UTC text ("2024-01-15T10:30:00.000Z").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "csms/reservations.hpp"
#include "csms/store_error.hpp"

namespace genx::api {

struct ReservationFilter {
  std::optional<std::string> charger;  // charge point identity
  std::optional<std::string> status;   // e.g. "Accepted" (the active ones)
  int limit = 100;
};

class ReservationStore {
 public:
  virtual ~ReservationStore() = default;
  // A new reservation of a known charger with status Requested and an id above every
  // stored one; nullopt when the charger is unknown.
  virtual std::optional<csms::Reservation> create_reservation(std::string_view charge_point_id,
                                                              const csms::ReservationRequest& request,
                                                              std::string_view now) = 0;
  // What a ReserveNow answer taught: inserts reservation r.id, or replaces it (a charger
  // replaces a reservation whose id it is sent again), with r's fields and status; creates
  // the charger row when missing. Returns the reservation as stored.
  virtual csms::Reservation record_reservation(std::string_view charge_point_id, const csms::Reservation& r,
                                               std::string_view now) = 0;
  // Sets status `to` when the current status is one of `from`; the reservation as stored
  // after, or nullopt when it does not exist or had another status (nothing changed).
  virtual std::optional<csms::Reservation> change_reservation_status(std::int64_t id, std::string_view to,
                                                                     const std::vector<std::string>& from,
                                                                     std::string_view now) = 0;
  virtual std::optional<csms::Reservation> find_reservation(std::int64_t id) = 0;
  // Newest (highest id) first.
  virtual std::vector<csms::Reservation> list_reservations(const ReservationFilter& filter) = 0;
  // Every Accepted reservation whose expiryDate <= now becomes Expired; returns those it
  // changed. Two processes sweeping at once never both return the same reservation.
  virtual std::vector<csms::Reservation> expire_reservations(std::string_view now) = 0;
};

}  // namespace genx::api
