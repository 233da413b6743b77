// URL decoding and query strings, as the api and the notifier read them.
#include <gtest/gtest.h>

#include "util/url.hpp"

using genx::util::parse_query;
using genx::util::url_decode;

TEST(Url, PercentEscapesAndPlusAreDecoded) {
  EXPECT_EQ(url_decode("CP%2F1+x"), "CP/1 x");
  EXPECT_EQ(url_decode("a%3db%3D"), "a=b=");
  EXPECT_EQ(url_decode("plain-ID_1"), "plain-ID_1");
  EXPECT_EQ(url_decode(""), "");
}

TEST(Url, AnIncompleteOrBadEscapeStaysAsIs) {
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%4"), "%4");
  EXPECT_EQ(url_decode("%zz1"), "%zz1");
  EXPECT_EQ(url_decode("%4g"), "%4g");
}

TEST(Url, QueryStringsArePercentDecoded) {
  auto q = parse_query("EIO=4&transport=polling&t=OxA1&chargerId=CP%2F1+x&token=a%3Db");
  EXPECT_EQ(q["EIO"], "4");
  EXPECT_EQ(q["transport"], "polling");
  EXPECT_EQ(q["chargerId"], "CP/1 x");
  EXPECT_EQ(q["token"], "a=b");
  EXPECT_TRUE(parse_query("").empty());
}

TEST(Url, QueryLastValueWinsAndEmptyKeysAreIgnored) {
  auto q = parse_query("limit=5&limit=10&=x&flag&&a=");
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q["limit"], "10");
  EXPECT_EQ(q["flag"], "");
  EXPECT_EQ(q["a"], "");
}
