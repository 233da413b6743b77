#include "api/static_files.hpp"

#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace genx::api {

std::optional<std::string> static_relative_path(std::string_view url_path) {
  if (url_path.empty() || url_path.front() != '/') return std::nullopt;
  std::string decoded;
  for (std::size_t i = 0; i < url_path.size(); ++i) {
    char c = url_path[i];
    if (c == '%') {
      int value = 0;
      if (i + 2 >= url_path.size()) return std::nullopt;
      auto [p, ec] = std::from_chars(url_path.data() + i + 1, url_path.data() + i + 3, value, 16);
      if (ec != std::errc() || p != url_path.data() + i + 3) return std::nullopt;
      c = static_cast<char>(value);
      if (c == '/') return std::nullopt;  // an encoded slash is never a directory separator
      i += 2;
    }
    if (c == '\0' || c == '\\') return std::nullopt;
    decoded.push_back(c);
  }
  std::string relative = decoded.substr(1);
  if (relative.empty() || relative.back() == '/') relative += "index.html";
  std::size_t start = 0;
  while (start < relative.size()) {
    auto slash = relative.find('/', start);
    std::string_view segment(relative.data() + start,
                             (slash == std::string::npos ? relative.size() : slash) - start);
    if (segment.empty() || segment.front() == '.') return std::nullopt;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return relative;
}

std::string content_type_for(std::string_view file_name) {
  auto dot = file_name.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : file_name.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::optional<StaticFile> read_static_file(const std::string& root, std::string_view url_path) {
  if (root.empty()) return std::nullopt;
  auto relative = static_relative_path(url_path);
  if (!relative) return std::nullopt;
  std::string full = root + "/" + *relative;
  struct stat st {};
  if (::stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (16 << 20)) {
    return std::nullopt;
  }
  std::ifstream in(full, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream body;
  body << in.rdbuf();
  return StaticFile{content_type_for(*relative), body.str()};
}

}  // namespace genx::api
