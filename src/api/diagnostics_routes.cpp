// The diagnostics routes of the api (docs/diagnostics.md): an operator asks a charger for
// its diagnostics (GetDiagnostics) or a log (GetLog) with GenX as the upload location; the
// charger uploads to a one-time URL of this api (PUT, or POST as multipart/form-data);
// the operator lists and downloads the files. Runs on the api's one I/O thread, like the
// rest of ApiHandler. Files live under options_.diagnostics_dir, named by the request id
// only ("{id}.upload"): nothing a charger sends ever becomes part of a path.
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <spdlog/spdlog.h>

#include "api/api_server.hpp"
#include "api/command_client.hpp"
#include "api/multipart.hpp"
#include "auth/access.hpp"
#include "csms/diagnostics.hpp"
#include "messages/timestamp.hpp"
#include "util/url.hpp"

namespace genx::api {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Refused uploads (unknown or used token, broken body) one address may make per minute
// before it gets 429 for the rest of that minute: guessing a token is hopeless (256
// bits), this keeps a scanner from costing the database a lookup per request.
constexpr int kUploadFailuresPerMinute = 10;
constexpr std::int64_t kUploadWindowMs = 60'000;
// Multipart headers and boundaries on top of the file itself.
constexpr std::uint64_t kMultipartOverhead = 64 * 1024;
constexpr std::string_view kUploads = "/api/uploads/";

HttpResponse reply_json(int status, const json& body) { return HttpResponse{status, "application/json", body.dump()}; }
HttpResponse reply_error(int status, std::string_view message) { return reply_json(status, json{{"error", message}}); }

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::string now_text() { return messages::format_timestamp(now_ms()); }

std::optional<std::int64_t> to_id(std::string_view text) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 1) return std::nullopt;
  return v;
}

template <typename Fn>
HttpResponse guarded(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const TransientStoreError& e) {
    spdlog::warn("api: {}: database unavailable: {}", what, e.what());
    return reply_error(503, std::string("database unavailable: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("api: {} failed: {}", what, e.what());
    return reply_error(500, "internal error");
  }
}

// The token of an upload path /api/uploads/{token}[/{fileName}], and the file name.
struct UploadTarget {
  std::string token;
  std::string file_name;
};
std::optional<UploadTarget> upload_target(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path.substr(0, kUploads.size()) != kUploads) return std::nullopt;
  path.remove_prefix(kUploads.size());
  const auto slash = path.find('/');
  UploadTarget t;
  t.token = std::string(path.substr(0, slash));
  if (slash != std::string_view::npos) t.file_name = util::url_decode(path.substr(slash + 1));
  if (t.token.empty()) return std::nullopt;
  return t;
}

// A charger's file name made safe for a Content-Disposition header.
std::string download_name(const csms::DiagnosticsFile& f) {
  std::string out;
  for (char c : f.file_name.value_or("")) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '-' || c == '_';
    out += ok ? c : '_';
  }
  if (out.empty() || out.find_first_not_of('.') == std::string::npos) {
    out = f.charge_point_id + "-" + f.kind + "-" + std::to_string(f.id) + ".bin";
    for (auto& c : out) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '-' || c == '_';
      if (!ok) c = '_';
    }
  }
  return out;
}

// "{id}-{16 hex digits of the token's digest}.upload": two GenX installations sharing a
// directory by mistake do not overwrite each other's files.
std::string stored_name_for(std::int64_t id, const std::string& token_digest) {
  return std::to_string(id) + "-" + token_digest.substr(0, 16) + ".upload";
}

// Only names this api writes: digits, '-', hex + ".upload" (a row edited by hand names
// nothing else: no '/', no "..").
bool safe_stored_name(const std::string& name) {
  constexpr std::string_view kSuffix = ".upload";
  if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) return false;
  return name.find_first_not_of("0123456789abcdef-") == name.size() - kSuffix.size();
}

}  // namespace

void ApiHandler::enable_diagnostics(DiagnosticsStore& store) {
  diagnostics_store_ = &store;
  std::error_code ec;
  fs::create_directories(options_.diagnostics_dir, ec);
  if (ec) {
    throw std::runtime_error("GENX_DIAGNOSTICS_DIR " + options_.diagnostics_dir + ": cannot create: " + ec.message());
  }
}

std::uint64_t ApiHandler::upload_body_limit(std::string_view method, std::string_view target) const {
  if (diagnostics_store_ == nullptr || (method != "PUT" && method != "POST") || !upload_target(target)) return 0;
  return options_.diagnostics_max_bytes + kMultipartOverhead;
}

bool ApiHandler::upload_blocked(const std::string& remote) {
  auto it = upload_failures_.find(remote);
  if (it == upload_failures_.end()) return false;
  if (now_ms() - it->second.first >= kUploadWindowMs) {
    upload_failures_.erase(it);
    return false;
  }
  return it->second.second >= kUploadFailuresPerMinute;
}

bool ApiHandler::upload_refused(const std::string& remote) {
  if (upload_failures_.size() > 10000) upload_failures_.clear();  // bounded memory
  auto& [start, count] = upload_failures_[remote];
  const auto now = now_ms();
  if (now - start >= kUploadWindowMs) {
    start = now;
    count = 0;
  }
  return ++count > kUploadFailuresPerMinute;
}

void ApiHandler::request_diagnostics(const std::string& device_id, std::string_view body, std::string_view host,
                                     std::function<void(HttpResponse)> respond) {
  if (commands_ == nullptr || diagnostics_store_ == nullptr) {
    respond(reply_error(503, "diagnostics are not available in this process"));
    return;
  }
  json payload = json::object();
  if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    payload = json::parse(body, nullptr, false);
    if (payload.is_discarded()) {
      respond(reply_error(400, "body: not valid JSON"));
      return;
    }
  }
  auto parsed = csms::parse_diagnostics_request(payload);
  if (auto* problem = std::get_if<std::string>(&parsed)) {
    respond(reply_error(400, *problem));
    return;
  }
  auto request = std::get<csms::DiagnosticsRequest>(parsed);
  const bool kind_given = payload.contains("kind");
  std::string base = options_.public_api_url;
  if (base.empty()) {
    base = "http://" + (host.empty() ? "localhost:" + std::to_string(options_.port) : std::string(host));
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string token = auth::generate_token();
  const std::string upload_url = base + std::string(kUploads) + token;
  std::optional<csms::DiagnosticsFile> created;
  const HttpResponse refusal = guarded("diagnostics request", [&]() -> HttpResponse {
    const auto charger = store_.charger(device_id);
    if (!charger) return reply_error(404, "no charger " + device_id);
    // OCPP 2.0.1 has no GetDiagnostics: its diagnostics come through GetLog.
    if (is_ocpp201(*charger) && request.kind == csms::kDiagnosticsKind) {
      if (kind_given) {
        return reply_error(400, "kind: Diagnostics (GetDiagnostics) is OCPP 1.6; ask the 2.0.1 station " + device_id +
                                    " for DiagnosticsLog or SecurityLog");
      }
      request.kind = std::string(csms::kDiagnosticsLogKind);
    }
    created = diagnostics_store_->create_diagnostics(device_id, request.kind, auth::token_digest(token), now_text());
    return HttpResponse{0, "", ""};
  });
  if (refusal.status != 0) {
    respond(refusal);
    return;
  }
  const auto id = created->id;
  auto command = csms::diagnostics_command(request, id, upload_url);
  const std::string action = command.action;
  commands_->send(device_id, action, std::move(command.payload),
                  [this, id, action, upload_url, respond = std::move(respond)](CommandResult result) {
                    auto end = conclude_command(result);
                    respond(guarded("diagnostics request", [&]() -> HttpResponse {
                      auto before = diagnostics_store_->find_diagnostics(id);
                      if (!before) return reply_error(500, "diagnostics request " + std::to_string(id) + " vanished");
                      if (!end.answered) {
                        const std::string detail =
                            end.body.is_object() && end.body.contains("error") && end.body["error"].is_string()
                                ? end.body["error"].get<std::string>()
                                : action + " not answered";
                        auto failed = diagnostics_store_->set_diagnostics_status(id, "Failed", detail, std::nullopt,
                                                                                 now_text());
                        if (failed) publish_event(csms::diagnostics_event(*failed, before->status, "api"));
                        json out = end.body.is_object() ? end.body : json::object();
                        out["diagnostics"] = failed ? csms::diagnostics_json(*failed) : json(nullptr);
                        return reply_json(end.status, out);
                      }
                      const auto answer = csms::diagnostics_answer(action, end.body);
                      // A notification may have moved it already (Uploading before our answer was read).
                      const bool moved = before->status != "Requested";
                      auto stored = moved ? before
                                          : diagnostics_store_->set_diagnostics_status(
                                                id, answer.status,
                                                answer.status == "Rejected"
                                                    ? std::optional<std::string>("charger answered " + action +
                                                                                 " with Rejected")
                                                    : std::nullopt,
                                                answer.file_name, now_text());
                      if (!stored) return reply_error(500, "diagnostics request " + std::to_string(id) + " vanished");
                      if (!moved) publish_event(csms::diagnostics_event(*stored, before->status, "api"));
                      json out = csms::diagnostics_json(*stored);
                      out["uploadUrl"] = upload_url;
                      out["chargerAnswer"] = end.body;
                      if (answer.status == "Rejected") {
                        out["error"] = "charger " + stored->charge_point_id + " answered " + action + " with Rejected";
                        return reply_json(409, out);
                      }
                      return reply_json(200, out);
                    }));
                  });
}

std::optional<HttpResponse> ApiHandler::diagnostics_read_route(std::string_view path,
                                                               const std::map<std::string, std::string>& params) {
  constexpr std::string_view kList = "/api/diagnostics";
  constexpr std::string_view kCharger = "/api/chargers/";
  constexpr std::string_view kTail = "/diagnostics";
  std::optional<std::string> charger;
  if (path == kList || path == "/api/diagnostics/") {
    if (auto it = params.find("chargerId"); it != params.end() && !it->second.empty()) charger = it->second;
  } else if (path.size() > kList.size() + 1 && path.substr(0, kList.size() + 1) == "/api/diagnostics/") {
    if (diagnostics_store_ == nullptr) return reply_error(503, "diagnostics are not available in this process");
    std::string_view rest = path.substr(kList.size() + 1);
    constexpr std::string_view kFile = "/file";
    const bool file = rest.size() > kFile.size() && rest.substr(rest.size() - kFile.size()) == kFile;
    if (file) rest.remove_suffix(kFile.size());
    const auto id = to_id(rest);
    if (!id) return reply_error(400, "diagnostics id must be a positive integer");
    auto f = diagnostics_store_->find_diagnostics(*id);
    if (!f) return reply_error(404, "no diagnostics request " + std::to_string(*id));
    if (!file) return reply_json(200, csms::diagnostics_json(*f));
    if (!f->received_at || !f->stored_name) {
      return reply_error(404, "diagnostics request " + std::to_string(*id) + " has no file yet (status " + f->status + ")");
    }
    if (!safe_stored_name(*f->stored_name)) return reply_error(500, "stored file name refused");
    const fs::path file_path = fs::path(options_.diagnostics_dir) / *f->stored_name;
    std::ifstream in(file_path, std::ios::binary);
    if (!in) return reply_error(410, "the file of diagnostics request " + std::to_string(*id) + " is gone from " + options_.diagnostics_dir);
    HttpResponse response{200, "application/octet-stream",
                          std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())};
    response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + download_name(*f) + "\"");
    return response;
  } else if (path.size() > kCharger.size() + kTail.size() && path.substr(0, kCharger.size()) == kCharger &&
             path.substr(path.size() - kTail.size()) == kTail) {
    charger = util::url_decode(path.substr(kCharger.size(), path.size() - kCharger.size() - kTail.size()));
  } else {
    return std::nullopt;
  }
  if (diagnostics_store_ == nullptr) return reply_error(503, "diagnostics are not available in this process");
  int limit = 100;
  if (auto it = params.find("limit"); it != params.end()) {
    const auto v = to_id(it->second);
    if (!v || *v > 1000) return reply_error(400, "limit: expected 1..1000");
    limit = static_cast<int>(*v);
  }
  json out = json::array();
  for (const auto& f : diagnostics_store_->list_diagnostics(charger, limit)) out.push_back(csms::diagnostics_json(f));
  return reply_json(200, out);
}

HttpResponse ApiHandler::refuse_large_upload(std::string_view target, const std::string& remote) {
  ++requests_;
  const auto t = upload_target(target);
  if (!t || diagnostics_store_ == nullptr) return reply_error(404, "not an upload URL");
  if (upload_blocked(remote)) return reply_error(429, "too many refused uploads from this address; retry in a minute");
  return guarded("upload", [&]() -> HttpResponse {
    auto f = diagnostics_store_->find_diagnostics_by_token(auth::token_digest(t->token));
    if (!f) {
      upload_refused(remote);
      return reply_error(404, "unknown upload URL");
    }
    const std::string detail = "upload larger than the limit of " + std::to_string(options_.diagnostics_max_bytes) +
                               " bytes (GENX_DIAGNOSTICS_MAX_BYTES)";
    if (!f->received_at) {
      if (auto failed = diagnostics_store_->set_diagnostics_status(f->id, "UploadFailed", detail, std::nullopt, now_text())) {
        if (f->status != "UploadFailed") publish_event(csms::diagnostics_event(*failed, f->status, "upload"));
      }
    }
    spdlog::warn("api: upload for diagnostics request {} of {} refused: {}", f->id, f->charge_point_id, detail);
    return reply_error(413, detail);
  });
}

std::optional<HttpResponse> ApiHandler::handle_upload(std::string_view method, std::string_view target,
                                                      std::string_view content_type, std::string_view body,
                                                      const std::string& remote) {
  const auto t = upload_target(target);
  if (!t) return std::nullopt;
  ++requests_;
  if (method != "PUT" && method != "POST") return reply_error(405, "upload URLs accept PUT and POST");
  if (diagnostics_store_ == nullptr) return reply_error(503, "diagnostics are not available in this process");
  if (upload_blocked(remote)) return reply_error(429, "too many refused uploads from this address; retry in a minute");
  return guarded("upload", [&]() -> HttpResponse {
    const std::string digest = auth::token_digest(t->token);
    auto f = diagnostics_store_->find_diagnostics_by_token(digest);
    if (!f) {
      upload_refused(remote);
      return reply_error(404, "unknown upload URL");
    }
    auto fail = [&](int status, const std::string& detail) {
      spdlog::warn("api: upload for diagnostics request {} of {} refused: {}", f->id, f->charge_point_id, detail);
      if (!f->received_at) {
        if (auto failed = diagnostics_store_->set_diagnostics_status(f->id, "UploadFailed", detail, std::nullopt,
                                                                     now_text())) {
          if (f->status != "UploadFailed") publish_event(csms::diagnostics_event(*failed, f->status, "upload"));
        }
      }
      return reply_error(status, detail);
    };
    if (f->token_used || !diagnostics_store_->claim_upload(f->id, now_text())) {
      upload_refused(remote);
      return reply_error(409, "this upload URL was used already (one upload per URL; request new diagnostics)");
    }
    std::string_view bytes = body;
    std::string file_name = t->file_name;
    if (auto boundary = multipart_boundary(content_type)) {
      auto part = multipart_file(body, *boundary);
      if (auto* problem = std::get_if<std::string>(&part)) {
        upload_refused(remote);
        return fail(400, "upload body: " + *problem);
      }
      const auto& p = std::get<UploadedPart>(part);
      bytes = p.bytes;
      if (!p.file_name.empty()) file_name = p.file_name;
    }
    if (bytes.size() > options_.diagnostics_max_bytes) {
      return fail(413, "upload larger than the limit of " + std::to_string(options_.diagnostics_max_bytes) +
                           " bytes (GENX_DIAGNOSTICS_MAX_BYTES)");
    }
    const std::string stored = stored_name_for(f->id, digest);
    const fs::path dir(options_.diagnostics_dir);
    const fs::path temporary = dir / ("." + stored + ".part");
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      out.flush();
      if (!out) {
        std::error_code ignored;
        fs::remove(temporary, ignored);
        return fail(507, "the upload could not be stored under " + options_.diagnostics_dir);
      }
    }
    std::error_code ec;
    fs::rename(temporary, dir / stored, ec);
    if (ec) {
      fs::remove(temporary, ec);
      return fail(507, "the upload could not be stored under " + options_.diagnostics_dir);
    }
    DiagnosticsUpload upload;
    upload.file_name = file_name.substr(0, 255);
    upload.size = static_cast<std::int64_t>(bytes.size());
    upload.sha256 = auth::token_digest(bytes);
    upload.stored_name = stored;
    auto received = diagnostics_store_->record_upload(f->id, upload, now_text());
    if (!received) return reply_error(500, "diagnostics request vanished");
    spdlog::info("api: diagnostics request {} of {}: {} bytes received", f->id, f->charge_point_id, upload.size);
    if (f->status != received->status) publish_event(csms::diagnostics_event(*received, f->status, "upload"));
    return reply_json(201, json{{"id", received->id},
                                {"fileName", received->file_name ? json(*received->file_name) : json(nullptr)},
                                {"fileSize", upload.size},
                                {"sha256", upload.sha256}});
  });
}

void ApiHandler::prune_diagnostics() {
  if (diagnostics_store_ == nullptr || options_.diagnostics_retention_days <= 0) return;
  const auto cutoff =
      messages::format_timestamp(now_ms() - static_cast<std::int64_t>(options_.diagnostics_retention_days) * 86'400'000);
  try {
    for (;;) {
      const auto old = diagnostics_store_->diagnostics_created_before(cutoff, 500);
      for (const auto& f : old) {
        if (f.stored_name && safe_stored_name(*f.stored_name)) {
          std::error_code ec;
          fs::remove(fs::path(options_.diagnostics_dir) / *f.stored_name, ec);
          if (ec) spdlog::warn("api: diagnostics file {} not removed: {}", *f.stored_name, ec.message());
        }
        diagnostics_store_->delete_diagnostics(f.id);
      }
      if (!old.empty()) spdlog::info("api: {} diagnostics requests older than {} days removed", old.size(), options_.diagnostics_retention_days);
      if (old.size() < 500) break;
    }
  } catch (const std::exception& e) {
    spdlog::warn("api: diagnostics retention pass failed (next one later): {}", e.what());
  }
}

}  // namespace genx::api
