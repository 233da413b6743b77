// The dashboard's static files: only files under the web directory, right content types.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "api/static_files.hpp"

using namespace genx::api;

TEST(StaticFiles, MapsUrlPathsToFilesUnderTheRoot) {
  EXPECT_EQ(static_relative_path("/"), "index.html");
  EXPECT_EQ(static_relative_path("/app.js"), "app.js");
  EXPECT_EQ(static_relative_path("/vendor/socket.io.min.js"), "vendor/socket.io.min.js");
  EXPECT_EQ(static_relative_path("/vendor/"), "vendor/index.html");
  EXPECT_EQ(static_relative_path("/a%20b.css"), "a b.css");
}

TEST(StaticFiles, RefusesTraversalAndHiddenFiles) {
  for (const char* bad : {"/../etc/passwd", "/vendor/../../x", "/%2e%2e/etc/passwd",
                          "/..%2fetc", "/a%2fb", "/.env", "/vendor/.git/config", "//etc/passwd",
                          "/a\\..\\b", "/a%00.js", "relative", "", "/a%2", "/a%zz"}) {
    EXPECT_FALSE(static_relative_path(bad)) << bad;
  }
}

TEST(StaticFiles, ContentTypesFollowTheExtension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("vendor/socket.io.min.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("x.map"), "application/json");
  EXPECT_EQ(content_type_for("README"), "application/octet-stream");
}

TEST(StaticFiles, ReadsOnlyRegularFilesInsideTheRoot) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("genx-static-" + std::to_string(::getpid()));
  fs::create_directories(root / "sub");
  std::ofstream(root / "index.html") << "<h1>GenX</h1>";
  std::ofstream(root / "sub" / "a.js") << "1;";
  std::ofstream(root.parent_path() / "genx-secret.txt") << "secret";

  auto index = read_static_file(root.string(), "/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->body, "<h1>GenX</h1>");
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(read_static_file(root.string(), "/sub/a.js")->body, "1;");
  EXPECT_FALSE(read_static_file(root.string(), "/sub"));  // a directory without index.html
  EXPECT_FALSE(read_static_file(root.string(), "/missing.js"));
  EXPECT_FALSE(read_static_file(root.string(), "/../genx-secret.txt"));
  EXPECT_FALSE(read_static_file("", "/"));
  fs::remove_all(root);
}
