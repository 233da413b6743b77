#pragma once
// Sites and charging profiles over REST (docs/smart-charging.md):
//   GET    /api/sites                                 -> [site document]
//   PUT    /api/sites/{siteId}                        <- {name, maxCurrentA | maxPowerW, phases, minCurrentA}
//   GET    /api/sites/{siteId}                        -> site document with allocations
//   DELETE /api/sites/{siteId}
//   PUT    /api/sites/{siteId}/chargers/{chargePointId} <- {maxCurrentA, minCurrentA, priority} (optional)
//   DELETE /api/sites/{siteId}/chargers/{chargePointId}
//   GET    /api/chargers/{id}/charging-profiles       -> every charging-profile command sent, newest first
//   GET    /api/tag-priorities                        -> [{idTag, priority, updatedAt}]
//   PUT    /api/tag-priorities/{idTag}                <- {priority}   (-100..100)
//   DELETE /api/tag-priorities/{idTag}
// A bad body or id answers 400 naming the field and changes nothing. The workers pick a
// change up within GENX_SMART_INTERVAL_MS (the allocation runs there, not here).
#include <optional>
#include <string_view>

#include "api/api_server.hpp"
#include "smart/site_store.hpp"

namespace genx::api {

// The answer when path is one of the routes above, else nullopt.
std::optional<HttpResponse> handle_sites(std::string_view method, std::string_view path, std::string_view body,
                                         smart::SiteStore* store, double nominal_voltage = 230);

}  // namespace genx::api
