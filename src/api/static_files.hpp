#pragma once
// Static files of the dashboard (GENX_WEB_DIR), served by the api role. Pure apart from
// reading the file. Promises: only regular files under `root` are ever read — a path
// with "..", a hidden segment (".x"), a backslash, a NUL or an encoded slash is refused;
// "/" means "/index.html"; the content type follows the extension.
#include <optional>
#include <string>
#include <string_view>

namespace genx::api {

struct StaticFile {
  std::string content_type;
  std::string body;
};

// The relative path inside the web directory for a URL path ("/" -> "index.html"), or
// nullopt when the path is not acceptable. `url_path` is still percent-encoded.
std::optional<std::string> static_relative_path(std::string_view url_path);

std::string content_type_for(std::string_view file_name);

// nullopt when the path is refused or no such regular file exists (or it is over 16 MiB).
std::optional<StaticFile> read_static_file(const std::string& root, std::string_view url_path);

}  // namespace genx::api
