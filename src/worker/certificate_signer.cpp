// The security extension in the ocpp-worker (see certificate_signer.hpp).
#include "worker/certificate_signer.hpp"

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "api/command_client.hpp"
#include "worker/command_sender.hpp"
#include "messages/timestamp.hpp"
#include "store/open_certificate_store.hpp"

namespace genx::worker {

using nlohmann::json;

namespace {

// Exclusive to this process (several workers may share GENX_INSTANCE_ID).
std::string reply_queue(const app::Config& config) { return worker_reply_queue("genx.certs.", config.instance_id); }

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::string now_text() { return messages::format_timestamp(now_ms()); }

bool answered_with(const csms::Outcome& outcome, const char* status) {
  return outcome.reply.result && outcome.reply.result->is_object() && outcome.reply.result->value("status", "") == status;
}

struct Job {
  std::string charge_point_id;
  std::string request_id;
  std::string csr;
  std::string ocpp_version;  // CertificateSigned in this version's form
};

}  // namespace

void add_certificate_signer_topology(const app::Config& config, broker::Topology& topology) {
  topology.queues.push_back({reply_queue(config), false, true, true, {}});
}

struct CertificateSigner::Impl {
  Impl(const app::Config& c, broker::BrokerClient& b, std::shared_ptr<const security::CertificateAuthority> a)
      : config(c),
        broker(b),
        ca(std::move(a)),
        commands(b, c.names, reply_queue(c), c.command_timeout) {}

  const app::Config& config;
  broker::BrokerClient& broker;
  std::shared_ptr<const security::CertificateAuthority> ca;
  CommandSender commands;
  std::unique_ptr<security::CertificateStore> record_store;  // the worker's thread
  std::unique_ptr<security::CertificateStore> sign_store;    // the signing thread
  std::thread loop_thread;
  std::mutex mu;
  std::condition_variable wake;
  std::deque<Job> jobs;
  bool started = false;
  bool stopping = false;

  bool unavailable = false;  // no certificate store for this DATABASE_URL (sqlite::memory:)

  // The worker thread's store; nullptr when this database cannot have one.
  security::CertificateStore* store_for_records() {
    if (!record_store && !unavailable) {
      try {
        record_store = store::open_certificate_store(config.database_url);
      } catch (const std::invalid_argument& e) {
        spdlog::warn("security events and certificates are not stored: {}", e.what());
        unavailable = true;
      }
    }
    return record_store.get();
  }

  void loop() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(mu);
        wake.wait(lock, [&] { return stopping || !jobs.empty(); });
        if (stopping) break;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      for (int attempt = 1;; ++attempt) {
        try {
          run(job);
          break;
        } catch (const std::exception& e) {
          sign_store.reset();
          if (attempt >= 5) {
            spdlog::error("CertificateSigned for {} (SignCertificate {}) not sent: {}", job.charge_point_id,
                          job.request_id, e.what());
            break;
          }
          spdlog::warn("CertificateSigned for {}: {} (retrying)", job.charge_point_id, e.what());
          std::unique_lock lock(mu);
          wake.wait_for(lock, std::chrono::milliseconds(200 * attempt), [&] { return stopping; });
          if (stopping) return;
        }
      }
    }
  }

  void run(const Job& job) {
    if (!sign_store) sign_store = store::open_certificate_store(config.database_url);
    auto issued = sign_store->find_issued(job.charge_point_id, job.request_id);
    if (issued && issued->status == "Accepted") return;  // a redelivered SignCertificate
    if (!issued) {
      auto signed_or_error = ca->sign(job.csr);
      if (auto* problem = std::get_if<std::string>(&signed_or_error)) {
        spdlog::error("SignCertificate {} from {}: accepted but not signed: {}", job.request_id,
                      job.charge_point_id, *problem);
        sign_store->record_security_event({0, job.charge_point_id, "CertificateSigningFailed", now_text(), *problem,
                                           "csms", job.request_id, now_text()});
        return;
      }
      const auto& made = std::get<security::SignedCertificate>(signed_or_error);
      security::IssuedCertificate record;
      record.charge_point_id = job.charge_point_id;
      record.request_id = job.request_id;
      record.serial_number = made.serial_number;
      record.subject = made.subject;
      record.not_before = made.not_before;
      record.not_after = made.not_after;
      record.certificate_chain = made.chain_pem;
      record.status = "Signed";
      record.created_at = now_text();
      issued = sign_store->record_issued(record);
    }
    auto promise = std::make_shared<std::promise<api::CommandResult>>();
    auto future = promise->get_future();
    json payload{{"certificateChain", issued->certificate_chain}};
    if (job.ocpp_version == "2.0.1") payload["certificateType"] = "ChargingStationCertificate";
    commands.send(job.charge_point_id, "CertificateSigned", std::move(payload),
                  [promise](api::CommandResult r) { promise->set_value(std::move(r)); });
    const auto result = future.get();  // the command timeout always ends it
    std::string status;
    if (result.reply && result.reply->outcome == messages::CommandOutcome::kResult) {
      status = result.reply->payload.value("status", "?");
    } else if (result.reply && result.reply->outcome == messages::CommandOutcome::kCallError) {
      status = "CallError " + result.reply->error_code;
    } else {
      status = result.offline ? "offline" : result.timed_out ? "timeout" : "not sent";
    }
    sign_store->set_issued_status(issued->id, status, now_text());
    spdlog::info("CertificateSigned to {} (serial {}, valid until {}): {}", job.charge_point_id,
                 issued->serial_number, issued->not_after, status);
    messages::DomainEvent event{"certificate.signed",
                                job.charge_point_id,
                                {{"serialNumber", issued->serial_number},
                                 {"subject", issued->subject},
                                 {"notAfter", issued->not_after},
                                 {"status", status},
                                 {"eventId", job.charge_point_id + "/" + job.request_id + "/certificate.signed/" +
                                                 std::to_string(now_ms())}}};
    broker::Message message;
    message.exchange = config.names.exchange_events;
    message.routing_key = messages::event_routing_key(event.type);
    message.type = event.type;
    message.message_id = job.charge_point_id + "." + job.request_id + ".certificate.signed";
    message.body = messages::encode_event(event, now_text());
    broker.publish(std::move(message), [](broker::PublishOutcome o) {
      if (o != broker::PublishOutcome::kConfirmed) spdlog::warn("certificate.signed not published");
    });
  }
};

CertificateSigner::CertificateSigner(const app::Config& config, broker::BrokerClient& broker,
                                     std::shared_ptr<const security::CertificateAuthority> ca)
    : impl_(std::make_unique<Impl>(config, broker, std::move(ca))) {}

CertificateSigner::~CertificateSigner() { stop(); }

std::optional<std::string> CertificateSigner::record(const messages::Envelope& envelope,
                                                     const csms::Outcome& outcome) {
  if (!outcome.reply.result) return std::nullopt;
  const std::string& action = envelope.message_type;
  // The same payload in the 1.6 security extension and 2.0.1.
  if (action == "SecurityEventNotification") {
    const auto& p = envelope.payload;
    security::SecurityEvent event;
    event.charge_point_id = envelope.device_id;
    event.type = p.value("type", "");
    const std::string timestamp = p.value("timestamp", "");
    event.timestamp = messages::normalize_timestamp(timestamp).value_or(timestamp);
    if (p.contains("techInfo") && p["techInfo"].is_string()) event.tech_info = p["techInfo"].get<std::string>();
    event.source = "charger";
    event.message_id = envelope.unique_id;
    event.received_at = envelope.timestamp.empty() ? now_text() : envelope.timestamp;
    auto* store = impl_->store_for_records();
    if (store != nullptr && store->record_security_event(event)) {
      spdlog::info("security event {} from {}{}", event.type, event.charge_point_id,
                   event.tech_info ? ": " + *event.tech_info : std::string());
    }
    return std::nullopt;
  }
  if (action != "SignCertificate") return std::nullopt;
  if (answered_with(outcome, "Rejected")) {
    std::string reason = "rejected";
    for (const auto& e : outcome.events) {
      if (e.type == "certificate.rejected") reason = e.fields.value("reason", reason);
    }
    const std::string at = envelope.timestamp.empty() ? now_text() : envelope.timestamp;
    if (auto* store = impl_->store_for_records()) {
      store->record_security_event(
          {0, envelope.device_id, "SignCertificateRejected", at, reason, "csms", envelope.unique_id, at});
    }
    return std::nullopt;
  }
  if (answered_with(outcome, "Accepted") && impl_->ca && envelope.payload.contains("csr")) {
    return envelope.payload["csr"].get<std::string>();
  }
  return std::nullopt;
}

void CertificateSigner::submit(std::string charge_point_id, std::string request_id, std::string csr,
                               std::string ocpp_version) {
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->started || impl_->stopping) return;
    impl_->jobs.push_back(
        {std::move(charge_point_id), std::move(request_id), std::move(csr), std::move(ocpp_version)});
  }
  impl_->wake.notify_one();
}

void CertificateSigner::start() {
  if (!impl_->ca) return;
  spdlog::info("certificate authority: signing chargers' CSRs with {} ({} days{})", impl_->ca->settings().cert_file,
               impl_->ca->settings().validity_days,
               impl_->ca->settings().organization.empty() ? "" : ", O=" + impl_->ca->settings().organization);
  impl_->commands.start();
  {
    std::lock_guard lock(impl_->mu);
    impl_->started = true;
  }
  impl_->loop_thread = std::thread([this] { impl_->loop(); });
}

void CertificateSigner::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->loop_thread.joinable()) impl_->loop_thread.join();
  impl_->commands.stop();
}

}  // namespace genx::worker
