#pragma once
// The site allocation in the ocpp-worker (docs/smart-charging.md): a thread of
// its own that, every GENX_SMART_INTERVAL_MS and at once when poked (a session started
// or stopped, meter values arrived), runs smart::allocate for every site whose lease it
// holds and sends the change plan as SetChargingProfile commands through the gateways:
// every lowering first, the raises only once every lowering was accepted.
//
// Several workers: a site is allocated by the holder of its lease (site_leases row,
// renewed every round, expiring after 3 x the command timeout), so one allocation per
// site runs at a time; when a worker dies, another takes the site over after the lease
// expires. Everything the allocation knows lives in the database (limits in force,
// answers), so a restart continues where it stopped.
//
// Threading: start() once, poke() from any thread, stop() before destruction (joins).
// The broker client must outlive the allocator; its reply queue is declared by
// site_allocator_topology().
#include <memory>
#include <string>

#include "app/config.hpp"
#include "broker/broker_client.hpp"
#include "broker/topology.hpp"

namespace genx::worker {

// The worker's reply queue for its commands, with the commands exchange.
broker::Topology site_allocator_topology(const app::Config& config);

class SiteAllocator {
 public:
  SiteAllocator(const app::Config& config, broker::BrokerClient& broker);
  ~SiteAllocator();
  SiteAllocator(const SiteAllocator&) = delete;
  SiteAllocator& operator=(const SiteAllocator&) = delete;

  void start();
  void poke();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace genx::worker
