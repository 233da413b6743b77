#pragma once
// The file part of a multipart/form-data body (RFC 7578), as chargers send an HTTP POST
// upload. Pure; no I/O.
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace genx::api {

struct UploadedPart {
  std::string_view bytes;  // points into the body
  std::string file_name;   // the part's filename parameter (may be empty)
};

// The boundary of a "multipart/form-data; boundary=..." content type; nullopt for any
// other content type.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// The first part that carries a filename (else the first part named "file", else the
// only part); the error, in words, when the body is not well-formed multipart.
std::variant<UploadedPart, std::string> multipart_file(std::string_view body, std::string_view boundary);

}  // namespace genx::api
