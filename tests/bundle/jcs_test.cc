// RFC 8785 canonical JSON: key order by UTF-16 code units, minimal string escaping, ECMAScript
// number forms, refusal of what has no canonical form.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "bundle/jcs.h"

namespace wasmcap::bundle {
namespace {

using Json = nlohmann::json;

std::string jcs(const std::string& text) {
  auto r = canonicalize(Json::parse(text));
  EXPECT_TRUE(r.has_value()) << text << ": " << r.error().to_string();
  return r ? *r : "";
}

std::string num(double d) {
  auto r = format_number(d);
  EXPECT_TRUE(r.has_value()) << d;
  return r ? *r : "";
}

TEST(Jcs, KeysSortedAndWhitespaceRemoved) {
  EXPECT_EQ(jcs(R"({ "b": 1, "a": [ 2, { "d": true, "c": null } ], "A": "x" })"),
            R"({"A":"x","a":[2,{"c":null,"d":true}],"b":1})");
}

TEST(Jcs, Rfc8785SortingExample) {
  // RFC 8785 §3.2.3: UTF-16 code unit order puts the surrogate pair (U+1F600) before U+FB33,
  // where UTF-8 byte order (nlohmann's own) would put it after.
  std::string in = R"({"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew",)"
                   R"("1":"One","\ud83d\ude00":"Emoji","\u0080":"Control","\u00f6":"o"})";
  std::string want = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
                     "\"\xc3\xb6\":\"o\",\"\xe2\x82\xac\":\"Euro Sign\","
                     "\"\xf0\x9f\x98\x80\":\"Emoji\",\"\xef\xac\xb3\":\"Hebrew\"}";
  EXPECT_EQ(jcs(in), want);
}

TEST(Jcs, SupplementaryKeySortsBeforePrivateUse) {
  EXPECT_EQ(jcs(R"({"\ue000":1,"\ud83d\ude00":2})"),
            "{\"\xf0\x9f\x98\x80\":2,\"\xee\x80\x80\":1}");
}

TEST(Jcs, StringEscapes) {
  EXPECT_EQ(jcs(R"("\u000f\u001f\b\f\n\r\t\"\\\/\u007f")"),
            "\"\\u000f\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\x7f\"");
  // Non-ASCII is never escaped.
  EXPECT_EQ(jcs(R"("\u00e9\u20ac\ud83d\ude00")"), "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
  EXPECT_EQ(jcs(R"("\u0000")"), "\"\\u0000\"");
}

TEST(Jcs, NumberForms) {
  EXPECT_EQ(jcs("1.0"), "1");
  EXPECT_EQ(jcs("-0.0"), "0");
  EXPECT_EQ(num(-0.0), "0");
  EXPECT_EQ(jcs("1e21"), "1e+21");
  EXPECT_EQ(jcs("1e20"), "100000000000000000000");
  EXPECT_EQ(jcs("0.000001"), "0.000001");
  EXPECT_EQ(jcs("1e-7"), "1e-7");
  EXPECT_EQ(jcs("4.50"), "4.5");
  EXPECT_EQ(jcs("2e-3"), "0.002");
  EXPECT_EQ(jcs("1E30"), "1e+30");
  EXPECT_EQ(jcs("0.000000000000000000000000001"), "1e-27");
  EXPECT_EQ(jcs("333333333.33333329"), "333333333.3333333");
  EXPECT_EQ(jcs("-1.5e-10"), "-1.5e-10");
  EXPECT_EQ(jcs("123.456"), "123.456");
  EXPECT_EQ(num(5e-324), "5e-324");
  EXPECT_EQ(num(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(num(9007199254740992.0), "9007199254740992");
}

TEST(Jcs, IntegersExact) {
  EXPECT_EQ(jcs("[0, -1, 42, 9007199254740992, -9007199254740992]"),
            "[0,-1,42,9007199254740992,-9007199254740992]");
}

TEST(Jcs, IntegersBeyond2To53AreRefused) {
  for (const char* text : {"9007199254740993", "-9007199254740993", "18446744073709551615"}) {
    auto r = canonicalize(Json::parse(text));
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find("2^53"), std::string::npos);
  }
}

TEST(Jcs, NonFiniteRefused) {
  for (double d : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity()}) {
    EXPECT_FALSE(format_number(d).has_value());
    auto r = canonicalize(Json::array({1, d}));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(Jcs, InvalidUtf8Refused) {
  for (const char* bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80"}) {
    EXPECT_FALSE(canonicalize(Json(std::string(bad))).has_value()) << "value";
    Json obj = Json::object();
    obj[std::string(bad)] = 1;
    EXPECT_FALSE(canonicalize(obj).has_value()) << "key";
  }
}

TEST(Jcs, NestedStructures) {
  EXPECT_EQ(jcs(R"([[], {}, [[1.50, {"z": [], "y": {"b": 2e0, "a": -0}}]], "s"])"),
            R"([[],{},[[1.5,{"y":{"a":0,"b":2},"z":[]}]],"s"])");
}

TEST(Jcs, Rfc8785NumbersArray) {
  // RFC 8785 §3.2.2.3's example, as one document.
  EXPECT_EQ(jcs("[333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001]"),
            "[333333333.3333333,1e+30,4.5,0.002,1e-27]");
}

TEST(Jcs, MoreNumberForms) {
  EXPECT_EQ(jcs("1e-6"), "0.000001");
  EXPECT_EQ(jcs("-1e-7"), "-1e-7");
  EXPECT_EQ(jcs("1.5e300"), "1.5e+300");
  EXPECT_EQ(jcs("0.1"), "0.1");
  EXPECT_EQ(jcs("0.1e1"), "1");
  EXPECT_EQ(jcs("1e2"), "100");
  EXPECT_EQ(jcs("0.0"), "0");
  EXPECT_EQ(jcs("-5e-324"), "-5e-324");
  EXPECT_EQ(jcs("1.2345678901234567e16"), "12345678901234568");
  EXPECT_EQ(jcs("123456789012345680000.0"), "123456789012345680000");
  EXPECT_EQ(jcs("0.3333333333333333"), "0.3333333333333333");
}

TEST(Jcs, MoreStringForms) {
  // U+2028/U+2029 are literal in JCS (JSON allows them; only C0 controls are escaped).
  EXPECT_EQ(jcs(R"("\u2028\u2029")"), "\"\xe2\x80\xa8\xe2\x80\xa9\"");
  // Escapes are normalized: uppercase hex in, lowercase out; "\/" is just "/".
  EXPECT_EQ(jcs(R"("\u001F\/\u0041")"), "\"\\u001f/A\"");
  // A surrogate pair written as escapes is one UTF-8 character.
  EXPECT_EQ(jcs(R"("\uD834\uDD1E")"), "\"\xf0\x9d\x84\x9e\"");
}

TEST(Jcs, AsciiKeyOrder) {
  EXPECT_EQ(jcs(R"({"b":0,"aa":0,"a":0,"_":0,"A":0,"1":0,"":0})"),
            R"({"":0,"1":0,"A":0,"_":0,"a":0,"aa":0,"b":0})");
}

}  // namespace
}  // namespace wasmcap::bundle
