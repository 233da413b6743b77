#pragma once
// The local authorization list routes of the api (docs/local-list.md): id tags as a
// resource (GET /api/id-tags, GET|PUT /api/id-tags/{idTag}), each charger's list status
// (GET /api/chargers/{id}/local-list, GET /api/local-list), pushing the list to one
// charger (POST /api/chargers/{id}/local-list/push) or all (POST /api/local-list/push),
// and asking a charger its version (POST /api/chargers/{id}/local-list/version).
//
// A push asks GetLocalListVersion, then sends SendLocalList: Differential when the
// charger's version is the one GenX last sent, Full otherwise, in chunks of at most
// SendLocalListMaxLength entries; a VersionMismatch answer to a Differential one is
// followed by the list in full. Every status change publishes locallist.status.changed.
// check_versions() (every few seconds) asks GetLocalListVersion of chargers that booted
// since GenX last asked, while the list is in use.
//
// Threading: everything on the api's one I/O thread (the CommandClient's callbacks come
// back there too); `store` is used only there.
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/api_server.hpp"
#include "api/local_list_store.hpp"
#include "messages/envelope.hpp"

namespace genx::api {

class CommandClient;

class LocalListService {
 public:
  using Publish = std::function<void(const messages::DomainEvent&)>;
  using Respond = std::function<void(HttpResponse)>;

  LocalListService(CommandClient& commands, LocalListStore& store, Publish publish);

  // True when path is one of the routes above (respond is then called exactly once,
  // maybe later); false leaves the request to the other handlers.
  bool handle(std::string_view method, std::string_view path, const std::map<std::string, std::string>& params,
              std::string_view body, Respond respond);
  // The version check of chargers that booted since GenX last asked (see above).
  void check_versions();

 private:
  struct Push;
  using Done = std::function<void(int status, nlohmann::json body)>;
  void push(const std::string& charge_point_id, Done done);
  void push_all(bool out_of_date_only, Respond respond);
  void ask_version(const std::string& charge_point_id, Done done);
  void plan_and_send(std::shared_ptr<Push> p, std::int64_t reported, bool force_full);
  void send_next(std::shared_ptr<Push> p);
  void finish(const std::shared_ptr<Push>& p, int status, std::string_view new_status, std::string_view answer,
              nlohmann::json error);
  HttpResponse put_id_tag(std::string_view id_tag, std::string_view body);
  nlohmann::json view(const LocalListState& state, const std::vector<csms::LocalListEntry>& list) const;
  std::optional<nlohmann::json> view(const std::string& charge_point_id);
  // Sets the status, publishing locallist.status.changed when it changed.
  void set_status(const std::string& charge_point_id, std::string_view status, std::string_view answer);
  void publish_status(const std::string& charge_point_id, std::string_view before);

  CommandClient& commands_;
  LocalListStore& store_;
  Publish publish_;
  std::set<std::string> running_;  // chargers with a push or version check under way
};

}  // namespace genx::api
