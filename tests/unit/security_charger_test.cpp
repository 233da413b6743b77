// Pure parts of charger security (docs/security.md): HTTP Basic parsing, password
// hashing, the verification cache, the profile decision and CN matching.
#include <gtest/gtest.h>

#include "security/charger_policy.hpp"
#include "security/encoding.hpp"
#include "security/password_hash.hpp"
#include "security/verified_cache.hpp"

namespace genx::security {
namespace {

std::string basic(std::string_view user_colon_password) {
  return "Basic " + base64_encode(std::vector<unsigned char>(user_colon_password.begin(), user_colon_password.end()));
}

TEST(BasicAuthorization, ParsesUserAndPasswordWithColons) {
  auto c = parse_basic_authorization(basic("CP-1:pa:ss:word"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "CP-1");
  EXPECT_EQ(c->password, "pa:ss:word");
}

TEST(BasicAuthorization, SchemeIsCaseInsensitive) {
  auto c = parse_basic_authorization("bAsIc " + basic("a:b").substr(6));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "a");
  EXPECT_EQ(c->password, "b");
}

TEST(BasicAuthorization, RejectsOtherSchemesAndGarbage) {
  EXPECT_FALSE(parse_basic_authorization("Bearer abc"));
  EXPECT_FALSE(parse_basic_authorization("Basic"));
  EXPECT_FALSE(parse_basic_authorization("Basic !!!!"));
  EXPECT_FALSE(parse_basic_authorization("Basic " + base64_encode({'n', 'o', 'c', 'o', 'l', 'o', 'n'})));
  EXPECT_FALSE(parse_basic_authorization("Basicx" + basic("a:b").substr(5)));
  EXPECT_FALSE(parse_basic_authorization("Basic YQ"));  // not padded
}

TEST(Base64, RoundTripsEveryLength) {
  std::vector<unsigned char> bytes;
  for (int n = 0; n < 40; ++n) {
    auto decoded = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<unsigned char>(n * 37 + 11));
  }
  EXPECT_EQ(base64_encode({'f', 'o', 'o', 'b'}), "Zm9vYg==");
  EXPECT_FALSE(base64_decode("Zm9=vYg="));
}

TEST(PasswordHash, VerifiesOnlyTheRightPassword) {
  const std::string hash = hash_password("correct horse battery", 1000);
  EXPECT_EQ(hash.rfind("pbkdf2-sha256$1000$", 0), 0u);
  EXPECT_EQ(hash.find("correct horse battery"), std::string::npos);
  EXPECT_TRUE(verify_password("correct horse battery", hash));
  EXPECT_FALSE(verify_password("correct horse batterz", hash));
  EXPECT_FALSE(verify_password("", hash));
}

TEST(PasswordHash, SaltsEveryHash) {
  EXPECT_NE(hash_password("same password here", 1000), hash_password("same password here", 1000));
}

TEST(PasswordHash, DefaultIsSlow) {
  const std::string hash = hash_password("some charger password");
  EXPECT_EQ(hash.rfind("pbkdf2-sha256$" + std::to_string(kPbkdf2Iterations) + "$", 0), 0u);
  EXPECT_GE(kPbkdf2Iterations, 100000);
  EXPECT_TRUE(verify_password("some charger password", hash));
}

TEST(PasswordHash, UnreadableHashesNeverVerify) {
  for (const char* bad : {"", "plain", "pbkdf2-sha256$1000$c2FsdA==", "md5$1000$c2FsdHNhbHRzYWx0c2FsdA==$AAAA",
                          "pbkdf2-sha256$x$c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                          "pbkdf2-sha256$0$c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                          "pbkdf2-sha256$99999999999$c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}) {
    EXPECT_FALSE(verify_password("anything", bad)) << bad;
  }
}

TEST(PasswordHash, PasswordRules) {
  EXPECT_TRUE(password_problem("short"));
  EXPECT_TRUE(password_problem(std::string(41, 'a')));
  EXPECT_TRUE(password_problem("sixteen chars\tok"));
  EXPECT_FALSE(password_problem("sixteen chars ok"));
  const std::string generated = generate_password();
  EXPECT_EQ(generated.size(), kMaxPasswordLength);
  EXPECT_FALSE(password_problem(generated));
  EXPECT_NE(generated, generate_password());
}

TEST(VerifiedPasswordCache, RemembersPerChargerHashAndPassword) {
  VerifiedPasswordCache cache(2);
  cache.remember("CP1", "hash-a", "secret-1");
  EXPECT_TRUE(cache.contains("CP1", "hash-a", "secret-1"));
  EXPECT_FALSE(cache.contains("CP1", "hash-a", "secret-2"));
  EXPECT_FALSE(cache.contains("CP2", "hash-a", "secret-1"));
  EXPECT_FALSE(cache.contains("CP1", "hash-b", "secret-1"));  // the password changed
  EXPECT_FALSE(cache.contains("CP1h", "ash-a", "secret-1"));  // fields kept apart
  cache.remember("CP2", "h", "p");
  cache.remember("CP3", "h", "p");
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.contains("CP1", "hash-a", "secret-1"));  // oldest went first
  EXPECT_TRUE(cache.contains("CP3", "h", "p"));
}

TEST(CommonName, MatchesExactly) {
  EXPECT_TRUE(common_name_matches("CP-1", "CP-1"));
  EXPECT_FALSE(common_name_matches("cp-1", "CP-1"));
  EXPECT_FALSE(common_name_matches("CP-1 ", "CP-1"));
  EXPECT_FALSE(common_name_matches("CP-10", "CP-1"));
  EXPECT_FALSE(common_name_matches("", ""));
}

ConnectionFacts facts(bool tls, std::optional<std::string> cn = std::nullopt,
                      std::optional<std::string> authorization = std::nullopt) {
  return ConnectionFacts{"CP-1", tls, std::move(cn), std::move(authorization)};
}

using Kind = Verdict::Kind;

TEST(EvaluateConnection, ProfileZeroAndUnknownChargersAreAccepted) {
  EXPECT_EQ(evaluate_connection(std::nullopt, 0, facts(false)).kind, Kind::kAccept);
  EXPECT_EQ(evaluate_connection(ChargerSecurity{0, {}}, 0, facts(true)).kind, Kind::kAccept);
}

TEST(EvaluateConnection, MinimumProfileAppliesToUnknownChargers) {
  auto v = evaluate_connection(std::nullopt, 1, facts(false, {}, basic("CP-1:whatever-password")));
  EXPECT_EQ(v.kind, Kind::kUnauthorized);
  EXPECT_EQ(v.profile, 1);
  EXPECT_EQ(evaluate_connection(std::nullopt, 2, facts(false)).kind, Kind::kForbidden);
}

TEST(EvaluateConnection, ProfileOneNeedsBasicForThisCharger) {
  ChargerSecurity sec{1, "pbkdf2-sha256$..."};
  EXPECT_EQ(evaluate_connection(sec, 0, facts(false)).kind, Kind::kUnauthorized);
  EXPECT_EQ(evaluate_connection(sec, 0, facts(false, {}, "Bearer x")).kind, Kind::kUnauthorized);
  EXPECT_EQ(evaluate_connection(sec, 0, facts(false, {}, basic("CP-2:pw"))).kind, Kind::kUnauthorized);
  auto v = evaluate_connection(sec, 0, facts(false, {}, basic("CP-1:pw")));
  EXPECT_EQ(v.kind, Kind::kCheckPassword);
  EXPECT_EQ(v.credentials->password, "pw");
  EXPECT_EQ(evaluate_connection(sec, 0, facts(true, {}, basic("CP-1:pw"))).kind, Kind::kCheckPassword);
  EXPECT_EQ(evaluate_connection(ChargerSecurity{1, {}}, 0, facts(false, {}, basic("CP-1:pw"))).kind,
            Kind::kUnauthorized);  // no password set
}

TEST(EvaluateConnection, ProfileTwoRefusesPlainWithoutLookingAtThePassword) {
  ChargerSecurity sec{2, "pbkdf2-sha256$..."};
  auto v = evaluate_connection(sec, 0, facts(false, {}, basic("CP-1:pw")));
  EXPECT_EQ(v.kind, Kind::kForbidden);
  EXPECT_NE(v.reason.find("TLS"), std::string::npos);
  EXPECT_EQ(evaluate_connection(sec, 0, facts(true)).kind, Kind::kUnauthorized);
  EXPECT_EQ(evaluate_connection(sec, 0, facts(true, {}, basic("CP-1:pw"))).kind, Kind::kCheckPassword);
}

TEST(EvaluateConnection, ProfileThreeNeedsTlsAndACertificateForThisCharger) {
  ChargerSecurity sec{3, {}};
  EXPECT_EQ(evaluate_connection(sec, 0, facts(false)).kind, Kind::kForbidden);
  EXPECT_EQ(evaluate_connection(sec, 0, facts(true)).kind, Kind::kForbidden);
  EXPECT_EQ(evaluate_connection(sec, 0, facts(true, {}, basic("CP-1:pw"))).kind, Kind::kForbidden);
  EXPECT_EQ(evaluate_connection(sec, 0, facts(true, "CP-2")).kind, Kind::kForbidden);
  EXPECT_EQ(evaluate_connection(sec, 0, facts(true, "CP-1")).kind, Kind::kAccept);
}

TEST(EvaluateConnection, ACertificateForAnotherChargerIsRefusedWhateverTheProfile) {
  for (int profile = 0; profile <= 3; ++profile) {
    auto v = evaluate_connection(ChargerSecurity{profile, "h"}, 0, facts(true, "CP-9", basic("CP-1:pw")));
    EXPECT_EQ(v.kind, Kind::kForbidden) << profile;
  }
}

}  // namespace
}  // namespace genx::security
