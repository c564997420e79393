// The output bound counted in JSON (src/mcp/output_budget.h), checked against the JSON writer
// the server sends results with.
#include "mcp/output_budget.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <string>

namespace wasmcap::mcp {
namespace {

// What the server's writer makes of `s` between the quotes (ensure_ascii off, invalid UTF-8
// replaced by U+FFFD), as results are written (protocol.cc, tools.cc).
std::string written(const std::string& s) {
  std::string d = nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return d.substr(1, d.size() - 2);
}

TEST(OutputBudget, SizesAreTheWritersOwn) {
  for (const std::string& s : {std::string(""), std::string("plain text"), std::string("\x1b[31mred\x1b[0m"),
                               std::string("\"q\" \\ \b\f\n\r\t \x7f"), std::string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                               std::string("\xc0\xaf \xe0\x80\x80 \xed\xa0\x80 \xf4\x90\x80\x80 \xff \x80"),
                               std::string("\xe2\x82"), std::string("\xf0\x9f\x98"), std::string("\xe2\x82x"),
                               std::string(1, '\0')}) {
    EXPECT_EQ(json_text_size(s), written(s).size()) << nlohmann::json(written(s)).dump();
  }
  // Random bytes, biased to the interesting ones (controls, UTF-8 leads and continuations).
  std::mt19937 rng(20261128);
  const unsigned char alphabet[] = {0x00, 0x01, 0x08, 0x0a, 0x1f, 0x20, 0x22, 0x41, 0x5c, 0x7f,
                                    0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0,
                                    0xe1, 0xed, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff};
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 12, '\0');
    for (auto& c : s) c = static_cast<char>(alphabet[rng() % sizeof alphabet]);
    ASSERT_EQ(json_text_size(s), written(s).size()) << nlohmann::json(written(s)).dump();
  }
}

TEST(OutputBudget, CutsWhereTheNextCharacterWouldNotFit) {
  std::mt19937 rng(7);
  for (int round = 0; round < 5000; ++round) {
    std::string s;
    for (int i = rng() % 40; i > 0; --i) {
      switch (rng() % 5) {
        case 0: s += "\x01"; break;               // 6 as JSON
        case 1: s += "\n"; break;                 // 2
        case 2: s += "\xe2\x82\xac"; break;       // 3, one character
        case 3: s += "\xff"; break;               // 3 (replaced)
        default: s += "a"; break;                 // 1
      }
    }
    const std::string whole = s;
    uint64_t budget = rng() % 80;
    const uint64_t given = budget;
    bool cut = cut_to_json_budget(s, budget);
    SCOPED_TRACE(nlohmann::json(written(whole)).dump() + " budget " + std::to_string(given));
    ASSERT_EQ(whole.compare(0, s.size(), s), 0) << "a prefix";
    EXPECT_LE(json_text_size(s), given);
    EXPECT_EQ(cut, s.size() < whole.size());
    if (cut) {
      EXPECT_EQ(budget, 0u);
      EXPECT_EQ(written(s), written(whole).substr(0, written(s).size())) << "cut inside a character";
      // Maximal: a longer prefix kept with a larger budget (a character takes at most 6) never
      // fits the budget given.
      for (uint64_t more = given; more <= given + 6; ++more) {
        std::string t = whole;
        uint64_t b = more;
        cut_to_json_budget(t, b);
        if (t.size() > s.size()) {
          EXPECT_GT(json_text_size(t), given) << "budget " << more;
        }
      }
    } else {
      EXPECT_EQ(budget, given - json_text_size(whole));
    }
  }
  // Texts sharing one bound: the first takes what it needs, the second the rest.
  uint64_t budget = 10;
  std::string a = "\x01", b = "0123456789";
  EXPECT_FALSE(cut_to_json_budget(a, budget));
  EXPECT_TRUE(cut_to_json_budget(b, budget));
  EXPECT_EQ(b, "0123");
}

}  // namespace
}  // namespace wasmcap::mcp
