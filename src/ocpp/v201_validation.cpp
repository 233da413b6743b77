// OCPP 2.0.1 payload validation: one generic checker walks a payload against the
// generated tables (v201_schemas.cpp). Semantics follow JSON Schema as ajv implements
// it, so tests/oracle can compare verdicts with ajv on the official schemas: "integer"
// accepts 1.0; maxLength counts code points; date-time is RFC 3339 with an offset
// (ocpp/formats.hpp). The error codes are ours (v201_validation.hpp); ocpp-rpc answers
// enum/maxLength/format with FormatViolation, which the 2.0.1 text reserves for a
// payload that is syntactically wrong, so a wrong value is a PropertyConstraintViolation here.
#include "ocpp/v201_validation.hpp"

#include <cmath>

#include "ocpp/formats.hpp"
#include "ocpp/v201_schema_language.hpp"

namespace genx::ocpp::v201 {
namespace {

using schema::Node;
using schema::Type;

const schema::Tables& tables() {
  static const schema::Tables kTables = schema::build_tables();
  return kTables;
}

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kAny: return "value";
    case Type::kString: return "string";
    case Type::kInteger: return "integer";
    case Type::kNumber: return "number";
    case Type::kBoolean: return "boolean";
    case Type::kObject: return "object";
    case Type::kArray: return "array";
  }
  return "value";
}

bool has_type(const nlohmann::json& value, Type type) {
  switch (type) {
    case Type::kAny: return true;
    case Type::kString: return value.is_string();
    case Type::kInteger: {
      if (value.is_number_integer()) return true;
      if (!value.is_number_float()) return false;
      const double d = value.get<double>();
      return std::isfinite(d) && std::floor(d) == d;
    }
    case Type::kNumber: return value.is_number();
    case Type::kBoolean: return value.is_boolean();
    case Type::kObject: return value.is_object();
    case Type::kArray: return value.is_array();
  }
  return false;
}

std::string join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

Violation violation(ErrorCode code, const std::string& path, std::string_view what) {
  return Violation{code, (path.empty() ? std::string("payload") : path) + ": " + std::string(what)};
}

std::string number_text(double d) { return nlohmann::json(d).dump(); }

std::optional<Violation> check(const Node& node, const nlohmann::json& value, const std::string& path) {
  if (!has_type(value, node.type)) {
    return violation(ErrorCode::kTypeConstraintViolation, path,
                     "expected " + std::string(type_name(node.type)));
  }
  switch (node.type) {
    case Type::kAny:
    case Type::kBoolean:
      return std::nullopt;
    case Type::kString: {
      const auto& text = value.get_ref<const std::string&>();
      if (node.max_length != 0 && utf8_code_points(text) > node.max_length) {
        return violation(ErrorCode::kPropertyConstraintViolation, path,
                         "longer than " + std::to_string(node.max_length) + " characters");
      }
      if (!node.enum_values.empty()) {
        bool found = false;
        for (const auto allowed : node.enum_values) found = found || allowed == text;
        if (!found) {
          return violation(ErrorCode::kPropertyConstraintViolation, path, "not one of the allowed values");
        }
      }
      if (node.date_time && !is_rfc3339_date_time(text)) {
        return violation(ErrorCode::kPropertyConstraintViolation, path, "not an RFC 3339 date-time");
      }
      return std::nullopt;
    }
    case Type::kInteger:
    case Type::kNumber: {
      const double d = value.get<double>();
      if (node.maximum && d > *node.maximum) {
        return violation(ErrorCode::kPropertyConstraintViolation, path,
                         "greater than " + number_text(*node.maximum));
      }
      if (node.minimum && d < *node.minimum) {
        return violation(ErrorCode::kPropertyConstraintViolation, path,
                         "less than " + number_text(*node.minimum));
      }
      return std::nullopt;
    }
    case Type::kArray: {
      if (node.max_items != 0 && value.size() > node.max_items) {
        return violation(ErrorCode::kOccurrenceConstraintViolation, path,
                         "at most " + std::to_string(node.max_items) + " item(s) allowed");
      }
      if (value.size() < node.min_items) {
        return violation(ErrorCode::kOccurrenceConstraintViolation, path,
                         "needs at least " + std::to_string(node.min_items) + " item(s)");
      }
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (auto bad = check(*node.items, value[i], path + "[" + std::to_string(i) + "]")) return bad;
      }
      return std::nullopt;
    }
    case Type::kObject: {
      for (const auto& property : node.properties) {
        const auto it = value.find(property.name);
        if (it == value.end()) {
          if (property.required) {
            return violation(ErrorCode::kOccurrenceConstraintViolation, join(path, property.name),
                             "required property missing");
          }
          continue;
        }
        if (auto bad = check(*property.node, *it, join(path, property.name))) return bad;
      }
      if (!node.open) {
        for (const auto& [key, unused] : value.items()) {
          bool known = false;
          for (const auto& property : node.properties) known = known || property.name == key;
          if (!known) {
            return violation(ErrorCode::kPropertyConstraintViolation, join(path, key), "property not allowed");
          }
        }
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<Violation> check_payload(const Node& node, const nlohmann::json& payload) {
  if (!payload.is_object()) {
    return Violation{ErrorCode::kFormatViolation, "payload: expected a JSON object"};
  }
  try {
    return check(node, payload, "");
  } catch (const std::exception&) {  // defensive: the checker is not expected to throw
    return Violation{ErrorCode::kInternalError, "payload: could not be validated"};
  }
}

const schema::NodePtr* find(const schema::Table& table, std::string_view action) {
  const auto it = table.find(action);
  return it == table.end() ? nullptr : &it->second;
}

Violation unknown_action(std::string_view action) {
  return Violation{ErrorCode::kNotImplemented,
                   "action " + nlohmann::json(std::string(action)).dump(
                                   -1, ' ', false, nlohmann::json::error_handler_t::replace) +
                       " is not an OCPP 2.0.1 action"};
}

}  // namespace

ActionKind classify_action(std::string_view action) {
  const auto& t = tables();
  if (find(t.requests, action) != nullptr) return ActionKind::kChargerToCsms;
  if (find(t.commands, action) != nullptr) return ActionKind::kCsmsToCharger;
  return ActionKind::kUnknown;
}

std::optional<Violation> validate_request(std::string_view action, const nlohmann::json& payload) {
  const auto& t = tables();
  if (const auto* node = find(t.requests, action)) return check_payload(**node, payload);
  if (find(t.commands, action) != nullptr) {
    return Violation{ErrorCode::kNotSupported,
                     std::string(action) + " is sent by the CSMS, not by a charging station"};
  }
  return unknown_action(action);
}

std::optional<Violation> validate_response(std::string_view action, const nlohmann::json& payload) {
  if (const auto* node = find(tables().responses, action)) return check_payload(**node, payload);
  return unknown_action(action);
}

std::optional<Violation> validate_command(std::string_view action, const nlohmann::json& payload) {
  const auto& t = tables();
  if (const auto* node = find(t.commands, action)) return check_payload(**node, payload);
  if (find(t.requests, action) != nullptr) {
    return Violation{ErrorCode::kNotSupported,
                     std::string(action) + " is sent by a charging station, not by the CSMS"};
  }
  return unknown_action(action);
}

}  // namespace genx::ocpp::v201
