#pragma once
// JSON text of a value: byte for byte what nlohmann::json::dump() writes with no indent
// and UTF-8 kept as is, at a fraction of its cost for what GenX writes most (bench/
// callgrind): ASCII strings that need no escape, integers, booleans and null are written
// here; any other leaf (escaped or non-ASCII text, floats) by dump() itself. With
// `replace_invalid_utf8` invalid UTF-8 is replaced as dump's error_handler_t::replace does;
// without it, dump() throws for it as usual. Pure.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace genx::ocpp {

void append_json(std::string& out, const nlohmann::json& value, bool replace_invalid_utf8 = false);
std::string json_text(const nlohmann::json& value, bool replace_invalid_utf8 = false);
// A string as a JSON string literal ("..." with dump()'s escapes).
void append_json_string(std::string& out, std::string_view text, bool replace_invalid_utf8 = false);

}  // namespace genx::ocpp
