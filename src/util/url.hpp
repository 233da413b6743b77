#pragma once
// URL pieces shared by the HTTP servers (api, notifier). Pure.
#include <map>
#include <string>
#include <string_view>

namespace genx::util {

// Percent-decodes `in` ('+' is a space); a '%' not followed by two hex digits stays as is.
std::string url_decode(std::string_view in);

// key=value pairs of a URL query, percent-decoded ('+' is a space). Last one wins; pairs
// with an empty key are ignored.
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace genx::util

namespace genx::util {

// Percent-encodes everything but unreserved characters (RFC 3986: A-Z a-z 0-9 - . _ ~),
// for a value inside a URL query.
std::string url_encode(std::string_view in);

}  // namespace genx::util
