// src/shell/read_split.h: read's record reading and splitting, word splitting of expansions,
// the record's bound, and differential tests against bash's read and word splitting.
#include "shell/read_split.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "bash_oracle.h"

namespace wasmcap::shell {
namespace {

ReadRecord record(std::string_view input, ReadRecord::Options o = {}) {
  ReadRecord r(o);
  for (char c : input) {
    auto st = r.feed(c);
    EXPECT_TRUE(st.has_value());
    if (!st || *st == ReadRecord::State::kDone) break;
  }
  return r;
}

using V = std::vector<std::string>;

// Each row checked against bash: IFS=... read a b <<< input.
TEST(ReadSplit, ReadAssignAsBash) {
  struct Case {
    std::optional<std::string> ifs;
    std::string input;
    size_t names;
    V want;
  };
  const Case cases[] = {
      {":", "1:2:", 2, {"1", "2"}},
      {":", "1:2:3:", 2, {"1", "2:3:"}},
      {":", "1:2::", 2, {"1", "2::"}},
      {":", "1:2", 2, {"1", "2"}},
      {":", "1:", 2, {"1", ""}},
      {":", "1:2::", 3, {"1", "2", ""}},
      {" :", "1 : 2 : ", 2, {"1", "2"}},
      {" :", " 1 : 2 :  ", 2, {"1", "2"}},
      {" :", "1 : 2 : 3 : ", 2, {"1", "2 : 3 :"}},
      {":", "1::", 2, {"1", ""}},
      {":", "::", 2, {"", ""}},
      {":", ":", 1, {""}},
      {":", "a:", 1, {"a"}},
      {":", "a:b:", 1, {"a:b:"}},
      {":", "a::", 1, {"a::"}},
      {"x ", "a x b x ", 2, {"a", "b"}},
      {" ", "  a  b  ", 1, {"a  b"}},
      {" ", "  a  b  ", 3, {"a", "b", ""}},
      {"", "  a  b  ", 2, {"  a  b  ", ""}},
      {"x", "xxxxxx", 2, {"", "xxxxx"}},
      {std::nullopt, " \ta \t b\t", 2, {"a", "b"}},
  };
  for (const Case& c : cases) {
    Ifs ifs(c.ifs ? std::optional<std::string_view>(*c.ifs) : std::nullopt);
    EXPECT_EQ(read_assign(c.input, {}, ifs, c.names), c.want) << c.input;
  }
}

TEST(ReadSplit, ReadFieldsAsBash) {
  Ifs colon(":"), space(" "), xs("x ");
  EXPECT_EQ(read_fields("1:2::", {}, colon), (V{"1", "2", ""}));
  EXPECT_EQ(read_fields(":a::b:", {}, colon), (V{"", "a", "", "b"}));
  EXPECT_EQ(read_fields(":", {}, colon), (V{""}));
  EXPECT_EQ(read_fields("", {}, colon), V{});
  EXPECT_EQ(read_fields("  a  b  ", {}, space), (V{"a", "b"}));
  EXPECT_EQ(read_fields("a x b x  ", {}, xs), (V{"a", "b"}));
}

TEST(ReadSplit, BackslashesAndRecords) {
  Ifs space(" ");
  // Without -r: the escaped space is literal, backslash-newline joins lines.
  ReadRecord r = record("a\\ b c\n");
  EXPECT_TRUE(r.saw_delim());
  EXPECT_EQ(read_assign(r, space, 2), (V{"a b", "c"}));
  r = record("a\\\nb c\n");
  EXPECT_EQ(read_assign(r, Ifs(std::nullopt), 2), (V{"ab", "c"}));
  // An escaped IFS character ending a last single field is kept; ending a longer rest it is
  // stripped (bash).
  r = record("a\\ \n");
  EXPECT_EQ(read_assign(r, space, 1), (V{"a "}));
  r = record("x a\\ \n");
  EXPECT_EQ(read_assign(r, space, 2), (V{"x", "a "}));
  r = record("x a b\\ \n");
  EXPECT_EQ(read_assign(r, space, 2), (V{"x", "a b"}));
  // -r keeps backslashes.
  ReadRecord::Options raw;
  raw.raw = true;
  r = record("a\\ b c\n", raw);
  EXPECT_EQ(read_assign(r, space, 2), (V{"a\\", "b c"}));
  // No delimiter before the end of input: read's status 1, the values still assigned.
  r = record("ab\\");
  EXPECT_FALSE(r.saw_delim());
  EXPECT_EQ(r.text(), "ab");
  // -d: another delimiter; newline is then ordinary.
  ReadRecord::Options d;
  d.delim = ':';
  r = record("a\nb:c", d);
  EXPECT_EQ(r.text(), "a\nb");
  // -n counts characters (an escaped one counts once) and splits; -N neither stops at the
  // delimiter nor splits.
  ReadRecord::Options n;
  n.nchars = 4;
  r = record("  ab cd\n", n);
  EXPECT_EQ(read_assign(r, Ifs(std::nullopt), 2), (V{"ab", ""}));
  n.nchars = 2;
  r = record("a\\cb\n", n);
  EXPECT_EQ(r.text(), "ac");
  ReadRecord::Options exact;
  exact.nchars = 4;
  exact.exact = true;
  r = record("a b:c\n", exact);
  EXPECT_EQ(read_assign(r, Ifs(": "), 2), (V{"a b:", ""}));
  exact.nchars = 5;
  r = record("  ab\ncd", exact);
  EXPECT_EQ(r.text(), "  ab\n");
}

TEST(ReadSplit, RecordIsBounded) {
  ReadRecord::Options o;
  o.max_bytes = 8;
  ReadRecord r(o);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(r.feed('a').has_value());
  auto over = r.feed('a');
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code, ErrorCode::kMemoryLimit);
  // The delimiter itself is never stored, so a full record still ends.
  ReadRecord full(o);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(full.feed('a').has_value());
  EXPECT_EQ(*full.feed('\n'), ReadRecord::State::kDone);
  // An escaped byte counts too.
  ReadRecord esc(o);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(esc.feed('a').has_value());
  ASSERT_TRUE(esc.feed('\\').has_value());
  EXPECT_FALSE(esc.feed('b').has_value());
}

std::vector<std::string> fields(const std::vector<SplitSegment>& segs, const Ifs& ifs) {
  std::vector<std::string> out;
  for (const SplitField& f : split_word(segs, ifs)) {
    std::string s;
    for (const FieldPiece& p : f) s += segs[p.segment].text.substr(p.begin, p.end - p.begin);
    out.push_back(s);
  }
  return out;
}

// Each row checked against bash: set -- <word>; the fields.
TEST(ReadSplit, WordSplittingAsBash) {
  Ifs dflt(std::nullopt), colon(":"), mixed(" :"), none("");
  EXPECT_EQ(split_text("  a  b  ", dflt), (V{"a", "b"}));
  EXPECT_EQ(split_text("a:", colon), (V{"a"}));
  EXPECT_EQ(split_text(":a", colon), (V{"", "a"}));
  EXPECT_EQ(split_text("a::b", colon), (V{"a", "", "b"}));
  EXPECT_EQ(split_text(":", colon), (V{""}));
  EXPECT_EQ(split_text("", colon), V{});
  EXPECT_EQ(split_text(" : a : ", mixed), (V{"", "a"}));
  EXPECT_EQ(split_text("a : b", mixed), (V{"a", "b"}));
  EXPECT_EQ(split_text("a :: b", mixed), (V{"a", "", "b"}));
  EXPECT_EQ(split_text("  a  b  ", none), (V{"  a  b  "}));
  EXPECT_EQ(split_text("", none), V{});
  // Quoted parts never split and make a field exist: ""$x, "["$x"]".
  EXPECT_EQ(fields({{"", false}, {" x", true}}, dflt), (V{"", "x"}));
  EXPECT_EQ(fields({{"[", false}, {" x ", true}, {"]", false}}, dflt), (V{"[", "x", "]"}));
  EXPECT_EQ(fields({{"a b", false}}, dflt), (V{"a b"}));
  EXPECT_EQ(fields({{"", true}}, dflt), V{});
  EXPECT_EQ(fields({{"", false}}, dflt), (V{""}));
  // A delimiter across two expansions: $a$b with a="x " b=" :y".
  EXPECT_EQ(fields({{"x ", true}, {" :y", true}}, mixed), (V{"x", "y"}));
  EXPECT_EQ(fields({{"x:", true}, {":y", true}}, colon), (V{"x", "", "y"}));
}

// Differential: random IFS values and lines, against bash's read (with and without -r, -a) and
// word splitting (set -- $s).
TEST(ReadSplit, DifferentialAgainstBash) {
  if (!testing::have_bash()) GTEST_SKIP() << "no " << testing::kBashPath;
  const std::optional<std::string> ifss[] = {std::nullopt, " ", ":", " :", "x ", "", " \t", ":,",
                                             "\\", "\\ "};
  const char alphabet[] = {'a', 'b', ' ', ' ', ':', 'x', ',', '\\', '\t'};
  std::mt19937 rng(30);
  struct Item {
    std::optional<std::string> ifs;
    std::string s;
  };
  std::vector<Item> items;
  std::ostringstream script;
  script << "set -f\n";
  for (int n = 0; n < 1500; ++n) {
    Item it;
    it.ifs = ifss[rng() % std::size(ifss)];
    int len = static_cast<int>(rng() % 9);
    for (int k = 0; k < len; ++k) it.s += alphabet[rng() % std::size(alphabet)];
    script << "s=" << testing::bash_quote(it.s) << "; "
           << (it.ifs ? "IFS=" + testing::bash_quote(*it.ifs) : std::string("unset IFS")) << "\n"
           << "read -r a b c <<< \"$s\"; printf '<%s>' \"$a\" \"$b\" \"$c\"; echo\n"
           << "read a b <<< \"$s\"; printf '<%s>' \"$a\" \"$b\"; echo\n"
           << "read -ra arr <<< \"$s\"; printf '<%s>' \"${arr[@]}\"; echo \"${#arr[@]}\"\n"
           << "set -- $s; printf '<%s>' \"$@\"; echo \"$#\"\n";
    items.push_back(it);
  }
  auto out = testing::run_bash(script.str());
  ASSERT_TRUE(out.has_value());
  std::istringstream lines(*out);
  int mismatches = 0;
  auto show = [](const V& v, bool count) {
    std::string s;
    for (const auto& x : v) s += "<" + x + ">";
    if (count) s += std::to_string(v.size());
    return s;
  };
  for (const Item& it : items) {
    std::string want[4];
    for (auto& w : want) ASSERT_TRUE(std::getline(lines, w));
    Ifs ifs(it.ifs ? std::optional<std::string_view>(*it.ifs) : std::nullopt);
    ReadRecord::Options raw;
    raw.raw = true;
    ReadRecord rr = record(it.s + "\n", raw);
    ReadRecord cooked = record(it.s + "\n");
    V arr = read_fields(rr, ifs);
    std::string got[4] = {show(read_assign(rr, ifs, 3), false),
                          show(read_assign(cooked, ifs, 2), false),
                          (arr.empty() ? std::string("<>") : show(arr, false)) +
                              std::to_string(arr.size()),
                          show(split_text(it.s, ifs), false)};
    V words = split_text(it.s, ifs);
    got[3] = (words.empty() ? std::string("<>") : show(words, false)) + std::to_string(words.size());
    for (int k = 0; k < 4; ++k) {
      if (got[k] != want[k] && ++mismatches <= 20) {
        ADD_FAILURE() << "IFS=" << (it.ifs ? testing::bash_quote(*it.ifs) : "<unset>")
                      << " s=" << testing::bash_quote(it.s) << " form " << k
                      << "\n  bash: " << want[k] << "\n  ours: " << got[k];
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace wasmcap::shell
