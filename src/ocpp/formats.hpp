#pragma once
// String formats of the OCPP JSON schemas, shared by the 1.6 and 2.0.1 validators.
// Pure, thread-safe, never throw.
#include <cstddef>
#include <string_view>

namespace genx::ocpp {

// RFC 3339 date-time with a mandatory offset, as ajv-formats' "date-time" (see
// v16_validation.cpp for the details).
bool is_rfc3339_date_time(std::string_view text);
// Length in Unicode code points (what JSON Schema's maxLength counts).
std::size_t utf8_code_points(std::string_view text);

}  // namespace genx::ocpp
