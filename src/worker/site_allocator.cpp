// The site allocation in the ocpp-worker (see site_allocator.hpp).
#include "worker/site_allocator.hpp"

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "api/command_client.hpp"
#include "worker/command_sender.hpp"
#include "messages/envelope.hpp"
#include "messages/timestamp.hpp"
#include "smart/allocation.hpp"
#include <unistd.h>

#include "smart/profiles.hpp"
#include "smart/site_view.hpp"
#include "store/open_store.hpp"

namespace genx::worker {

using nlohmann::json;

namespace {

std::string reply_queue(const app::Config& config) { return worker_reply_queue("genx.smart.", config.instance_id); }

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What one round knows beside the plan: the limits in force before it (a session's
// TxProfile, or an idle charger's default; and apart from that each TxDefaultProfile),
// the form of each charger's profiles, the station's own transaction ids (2.0.1).
struct Round {
  std::map<std::string, std::optional<double>> in_force;
  std::map<std::string, std::optional<double>> defaults;
  std::map<std::string, smart::ProfileForm> forms;
  std::map<std::int64_t, std::string> station_tx_ids;
};

// What became of one profile sent.
struct Sent {
  smart::LimitChange change;
  std::optional<double> was_in_force;  // the limit in force before
  std::string answer;                  // the charger's status, or the outcome
  smart::ProfileStatus status = smart::ProfileStatus::kNone;
};

}  // namespace

broker::Topology site_allocator_topology(const app::Config& config) {
  broker::Topology t = broker::commands_topology(config.names);
  t.queues.push_back({reply_queue(config), false, true, true, {}});
  return t;
}

struct SiteAllocator::Impl {
  Impl(const app::Config& c, broker::BrokerClient& b)
      : config(c),
        broker(b),
        // Unique per process: the workers `genx run` starts share GENX_INSTANCE_ID and may
        // start in the same millisecond; two allocators with one name would both "hold"
        // the lease and allocate the same site at once.
        holder(c.instance_id + "/" + std::to_string(::getpid()) + "/" + std::to_string(now_ms())),
        commands(b, c.names, reply_queue(c), c.smart_command_timeout) {}

  const app::Config& config;
  broker::BrokerClient& broker;
  const std::string holder;  // this worker's name on leases
  CommandSender commands;
  std::thread loop_thread;
  std::mutex mu;
  std::condition_variable wake;
  bool poked = false;
  bool stopping = false;
  std::unique_ptr<smart::SiteStore> store;
  std::map<std::string, std::int64_t> retried_at;  // charger -> when an offline one was last tried

  void loop() {
    while (true) {
      {
        std::unique_lock lock(mu);
        wake.wait_for(lock, config.smart_interval, [&] { return poked || stopping; });
        if (stopping) break;
        poked = false;
      }
      try {
        if (!store) store = store::open_site_store(config.database_url);
        const auto sites = store->list_sites();
        spdlog::debug("site allocation round: {} site(s)", sites.size());
        for (const auto& site : sites) {
          if (is_stopping()) break;
          run_site(site);
        }
        if (!is_stopping()) clear_departures();
      } catch (const std::exception& e) {
        spdlog::warn("site allocation: {} (retrying in the next round)", e.what());
        store.reset();  // a fresh connection next round
      }
      // Rounds at most every 200 ms however many meter values poke (they coalesce).
      std::unique_lock lock(mu);
      wake.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping; });
    }
    if (store) {
      try {
        for (const auto& site : store->list_sites()) store->release_site_lease(site.id, holder);
      } catch (const std::exception&) {
      }
    }
  }

  bool is_stopping() {
    std::lock_guard lock(mu);
    return stopping;
  }

  // Runs a store write, again after a transient failure (up to 20 times, 10-200 ms apart).
  template <typename Fn>
  void retrying(Fn&& fn) {
    for (int attempt = 1;; ++attempt) {
      try {
        fn();
        return;
      } catch (const csms::TransientStoreError& e) {
        if (attempt >= 20) throw;
        spdlog::debug("site allocation: retrying a write: {}", e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(200, 10 * attempt)));
      }
    }
  }

  void run_site(const smart::SiteSettings& site) {
    const auto ttl = 3 * config.smart_command_timeout.count() + 5000;
    try {
      if (!store->acquire_site_lease(site.id, holder, now_ms(), ttl)) return;
    } catch (const csms::TransientStoreError&) {
      return;  // another worker renewed it at the same moment: it holds the site
    }
    auto read = store->site_state(site.id);
    if (!read) return;  // deleted meanwhile
    const smart::SiteState& state = *read;
    auto inputs = smart::allocation_inputs(state);
    // An offline charger is tried again now and then (it may be back): as a lowering, so
    // no raise goes out before it answered.
    const auto now = now_ms();
    for (auto& in : inputs) {
      if (in.status != smart::ProfileStatus::kOffline) continue;
      auto& last = retried_at[in.charge_point_id];
      if (now - last >= 10000) {
        last = now;
        in.status = smart::ProfileStatus::kNone;
      }
    }
    // A limit in watts counts at the nominal voltage (the lower of the two limits).
    const smart::SiteLimit limit{smart::site_limit_a(site, config.smart_nominal_voltage), site.phases,
                                 site.min_current_a};
    const auto result = smart::allocate(limit, inputs);
    auto plan = smart::plan_changes(inputs, result);
    for (auto& change : smart::session_default_changes(state, inputs, result)) plan.lowerings.push_back(change);
    if (plan.empty()) return;
    Round round;
    for (const auto& in : inputs) round.in_force[in.charge_point_id] = in.in_force_a;
    for (const auto& m : state.members) {
      const bool known = m.default_status == "accepted" || m.default_status == "offline";
      round.defaults[m.charge_point_id] = known ? m.default_limit_a : std::nullopt;
    }
    // Each charger gets its profiles in its version and unit (ChargingScheduleAllowedChargingRateUnit).
    for (const auto& m : state.members) {
      round.forms[m.charge_point_id] =
          smart::ProfileForm{m.ocpp_version, smart::charging_rate_unit(m.allowed_rate_units), config.smart_nominal_voltage};
    }
    for (const auto& session : state.sessions) round.station_tx_ids[session.transaction_id] = session.ocpp_transaction_id;

    auto lowered = send_all(site, plan.lowerings, round);
    bool all_accepted = true;
    for (const auto& s : lowered) all_accepted = all_accepted && s.status == smart::ProfileStatus::kAccepted;
    std::vector<Sent> raised;
    if (all_accepted) {
      raised = send_all(site, plan.raises, round);
    } else if (!plan.raises.empty()) {
      spdlog::info("site {}: {} raise(s) held back: a lowering was not accepted", site.id, plan.raises.size());
    }
    spdlog::info("site {}: {} lowering(s), {} raise(s) sent (limit {} A)", site.id, lowered.size(), raised.size(),
                 site.max_current_a);
    publish_changed(site);
  }

  // Sends the changes at once and waits for every answer (each bounded by the command
  // timeout); records each and what is in force afterwards.
  std::vector<Sent> send_all(const smart::SiteSettings& site, const std::vector<smart::LimitChange>& changes,
                             const Round& round) {
    std::vector<std::future<api::CommandResult>> futures;
    std::vector<json> requests;
    for (const auto& change : changes) {
      smart::ProfileForm form;
      if (auto f = round.forms.find(change.charge_point_id); f != round.forms.end()) form = f->second;
      std::string station_tx;
      if (change.transaction_id) {
        if (auto t = round.station_tx_ids.find(*change.transaction_id); t != round.station_tx_ids.end()) {
          station_tx = t->second;
        }
      }
      json request = change.transaction_id
                         ? smart::site_tx_profile_request(*change.transaction_id, change.connector_id, change.limit_a,
                                                          site.phases, form, station_tx)
                         : smart::site_default_profile_request(change.limit_a, site.phases, form);
      auto promise = std::make_shared<std::promise<api::CommandResult>>();
      futures.push_back(promise->get_future());
      requests.push_back(request);
      commands.send(change.charge_point_id, "SetChargingProfile", request,
                    [promise](api::CommandResult r) { promise->set_value(std::move(r)); });
    }
    std::vector<Sent> sent;
    for (std::size_t i = 0; i < changes.size(); ++i) {
      Sent s;
      s.change = changes[i];
      const auto& known = changes[i].transaction_id ? round.in_force : round.defaults;
      auto it = known.find(changes[i].charge_point_id);
      if (it != known.end()) s.was_in_force = it->second;
      const auto result = futures[i].get();  // always completes: the command timeout ends it
      if (result.reply && result.reply->outcome == messages::CommandOutcome::kResult) {
        s.answer = result.reply->payload.value("status", "");
        s.status = s.answer == "Accepted" ? smart::ProfileStatus::kAccepted : smart::ProfileStatus::kRejected;
      } else if (result.reply && result.reply->outcome == messages::CommandOutcome::kCallError) {
        s.answer = "CallError " + result.reply->error_code;
        s.status = smart::ProfileStatus::kRejected;
      } else {
        s.answer = result.offline ? "offline" : result.timed_out ? "timeout" : "not sent";
        s.status = smart::ProfileStatus::kOffline;
      }
      // What bounds the charger now: the new limit when accepted; otherwise the old one
      // (offline: it may still apply the old; rejected: counted at its maximum anyway).
      double limit = s.change.limit_a;
      if (s.status != smart::ProfileStatus::kAccepted) limit = s.was_in_force.value_or(smart::kDefaultChargerMaxA);
      // What the charger now obeys must be recorded: a unit that lost a race with another
      // writer (PostgreSQL serialization) is retried.
      retrying([&] {
        if (s.change.transaction_id) {
          store->set_session_limit(site.id, {s.change.charge_point_id, s.change.connector_id, *s.change.transaction_id,
                                             limit, smart::to_string(s.status), ""});
        } else {
          store->set_default_limit(s.change.charge_point_id, limit, smart::to_string(s.status));
        }
      });
      retrying([&] {
        store->record_profile({s.change.charge_point_id, s.change.connector_id, "SetChargingProfile", "site",
                               requests[i], s.answer});
      });
      if (s.status == smart::ProfileStatus::kAccepted) retried_at.erase(s.change.charge_point_id);
      sent.push_back(std::move(s));
    }
    return sent;
  }

  // The chargers that left a site: ClearChargingProfile for the TxDefaultProfile and the
  // TxProfile GenX installed (by id, so an operator's own profiles stay), each recorded.
  // One worker at a time (a lease on a name no site can have); a charger that is offline
  // is tried again every 10 s; one already in another site is only forgotten (that site's
  // profiles replace ours under the same ids).
  void clear_departures() {
    const auto ttl = 3 * config.smart_command_timeout.count() + 5000;
    const auto departures = store->site_departures();
    if (departures.empty()) return;
    try {
      if (!store->acquire_site_lease("#departures", holder, now_ms(), ttl)) return;
    } catch (const csms::TransientStoreError&) {
      return;
    }
    for (const auto& d : departures) {
      if (is_stopping()) return;
      if (!d.now_in_site.empty() || d.ocpp_version.empty()) {
        retrying([&] { store->forget_departure(d.charge_point_id, d.left_at); });
        continue;
      }
      auto& last = retried_at["departure:" + d.charge_point_id];
      const auto now = now_ms();
      if (last != 0 && now - last < 10000) continue;
      last = now;
      const auto requests = smart::site_clear_requests(d.ocpp_version);
      std::vector<std::future<api::CommandResult>> futures;
      for (const auto& request : requests) {
        auto promise = std::make_shared<std::promise<api::CommandResult>>();
        futures.push_back(promise->get_future());
        commands.send(d.charge_point_id, "ClearChargingProfile", request,
                      [promise](api::CommandResult r) { promise->set_value(std::move(r)); });
      }
      bool answered = true;
      for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto result = futures[i].get();
        std::string answer;
        if (result.reply && result.reply->outcome == messages::CommandOutcome::kResult) {
          answer = result.reply->payload.value("status", "");
        } else if (result.reply && result.reply->outcome == messages::CommandOutcome::kCallError) {
          answer = "CallError " + result.reply->error_code;
        } else {
          answer = result.offline ? "offline" : result.timed_out ? "timeout" : "not sent";
          answered = false;
        }
        retrying([&] {
          store->record_profile({d.charge_point_id, 0, "ClearChargingProfile", "site", requests[i], answer});
        });
      }
      spdlog::info("{} left site {}: its site profiles {}", d.charge_point_id, d.site_id,
                   answered ? "cleared" : "not cleared yet (offline: tried again)");
      if (answered) {
        retrying([&] { store->forget_departure(d.charge_point_id, d.left_at); });
        retried_at.erase("departure:" + d.charge_point_id);
      }
    }
  }

  void publish_changed(const smart::SiteSettings& site) {
    auto state = store->site_state(site.id);
    if (!state) return;
    json document = smart::site_document(*state, config.smart_nominal_voltage);
    messages::DomainEvent event{"site.allocation.changed", "", {}};
    event.fields = json::object();
    event.fields["siteId"] = site.id;
    for (auto& [key, value] : document.items()) {
      if (key != "id") event.fields[key] = value;
    }
    broker::Message message;
    message.exchange = config.names.exchange_events;
    message.routing_key = messages::event_routing_key(event.type);
    message.type = event.type;
    message.message_id = "site." + site.id + "." + std::to_string(now_ms());
    message.body = messages::encode_event(event, messages::format_timestamp(now_ms()));
    broker.publish(std::move(message), [](broker::PublishOutcome o) {
      if (o != broker::PublishOutcome::kConfirmed) spdlog::warn("site.allocation.changed not published");
    });
  }
};

SiteAllocator::SiteAllocator(const app::Config& config, broker::BrokerClient& broker)
    : impl_(std::make_unique<Impl>(config, broker)) {}

SiteAllocator::~SiteAllocator() { stop(); }

void SiteAllocator::start() {
  if (impl_->config.smart_interval.count() == 0) {
    spdlog::info("site allocation off in this worker (GENX_SMART_INTERVAL_MS=0)");
    return;
  }
  spdlog::info("site allocation every {} ms (lease holder {})", impl_->config.smart_interval.count(), impl_->holder);
  impl_->commands.start();
  impl_->loop_thread = std::thread([this] { impl_->loop(); });
}

void SiteAllocator::poke() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->poked = true;
  }
  impl_->wake.notify_one();
}

void SiteAllocator::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  if (impl_->loop_thread.joinable()) impl_->loop_thread.join();
  impl_->commands.stop();
}

}  // namespace genx::worker
