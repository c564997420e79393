// The one JSON decoder (src/common/json.h): its bounds (size, nesting depth, duplicate keys),
// that a value at the bound can be copied, compared and serialised, that a value over it never
// exists (a 1,000,000-level document is refused, not built), and that no other parse of JSON
// text exists in src/ (the guard below).
#include "common/json.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "test_paths.h"

namespace wasmcap::json {
namespace {

// An array nested `n` deep: "[[[]]]" for 3.
std::string nest(size_t n) { return std::string(n, '[') + std::string(n, ']'); }

TEST(Json, DepthBoundHoldsWhileParsing) {
  const Limits limits{1 << 24, 10};
  auto ok = parse(nest(10), limits);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(depth(*ok), 10u);
  auto deep = parse(nest(11), limits);
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().kind, ParseError::Kind::kTooDeep);
  EXPECT_EQ(deep.error().path, "$[0][0][0][0][0][0][0][0][0][0]");
  EXPECT_EQ(deep.error().message, "nested deeper than 10 levels");
  // The path names members too, escaped.
  auto member = parse(R"({"a":{"b c":[1,[[]]]}})", Limits{1 << 20, 4});
  ASSERT_FALSE(member);
  EXPECT_EQ(member.error().path, R"($.a["b c"][1][0])");
  // Objects count like arrays; scalars do not.
  EXPECT_TRUE(parse(R"({"a":{"b":"[[[[[[[[[[[["}})", Limits{1 << 20, 2}));
  EXPECT_FALSE(parse(R"({"a":{"b":{}}})", Limits{1 << 20, 2}));
  EXPECT_EQ(depth(Json(1)), 0u);
}

// The attack of issue #28: 400,000 levels in 800 KB. Refused at the bound, with no value built
// beyond it (the old path parsed it whole and crashed copying it).
TEST(Json, MillionLevelsAreRefusedNotBuilt) {
  auto r = parse("{\"a\":" + nest(1000000) + "}", Limits{1 << 24, kMaxDepth});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ParseError::Kind::kTooDeep);
  // The path is cut for messages.
  EXPECT_LT(r.error().to_string().size(), 300u);
  EXPECT_NE(r.error().to_string().find("nested deeper than 64 levels"), std::string::npos);
}

// A value at the bound is safe to copy, compare and serialise (each recursive in nlohmann), and
// re-reads within the same bound.
TEST(Json, ValuesAtTheBoundCopyAndSerialise) {
  auto v = parse("{\"a\":" + nest(kMaxDepth - 1) + "}", Limits{1 << 20, kMaxDepth});
  ASSERT_TRUE(v);
  Json copy = *v;
  EXPECT_EQ(copy, *v);
  std::string text = dump(copy);
  auto again = parse(text, Limits{text.size(), kMaxDepth});
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *v);
  EXPECT_EQ(depth(*again), kMaxDepth);
}

TEST(Json, SizeBound) {
  auto r = parse("[1, 2, 3]", Limits{8, 4});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ParseError::Kind::kTooLarge);
  EXPECT_EQ(r.error().to_string(), "$: document is 9 bytes; the limit is 8");
  EXPECT_TRUE(parse("[1, 2, 3]", Limits{9, 4}));
}

TEST(Json, DuplicateKeysRefusedWhenAsked) {
  std::string text = R"({"a": {"k": 1, "k": 2}})";
  auto strict = parse(text, Limits{1 << 10, 4, true});
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().kind, ParseError::Kind::kDuplicateKey);
  EXPECT_EQ(strict.error().to_string(), "$.a.k: duplicate key");
  auto loose = parse(text, Limits{1 << 10, 4});
  ASSERT_TRUE(loose);
  EXPECT_EQ((*loose)["a"]["k"], 2);
}

// Syntax errors say where, never echo the document's bytes.
TEST(Json, SyntaxErrorsNameThePlaceNotTheBytes) {
  auto r = parse("{\n  \"a\": tru\x1b[2Je }", Limits{1 << 10, 4});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ParseError::Kind::kSyntax);
  EXPECT_EQ(r.error().message.rfind("malformed JSON at line 2, column ", 0), 0u) << r.error().message;
  EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos);
  EXPECT_FALSE(parse("", Limits{1 << 10, 4}));
  EXPECT_FALSE(parse("[1] [2]", Limits{1 << 10, 4}));  // one value only
  auto as_result = parse("[", Limits{1 << 10, 4}, ErrorCode::kConfigInvalid, "c.json");
  ASSERT_FALSE(as_result);
  EXPECT_EQ(as_result.error().code, ErrorCode::kConfigInvalid);
  EXPECT_EQ(as_result.error().message.rfind("c.json: $: malformed JSON at line 1", 0), 0u)
      << as_result.error().message;
}

// The guard: every parse of JSON text in src/ goes through json::parse. Any other
// `X::parse(` (nlohmann's, through whatever alias: Json::parse, OJson::parse,
// nlohmann::json::parse, basic_json<...>::parse), sax_parse, accept, the binary formats, the
// "..."_json literal, or an alias that would make `json::parse` mean nlohmann's, anywhere else
// fails here with the file and line. A parse function of something that is not JSON gets a
// name of its own, or an exception in this test.
TEST(Json, NoRawParseOutsideTheDecoder) {
  namespace fs = std::filesystem;
  const std::string entry = R"((parse|sax_parse|accept|from_cbor|from_msgpack|from_bson|from_ubjson|from_bjdata)\s*[(<])";
  const std::regex raw(
      R"(\b(?!json\b|Doc\b)\w+\s*::\s*)" + entry +  // not the decoder, not policy::Doc::parse
      R"(|nlohmann\s*::\s*\w+\s*::\s*)" + entry +   // nlohmann::json::parse
      R"(|>\s*::\s*)" + entry +                         // basic_json<...>::parse
      R"(|"_json\b|using\s+json\s*=|namespace\s+json\s*=)");
  fs::path src = fs::path(test_paths::source_dir()) / "src";
  size_t files = 0;
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(src)) {
    std::string ext = e.path().extension().string();
    if (!e.is_regular_file() || (ext != ".cc" && ext != ".h" && ext != ".cpp")) continue;
    if (e.path() == src / "common" / "json.cc") continue;
    ++files;
    std::ifstream in(e.path());
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
      if (std::regex_search(line, raw)) {
        found.push_back(fs::relative(e.path(), src).string() + ":" + std::to_string(n) + ": " + line);
      }
    }
  }
  EXPECT_GT(files, 50u);  // the walk saw the tree
  for (const auto& f : found) ADD_FAILURE() << "raw JSON parse outside src/common/json.cc: " << f;
}

}  // namespace
}  // namespace wasmcap::json
