// The file part of a multipart/form-data upload (api/multipart.hpp).
#include <gtest/gtest.h>

#include <string>

#include "api/multipart.hpp"

namespace genx::api {
namespace {

TEST(Multipart, BoundaryOnlyForFormData) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=----abc"), "----abc");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;boundary=\"q b\""), "q b");
  EXPECT_EQ(multipart_boundary("multipart/form-data"), "");  // multipart, but broken
  EXPECT_FALSE(multipart_boundary("application/octet-stream").has_value());
  EXPECT_FALSE(multipart_boundary("").has_value());
}

TEST(Multipart, TheFilePartIsTakenByteForByte) {
  // CR LF, a NUL, a high byte and a near-boundary inside the file (a client never uses
  // a boundary that occurs in the content).
  const std::string file("line\r\n--XZ\r\n\0\xff tail", 19);
  const std::string body = "--XY\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nhello\r\n"
                           "--XY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"diag \\\"1\\\".zip\"\r\n"
                           "Content-Type: application/octet-stream\r\n\r\n" +
                           file + "\r\n--XY--\r\n";
  const auto part = multipart_file(body, "XY");
  ASSERT_TRUE(std::holds_alternative<UploadedPart>(part)) << std::get<std::string>(part);
  EXPECT_EQ(std::string(std::get<UploadedPart>(part).bytes), file);
  EXPECT_EQ(std::get<UploadedPart>(part).file_name, "diag \"1\".zip");
}

TEST(Multipart, WithoutAFilenameThePartNamedFileOrTheOnlyPart) {
  const std::string named = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n"
                            "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n2\r\n--b--";
  EXPECT_EQ(std::string(std::get<UploadedPart>(multipart_file(named, "b")).bytes), "2");
  const std::string only = "--b\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\nabc\r\n--b--\r\n";
  EXPECT_EQ(std::string(std::get<UploadedPart>(multipart_file(only, "b")).bytes), "abc");
  const std::string empty_file = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e\"\r\n\r\n\r\n--b--";
  EXPECT_EQ(std::string(std::get<UploadedPart>(multipart_file(empty_file, "b")).bytes), "");
}

TEST(Multipart, BrokenBodiesAreNamed) {
  EXPECT_EQ(std::get<std::string>(multipart_file("no boundary here", "b")), "multipart body without its boundary");
  EXPECT_EQ(std::get<std::string>(multipart_file("--b\r\nContent-Disposition: form-data\r\n\r\nabc", "b")),
            "multipart part without a closing boundary");
  EXPECT_EQ(std::get<std::string>(multipart_file("--b\r\nno end of headers", "b")),
            "multipart part without the end of its headers");
  EXPECT_EQ(std::get<std::string>(multipart_file("--b--\r\n", "b")), "multipart body without parts");
  EXPECT_EQ(std::get<std::string>(multipart_file("--b\r\nA: 1\r\n\r\n1\r\n--b\r\nA: 2\r\n\r\n2\r\n--b--", "b")),
            "multipart body with several parts and none carrying a filename");
  EXPECT_EQ(std::get<std::string>(multipart_file("x", "")), "multipart/form-data without a valid boundary parameter");
}

}  // namespace
}  // namespace genx::api
