#pragma once
// How the outcome of a command to a charger becomes the api's HTTP answer
// (docs/api.md "Remote commands"). Pure.
#include <string_view>

#include <nlohmann/json.hpp>

#include "messages/commands.hpp"

namespace genx::api {

struct CommandHttp {
  int status = 200;
  nlohmann::json body;
};

// 200 with the payload; 502 {error, errorCode, errorDescription, errorDetails} for a
// CALLERROR; 502 naming the field for an invalid response; 504 timeout; 429 busy;
// 502 disconnected before answering.
CommandHttp command_http(const messages::CommandReply& reply);
// The charger is not connected to any gateway (the publish was returned): 404.
CommandHttp command_offline_http(std::string_view device_id);

}  // namespace genx::api
