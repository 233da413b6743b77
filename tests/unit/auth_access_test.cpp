// API tokens, roles, access decisions and CORS (src/auth/access.hpp).
#include <gtest/gtest.h>

#include <set>

#include "auth/access.hpp"

namespace genx::auth {
namespace {

TEST(AuthTokens, GeneratedTokensAre256RandomBitsInHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string t = generate_token();
    ASSERT_EQ(t.size(), 5u + 64u) << t;
    EXPECT_EQ(t.substr(0, 5), "genx_");
    EXPECT_EQ(t.find_first_not_of("0123456789abcdef", 5), std::string::npos) << t;
    EXPECT_TRUE(seen.insert(t).second) << "duplicate token";
  }
}

TEST(AuthTokens, DigestIsSha256Hex) {
  // Known answer (FIPS 180-2 example "abc").
  EXPECT_EQ(token_digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NE(token_digest("genx_a"), token_digest("genx_b"));
}

TEST(AuthTokens, DigestComparison) {
  EXPECT_TRUE(digests_equal(token_digest("t"), token_digest("t")));
  EXPECT_FALSE(digests_equal(token_digest("t"), token_digest("u")));
  EXPECT_FALSE(digests_equal("abc", "abcd"));
  EXPECT_FALSE(digests_equal("", "a"));
}

TEST(AuthTokens, BearerHeader) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer abc "), "abc");
  EXPECT_EQ(bearer_token("Basic abc"), "");
  EXPECT_EQ(bearer_token("Bearer "), "");
  EXPECT_EQ(bearer_token(""), "");
}

TEST(AuthRoles, Parse) {
  EXPECT_EQ(parse_role("read"), Role::kRead);
  EXPECT_EQ(parse_role("read-only"), Role::kRead);
  EXPECT_EQ(parse_role("Operator"), Role::kOperator);
  EXPECT_FALSE(parse_role("admin").has_value());
  EXPECT_STREQ(role_name(Role::kRead), "read");
  EXPECT_STREQ(role_name(Role::kOperator), "operator");
}

TEST(AuthAccess, WhatEachRequestNeeds) {
  EXPECT_EQ(required_access("GET", "/health", true), Need::kNone);
  EXPECT_EQ(required_access("GET", "/health", false), Need::kNone);
  EXPECT_EQ(required_access("GET", "/", true), Need::kNone);
  EXPECT_EQ(required_access("GET", "/app.js", true), Need::kNone);
  EXPECT_EQ(required_access("GET", "/api/config", true), Need::kNone);
  EXPECT_EQ(required_access("GET", "/metrics", true), Need::kNone);
  EXPECT_EQ(required_access("GET", "/metrics", false), Need::kRead);
  EXPECT_EQ(required_access("GET", "/api/chargers", true), Need::kRead);
  EXPECT_EQ(required_access("HEAD", "/api/transactions", true), Need::kRead);
  EXPECT_EQ(required_access("POST", "/api/chargers/CP1/commands/Reset", true), Need::kOperator);
  EXPECT_EQ(required_access("PUT", "/api/chargers/CP1/security", true), Need::kOperator);
  EXPECT_EQ(required_access("DELETE", "/api/dlq", true), Need::kOperator);
  EXPECT_EQ(required_access("POST", "/health", true), Need::kOperator);
  EXPECT_EQ(required_access("OPTIONS", "/api/chargers", true), Need::kNone);
}

TEST(AuthAccess, Decisions) {
  const Principal reader{"dash", Role::kRead};
  const Principal op{"ops", Role::kOperator};
  // No token configured anywhere: open.
  EXPECT_FALSE(check_access(Need::kOperator, false, std::nullopt));
  EXPECT_FALSE(check_access(Need::kNone, true, std::nullopt));
  auto missing = check_access(Need::kRead, true, std::nullopt);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  EXPECT_FALSE(check_access(Need::kRead, true, reader));
  EXPECT_FALSE(check_access(Need::kRead, true, op));
  auto forbidden = check_access(Need::kOperator, true, reader);
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(forbidden->status, 403);
  EXPECT_NE(forbidden->message.find("operator"), std::string::npos);
  EXPECT_FALSE(check_access(Need::kOperator, true, op));
}

TEST(AuthCors, SameOriginAndList) {
  EXPECT_TRUE(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(same_origin("http://Example.com", "example.com"));
  EXPECT_TRUE(same_origin("http://example.com:80", "example.com"));
  EXPECT_TRUE(same_origin("https://example.com:443", "example.com"));
  EXPECT_FALSE(same_origin("http://evil.example:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(same_origin("http://127.0.0.1:8081", "127.0.0.1:8080"));
  EXPECT_FALSE(same_origin("null", "127.0.0.1:8080"));
  EXPECT_FALSE(same_origin("http://127.0.0.1:8080/x", "127.0.0.1:8080"));

  const std::vector<std::string> list = {"https://ops.example.com"};
  EXPECT_TRUE(cors_allowed("https://ops.example.com", "api:8080", list));
  EXPECT_TRUE(cors_allowed("http://api:8080", "api:8080", list));  // its own page
  EXPECT_FALSE(cors_allowed("https://evil.example.com", "api:8080", list));
  EXPECT_FALSE(cors_allowed("https://evil.example.com", "api:8080", {}));
  EXPECT_TRUE(cors_allowed("https://anything.example", "api:8080", {"*"}));
}

}  // namespace
}  // namespace genx::auth
