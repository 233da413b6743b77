#include "api/local_list_routes.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include <spdlog/spdlog.h>

#include "api/command_client.hpp"
#include "api/command_http.hpp"
#include "api/fleet_query.hpp"
#include "csms/commands.hpp"
#include "csms/commands_v201.hpp"
#include "messages/timestamp.hpp"
#include "util/url.hpp"

namespace genx::api {

using nlohmann::json;

namespace {

HttpResponse answer(int status, const json& body) { return HttpResponse{status, "application/json", body.dump()}; }
HttpResponse error(int status, const std::string& message) { return answer(status, json{{"error", message}}); }

std::string now_text() {
  return messages::format_timestamp(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::string online_since() {
  const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(
      (std::chrono::system_clock::now() - kOnlineWindow).time_since_epoch());
  return messages::format_timestamp(since.count());
}

json optional_json(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); }
json optional_json(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

json id_tag_json(const IdTagRecord& r) {
  json j = csms::local_list_entry_json(r.tag);
  j["localList"] = r.local_list;
  j["updatedAt"] = r.updated_at;
  return j;
}

// How a command that got no usable answer ends: the HTTP status, the error body and the
// short answer kept as lastAnswer (offline, timeout, CallError ..., ...).
struct Failure {
  int status;
  json body;
  std::string answer;
};

std::optional<Failure> failure_of(const CommandResult& r, std::chrono::milliseconds timeout) {
  const bool timed_out = r.timed_out || (r.reply && r.reply->outcome == messages::CommandOutcome::kTimeout);
  if (r.reply && !timed_out) {
    if (r.reply->outcome == messages::CommandOutcome::kResult) return std::nullopt;
    auto http = command_http(*r.reply);
    std::string short_answer(messages::to_string(r.reply->outcome));
    if (r.reply->outcome == messages::CommandOutcome::kCallError) short_answer = "CallError " + r.reply->error_code;
    return Failure{http.status, http.body, short_answer};
  }
  if (r.offline) {
    auto http = command_offline_http(r.request.device_id);
    return Failure{http.status, http.body, "offline"};
  }
  if (timed_out) {
    return Failure{504,
                   json{{"error", "charger " + r.request.device_id + " did not answer " + r.request.action + " within " +
                                      std::to_string(timeout.count()) + " ms"}},
                   "timeout"};
  }
  return Failure{503, json{{"error", "command not sent: " + r.broker_error}}, "brokerUnavailable"};
}

// The version a GetLocalListVersion answer reports: listVersion (1.6; -1 = no list
// support) or versionNumber (2.0.1; 0 = no list).
std::int64_t reported_version(const messages::CommandReply& reply) {
  if (auto it = reply.payload.find("versionNumber"); it != reply.payload.end() && it->is_number_integer()) {
    return it->get<std::int64_t>();
  }
  return reply.payload.value("listVersion", std::int64_t{0});
}

}  // namespace

struct LocalListService::Push {
  std::string charge_point_id;
  Done done;
  LocalListState state;
  std::vector<csms::LocalListEntry> wanted;
  std::vector<csms::LocalListSend> sends;
  std::size_t next = 0;
  bool retried_full = false;
  json sent = json::array();  // what went out and what the charger answered
};

LocalListService::LocalListService(CommandClient& commands, LocalListStore& store, Publish publish)
    : commands_(commands), store_(store), publish_(std::move(publish)) {}

json LocalListService::view(const LocalListState& s, const std::vector<csms::LocalListEntry>& list) const {
  const auto pending = csms::local_list_diff(s.held, list).size();
  std::string status = s.status;
  if (status == "InSync" && pending > 0) status = "OutOfDate";  // a tag changed outside the api (genx id-tags)
  return json{{"chargePointId", s.charge_point_id},
              {"ocppVersion", s.ocpp_version},
              {"status", status},
              {"inSync", status == "InSync"},
              {"sentVersion", optional_json(s.sent_version)},
              {"reportedVersion", optional_json(s.reported_version)},
              {"lastAnswer", optional_json(s.last_answer)},
              {"reportedAt", optional_json(s.reported_at)},
              {"pushedAt", optional_json(s.pushed_at)},
              {"updatedAt", optional_json(s.updated_at)},
              {"entries", s.held.size()},
              {"listEntries", list.size()},
              {"pendingChanges", pending},
              {"localAuthListMaxLength", optional_json(s.local_auth_list_max_length)},
              {"sendLocalListMaxLength", optional_json(s.send_local_list_max_length)}};
}

std::optional<json> LocalListService::view(const std::string& cp) {
  auto state = store_.local_list_state(cp);
  if (!state) return std::nullopt;
  return view(*state, store_.local_list());
}

void LocalListService::publish_status(const std::string& cp, std::string_view before) {
  auto state = store_.local_list_state(cp);
  if (!state || state->status == before) return;
  json fields{{"status", state->status},
              {"previousStatus", before},
              {"sentVersion", optional_json(state->sent_version)},
              {"reportedVersion", optional_json(state->reported_version)},
              {"lastAnswer", optional_json(state->last_answer)},
              {"eventId", "locallist/" + cp + "@" + state->updated_at.value_or("") + "/" + state->status}};
  publish_(messages::DomainEvent{"locallist.status.changed", cp, std::move(fields)});
}

void LocalListService::set_status(const std::string& cp, std::string_view status, std::string_view answer_text) {
  const auto before = store_.set_local_list_status(cp, status, answer_text, now_text());
  publish_status(cp, before);
}

bool LocalListService::handle(std::string_view method, std::string_view path,
                              const std::map<std::string, std::string>& params, std::string_view body,
                              Respond respond) {
  constexpr std::string_view kIdTags = "/api/id-tags";
  constexpr std::string_view kChargers = "/api/chargers/";
  constexpr std::string_view kList = "/local-list";
  const bool read = method == "GET" || method == "HEAD";
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  // Which route: the rest of the work runs under one store guard below.
  std::function<void()> work;
  if (path == kIdTags) {
    work = [&] {
      std::optional<bool> mark;
      if (auto it = params.find("localList"); it != params.end()) {
        if (it->second != "true" && it->second != "false") return respond(error(400, "localList: expected true or false"));
        mark = it->second == "true";
      }
      json out = json::array();
      for (const auto& r : store_.list_id_tags(mark)) out.push_back(id_tag_json(r));
      respond(answer(200, out));
    };
  } else if (path.starts_with("/api/id-tags/") && path.find('/', kIdTags.size() + 1) == std::string_view::npos) {
    const std::string tag = util::url_decode(path.substr(kIdTags.size() + 1));
    work = [&, tag] {
      if (method == "PUT") return respond(put_id_tag(tag, body));
      if (auto r = store_.find_id_tag(tag)) return respond(answer(200, id_tag_json(*r)));
      respond(error(404, "no id tag " + tag));
    };
  } else if (path == "/api/local-list") {
    work = [&] {
      const auto list = store_.local_list();
      json entries = json::array();
      for (const auto& e : list) entries.push_back(csms::local_list_entry_json(e));
      json chargers = json::array();
      for (const auto& cp : store_.local_list_chargers("")) {
        if (auto s = store_.local_list_state(cp)) chargers.push_back(view(*s, list));
      }
      respond(answer(200, json{{"entries", entries}, {"chargers", chargers}}));
    };
  } else if (path == "/api/local-list/push") {
    work = [&] {
      json options = json::object();
      if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) options = json::parse(body, nullptr, false);
      if (!options.is_object()) return respond(error(400, "body: expected a JSON object {\"outOfDateOnly\"?: bool}"));
      for (const auto& [key, value] : options.items()) {
        if (key != "outOfDateOnly") return respond(error(400, key + ": unknown field (expected outOfDateOnly)"));
        if (!value.is_boolean()) return respond(error(400, "outOfDateOnly: expected true or false"));
      }
      push_all(options.value("outOfDateOnly", false), respond);
    };
  } else if (path.starts_with(kChargers)) {
    std::string_view rest = path.substr(kChargers.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) return false;
    const std::string cp = util::url_decode(rest.substr(0, slash));
    const std::string_view tail = rest.substr(slash);
    if (tail == kList && read) {
      work = [&, cp] {
        if (auto v = view(cp)) return respond(answer(200, *v));
        respond(error(404, "no charger " + cp));
      };
    } else if (tail == "/local-list/push" && method == "POST") {
      work = [&, cp] {
        push(cp, [respond](int status, json out) { respond(answer(status, out)); });
      };
    } else if (tail == "/local-list/version" && method == "POST") {
      work = [&, cp] {
        ask_version(cp, [respond](int status, json out) { respond(answer(status, out)); });
      };
    } else {
      return false;
    }
  } else {
    return false;
  }
  try {
    work();
  } catch (const TransientStoreError& e) {
    spdlog::warn("api: local list: database unavailable: {}", e.what());
    respond(error(503, std::string("database unavailable: ") + e.what()));
  } catch (const std::exception& e) {
    spdlog::error("api: local list {} {} failed: {}", method, path, e.what());
    respond(error(500, "internal error"));
  }
  return true;
}

HttpResponse LocalListService::put_id_tag(std::string_view id_tag, std::string_view body) {
  const json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) return error(400, "body: not valid JSON");
  auto update = csms::parse_id_tag_update(id_tag, parsed);
  if (auto* problem = std::get_if<std::string>(&update)) return error(400, *problem);
  const auto& u = std::get<csms::IdTagUpdate>(update);
  const auto before = store_.find_id_tag(id_tag);
  IdTagRecord record;
  record.tag = u.tag;
  record.local_list = u.local_list.value_or(before ? before->local_list : false);
  const auto now = now_text();
  store_.put_id_tag(record, now);
  // The list changed when the tag is in it now or was before with other information.
  const bool was = before && before->local_list;
  const bool changed = (was != record.local_list) || (record.local_list && !(before && before->tag == record.tag));
  if (changed) {
    for (const auto& cp : store_.mark_local_lists_out_of_date(now)) {
      spdlog::info("api: local list of {} out of date (id tag {} changed)", cp, record.tag.id_tag);
      publish_status(cp, "InSync");
    }
  }
  auto stored = store_.find_id_tag(id_tag);
  return answer(before ? 200 : 201, id_tag_json(stored ? *stored : record));
}

void LocalListService::ask_version(const std::string& cp, Done done) {
  auto state = store_.local_list_state(cp);
  if (!state) return done(404, json{{"error", "no charger " + cp}});
  commands_.send(cp, "GetLocalListVersion", json::object(), [this, cp, done](CommandResult result) {
    try {
      if (auto f = failure_of(result, commands_.timeout())) {
        store_.set_local_list_status(cp, store_.local_list_state(cp).value_or(LocalListState{}).status, f->answer,
                                     now_text());
        json body = f->body;
        body["localList"] = view(cp).value_or(json(nullptr));
        return done(f->status, body);
      }
      const auto version = reported_version(*result.reply);
      const auto before = store_.local_list_state(cp).value_or(LocalListState{}).status;
      store_.record_reported_version(cp, version, now_text());
      auto state = store_.local_list_state(cp);
      if (state && state->status == "Unknown" && !store_.local_list().empty()) {
        store_.set_local_list_status(cp, "OutOfDate", "", now_text());
      }
      publish_status(cp, before);
      done(200, json{{"listVersion", version}, {"localList", view(cp).value_or(json(nullptr))}});
    } catch (const std::exception& e) {
      spdlog::error("api: GetLocalListVersion of {} answered but not recorded: {}", cp, e.what());
      done(503, json{{"error", std::string("database unavailable: ") + e.what()}});
    }
  });
}

void LocalListService::push(const std::string& cp, Done done) {
  auto state = store_.local_list_state(cp);
  if (!state) return done(404, json{{"error", "no charger " + cp}});
  if (running_.contains(cp)) {
    return done(409, json{{"error", "a local list push to " + cp + " is already under way"},
                          {"localList", view(*state, store_.local_list())}});
  }
  running_.insert(cp);
  auto p = std::make_shared<Push>();
  p->charge_point_id = cp;
  p->done = std::move(done);
  // Reconcile first: the plan depends on the version the charger holds now.
  commands_.send(cp, "GetLocalListVersion", json::object(), [this, p](CommandResult result) {
    try {
      if (auto f = failure_of(result, commands_.timeout())) {
        const auto current = store_.local_list_state(p->charge_point_id).value_or(LocalListState{}).status;
        return finish(p, f->status, current, f->answer, f->body);
      }
      const auto version = reported_version(*result.reply);
      store_.record_reported_version(p->charge_point_id, version, now_text());
      if (version < 0) {
        return finish(p, 409, "Failed", "NotSupported",
                      json{{"error", "charger " + p->charge_point_id +
                                         " reports listVersion -1: it does not support a local authorization list"}});
      }
      plan_and_send(p, version, false);
    } catch (const std::exception& e) {
      finish(p, 503, "", "", json{{"error", std::string("database unavailable: ") + e.what()}});
    }
  });
}

void LocalListService::plan_and_send(std::shared_ptr<Push> p, std::int64_t reported, bool force_full) {
  auto state = store_.local_list_state(p->charge_point_id);
  if (!state) return finish(p, 404, "", "", json{{"error", "no charger " + p->charge_point_id}});
  p->state = *state;
  p->wanted = store_.local_list();
  if (auto problem = csms::local_list_too_long(p->wanted.size(), state->local_auth_list_max_length)) {
    return finish(p, 409, "Failed", "TooLong", json{{"error", *problem}});
  }
  const bool differential = !force_full && state->sent_version && reported == *state->sent_version;
  const std::int64_t base = std::max<std::int64_t>({reported, state->sent_version.value_or(0), 0});
  p->sends = csms::plan_local_list(p->wanted, state->held, differential, base, state->send_local_list_max_length);
  p->next = 0;
  if (p->sends.empty()) return finish(p, 200, "InSync", "", json::object());  // nothing changed
  send_next(p);
}

void LocalListService::send_next(std::shared_ptr<Push> p) {
  if (p->next >= p->sends.size()) {
    // Every send accepted: in sync unless the list changed meanwhile.
    const bool same = store_.local_list() == p->wanted;
    return finish(p, 200, same ? "InSync" : "OutOfDate", "Accepted", json::object());
  }
  const auto& send = p->sends[p->next];
  const bool v201 = p->state.ocpp_version == "2.0.1";
  json payload = v201 ? csms::send_local_list_payload_v201(send) : csms::send_local_list_payload(send);
  if (auto problem = csms::check_command_for(v201, "SendLocalList", payload)) {  // never expected: a defect
    spdlog::error("api: SendLocalList for {} is not valid: {}", p->charge_point_id, *problem);
    return finish(p, 500, "Failed", "InvalidRequest", json{{"error", "internal error: " + *problem}});
  }
  commands_.send(p->charge_point_id, "SendLocalList", std::move(payload), [this, p](CommandResult result) {
    try {
      const auto& send = p->sends[p->next];
      if (auto f = failure_of(result, commands_.timeout())) {
        p->sent.push_back(json{{"updateType", send.update_type}, {"listVersion", send.version},
                               {"entries", send.changes.size()}, {"status", f->answer}});
        return finish(p, f->status, "Failed", f->answer, f->body);
      }
      const std::string status = result.reply->payload.value("status", "");
      p->sent.push_back(json{{"updateType", send.update_type}, {"listVersion", send.version},
                             {"entries", send.changes.size()}, {"status", status}});
      if (status == "Accepted") {
        p->state.held = csms::apply_local_list_send(std::move(p->state.held), send);
        store_.record_list_sent(p->charge_point_id, send.version, p->state.held, now_text());
        ++p->next;
        return send_next(p);
      }
      if (status == "VersionMismatch" && send.update_type == "Differential" && !p->retried_full) {
        spdlog::info("api: {} answered VersionMismatch to local list version {}; sending it in full",
                     p->charge_point_id, send.version);
        p->retried_full = true;
        return plan_and_send(p, send.version, true);
      }
      finish(p, 409, "Failed", status,
             json{{"error", "charger " + p->charge_point_id + " answered SendLocalList with " + status}});
    } catch (const std::exception& e) {
      finish(p, 503, "", "", json{{"error", std::string("database unavailable: ") + e.what()}});
    }
  });
}

void LocalListService::finish(const std::shared_ptr<Push>& p, int status, std::string_view new_status,
                              std::string_view answer_text, json body) {
  running_.erase(p->charge_point_id);
  try {
    if (!new_status.empty()) set_status(p->charge_point_id, new_status, answer_text);
    body["sends"] = p->sent;
    body["localList"] = view(p->charge_point_id).value_or(json(nullptr));
  } catch (const std::exception& e) {
    spdlog::error("api: local list push to {} ended but not recorded: {}", p->charge_point_id, e.what());
    status = 503;
    body["error"] = std::string("database unavailable: ") + e.what();
  }
  spdlog::info("api: local list push to {} -> {} ({} sends, {})", p->charge_point_id, status, p->sent.size(),
               new_status);
  p->done(status, std::move(body));
}

void LocalListService::push_all(bool out_of_date_only, Respond respond) {
  std::vector<std::string> targets;
  const auto list = store_.local_list();
  for (const auto& cp : store_.local_list_chargers(online_since())) {
    if (out_of_date_only) {
      auto s = store_.local_list_state(cp);
      if (s && view(*s, list).value("status", "") == "InSync") continue;
    }
    targets.push_back(cp);
  }
  struct All {
    std::map<std::string, json> results;
    std::size_t waiting = 0;
    Respond respond;
  };
  auto all = std::make_shared<All>();
  all->waiting = targets.size();
  all->respond = std::move(respond);
  auto reply = [all] {
    json results = json::array();
    std::size_t in_sync = 0;
    for (auto& [cp, r] : all->results) {
      if (r["httpStatus"] == 200) ++in_sync;
      results.push_back(std::move(r));
    }
    all->respond(answer(200, json{{"chargers", results.size()}, {"inSync", in_sync}, {"results", results}}));
  };
  if (targets.empty()) return reply();
  for (const auto& cp : targets) {
    push(cp, [all, cp, reply](int status, json body) {
      json r{{"chargePointId", cp}, {"httpStatus", status}};
      if (body.contains("error")) r["error"] = body["error"];
      r["sends"] = body.value("sends", json::array());
      r["localList"] = body.value("localList", json(nullptr));
      all->results[cp] = std::move(r);
      if (--all->waiting == 0) reply();
    });
  }
}

void LocalListService::check_versions() {
  std::vector<std::string> due;
  try {
    due = store_.claim_version_checks(online_since(), now_text(), 20);
  } catch (const std::exception& e) {
    spdlog::warn("api: local list version check skipped (next in a few seconds): {}", e.what());
    return;
  }
  for (const auto& cp : due) {
    if (running_.contains(cp)) continue;
    spdlog::info("api: asking {} its local list version (booted since last asked)", cp);
    ask_version(cp, [cp](int status, const json& body) {
      if (status != 200) spdlog::info("api: local list version of {} not learnt: {}", cp, body.value("error", ""));
    });
  }
}

}  // namespace genx::api
