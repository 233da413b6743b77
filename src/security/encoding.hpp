#pragma once
// Base64 (RFC 4648, with padding) for hashes and HTTP Basic credentials. Pure.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace genx::security {

std::string base64_encode(const std::vector<unsigned char>& bytes);
// nullopt when text is not canonical padded base64.
std::optional<std::vector<unsigned char>> base64_decode(std::string_view text);

}  // namespace genx::security
