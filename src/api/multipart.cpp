// multipart/form-data file part (see multipart.hpp).
#include "api/multipart.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace genx::api {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of parameter `name` in a header value such as
// `form-data; name="file"; filename="diag.zip"` (quotes removed, \" unescaped).
std::optional<std::string> parameter(std::string_view header, std::string_view name) {
  std::size_t pos = 0;
  while ((pos = header.find(';', pos)) != std::string_view::npos) {
    ++pos;
    std::string_view rest = trim(header.substr(pos));
    const auto eq = rest.find('=');
    if (eq == std::string_view::npos) continue;
    if (lower(trim(rest.substr(0, eq))) != name) continue;
    std::string_view value = trim(rest.substr(eq + 1));
    std::string out;
    if (!value.empty() && value.front() == '"') {
      for (std::size_t i = 1; i < value.size() && value[i] != '"'; ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) ++i;
        out += value[i];
      }
    } else {
      out = std::string(value.substr(0, value.find(';')));
    }
    return out;
  }
  return std::nullopt;
}

struct Part {
  std::string_view bytes;
  std::optional<std::string> name;
  std::optional<std::string> file_name;
};

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  if (lower(trim(content_type.substr(0, semicolon))) != "multipart/form-data") return std::nullopt;
  auto boundary = parameter(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70) return std::string();
  return boundary;
}

std::variant<UploadedPart, std::string> multipart_file(std::string_view body, std::string_view boundary) {
  if (boundary.empty()) return std::string("multipart/form-data without a valid boundary parameter");
  const std::string delimiter = "--" + std::string(boundary);
  std::size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return std::string("multipart body without its boundary");
  std::vector<Part> parts;
  for (;;) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") break;  // the closing delimiter
    if (body.substr(pos, 2) != "\r\n") return std::string("multipart boundary not followed by CRLF");
    pos += 2;
    const auto headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos) return std::string("multipart part without the end of its headers");
    Part part;
    std::string_view headers = body.substr(pos, headers_end - pos);
    while (!headers.empty()) {
      const auto eol = headers.find("\r\n");
      const std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      if (lower(trim(line.substr(0, colon))) == "content-disposition") {
        const std::string_view value = line.substr(colon + 1);
        part.name = parameter(value, "name");
        part.file_name = parameter(value, "filename");
      }
    }
    const std::size_t content = headers_end + 4;
    const auto next = body.find("\r\n" + delimiter, content);
    if (next == std::string_view::npos) return std::string("multipart part without a closing boundary");
    part.bytes = body.substr(content, next - content);
    parts.push_back(std::move(part));
    pos = next + 2;
  }
  if (parts.empty()) return std::string("multipart body without parts");
  const Part* chosen = nullptr;
  for (const auto& p : parts) {
    if (p.file_name) {
      chosen = &p;
      break;
    }
  }
  for (const auto& p : parts) {
    if (chosen == nullptr && p.name == "file") chosen = &p;
  }
  if (chosen == nullptr) {
    if (parts.size() != 1) return std::string("multipart body with several parts and none carrying a filename");
    chosen = &parts.front();
  }
  return UploadedPart{chosen->bytes, chosen->file_name.value_or("")};
}

}  // namespace genx::api
