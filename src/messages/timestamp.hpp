#pragma once
// Timestamps as the messages between processes carry them (ISO 8601 UTC). Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace genx::messages {

// ISO 8601 UTC with milliseconds, e.g. "2024-01-15T10:30:00.000Z".
std::string format_timestamp(std::int64_t unix_millis);

// Reads an RFC 3339 / ISO 8601 date-time as chargers send it ("2024-01-15T10:30:00Z",
// with or without fractional seconds, "Z" or a "+hh:mm"/"-hh:mm" offset) into Unix
// milliseconds. nullopt when the text is not such a date-time. Never throws.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

// parse_timestamp then format_timestamp: the canonical UTC form; nullopt if unreadable.
std::optional<std::string> normalize_timestamp(std::string_view text);

}  // namespace genx::messages
