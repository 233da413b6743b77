// Firmware state, history and campaigns (store/firmware_sql.hpp). The SQL here runs as is
// on SQLite and PostgreSQL: $n placeholders, integers 0/1 for flags, no dialect functions.
#include "store/firmware_sql.hpp"

#include <algorithm>

#include "csms/envelope.hpp"

namespace genx::store {
namespace {

using nlohmann::json;
using csms::FirmwareRefusal;

json text_json(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
std::int64_t to_int(const std::optional<std::string>& v) { return v ? std::stoll(*v) : 0; }
json int_json(const std::optional<std::string>& v) { return v ? json(std::stoll(*v)) : json(nullptr); }
std::optional<std::int64_t> opt_int(const std::optional<std::string>& v) {
  return v ? std::optional<std::int64_t>(std::stoll(*v)) : std::nullopt;
}

// The statuses counted against maxConcurrent (csms::firmware_target_in_progress).
#define GENX_FW_IN_PROGRESS "('Sent', 'Downloading', 'Downloaded', 'Installing')"
#define GENX_FW_FAILED "('DownloadFailed', 'InstallationFailed', 'Rejected', 'Offline', 'Timeout')"
#define GENX_FW_CAMPAIGN_COLUMNS                                                                             \
  "id, name, location, retrieve_date, retries, retry_interval, signed, install_date, max_concurrent, "   \
  "timeout_s, model, status, created_at, updated_at"

json campaign_row_json(const SqlRow& r) {
  return json{{"id", to_int(r[0])},
              {"name", text_json(r[1])},
              {"location", text_json(r[2])},
              {"retrieveDate", text_json(r[3])},
              {"retries", int_json(r[4])},
              {"retryInterval", int_json(r[5])},
              {"signed", to_int(r[6]) != 0},
              {"installDate", text_json(r[7])},
              {"maxConcurrent", to_int(r[8])},
              {"timeoutSeconds", to_int(r[9])},
              {"model", text_json(r[10])},
              {"status", text_json(r[11])},
              {"createdAt", text_json(r[12])},
              {"updatedAt", text_json(r[13])}};
}

json counts(SqlTx& tx, std::int64_t id) {
  json out = json::object();
  for (const char* s : {"Pending", "Sent", "Downloading", "Downloaded", "Installing", "Installed", "DownloadFailed",
                        "InstallationFailed", "Rejected", "Offline", "Timeout", "Cancelled"}) {
    out[s] = 0;
  }
  for (const auto& r : tx.exec("SELECT status, count(*) FROM firmware_campaign_targets WHERE campaign_id = $1 "
                               "GROUP BY status",
                               {id})) {
    out[r[0].value_or("?")] = to_int(r[1]);
  }
  return out;
}

// The campaign without its targets, with counts, total and inProgress; null when none.
json campaign_summary(SqlTx& tx, std::int64_t id) {
  auto rows = tx.exec("SELECT " GENX_FW_CAMPAIGN_COLUMNS " FROM firmware_campaigns WHERE id = $1", {id});
  if (rows.empty()) return nullptr;
  json c = campaign_row_json(rows[0]);
  c["counts"] = counts(tx, id);
  std::int64_t total = 0, in_progress = 0;
  for (const auto& [status, n] : c["counts"].items()) {
    total += n.get<std::int64_t>();
    if (csms::firmware_target_in_progress(status)) in_progress += n.get<std::int64_t>();
  }
  c["total"] = total;
  c["inProgress"] = in_progress;
  return c;
}

json campaign_document(SqlTx& tx, std::int64_t id) {
  json c = campaign_summary(tx, id);
  if (c.is_null()) return c;
  json targets = json::array();
  for (const auto& r : tx.exec("SELECT id, charge_point_id, status, charger_status, detail, attempts, sent_at, "
                               "status_at, firmware_version, updated_at FROM firmware_campaign_targets "
                               "WHERE campaign_id = $1 ORDER BY id",
                               {id})) {
    targets.push_back(json{{"requestId", to_int(r[0])},
                           {"chargePointId", text_json(r[1])},
                           {"status", text_json(r[2])},
                           {"chargerStatus", text_json(r[3])},
                           {"detail", text_json(r[4])},
                           {"attempts", to_int(r[5])},
                           {"sentAt", text_json(r[6])},
                           {"statusAt", text_json(r[7])},
                           {"firmwareVersion", text_json(r[8])},
                           {"updatedAt", text_json(r[9])}});
  }
  c["targets"] = std::move(targets);
  return c;
}

// A Running campaign with nothing Pending or in progress is Completed; true when it was.
bool complete_when_done(SqlTx& tx, std::int64_t id, std::string_view now) {
  return !tx.exec("UPDATE firmware_campaigns SET status = 'Completed', updated_at = $2 WHERE id = $1 "
                  "AND status = 'Running' AND NOT EXISTS (SELECT 1 FROM firmware_campaign_targets t "
                  "WHERE t.campaign_id = $1 AND (t.status = 'Pending' OR t.status IN " GENX_FW_IN_PROGRESS
                  ")) RETURNING id",
                  {id, std::string(now)})
              .empty();
}

void touch_campaign(SqlTx& tx, std::int64_t id, std::string_view now) {
  tx.exec("UPDATE firmware_campaigns SET updated_at = $2 WHERE id = $1", {id, std::string(now)});
}

void store_request(SqlTx& tx, std::string_view cp, const csms::FirmwareRequest& r, std::string_view now) {
  const std::string id(cp);
  tx.exec("INSERT INTO firmware_state (charge_point_id, updated_at) VALUES ($1, $2) "
          "ON CONFLICT (charge_point_id) DO NOTHING",
          {id, std::string(now)});
  tx.exec("UPDATE firmware_state SET request_action = $2, request_id = $3, location = $4, retrieve_date = $5, "
          "request_answer = $6, requested_at = $7, campaign_id = $8, installed_version = NULL, installed_at = NULL, "
          "version_before = (SELECT firmware_version FROM chargers WHERE charge_point_id = $1), updated_at = $7 "
          "WHERE charge_point_id = $1",
          {id, r.action, sql_int(r.request_id), r.location, sql_text(r.retrieve_date), r.answer, std::string(now),
           sql_int(r.campaign_id)});
  tx.exec("INSERT INTO firmware_history (charge_point_id, kind, action, status, request_id, campaign_id, at) "
          "VALUES ($1, 'request', $2, $3, $4, $5, $6)",
          {id, r.action, r.answer, sql_int(r.request_id), sql_int(r.campaign_id), std::string(now)});
}

class Unit final : public csms::FirmwareUnit {
 public:
  explicit Unit(SqlTx& tx) : tx_(tx) {}

  csms::FirmwareStatusRecorded record_firmware_status(std::string_view charge_point_id, std::string_view action,
                                                      std::string_view status, std::optional<std::int64_t> request_id,
                                                      std::string_view at) override {
    const std::string cp(charge_point_id), st(status), when(at);
    csms::FirmwareStatusRecorded out;
    tx_.exec("INSERT INTO firmware_history (charge_point_id, kind, action, status, request_id, at) "
             "VALUES ($1, 'status', $2, $3, $4, $5)",
             {cp, std::string(action), st, sql_int(request_id), when});
    auto state = tx_.exec("SELECT status, status_at FROM firmware_state WHERE charge_point_id = $1", {cp});
    if (state.empty()) {
      tx_.exec("INSERT INTO firmware_state (charge_point_id, status, status_at, updated_at) VALUES ($1, $2, $3, $3)",
               {cp, st, when});
      out.applied = true;
    } else {
      out.previous_status = state[0][0];
      if (!state[0][1] || *state[0][1] <= when) {
        tx_.exec("UPDATE firmware_state SET status = $2, status_at = $3, updated_at = $3 WHERE charge_point_id = $1",
                 {cp, st, when});
        out.applied = true;
      }
    }
    // The campaign target this status is about: the one with the requestId when given,
    // else the charger's latest one in progress (or timed out: it is evidently at work).
    std::vector<SqlRow> target;
    if (request_id) {
      target = tx_.exec("SELECT id, campaign_id, status, status_at FROM firmware_campaign_targets "
                        "WHERE id = $1 AND charge_point_id = $2",
                        {*request_id, cp});
    }
    if (target.empty()) {
      target = tx_.exec("SELECT id, campaign_id, status, status_at FROM firmware_campaign_targets "
                        "WHERE charge_point_id = $1 AND (status IN " GENX_FW_IN_PROGRESS " OR status = 'Timeout') "
                        "AND sent_at <= $2 ORDER BY sent_at DESC, id DESC LIMIT 1",
                        {cp, when});
    }
    if (target.empty()) return out;
    const auto target_id = to_int(target[0][0]);
    const auto campaign_id = to_int(target[0][1]);
    const auto step = csms::firmware_target_step(status);
    const bool newer = !target[0][3] || *target[0][3] <= when;
    const bool open = csms::firmware_target_in_progress(target[0][2].value_or("")) || target[0][2] == "Timeout";
    if (!step || !newer || !open) {
      tx_.exec("UPDATE firmware_campaign_targets SET charger_status = $2 WHERE id = $1 AND ($3 = 1)",
               {target_id, st, std::int64_t{newer ? 1 : 0}});
      return out;
    }
    const bool failed = csms::firmware_target_failed(*step);
    tx_.exec("UPDATE firmware_campaign_targets SET status = $2, charger_status = $3, status_at = $4, updated_at = $4, "
             "detail = $5 WHERE id = $1",
             {target_id, *step, st, when,
              failed ? SqlValue("the charger reported " + st) : SqlValue(nullptr)});
    complete_when_done(tx_, campaign_id, when);
    touch_campaign(tx_, campaign_id, when);
    out.campaign_id = campaign_id;
    out.previous_target_status = target[0][2];
    out.target_status = *step;
    out.campaign = campaign_summary(tx_, campaign_id);
    return out;
  }

  std::optional<csms::FirmwareBootRecorded> record_firmware_boot(std::string_view charge_point_id,
                                                                 std::string_view firmware_version,
                                                                 std::string_view at) override {
    const std::string cp(charge_point_id), version(firmware_version), when(at);
    auto state = tx_.exec("SELECT status FROM firmware_state WHERE charge_point_id = $1 AND installed_at IS NULL "
                          "AND status IN ('Installing', 'InstallRebooting', 'Installed')",
                          {cp});
    if (state.empty()) return std::nullopt;
    tx_.exec("UPDATE firmware_state SET installed_version = $2, installed_at = $3, updated_at = $3 "
             "WHERE charge_point_id = $1",
             {cp, version, when});
    tx_.exec("INSERT INTO firmware_history (charge_point_id, kind, action, status, at) "
             "VALUES ($1, 'boot', 'BootNotification', $2, $3)",
             {cp, version, when});
    csms::FirmwareBootRecorded out;
    out.status = state[0][0].value_or("");
    out.firmware_version = version;
    auto target = tx_.exec("SELECT id, campaign_id, status FROM firmware_campaign_targets WHERE charge_point_id = $1 "
                           "AND status IN ('Installing', 'Installed') AND firmware_version IS NULL "
                           "ORDER BY sent_at DESC, id DESC LIMIT 1",
                           {cp});
    if (!target.empty()) {
      const auto campaign_id = to_int(target[0][1]);
      tx_.exec("UPDATE firmware_campaign_targets SET firmware_version = $2, updated_at = $3 WHERE id = $1",
               {to_int(target[0][0]), version, when});
      touch_campaign(tx_, campaign_id, when);
      out.campaign_id = campaign_id;
      out.target_status = target[0][2].value_or("");
      out.campaign = campaign_summary(tx_, campaign_id);
    }
    return out;
  }

 private:
  SqlTx& tx_;
};

class Store final : public csms::FirmwareStore {
 public:
  explicit Store(SqlRunner runner) : run_(std::move(runner)) {}

  void record_firmware_request(std::string_view charge_point_id, const csms::FirmwareRequest& request,
                               std::string_view now) override {
    run_(true, [&](SqlTx& tx) { store_request(tx, charge_point_id, request, now); });
  }

  std::optional<json> firmware_document(std::string_view charge_point_id, int history_limit) override {
    std::optional<json> out;
    run_(false, [&](SqlTx& tx) {
      const std::string cp(charge_point_id);
      auto charger = tx.exec("SELECT firmware_version, model, vendor FROM chargers WHERE charge_point_id = $1", {cp});
      auto state = tx.exec("SELECT status, status_at, request_action, request_id, location, retrieve_date, "
                           "request_answer, requested_at, campaign_id, version_before, installed_version, "
                           "installed_at FROM firmware_state WHERE charge_point_id = $1",
                           {cp});
      if (charger.empty() && state.empty()) return;
      json doc = {{"chargePointId", cp},
                  {"firmwareVersion", charger.empty() ? json(nullptr) : text_json(charger[0][0])},
                  {"model", charger.empty() ? json(nullptr) : text_json(charger[0][1])},
                  {"vendor", charger.empty() ? json(nullptr) : text_json(charger[0][2])},
                  {"status", nullptr},
                  {"statusAt", nullptr},
                  {"request", nullptr},
                  {"installedVersion", nullptr},
                  {"installedAt", nullptr},
                  {"campaign", nullptr}};
      if (!state.empty()) {
        const auto& s = state[0];
        doc["status"] = text_json(s[0]);
        doc["statusAt"] = text_json(s[1]);
        if (s[2]) {
          doc["request"] = {{"action", text_json(s[2])},     {"requestId", int_json(s[3])},
                            {"location", text_json(s[4])},   {"retrieveDate", text_json(s[5])},
                            {"answer", text_json(s[6])},     {"requestedAt", text_json(s[7])},
                            {"campaignId", int_json(s[8])},  {"versionBefore", text_json(s[9])}};
        }
        doc["installedVersion"] = text_json(s[10]);
        doc["installedAt"] = text_json(s[11]);
      }
      auto target = tx.exec("SELECT t.campaign_id, c.name, t.status, t.firmware_version FROM "
                            "firmware_campaign_targets t JOIN firmware_campaigns c ON c.id = t.campaign_id "
                            "WHERE t.charge_point_id = $1 ORDER BY t.id DESC LIMIT 1",
                            {cp});
      if (!target.empty()) {
        doc["campaign"] = {{"id", to_int(target[0][0])},
                           {"name", text_json(target[0][1])},
                           {"targetStatus", text_json(target[0][2])},
                           {"firmwareVersion", text_json(target[0][3])}};
      }
      json history = json::array();
      for (const auto& r : tx.exec("SELECT id, kind, action, status, request_id, campaign_id, at FROM "
                                   "firmware_history WHERE charge_point_id = $1 ORDER BY id DESC LIMIT $2",
                                   {cp, std::int64_t{std::clamp(history_limit, 1, 1000)}})) {
        history.push_back({{"id", to_int(r[0])},
                           {"kind", text_json(r[1])},
                           {"action", text_json(r[2])},
                           {"status", text_json(r[3])},
                           {"requestId", int_json(r[4])},
                           {"campaignId", int_json(r[5])},
                           {"at", text_json(r[6])}});
      }
      doc["history"] = std::move(history);
      out = std::move(doc);
    });
    return out;
  }

  std::variant<json, FirmwareRefusal> create_campaign(const csms::FirmwareCampaignRequest& r,
                                                      std::string_view now) override {
    std::variant<json, FirmwareRefusal> out = json();
    run_(true, [&](SqlTx& tx) {
      std::vector<std::string> targets;
      if (r.model) {
        for (const auto& row : tx.exec("SELECT charge_point_id FROM chargers WHERE model = $1 ORDER BY charge_point_id",
                                       {*r.model})) {
          targets.push_back(row[0].value_or(""));
        }
        if (targets.empty()) {
          out = FirmwareRefusal{400, "model: no charger of model " + *r.model + " has booted"};
          return;
        }
      } else {
        std::string unknown;
        for (const auto& id : r.charge_point_ids) {
          if (tx.exec("SELECT 1 FROM chargers WHERE charge_point_id = $1", {id}).empty()) {
            unknown += (unknown.empty() ? "" : ", ") + id;
          }
          targets.push_back(id);
        }
        if (!unknown.empty()) {
          out = FirmwareRefusal{400, "chargePointIds: unknown charger(s) " + unknown};
          return;
        }
      }
      for (const auto& id : targets) {
        auto busy = tx.exec("SELECT t.campaign_id, t.status FROM firmware_campaign_targets t JOIN firmware_campaigns c "
                            "ON c.id = t.campaign_id WHERE t.charge_point_id = $1 AND c.status = 'Running' AND "
                            "(t.status = 'Pending' OR t.status IN " GENX_FW_IN_PROGRESS ")",
                            {id});
        if (!busy.empty()) {
          out = FirmwareRefusal{409, "charger " + id + " is already " + busy[0][1].value_or("?") + " in campaign " +
                                         busy[0][0].value_or("?")};
          return;
        }
      }
      const std::string at(now);
      auto inserted = tx.exec(
          "INSERT INTO firmware_campaigns (name, location, retrieve_date, retries, retry_interval, signed, "
          "signing_certificate, signature, install_date, max_concurrent, timeout_s, model, status, created_at, "
          "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'Running', $13, $13) RETURNING id",
          {r.name, r.location, sql_text(r.retrieve_date), sql_int(r.retries), sql_int(r.retry_interval),
           std::int64_t{r.is_signed ? 1 : 0}, sql_text(r.signing_certificate), sql_text(r.signature),
           sql_text(r.install_date), r.max_concurrent, r.timeout_s, sql_text(r.model), at});
      const auto id = to_int(inserted[0][0]);
      for (const auto& cp : targets) {
        tx.exec("INSERT INTO firmware_campaign_targets (campaign_id, charge_point_id, status, updated_at) "
                "VALUES ($1, $2, 'Pending', $3)",
                {id, cp, at});
      }
      out = campaign_document(tx, id);
    });
    return out;
  }

  json list_campaigns(int limit) override {
    json out = json::array();
    run_(false, [&](SqlTx& tx) {
      out = json::array();
      for (const auto& r : tx.exec("SELECT id FROM firmware_campaigns ORDER BY id DESC LIMIT $1",
                                   {std::int64_t{std::clamp(limit, 1, 1000)}})) {
        out.push_back(campaign_summary(tx, to_int(r[0])));
      }
    });
    return out;
  }

  std::optional<json> campaign(std::int64_t id) override {
    std::optional<json> out;
    run_(false, [&](SqlTx& tx) {
      auto c = campaign_document(tx, id);
      out = c.is_null() ? std::nullopt : std::optional<json>(std::move(c));
    });
    return out;
  }

  std::variant<json, FirmwareRefusal> retry_campaign(std::int64_t id, const std::vector<std::string>& only,
                                                     std::string_view now) override {
    std::variant<json, FirmwareRefusal> out = json();
    run_(true, [&](SqlTx& tx) {
      auto c = tx.exec("SELECT status FROM firmware_campaigns WHERE id = $1", {id});
      if (c.empty()) {
        out = FirmwareRefusal{404, "no firmware campaign " + std::to_string(id)};
        return;
      }
      if (c[0][0] == "Cancelled") {
        out = FirmwareRefusal{409, "firmware campaign " + std::to_string(id) + " is Cancelled"};
        return;
      }
      const std::string at(now);
      std::int64_t reset = 0;
      if (only.empty()) {
        reset = static_cast<std::int64_t>(
            tx.exec("UPDATE firmware_campaign_targets SET status = 'Pending', detail = NULL, updated_at = $2 "
                    "WHERE campaign_id = $1 AND status IN " GENX_FW_FAILED " RETURNING id",
                    {id, at})
                .size());
      } else {
        for (const auto& cp : only) {
          auto t = tx.exec("SELECT status FROM firmware_campaign_targets WHERE campaign_id = $1 AND charge_point_id = $2",
                           {id, cp});
          if (t.empty()) {
            out = FirmwareRefusal{400, "chargePointIds: " + cp + " is not in campaign " + std::to_string(id)};
            return;
          }
          if (!csms::firmware_target_failed(t[0][0].value_or(""))) {
            out = FirmwareRefusal{409, "chargePointIds: " + cp + " is " + t[0][0].value_or("?") +
                                           "; only a failed target is retried"};
            return;
          }
          tx.exec("UPDATE firmware_campaign_targets SET status = 'Pending', detail = NULL, updated_at = $3 "
                  "WHERE campaign_id = $1 AND charge_point_id = $2",
                  {id, cp, at});
          ++reset;
        }
      }
      if (reset == 0) {
        out = FirmwareRefusal{409, "firmware campaign " + std::to_string(id) + " has no failed target to retry"};
        return;
      }
      tx.exec("UPDATE firmware_campaigns SET status = 'Running', updated_at = $2 WHERE id = $1", {id, at});
      json doc = campaign_document(tx, id);
      doc["retried"] = reset;
      out = std::move(doc);
    });
    return out;
  }

  std::variant<json, FirmwareRefusal> cancel_campaign(std::int64_t id, std::string_view now) override {
    std::variant<json, FirmwareRefusal> out = json();
    run_(true, [&](SqlTx& tx) {
      auto c = tx.exec("SELECT status FROM firmware_campaigns WHERE id = $1", {id});
      if (c.empty()) {
        out = FirmwareRefusal{404, "no firmware campaign " + std::to_string(id)};
        return;
      }
      if (c[0][0] == "Cancelled") {
        out = FirmwareRefusal{409, "firmware campaign " + std::to_string(id) + " is already Cancelled"};
        return;
      }
      const std::string at(now);
      tx.exec("UPDATE firmware_campaign_targets SET status = 'Cancelled', updated_at = $2 "
              "WHERE campaign_id = $1 AND status = 'Pending'",
              {id, at});
      tx.exec("UPDATE firmware_campaigns SET status = 'Cancelled', updated_at = $2 WHERE id = $1", {id, at});
      out = campaign_document(tx, id);
    });
    return out;
  }

  std::vector<csms::FirmwareSend> claim_firmware_sends(std::int64_t now_ms, std::string_view now,
                                                       std::vector<std::int64_t>& changed) override {
    std::vector<csms::FirmwareSend> sends;
    run_(true, [&](SqlTx& tx) {
      sends.clear();
      changed.clear();
      const std::string at(now);
      for (const auto& c : tx.exec("SELECT id, max_concurrent, timeout_s, location, retrieve_date, retries, "
                                   "retry_interval, signed, signing_certificate, signature, install_date "
                                   "FROM firmware_campaigns WHERE status = 'Running' ORDER BY id",
                                   {})) {
        const auto id = to_int(c[0]);
        bool touched = false;
        const auto overdue = tx.exec(
            "UPDATE firmware_campaign_targets SET status = 'Timeout', status_at = $3, updated_at = $3, "
            "detail = 'not Installed within timeoutSeconds' WHERE campaign_id = $1 AND status IN " GENX_FW_IN_PROGRESS
            " AND sent_at_ms <= $2 RETURNING id",
            {id, now_ms - to_int(c[2]) * 1000, at});
        touched = !overdue.empty();
        const auto busy = to_int(tx.exec("SELECT count(*) FROM firmware_campaign_targets WHERE campaign_id = $1 "
                                         "AND status IN " GENX_FW_IN_PROGRESS,
                                         {id})[0][0]);
        const auto free = to_int(c[1]) - busy;
        if (free > 0) {
          for (const auto& t : tx.exec("SELECT t.id, t.charge_point_id, c.ocpp_version FROM firmware_campaign_targets t "
                                       "LEFT JOIN chargers c ON c.charge_point_id = t.charge_point_id WHERE "
                                       "t.campaign_id = $1 AND t.status = 'Pending' ORDER BY t.id LIMIT $2",
                                       {id, free})) {
            tx.exec("UPDATE firmware_campaign_targets SET status = 'Sent', sent_at = $2, sent_at_ms = $3, "
                    "status_at = NULL, charger_status = NULL, detail = NULL, firmware_version = NULL, "
                    "attempts = attempts + 1, updated_at = $2 WHERE id = $1",
                    {to_int(t[0]), at, now_ms});
            csms::FirmwareSend s;
            s.campaign_id = id;
            s.target_id = to_int(t[0]);
            s.charge_point_id = t[1].value_or("");
            s.location = c[3].value_or("");
            s.retrieve_date = c[4];
            s.retries = opt_int(c[5]);
            s.retry_interval = opt_int(c[6]);
            s.is_signed = to_int(c[7]) != 0;
            s.signing_certificate = c[8];
            s.signature = c[9];
            s.install_date = c[10];
            s.v201 = t[2] == std::optional<std::string>("2.0.1");
            sends.push_back(std::move(s));
            touched = true;
          }
        }
        touched = complete_when_done(tx, id, at) || touched;
        if (touched) {
          touch_campaign(tx, id, at);
          changed.push_back(id);
        }
      }
    });
    return sends;
  }

  void record_firmware_answer(const csms::FirmwareSend& send, std::string_view outcome, std::string_view detail,
                              std::string_view now) override {
    run_(true, [&](SqlTx& tx) {
      const std::string at(now);
      if (outcome != "Accepted") {
        tx.exec("UPDATE firmware_campaign_targets SET status = $2, detail = $3, status_at = $4, updated_at = $4 "
                "WHERE id = $1 AND status = 'Sent'",
                {send.target_id, std::string(outcome), std::string(detail), at});
        complete_when_done(tx, send.campaign_id, at);
        touch_campaign(tx, send.campaign_id, at);
      }
      csms::FirmwareRequest request;
      request.action = csms::firmware_send_action(send);
      request.location = send.location;
      request.retrieve_date = send.retrieve_date;
      if (csms::firmware_send_has_request_id(send)) request.request_id = send.target_id;
      request.answer = outcome == "Accepted" ? std::string("Accepted") : std::string(outcome) + ": " + std::string(detail);
      request.campaign_id = send.campaign_id;
      store_request(tx, send.charge_point_id, request, now);
    });
  }

 private:
  SqlRunner run_;
};

}  // namespace

std::unique_ptr<csms::FirmwareUnit> make_firmware_unit(SqlTx& tx) { return std::make_unique<Unit>(tx); }
std::unique_ptr<csms::FirmwareStore> make_firmware_store(SqlRunner runner) {
  return std::make_unique<Store>(std::move(runner));
}

}  // namespace genx::store
