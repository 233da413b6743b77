// The api's route table is its OpenAPI document (api/routes.hpp): these check the
// document is a usable OpenAPI 3.1 description and that requests match it as the router
// needs (404 for an unknown path, 405 with the path's methods, concrete before templated).
#include <functional>
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/routes.hpp"

namespace genx::api {
namespace {

using nlohmann::json;

const json& document() {
  static const json doc = json::parse(openapi_document());
  return doc;
}

TEST(ApiRoutes, DocumentIsOpenApi31WithUniqueOperationIdsAndDeclaredPathParameters) {
  const auto& doc = document();
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  std::set<std::string> ids;
  const std::regex parameter(R"(\{([A-Za-z]+)\})");
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      SCOPED_TRACE(method + " " + path);
      ASSERT_TRUE(op.contains("operationId"));
      EXPECT_TRUE(ids.insert(op.at("operationId").get<std::string>()).second) << "operationId used twice";
      EXPECT_TRUE(op.contains("responses") && !op.at("responses").empty());
      std::set<std::string> declared;
      for (const auto& p : op.value("parameters", json::array())) {
        if (p.at("in") == "path") declared.insert(p.at("name").get<std::string>());
      }
      std::set<std::string> in_template;
      for (std::sregex_iterator it(path.begin(), path.end(), parameter), end; it != end; ++it) {
        in_template.insert((*it)[1].str());
      }
      EXPECT_EQ(declared, in_template) << "path parameters and the template disagree";
    }
  }
  EXPECT_GE(api_routes().size(), ids.size());
}

TEST(ApiRoutes, EveryResponseReferenceResolves) {
  const auto& doc = document();
  // Every "$ref" in the document names something under components.
  std::function<void(const json&)> walk = [&](const json& node) {
    if (node.is_object()) {
      if (auto it = node.find("$ref"); it != node.end()) {
        const auto ref = it->get<std::string>();
        ASSERT_EQ(ref.rfind("#/", 0), 0u) << ref;
        EXPECT_NO_THROW((void)doc.at(json::json_pointer(ref.substr(1)))) << ref << " does not resolve";
      }
      for (const auto& [key, value] : node.items()) walk(value);
    } else if (node.is_array()) {
      for (const auto& value : node) walk(value);
    }
  };
  walk(doc);
}

TEST(ApiRoutes, MatchesDocumentedOperationsOnly) {
  const auto& routes = api_routes();
  auto check = [&](std::string_view method, std::string_view path) { return match_route(routes, method, path); };

  EXPECT_EQ(check("GET", "/api/chargers").check, RouteCheck::kFound);
  EXPECT_EQ(check("HEAD", "/api/chargers").check, RouteCheck::kFound);
  EXPECT_EQ(check("GET", "/api/chargers/").check, RouteCheck::kFound) << "one trailing slash is ignored";
  EXPECT_EQ(check("GET", "/api/chargers/CP%2F1").route->path, "/api/chargers/{chargePointId}");
  EXPECT_EQ(check("POST", "/api/chargers/CP1/commands/Reset").route->path,
            "/api/chargers/{chargePointId}/commands/{action}");
  EXPECT_EQ(check("PUT", "/api/chargers/CP1/security").check, RouteCheck::kFound);
  EXPECT_EQ(check("GET", "/health").check, RouteCheck::kFound);
  EXPECT_EQ(check("GET", "/api/openapi.json").check, RouteCheck::kFound);

  const auto post_list = check("POST", "/api/chargers");
  EXPECT_EQ(post_list.check, RouteCheck::kWrongMethod);
  EXPECT_EQ(post_list.allowed, "GET");
  const auto get_command = check("GET", "/api/chargers/CP1/commands/Reset");
  EXPECT_EQ(get_command.check, RouteCheck::kWrongMethod);
  EXPECT_EQ(get_command.allowed, "POST");
  const auto security = check("DELETE", "/api/chargers/CP1/security");
  EXPECT_EQ(security.check, RouteCheck::kWrongMethod);
  EXPECT_EQ(security.allowed, "GET, PUT");

  // A concrete segment wins over a template: replay is POST only, not a dead letter id.
  const auto replay = check("GET", "/api/dlq/replay");
  EXPECT_EQ(replay.check, RouteCheck::kWrongMethod);
  EXPECT_EQ(replay.allowed, "POST");
  EXPECT_EQ(check("GET", "/api/dlq/some-id").route->path, "/api/dlq/{messageId}");

  EXPECT_EQ(check("GET", "/api/nothing").check, RouteCheck::kNotFound);
  EXPECT_EQ(check("GET", "/api").check, RouteCheck::kNotFound);
  EXPECT_EQ(check("GET", "/api/chargers//configuration").check, RouteCheck::kNotFound) << "empty id";
  EXPECT_EQ(check("GET", "/api/chargers/CP1/configuration/extra").check, RouteCheck::kNotFound);
  EXPECT_EQ(check("POST", "/api/chargers/CP1/commands/").check, RouteCheck::kNotFound) << "no action";
}

TEST(ApiRoutes, OnlyApiPathsAreRouted) {
  EXPECT_TRUE(is_api_path("/api/chargers"));
  EXPECT_TRUE(is_api_path("/api"));
  EXPECT_TRUE(is_api_path("/health"));
  EXPECT_TRUE(is_api_path("/metrics"));
  EXPECT_FALSE(is_api_path("/"));
  EXPECT_FALSE(is_api_path("/index.html"));
  EXPECT_FALSE(is_api_path("/apidocs.html"));
  EXPECT_FALSE(is_api_path("/vendor/swagger-ui.css"));
}

}  // namespace
}  // namespace genx::api
