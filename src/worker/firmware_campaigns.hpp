#pragma once
// The firmware campaign runner in the ocpp-worker (docs/firmware.md,
// docs/firmware.md): a thread of its own that, every GENX_FIRMWARE_INTERVAL_MS, times out
// overdue targets, sends UpdateFirmware (or SignedUpdateFirmware) to as many Pending
// targets as each Running campaign's maxConcurrent leaves free, records each answer and
// publishes firmware.campaign.changed. The chargers' FirmwareStatusNotifications move the
// targets on (csms/processor.cpp, in the message's own transaction).
//
// One runner at a time across workers and hosts: the runner holding the lease
// "firmware:campaigns" works (the site allocation's lease table and SQL,
// smart::SiteStore::acquire_site_lease; a site id cannot contain ':'), renewed every
// round and expiring after 3 x the command timeout, so another worker takes over when the
// holder dies. Everything lives in the database (targets are marked Sent before their
// request goes out), so a restart continues where it stopped; a request whose answer was
// lost with the process ends as Timeout after the campaign's timeoutSeconds and can be
// retried.
//
// Threading: start() once, stop() before destruction (joins). The broker client must
// outlive the runner; its reply queue is declared by add_firmware_campaign_topology().
#include <memory>

#include "app/config.hpp"
#include "broker/broker_client.hpp"
#include "broker/topology.hpp"

namespace genx::worker {

// Adds the runner's reply queue (exclusive to this process) to the worker's topology.
void add_firmware_campaign_topology(broker::Topology& topology, const app::Config& config);

class FirmwareCampaignRunner {
 public:
  FirmwareCampaignRunner(const app::Config& config, broker::BrokerClient& broker);
  ~FirmwareCampaignRunner();
  FirmwareCampaignRunner(const FirmwareCampaignRunner&) = delete;
  FirmwareCampaignRunner& operator=(const FirmwareCampaignRunner&) = delete;

  void start();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace genx::worker
