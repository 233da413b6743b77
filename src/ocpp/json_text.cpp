#include "ocpp/json_text.hpp"

#include <charconv>

namespace genx::ocpp {
namespace {

using nlohmann::json;

// Printable ASCII but '"' and '\': written as is by dump().
bool needs_no_escape(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x80 || c == '"' || c == '\\') return false;
  }
  return true;
}

template <typename Integer>
void append_integer(std::string& out, Integer value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

json::error_handler_t handler(bool replace_invalid_utf8) {
  return replace_invalid_utf8 ? json::error_handler_t::replace : json::error_handler_t::strict;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text, bool replace_invalid_utf8) {
  if (needs_no_escape(text)) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  out += json(std::string(text)).dump(-1, ' ', false, handler(replace_invalid_utf8));
}

void append_json(std::string& out, const json& value, bool replace_invalid_utf8) {
  switch (value.type()) {
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, member] : value.get_ref<const json::object_t&>()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, key, replace_invalid_utf8);
        out += ':';
        append_json(out, member, replace_invalid_utf8);
      }
      out += '}';
      return;
    }
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_ref<const json::array_t&>()) {
        if (!first) out += ',';
        first = false;
        append_json(out, element, replace_invalid_utf8);
      }
      out += ']';
      return;
    }
    case json::value_t::string:
      append_json_string(out, value.get_ref<const std::string&>(), replace_invalid_utf8);
      return;
    case json::value_t::number_integer:
      append_integer(out, value.get<json::number_integer_t>());
      return;
    case json::value_t::number_unsigned:
      append_integer(out, value.get<json::number_unsigned_t>());
      return;
    case json::value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      return;
    case json::value_t::null:
      out += "null";
      return;
    case json::value_t::number_float:
    case json::value_t::binary:
    case json::value_t::discarded:
      out += value.dump(-1, ' ', false, handler(replace_invalid_utf8));
      return;
  }
}

std::string json_text(const json& value, bool replace_invalid_utf8) {
  std::string out;
  append_json(out, value, replace_invalid_utf8);
  return out;
}

}  // namespace genx::ocpp
