#pragma once
// The small declarative schema language the OCPP 2.0.1 tables are written in
// (v201_schemas.cpp, generated from the official schemas by
// scripts/gen_ocpp201_schemas.mjs). Internal to src/ocpp: only the 2.0.1 validator reads it.
// Semantics follow JSON Schema as ajv implements it (see v201_validation.cpp).
#include <cstddef>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace genx::ocpp::v201::schema {

enum class Type { kAny, kString, kInteger, kNumber, kBoolean, kObject, kArray };

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Property {
  std::string_view name;
  bool required;
  NodePtr node;
};

struct Node {
  Type type = Type::kString;
  std::size_t max_length = 0;  // 0: unbounded
  std::vector<std::string_view> enum_values;
  bool date_time = false;
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::vector<Property> properties;  // objects
  bool open = false;                 // objects: other properties allowed (CustomDataType)
  NodePtr items;                     // arrays
  std::size_t min_items = 0;
  std::size_t max_items = 0;  // 0: unbounded
};

inline NodePtr make(Node node) { return std::make_shared<const Node>(std::move(node)); }
inline NodePtr any() {
  Node n;
  n.type = Type::kAny;
  return make(std::move(n));
}
inline NodePtr str(std::size_t max_length = 0) {
  Node n;
  n.max_length = max_length;
  return make(std::move(n));
}
inline NodePtr one_of(std::initializer_list<std::string_view> values) {
  Node n;
  n.enum_values = values;
  return make(std::move(n));
}
inline NodePtr date_time() {
  Node n;
  n.date_time = true;
  return make(std::move(n));
}
inline NodePtr bounded(Type type, std::optional<double> minimum, std::optional<double> maximum) {
  Node n;
  n.type = type;
  n.minimum = minimum;
  n.maximum = maximum;
  return make(std::move(n));
}
inline NodePtr integer(std::optional<double> minimum = std::nullopt,
                       std::optional<double> maximum = std::nullopt) {
  return bounded(Type::kInteger, minimum, maximum);
}
inline NodePtr number(std::optional<double> minimum = std::nullopt,
                      std::optional<double> maximum = std::nullopt) {
  return bounded(Type::kNumber, minimum, maximum);
}
inline NodePtr boolean() { return bounded(Type::kBoolean, std::nullopt, std::nullopt); }
inline NodePtr object(std::initializer_list<Property> properties, bool open = false) {
  Node n;
  n.type = Type::kObject;
  n.properties = properties;
  n.open = open;
  return make(std::move(n));
}
inline NodePtr array(NodePtr items, std::size_t min_items, std::size_t max_items) {
  Node n;
  n.type = Type::kArray;
  n.items = std::move(items);
  n.min_items = min_items;
  n.max_items = max_items;
  return make(std::move(n));
}
inline Property req(std::string_view name, NodePtr node) { return {name, true, std::move(node)}; }
inline Property opt(std::string_view name, NodePtr node) { return {name, false, std::move(node)}; }

using Table = std::map<std::string, NodePtr, std::less<>>;

struct Tables {
  Table requests;   // CALLs a charging station sends
  Table commands;   // CALLs the CSMS sends
  Table responses;  // CALLRESULT payloads, both directions
};

// Generated (v201_schemas.cpp).
Tables build_tables();

}  // namespace genx::ocpp::v201::schema
