// Component values as JSON (src/component/json_val.h): every WIT type in both directions (a value
// converted to JSON and back is the same value), every error with its JSON path, the bounds, and
// hostile inputs. The JSON Schema of each type is checked against json_to_val on sample values:
// the schema accepts a sample exactly when json_to_val does (a small validator of the keywords
// json_schema emits, below). Types are built directly as Decoded; the export lookup
// (exported_func_type) on a decoded component from component_writer.h.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "component/component.h"
#include "component/json_val.h"
#include "component_writer.h"
#include "value_types.h"

namespace wasmcap::component {
namespace {

using Json = nlohmann::json;

using testing::prim;
using testing::Types;

// ---- A validator of the JSON Schema keywords json_schema emits (2020-12 semantics) ----

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool has_type(const Json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "number") return v.is_number();
  if (t == "integer") {
    if (v.is_number_integer()) return true;
    if (v.is_number_float()) return std::isfinite(v.get<double>()) && std::floor(v.get<double>()) == v.get<double>();
  }
  return false;
}

// JSON Schema compares numbers by value (1 == 1.0).
bool json_equal(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

bool valid(const Json& s, const Json& v) {
  if (s.is_boolean()) return s.get<bool>();
  static const std::set<std::string> known = {"$schema", "type", "enum", "const", "properties", "required",
                                              "additionalProperties", "items", "prefixItems", "minItems",
                                              "maxItems", "anyOf", "oneOf", "pattern", "minimum", "maximum",
                                              "exclusiveMinimum", "exclusiveMaximum",
                                              "minLength", "maxLength", "uniqueItems", "contentEncoding"};
  for (auto it = s.begin(); it != s.end(); ++it) {
    EXPECT_TRUE(known.count(it.key())) << "keyword the test's validator does not know: " << it.key();
  }
  if (s.contains("type") && !has_type(v, s["type"])) return false;
  if (s.contains("enum")) {
    bool any = false;
    for (const Json& e : s["enum"]) any = any || json_equal(e, v);
    if (!any) return false;
  }
  if (s.contains("const") && !json_equal(s["const"], v)) return false;
  if (v.is_number()) {
    if (s.contains("minimum") && v.get<double>() < s["minimum"].get<double>()) return false;
    if (s.contains("maximum") && v.get<double>() > s["maximum"].get<double>()) return false;
    if (s.contains("exclusiveMinimum") && v.get<double>() <= s["exclusiveMinimum"].get<double>()) return false;
    if (s.contains("exclusiveMaximum") && v.get<double>() >= s["exclusiveMaximum"].get<double>()) return false;
    // Integers beyond 2^53 compared exactly where both sides are integers (validators in
    // JavaScript would round; json_to_val refuses them for s64/u64 anyway).
    if (s.contains("maximum") && v.is_number_unsigned() && s["maximum"].is_number_integer() &&
        v.get<uint64_t>() > s["maximum"].get<uint64_t>()) {
      return false;
    }
  }
  if (v.is_string()) {
    const std::string& str = v.get_ref<const std::string&>();
    if (s.contains("minLength") && code_points(str) < s["minLength"].get<size_t>()) return false;
    if (s.contains("maxLength") && code_points(str) > s["maxLength"].get<size_t>()) return false;
    if (s.contains("pattern") && !std::regex_search(str, std::regex(s["pattern"].get<std::string>()))) return false;
  }
  if (v.is_array()) {
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return false;
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return false;
    size_t prefix = 0;
    if (s.contains("prefixItems")) {
      prefix = s["prefixItems"].size();
      for (size_t i = 0; i < prefix && i < v.size(); ++i) {
        if (!valid(s["prefixItems"][i], v[i])) return false;
      }
    }
    if (s.contains("items")) {
      for (size_t i = prefix; i < v.size(); ++i) {
        if (!valid(s["items"], v[i])) return false;
      }
    }
    if (s.value("uniqueItems", false)) {
      for (size_t i = 0; i < v.size(); ++i) {
        for (size_t k = i + 1; k < v.size(); ++k) {
          if (json_equal(v[i], v[k])) return false;
        }
      }
    }
  }
  if (v.is_object()) {
    if (s.contains("required")) {
      for (const Json& r : s["required"]) {
        if (!v.contains(r.get<std::string>())) return false;
      }
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (s.contains("properties") && s["properties"].contains(it.key())) {
        if (!valid(s["properties"][it.key()], it.value())) return false;
      } else if (s.contains("additionalProperties") && !valid(s["additionalProperties"], it.value())) {
        return false;
      }
    }
  }
  if (s.contains("anyOf")) {
    bool any = false;
    for (const Json& sub : s["anyOf"]) any = any || valid(sub, v);
    if (!any) return false;
  }
  if (s.contains("oneOf")) {
    int n = 0;
    for (const Json& sub : s["oneOf"]) n += valid(sub, v);
    if (n != 1) return false;
  }
  return true;
}

// Every (schema, sample, accepted by json_to_val) checked here, written as a JSON array to the file
// WASMCAP_JSON_VAL_SAMPLES names when set: json_schema_ajv.sh has a real 2020-12 validator (npm's
// ajv) check the same agreement.
Json& samples_seen() {
  static Json all = Json::array();
  return all;
}
class SamplesDump : public ::testing::Environment {
 public:
  void TearDown() override {
    const char* path = std::getenv("WASMCAP_JSON_VAL_SAMPLES");
    if (path == nullptr) return;
    std::ofstream f(path);
    f << samples_seen().dump();
  }
};
const auto* const kSamplesDump = ::testing::AddGlobalTestEnvironment(new SamplesDump);

// For each sample: the schema accepts it exactly when json_to_val does; an accepted one converts
// back to JSON and again to the same value.
void check_samples(const Decoded& d, ValType t, const std::vector<Json>& samples, size_t expect_accepted) {
  const Json schema = json_schema(d, t);
  size_t accepted = 0;
  for (const Json& j : samples) {
    auto v = json_to_val(d, t, j);
    samples_seen().push_back(Json{{"schema", schema}, {"value", j}, {"accepted", v.has_value()}});
    EXPECT_EQ(valid(schema, j), v.has_value())
        << "sample " << j.dump() << ": schema " << schema.dump() << "; json_to_val: "
        << (v ? v->to_string() : v.error().message);
    if (!v) {
      EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument) << v.error().message;
      EXPECT_EQ(v.error().message.rfind("$", 0), 0u) << v.error().message;
      continue;
    }
    ++accepted;
    auto back = val_to_json(d, t, *v);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_TRUE(valid(schema, *back)) << back->dump() << " against " << schema.dump();
    auto again = json_to_val(d, t, *back);
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_EQ(*again, *v) << j.dump() << " -> " << back->dump();
  }
  EXPECT_EQ(accepted, expect_accepted) << schema.dump();
}

// The error of converting `j` to `t`: invalid_argument, its message as given.
std::string error_of(const Decoded& d, ValType t, const Json& j, const JsonValOptions& o = {}) {
  auto v = json_to_val(d, t, j, o);
  if (v) return "accepted: " + v->to_string();
  EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
  return v.error().message;
}

Json parse(const std::string& text) { return Json::parse(text); }

TEST(JsonVal, BoolAndIntegers) {
  Types ty;
  Decoded& d = ty.d;
  check_samples(d, prim(Prim::kBool), {true, false, 0, "true", nullptr}, 2);
  check_samples(d, prim(Prim::kU8), {0, 255, 256, -1, 1.0, 1.5, parse("1e2"), parse("-0"), parse("-0.0"), "1"}, 6);
  check_samples(d, prim(Prim::kS8), {-128, 127, 128, -129, "0"}, 2);
  check_samples(d, prim(Prim::kU16), {65535, 65536}, 1);
  check_samples(d, prim(Prim::kS16), {-32768, 32767, -32769}, 2);
  check_samples(d, prim(Prim::kU32), {4294967295u, 4294967296ull, -1}, 1);
  check_samples(d, prim(Prim::kS32), {-2147483648ll, 2147483647, 2147483648ll}, 2);
  // u64/s64: numbers within 2^53 - 1, decimal strings over the whole range, canonical only.
  check_samples(d, prim(Prim::kU64),
                {0, 9007199254740991ull, parse("9007199254740992"), parse("9007199254740993"), "9007199254740993",
                 "18446744073709551615", "18446744073709551616", "99999999999999999999", "0", "00", "01", "-1",
                 "+1", " 1", "1 ", "", "1e3", -1, parse("9007199254740991.0"), parse("1e300")},
                6);
  check_samples(d, prim(Prim::kS64),
                {-9007199254740991ll, parse("-9007199254740992"), "-9223372036854775808", "9223372036854775807",
                 "9223372036854775808", "-9223372036854775809", "-0", "-", "-01", "12"},
                4);
  // Output: numbers up to 2^53 - 1, strings beyond.
  EXPECT_EQ(*val_to_json(d, prim(Prim::kU64), Val::u64(kJsonMaxSafeInteger)), Json(kJsonMaxSafeInteger));
  EXPECT_EQ(*val_to_json(d, prim(Prim::kU64), Val::u64(kJsonMaxSafeInteger + 1)), Json("9007199254740992"));
  EXPECT_EQ(*val_to_json(d, prim(Prim::kS64), Val::s64(INT64_MIN)), Json("-9223372036854775808"));
  EXPECT_EQ(*val_to_json(d, prim(Prim::kS64), Val::s64(-5)), Json(-5));
  // A primitive alias is its primitive.
  check_samples(d, ty.alias(Prim::kU8), {7, 300}, 1);
}

TEST(JsonVal, Floats) {
  Types ty;
  Decoded& d = ty.d;
  check_samples(d, prim(Prim::kF64), {0, -1.5, 1e308, "NaN", "Infinity", "-Infinity", "nan", "inf", nullptr, true,
                                      parse("18446744073709551615")},
                7);
  // f32: a number is rounded to nearest; one that rounds to infinity is refused. FLT_MAX is
  // emitted as 3.4028235e+38 (the shortest decimal of it), above FLT_MAX but rounding to it.
  check_samples(d, prim(Prim::kF32),
                {0.1, 3.4028234663852886e38, 3.4028235e38, 3.4028235677973362e38, -3.4028235677973362e38,
                 3.4028235677973366e38, -3.4028235677973366e38, 3.5e38, "NaN", "-Infinity", 1e-50},
                8);
  EXPECT_EQ(json_to_val(d, prim(Prim::kF32), 3.4028235677973362e38)->f, static_cast<double>(FLT_MAX));
  // f32 is rounded to nearest and emitted as the shortest decimal that reads back the same.
  auto v = json_to_val(d, prim(Prim::kF32), 0.1);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->f, static_cast<double>(0.1f));
  EXPECT_EQ(val_to_json(d, prim(Prim::kF32), *v)->dump(), "0.1");
  EXPECT_EQ(val_to_json(d, prim(Prim::kF64), Val::f64(std::nan("")))->dump(), "\"NaN\"");
  EXPECT_EQ(val_to_json(d, prim(Prim::kF32), Val::f32(-INFINITY))->dump(), "\"-Infinity\"");
  // -0.0 keeps its sign both ways; the integer spelling -0 is 0 (JSON parsers read it as an integer).
  auto nz = json_to_val(d, prim(Prim::kF64), parse("-0.0"));
  ASSERT_TRUE(nz);
  EXPECT_TRUE(std::signbit(nz->f));
  EXPECT_EQ(val_to_json(d, prim(Prim::kF64), *nz)->dump(), "-0.0");
  EXPECT_FALSE(std::signbit(json_to_val(d, prim(Prim::kF64), parse("-0"))->f));
  // A non-finite number built in code (JSON text cannot spell one) is refused.
  EXPECT_NE(error_of(d, prim(Prim::kF64), Json(INFINITY)).find("got a non-finite number"), std::string::npos);
}

TEST(JsonVal, CharsAndStrings) {
  Types ty;
  Decoded& d = ty.d;
  check_samples(d, prim(Prim::kChar), {"a", "\xc3\xa9", "\xf0\x9f\x98\x80", "", "ab", 97, "\xe2\x82\xac"}, 4);
  check_samples(d, prim(Prim::kString), {"", "hello", "\xf0\x9f\x98\x80 x", 1, nullptr}, 3);
  // Bytes that are not UTF-8 in a value built in code: refused, both ways; a surrogate in
  // CESU-8 form is not UTF-8 either.
  for (const char* bad : {"\xff", "\xed\xa0\x80", "\xc0\xaf"}) {
    EXPECT_NE(error_of(d, prim(Prim::kString), Json(std::string(bad))).find("not valid UTF-8"), std::string::npos);
    auto out = val_to_json(d, prim(Prim::kString), Val::string(bad));
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().message, "$: a string that is not valid UTF-8");
  }
  EXPECT_FALSE(val_to_json(d, prim(Prim::kChar), Val::character(0xd800)));
}

TEST(JsonVal, Lists) {
  Types ty;
  ValType lu32 = ty.list(prim(Prim::kU32));
  ValType bytes = ty.list(prim(Prim::kU8));
  ValType bytes_alias = ty.list(ty.alias(Prim::kU8));
  ValType nested = ty.list(lu32);
  Decoded& d = ty.d;
  check_samples(d, lu32, {Json::array(), Json::array({1, 2, 3}), Json::array({1, -1}), "AQID", nullptr}, 2);
  check_samples(d, nested, {parse("[[1],[],[2,3]]"), parse("[[1],[\"x\"]]"), parse("[1]")}, 1);
  // list<u8>: canonical base64 only (alphabet, padding, zero bits after the last byte, no text after).
  check_samples(d, bytes,
                {"", "QQ==", "QUI=", "QUJD", "AAECAw==", "QR==", "QUJ=", "QQ", "QQ=", "Q===", "QQ==QQ==", "====",
                 "QUJD\n", "Q Q==", "QU-D", "QU_D", Json::array({1, 2}), "////", "+/+/"},
                7);
  auto v = json_to_val(d, bytes_alias, "AAH/");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, Val::list({Val::u8(0), Val::u8(1), Val::u8(255)}));
  EXPECT_EQ(*val_to_json(d, bytes, *v), Json("AAH/"));
  EXPECT_EQ(*val_to_json(d, bytes, Val::list({})), Json(""));
}

TEST(JsonVal, RecordsAndTuples) {
  Types ty;
  ValType point = ty.record({{"x", prim(Prim::kU8)}, {"y", prim(Prim::kS32)}});
  ValType opt = ty.option(prim(Prim::kString));
  ValType with_opt = ty.record({{"name", prim(Prim::kString)}, {"nick-name", opt}});
  ValType pair = ty.tuple({prim(Prim::kBool), prim(Prim::kString)});
  ValType empty = ty.tuple({});
  Decoded& d = ty.d;
  check_samples(d, point, {parse(R"({"x":1,"y":-2})"), parse(R"({"x":1})"), parse(R"({"x":1,"y":2,"z":3})"),
                           parse(R"({"x":300,"y":2})"), parse("[1,2]"), nullptr},
                1);
  // An option field may be left out (none) or be null.
  check_samples(d, with_opt, {parse(R"({"name":"a"})"), parse(R"({"name":"a","nick-name":null})"),
                              parse(R"({"name":"a","nick-name":"b"})"), parse(R"({"nick-name":"b"})")},
                3);
  EXPECT_EQ(*json_to_val(d, with_opt, parse(R"({"name":"a"})")), Val::record({Val::string("a"), Val::none()}));
  check_samples(d, pair, {parse(R"([true,"a"])"), parse("[true]"), parse(R"([true,"a",1])"), parse(R"(["a",true])")}, 1);
  check_samples(d, empty, {parse("[]"), parse("[1]"), parse("{}")}, 1);
}

TEST(JsonVal, VariantsEnumsFlags) {
  Types ty;
  ValType shape = ty.variant({{"none", false, {}}, {"circle", true, prim(Prim::kF64)}, {"label", true, prim(Prim::kString)}});
  ValType color = ty.labels(TypeKind::kEnum, {"red", "green", "blue-ish"});
  ValType perms = ty.labels(TypeKind::kFlags, {"read", "write", "exec"});
  Decoded& d = ty.d;
  check_samples(d, shape,
                {parse(R"({"tag":"none"})"), parse(R"({"tag":"circle","val":1.5})"), parse(R"({"tag":"label","val":"x"})"),
                 parse(R"({"tag":"none","val":null})"), parse(R"({"tag":"circle"})"), parse(R"({"tag":"square"})"),
                 parse(R"({"val":1})"), parse(R"({"tag":"circle","val":1,"x":2})"), parse(R"({"tag":1})"), "none"},
                3);
  check_samples(d, color, {"red", "blue-ish", "Red", "purple", 0}, 2);
  check_samples(d, perms, {parse("[]"), parse(R"(["read"])"), parse(R"(["exec","read"])"), parse(R"(["read","read"])"),
                           parse(R"(["other"])"), "read", parse("[0]")},
                3);
  // Flags come out in label order.
  EXPECT_EQ(*val_to_json(d, perms, *json_to_val(d, perms, parse(R"(["exec","read"])"))), parse(R"(["read","exec"])"));
}

TEST(JsonVal, OptionsAndResults) {
  Types ty;
  ValType o = ty.option(prim(Prim::kU32));
  ValType oo = ty.option(o);
  ValType ooo = ty.option(oo);
  ValType r = ty.result(true, prim(Prim::kString), true, prim(Prim::kU8));
  ValType unit = ty.result(false, {}, false, {});
  ValType ok_only = ty.result(true, o, false, {});
  Decoded& d = ty.d;
  check_samples(d, o, {nullptr, 5, "5", parse(R"({"some":5})")}, 2);
  // option<option<T>>: null is none, {"some": null} some(none), {"some": 5} some(some(5)).
  check_samples(d, oo, {nullptr, parse(R"({"some":null})"), parse(R"({"some":5})"), 5, parse(R"({"some":5,"x":1})"),
                        parse("{}")},
                3);
  EXPECT_EQ(*json_to_val(d, oo, parse(R"({"some":null})")), Val::some(Val::none()));
  EXPECT_EQ(*json_to_val(d, oo, parse(R"({"some":5})")), Val::some(Val::some(Val::u32(5))));
  check_samples(d, ooo, {nullptr, parse(R"({"some":null})"), parse(R"({"some":{"some":null}})"),
                         parse(R"({"some":{"some":7}})"), parse(R"({"some":7})")},
                4);
  check_samples(d, r, {parse(R"({"ok":"x"})"), parse(R"({"err":7})"), parse(R"({"ok":"x","err":7})"), parse("{}"),
                       parse(R"({"err":"x"})"), parse(R"({"ok":null})"), nullptr},
                2);
  check_samples(d, unit, {parse(R"({"ok":null})"), parse(R"({"err":null})"), parse(R"({"ok":1})"), parse(R"({"ok":{}})")}, 2);
  check_samples(d, ok_only, {parse(R"({"ok":null})"), parse(R"({"ok":3})"), parse(R"({"err":null})"), parse(R"({"err":3})")}, 3);
  EXPECT_EQ(*val_to_json(d, unit, Val::err()), parse(R"({"err":null})"));
}

TEST(JsonVal, ResourcesAreRefused) {
  Types ty;
  ValType own = ty.own();
  ValType rec = ty.record({{"h", own}});
  Decoded& d = ty.d;
  EXPECT_EQ(error_of(d, rec, parse(R"({"h":1})")),
            "$.h: own<R>: resource handles cannot be given as JSON (the JSON mapping does not take resources yet)");
  EXPECT_EQ(json_schema(d, own), Json(false));
  EXPECT_FALSE(val_to_json(d, own, Val::own(nullptr, 1)));
}

TEST(JsonVal, ErrorsNameThePath) {
  Types ty;
  ValType point = ty.record({{"x", prim(Prim::kU8)}, {"y", prim(Prim::kU8)}});
  ValType shape = ty.variant({{"dot", true, point}, {"none", false, {}}});
  ValType shapes = ty.list(shape);
  ValType perms = ty.labels(TypeKind::kFlags, {"read", "write"});
  ValType pair = ty.tuple({prim(Prim::kU64), perms});
  ValType r = ty.result(true, pair, false, {});
  Decoded& d = ty.d;
  JsonValOptions args;
  args.path = "$.args.shapes";
  EXPECT_EQ(error_of(d, shapes, parse(R"([{"tag":"none"},{"tag":"dot","val":{"x":300,"y":1}}])"), args),
            "$.args.shapes[1].val.x: expected u8 (an integer 0..255), got 300");
  EXPECT_EQ(error_of(d, shapes, parse(R"([{"tag":"dot","val":{"x":1}}])")), "$[0].val: missing field y");
  EXPECT_EQ(error_of(d, shapes, parse(R"([{"tag":"dot","val":{"x":1,"y":2,"odd key":3}}])")),
            "$[0].val[\"odd key\"]: unknown field (the record's fields: x, y)");
  EXPECT_EQ(error_of(d, shapes, parse(R"([{"tag":"square"}])")), "$[0].tag: expected a case of dot, none, got the string 'square'");
  EXPECT_EQ(error_of(d, shapes, parse(R"([{"tag":"none","val":1}])")), "$[0].val: case none has no payload");
  EXPECT_EQ(error_of(d, shapes, parse(R"([{"tag":"dot"}])")), "$[0]: case dot needs its payload in \"val\"");
  EXPECT_EQ(error_of(d, shapes, parse(R"([{"tag":"dot","x":1}])")), "$[0].x: unknown key (a variant has \"tag\" and \"val\")");
  EXPECT_EQ(error_of(d, shapes, parse(R"({})")), "$: expected list (an array), got an object");
  EXPECT_EQ(error_of(d, r, parse(R"({"ok":[1,["read","read"]]})")), "$.ok[1][1]: flag read given twice");
  EXPECT_EQ(error_of(d, r, parse(R"({"ok":[1,["x"]]})")), "$.ok[1][0]: expected a label of read, write, got the string 'x'");
  EXPECT_EQ(error_of(d, r, parse(R"({"ok":[1]})")), "$.ok: expected tuple (an array of 2 elements), got an array of 1 elements");
  EXPECT_EQ(error_of(d, r, parse(R"({"ok":[9007199254740993,[]]})")),
            "$.ok[0]: expected u64 (an integer 0..9007199254740991, or a decimal string 0..18446744073709551615), "
            "got 9007199254740993: beyond 9007199254740991 a JSON number may have been rounded; give it as a "
            "decimal string");
  EXPECT_EQ(error_of(d, r, parse(R"({"err":1})")), "$.err: expected null (the err case has no payload), got 1");
}

TEST(JsonVal, FunctionArgumentsAndResults) {
  Types ty;
  ValType opt = ty.option(prim(Prim::kString));
  TypeDef f;
  f.kind = TypeKind::kFunc;
  f.fields = {Field{"count", true, prim(Prim::kU32)}, Field{"label", true, opt}};
  f.has_a = true;
  f.a = ty.list(prim(Prim::kU32));
  TypeDef g;
  g.kind = TypeKind::kFunc;
  Decoded& d = ty.d;
  auto a = json_to_args(d, f, parse(R"({"count":3,"label":"x"})"));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(*a, (std::vector<Val>{Val::u32(3), Val::some(Val::string("x"))}));
  auto b = json_to_args(d, f, parse(R"({"count":3})"));  // an option parameter left out is none
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)[1], Val::none());
  JsonValOptions o;
  o.path = "$.params.arguments";
  auto args_error = [&](const Json& j) -> std::string {
    auto r = json_to_args(d, f, j, o);
    if (r) return "accepted";
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    return r.error().message;
  };
  EXPECT_EQ(args_error(parse(R"({"label":"x"})")), "$.params.arguments: missing parameter count");
  EXPECT_EQ(args_error(parse(R"({"count":1,"colour":2})")),
            "$.params.arguments.colour: unknown parameter (the function's parameters: count, label)");
  EXPECT_EQ(args_error(parse("[1]")),
            "$.params.arguments: expected an object of the function's parameters (count, label), got an array of 1 elements");
  EXPECT_EQ(args_error(parse(R"({"count":-1})")),
            "$.params.arguments.count: expected u32 (an integer 0..4294967295), got -1");
  EXPECT_EQ(json_to_args(d, g, parse("{}"))->size(), 0u);

  const Json ps = params_schema(d, f);
  EXPECT_EQ(ps["required"], Json::array({"count"}));
  EXPECT_EQ(ps["additionalProperties"], false);
  for (const char* sample : {R"({"count":3,"label":"x"})", R"({"count":3})", R"({"label":"x"})", R"({"count":1,"x":1})",
                             R"({"count":1,"label":null})", "[]"}) {
    const bool accepted = json_to_args(d, f, parse(sample)).has_value();
    EXPECT_EQ(valid(ps, parse(sample)), accepted) << sample;
    samples_seen().push_back(Json{{"schema", ps}, {"value", parse(sample)}, {"accepted", accepted}});
  }

  auto out = results_to_json(d, f, {Val::list({Val::u32(1), Val::u32(2)})});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, parse("[1,2]"));
  EXPECT_TRUE(valid(result_schema(d, f), *out));
  EXPECT_EQ(*results_to_json(d, g, {}), Json(nullptr));
  EXPECT_TRUE(valid(result_schema(d, g), nullptr));
  EXPECT_FALSE(results_to_json(d, g, {Val::u32(1)}));
}

TEST(JsonVal, OutputValuesMustHaveTheirType) {
  Types ty;
  ValType point = ty.record({{"x", prim(Prim::kU8)}});
  ValType color = ty.labels(TypeKind::kEnum, {"red"});
  ValType perms = ty.labels(TypeKind::kFlags, {"a", "b"});
  ValType v = ty.variant({{"a", false, {}}});
  ValType o = ty.option(prim(Prim::kU8));
  Decoded& d = ty.d;
  EXPECT_EQ(val_to_json(d, prim(Prim::kU8), Val::u32(1)).error().message,
            "$: the value does not have its type: a u32 for a u8");
  Val wide = Val::u8(1);
  wide.bits = 256;
  EXPECT_FALSE(val_to_json(d, prim(Prim::kU8), wide));
  Val s8 = Val::s8(-1);
  s8.bits = static_cast<uint64_t>(int64_t{-200});
  EXPECT_FALSE(val_to_json(d, prim(Prim::kS8), s8));
  EXPECT_EQ(*val_to_json(d, prim(Prim::kS8), Val::s8(-128)), Json(-128));
  EXPECT_FALSE(val_to_json(d, point, Val::record({})));
  EXPECT_EQ(val_to_json(d, point, Val::record({Val::u16(1)})).error().message,
            "$.x: the value does not have its type: a u16 for a u8");
  EXPECT_FALSE(val_to_json(d, color, Val::enumeration(1)));
  EXPECT_FALSE(val_to_json(d, perms, Val::flags(4)));
  EXPECT_FALSE(val_to_json(d, v, Val::variant(0, Val::u8(1))));
  EXPECT_FALSE(val_to_json(d, v, Val::variant(1)));
  Val bad_some = Val::none();
  bad_some.bits = 1;
  EXPECT_FALSE(val_to_json(d, o, bad_some));
}

TEST(JsonVal, BoundsHoldBothWays) {
  Types ty;
  ValType lu8 = ty.list(prim(Prim::kU32));
  ValType bytes = ty.list(prim(Prim::kU8));
  // A list nested 70 levels deep: deeper than max_depth (65 by default).
  ValType deep = prim(Prim::kU8);
  for (int i = 0; i < 70; ++i) deep = ty.list(deep);
  Decoded& d = ty.d;

  // Nested by moves (a copy of a deep value would recurse once per level).
  auto nest = [](int levels) {
    Json j = 1;
    for (int i = 0; i < levels; ++i) {
      Json a = Json::array();
      a.push_back(std::move(j));
      j = std::move(a);
    }
    return j;
  };
  Json j = nest(70);
  EXPECT_EQ(error_of(d, deep, j).substr(0, 50), "$[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][");
  EXPECT_NE(error_of(d, deep, j).find("nested deeper than 65 levels (JsonValOptions::max_depth)"), std::string::npos);
  JsonValOptions o;
  o.max_depth = 2;
  Json two = parse("[[1]]");
  ValType l2 = ty.list(lu8);
  EXPECT_TRUE(json_to_val(d, l2, two, o));
  o.max_depth = 1;
  EXPECT_NE(error_of(d, l2, two, o).find("$[0]: nested deeper than 1 levels"), std::string::npos);
  EXPECT_FALSE(val_to_json(d, l2, *json_to_val(d, l2, two), o));
  // A hostile JSON nested far deeper than the type: refused at the type's leaf, no deeper.
  Json hostile = nest(100000);
  EXPECT_EQ(error_of(d, lu8, hostile), "$[0]: expected u32 (an integer 0..4294967295), got an array of 1 elements");

  // Nodes: a list longer than the values left is refused before its elements are converted.
  JsonValOptions n;
  n.max_nodes = 10;
  EXPECT_TRUE(json_to_val(d, lu8, Json::array({1, 2, 3, 4, 5, 6, 7, 8, 9}), n));
  EXPECT_NE(error_of(d, lu8, Json::array({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), n).find("more than 10 JSON values"),
            std::string::npos);
  std::vector<Val> many(10, Val::u32(1));
  EXPECT_FALSE(val_to_json(d, lu8, Val::list(many), n));
  many.pop_back();
  EXPECT_TRUE(val_to_json(d, lu8, Val::list(many), n));
  // ... and a byte list counts a value per byte.
  EXPECT_NE(error_of(d, bytes, "AAAAAAAAAAAAAAAA", n).find("more than 10 JSON values"), std::string::npos);

  // Bytes of strings: across the whole conversion, both ways.
  ValType strs = ty.list(prim(Prim::kString));
  JsonValOptions s;
  s.max_bytes = 8;
  EXPECT_TRUE(json_to_val(d, strs, Json::array({"abcd", "efgh"}), s));
  EXPECT_NE(error_of(d, strs, Json::array({"abcd", "efghi"}), s).find("$[1]: more than 8 bytes of strings"),
            std::string::npos);
  EXPECT_FALSE(val_to_json(d, strs, Val::list({Val::string("abcd"), Val::string("efghi")}), s));
  EXPECT_FALSE(val_to_json(d, bytes, Val::list(std::vector<Val>(7, Val::u8(0))), s));  // 12 base64 bytes
}

TEST(JsonVal, HostileText) {
  JsonValOptions o;
  // Duplicate keys are refused by the parse: which value was meant is unknowable.
  auto dup = parse_json_value(R"({"count":1,"count":2})", o);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(dup.error().message.find("duplicate key"), std::string::npos) << dup.error().message;
  // 1e400 overflows a double: a parse error, not infinity.
  EXPECT_FALSE(parse_json_value("[1e400]", o));
  // A lone surrogate in a \u escape is not a string.
  EXPECT_FALSE(parse_json_value(R"("\ud800")", o));
  EXPECT_FALSE(parse_json_value(R"("\udc00x")", o));
  EXPECT_TRUE(parse_json_value(R"("\ud83d\ude00")", o));
  // Nesting beyond max_depth is refused while parsing.
  o.max_depth = 3;
  EXPECT_TRUE(parse_json_value("[[[1]]]", o));
  EXPECT_FALSE(parse_json_value("[[[[1]]]]", o));
  std::string deep(1000000, '[');
  EXPECT_FALSE(parse_json_value(deep, JsonValOptions{}));
  // Bytes.
  o.max_bytes = 4;
  EXPECT_FALSE(parse_json_value("\"abcd\"", o));
}

TEST(JsonVal, DecimalPatternsMatchTheRanges) {
  Types ty;
  const Json u = json_schema(ty.d, prim(Prim::kU64))["anyOf"][1];
  const Json s = json_schema(ty.d, prim(Prim::kS64))["anyOf"][1];
  const std::regex ur(u["pattern"].get<std::string>()), sr(s["pattern"].get<std::string>());
  for (const char* ok : {"0", "9", "10", "18446744073709551615", "18446744073709551609", "18446744073709551599",
                         "9999999999999999999", "10000000000000000000"}) {
    EXPECT_TRUE(std::regex_search(ok, ur)) << ok;
  }
  for (const char* no : {"18446744073709551616", "18446744073709551620", "18446744073709552000",
                         "19000000000000000000", "20000000000000000000", "99999999999999999999", "00", "-1", "",
                         "100000000000000000000"}) {
    EXPECT_FALSE(std::regex_search(no, ur)) << no;
  }
  for (const char* ok : {"-9223372036854775808", "9223372036854775807", "-1", "0", "-9223372036854775799"}) {
    EXPECT_TRUE(std::regex_search(ok, sr)) << ok;
  }
  for (const char* no : {"-9223372036854775809", "9223372036854775808", "-0", "-00", "+1"}) {
    EXPECT_FALSE(std::regex_search(no, sr)) << no;
  }
}

TEST(JsonVal, ExportedFunctionTypes) {
  // small_component() exports the instance "wasi:cli/run@0.2.0" with a function "run".
  std::vector<uint8_t> b = testing::small_component();
  auto d = decode(b.data(), b.size());
  ASSERT_TRUE(d) << d.error().message;
  uint32_t t = exported_func_type(*d, "wasi:cli/run@0.2.0#run");
  ASSERT_NE(t, kNone);
  EXPECT_EQ(d->types[t].kind, TypeKind::kFunc);
  EXPECT_TRUE(d->types[t].fields.empty());
  EXPECT_FALSE(d->types[t].has_a);
  EXPECT_EQ(params_schema(*d, d->types[t])["properties"], Json::object());
  EXPECT_EQ(exported_func_type(*d, "wasi:cli/run@0.2.0#nope"), kNone);
  EXPECT_EQ(exported_func_type(*d, "wasi:cli/run@0.2.0"), kNone);  // an instance, not a function
  EXPECT_EQ(exported_func_type(*d, "run"), kNone);
  EXPECT_EQ(exported_func_type(*d, "#run"), kNone);

  // A function exported at the top, and one whose export is not a function type.
  Types ty;
  TypeDef f;
  f.kind = TypeKind::kFunc;
  f.fields = {Field{"x", true, prim(Prim::kU8)}};
  ValType ft = ty.add(f);
  TypeDef root;
  root.kind = TypeKind::kComponent;
  root.exports = {Decl{"f", ExternDesc{Sort::kFunc, ft.type, false}}, Decl{"t", ExternDesc{Sort::kType, ft.type, false}}};
  ty.d.root.type = ty.add(root).type;
  EXPECT_EQ(exported_func_type(ty.d, "f"), ft.type);
  EXPECT_EQ(exported_func_type(ty.d, "t"), kNone);
  EXPECT_EQ(exported_func_type(ty.d, "f#x"), kNone);
  ExportPath p = split_export_path("a:b/c#d");
  EXPECT_TRUE(p.in_instance);
  EXPECT_EQ(p.instance, "a:b/c");
  EXPECT_EQ(p.func, "d");
}

// WIT text of types and functions (`wasmcap call --list`), and its bound: a type of bounded depth
// whose expansion is exponential is cut, not expanded.
TEST(JsonVal, WitTypeText) {
  Types t;
  ValType rec = t.record({{"x", prim(Prim::kS32)}, {"y", t.list(prim(Prim::kU8))}});
  EXPECT_EQ(wit_type_text(t.d, rec), "record { x: s32, y: list<u8> }");
  EXPECT_EQ(wit_type_text(t.d, t.result(true, prim(Prim::kS32), true, prim(Prim::kString))), "result<s32, string>");
  EXPECT_EQ(wit_type_text(t.d, t.result(false, {}, true, prim(Prim::kString))), "result<_, string>");
  EXPECT_EQ(wit_type_text(t.d, t.result(false, {}, false, {})), "result");
  EXPECT_EQ(wit_type_text(t.d, t.variant({{"a", true, prim(Prim::kU32)}, {"b", false, {}}})), "variant { a(u32), b }");
  EXPECT_EQ(wit_type_text(t.d, t.labels(TypeKind::kFlags, {"r", "w"})), "flags { r, w }");
  EXPECT_EQ(wit_type_text(t.d, t.option(t.tuple({prim(Prim::kChar), t.alias(Prim::kF64)}))), "option<tuple<char, f64>>");
  TypeDef f;
  f.kind = TypeKind::kFunc;
  f.fields = {Field{"p", true, rec}, Field{"n", true, prim(Prim::kU64)}};
  f.has_a = true, f.a = prim(Prim::kBool);
  EXPECT_EQ(wit_func_text(t.d, f), "(p: record { x: s32, y: list<u8> }, n: u64) -> bool");
  ValType big = prim(Prim::kU8);
  for (int i = 0; i < 40; ++i) big = t.tuple({big, big});  // 2^40 leaves
  const std::string text = wit_type_text(t.d, big, 512);
  EXPECT_LE(text.size(), 515u);
  EXPECT_EQ(text.substr(text.size() - 3), "...");
}

}  // namespace
}  // namespace wasmcap::component
