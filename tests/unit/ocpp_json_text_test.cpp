// json_text writes what nlohmann::json::dump() writes, byte for byte.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "ocpp/frame.hpp"
#include "ocpp/json_text.hpp"

namespace genx::ocpp {
namespace {

using nlohmann::json;

void expect_same_as_dump(const json& value) {
  EXPECT_EQ(json_text(value), value.dump()) << value.dump();
  EXPECT_EQ(json_text(value, true), value.dump(-1, ' ', false, json::error_handler_t::replace));
}

TEST(JsonText, WritesWhatDumpWrites) {
  expect_same_as_dump(json());
  expect_same_as_dump(json::object());
  expect_same_as_dump(json::array());
  expect_same_as_dump(json{{"b", 1}, {"a", {1, 2, json::array(), json::object()}}, {"c", nullptr}});
  expect_same_as_dump(json{{"t", true}, {"f", false}, {"zero", 0}, {"neg", -42}});
  expect_same_as_dump(json(std::numeric_limits<std::int64_t>::min()));
  expect_same_as_dump(json(std::numeric_limits<std::int64_t>::max()));
  expect_same_as_dump(json(std::numeric_limits<std::uint64_t>::max()));
  for (double d : {0.0, -0.0, 1.0, 0.1, 1e300, -2.5e-7, 1234.5678, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN()}) {
    expect_same_as_dump(json(d));
  }
  expect_same_as_dump(json::parse(R"({"energyWh": 1500.0, "powerW": 7400.5, "soc": 80})"));
  expect_same_as_dump(json("plain text with spaces / and ~ \x7f"));
  expect_same_as_dump(json("quote \" backslash \\ controls \b\f\n\r\t \x01 \x1f"));
  expect_same_as_dump(json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x8c"));
  expect_same_as_dump(json{{"k\xc3\xa9y \"quoted\"", "v"}, {"\n", 1}});
  expect_same_as_dump(json::parse(R"([3,"u1",{"idTagInfo":{"status":"Accepted","expiryDate":null}}])"));
}

TEST(JsonText, InvalidUtf8IsRejectedOrReplacedAsDumpDoes) {
  const json bad = {{"text", "a\xff" "b"}};
  EXPECT_THROW(json_text(bad), json::type_error);
  EXPECT_EQ(json_text(bad, true), bad.dump(-1, ' ', false, json::error_handler_t::replace));
}

// Random documents of strings (ASCII, escapes, UTF-8), numbers and nesting.
json random_value(std::mt19937& rng, int depth) {
  std::uniform_int_distribution<int> kind(0, depth > 3 ? 5 : 7);
  static const char* const kPieces[] = {"a",  "Z", " ", "\"", "\\", "/",  "\n", "\t", "\x01",
                                        "\x7f", "\xc3\xa9", "\xe2\x82\xac", "0", "{", "]"};
  auto text = [&] {
    std::string s;
    const int n = std::uniform_int_distribution<int>(0, 8)(rng);
    for (int i = 0; i < n; ++i) s += kPieces[std::uniform_int_distribution<int>(0, 14)(rng)];
    return s;
  };
  switch (kind(rng)) {
    case 0: return nullptr;
    case 1: return std::uniform_int_distribution<int>(0, 1)(rng) == 1;
    case 2: return std::uniform_int_distribution<std::int64_t>(std::numeric_limits<std::int64_t>::min(),
                                                                std::numeric_limits<std::int64_t>::max())(rng);
    case 3: return std::uniform_real_distribution<double>(-1e6, 1e6)(rng);
    case 4: return std::uniform_int_distribution<std::uint64_t>()(rng);
    case 5: return text();
    case 6: {
      json a = json::array();
      const int n = std::uniform_int_distribution<int>(0, 4)(rng);
      for (int i = 0; i < n; ++i) a.push_back(random_value(rng, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      const int n = std::uniform_int_distribution<int>(0, 4)(rng);
      for (int i = 0; i < n; ++i) o[text()] = random_value(rng, depth + 1);
      return o;
    }
  }
}

TEST(JsonText, RandomDocumentsMatchDump) {
  std::mt19937 rng(15);
  for (int i = 0; i < 2000; ++i) expect_same_as_dump(random_value(rng, 0));
}

// Frames are written piece by piece: the same text as dump() of the frame array.
TEST(JsonText, FramesAreWhatDumpOfTheFrameArrayWrites) {
  auto dump = [](const json& frame) { return frame.dump(-1, ' ', false, json::error_handler_t::replace); };
  const json payload = {{"idTag", "caf\xc3\xa9 \xff"}, {"meterStart", 0}, {"q", "\"x\""}};
  EXPECT_EQ(serialize(Call{"u-1", "Authorize", payload}), dump(json::array({2, "u-1", "Authorize", payload})));
  EXPECT_EQ(serialize(Call{"u-1", "Heartbeat", json()}), dump(json::array({2, "u-1", "Heartbeat", json::object()})));
  EXPECT_EQ(serialize(CallResult{"u\n2", payload}), dump(json::array({3, "u\n2", payload})));
  EXPECT_EQ(serialize(CallResult{"u-2", json()}), dump(json::array({3, "u-2", json::object()})));
  EXPECT_EQ(serialize(CallResult{"u-2", json::array({1})}), dump(json::array({3, "u-2", json::array({1})})));
  CallError error{"u-3", ErrorCode::kProtocolError, "no \xff description", {{"a", 1}}};
  EXPECT_EQ(serialize(error), dump(json::array({4, "u-3", "ProtocolError", "no \xff description", {{"a", 1}}})));
  error.details = json::array();
  error.about_result = true;
  EXPECT_EQ(serialize(error), dump(json::array({5, "u-3", "ProtocolError", "no \xff description", json::object()})));
}

}  // namespace
}  // namespace genx::ocpp
