// Component values as WAVE text (src/component/wave.h; docs/components.md, "WAVE"): every WIT type
// printed and parsed back to the same value; what the parser accepts beyond the printed form
// (spaces, trailing commas, fields in any order, option fields left out, % before a keyword
// label); every refusal with its byte offset; the bounds; calls split and their arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "component/runtime.h"
#include "component/wave.h"
#include "value_types.h"

namespace wasmcap::component {
namespace {

using testing::prim;
using testing::Types;

struct Fixture {
  Types t;
  ValType point, shape, color, perms, maybe, res, res_unit, pair, opt_opt, strs, bytes;
  Fixture() {
    maybe = t.option(prim(Prim::kU32));
    point = t.record({{"x", prim(Prim::kS32)}, {"y", prim(Prim::kS32)}, {"label", maybe}});
    shape = t.variant({{"circle", true, prim(Prim::kF64)}, {"none", false, {}}, {"at", true, point}});
    color = t.labels(TypeKind::kEnum, {"red", "true", "dark-green"});
    perms = t.labels(TypeKind::kFlags, {"read", "write", "exec"});
    res = t.result(true, prim(Prim::kString), true, prim(Prim::kU8));
    res_unit = t.result(false, {}, false, {});
    pair = t.tuple({prim(Prim::kChar), prim(Prim::kBool)});
    opt_opt = t.option(maybe);
    strs = t.list(prim(Prim::kString));
    bytes = t.list(prim(Prim::kU8));
  }
  std::string print(ValType ty, const Val& v) {
    auto w = val_to_wave(t.d, ty, v);
    EXPECT_TRUE(w) << w.error().message;
    return w ? *w : "";
  }
  Result<Val> parse(ValType ty, const std::string& text, const JsonValOptions& o = {}) {
    return wave_to_val(t.d, ty, text, o);
  }
  // `v` prints as `text`, and `text` parses back to `v`.
  void both(ValType ty, const Val& v, const std::string& text) {
    EXPECT_EQ(print(ty, v), text);
    auto back = parse(ty, text);
    ASSERT_TRUE(back) << text << ": " << back.error().message;
    EXPECT_EQ(*back, v) << text;
  }
  std::string refusal(ValType ty, const std::string& text, const JsonValOptions& o = {}) {
    auto v = parse(ty, text, o);
    EXPECT_FALSE(v) << text;
    if (v) return "";
    EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
    return v.error().message;
  }
};

TEST(Wave, EveryTypePrintsAndParsesBack) {
  Fixture f;
  f.both(prim(Prim::kBool), Val::boolean(true), "true");
  f.both(prim(Prim::kS8), Val::s8(-128), "-128");
  f.both(prim(Prim::kU16), Val::u16(65535), "65535");
  f.both(prim(Prim::kS64), Val::s64(INT64_MIN), "-9223372036854775808");
  f.both(prim(Prim::kU64), Val::u64(UINT64_MAX), "18446744073709551615");
  f.both(prim(Prim::kF32), Val::f32(0.1f), "0.1");
  f.both(prim(Prim::kF64), Val::f64(-0.0), "-0");
  f.both(prim(Prim::kF64), Val::f64(1e300), "1e+300");
  f.both(prim(Prim::kF64), Val::f64(-INFINITY), "-inf");
  EXPECT_EQ(f.print(prim(Prim::kF64), Val::f64(NAN)), "nan");
  auto nan = f.parse(prim(Prim::kF32), "nan");
  ASSERT_TRUE(nan);
  EXPECT_TRUE(std::isnan(nan->f));
  f.both(prim(Prim::kChar), Val::character('\''), "'\\''");
  f.both(prim(Prim::kChar), Val::character(0x1F600), "'\xF0\x9F\x98\x80'");
  // Printable text stays; controls, quotes, backslashes and bidi overrides are escaped.
  f.both(prim(Prim::kString), Val::string("a\"b\\c\n\t\x01 \xC3\xA9 \xE2\x80\xAE"),
         "\"a\\\"b\\\\c\\n\\t\\u{1} \xC3\xA9 \\u{202e}\"");
  f.both(f.strs, Val::list({}), "[]");
  f.both(f.strs, Val::list({Val::string("x"), Val::string("")}), "[\"x\", \"\"]");
  f.both(f.bytes, Val::list({Val::u8(0), Val::u8(255)}), "[0, 255]");
  f.both(f.pair, Val::tuple({Val::character('z'), Val::boolean(false)}), "('z', false)");
  f.both(f.point, Val::record({Val::s32(1), Val::s32(-2), Val::none()}), "{x: 1, y: -2, label: none}");
  f.both(f.shape, Val::variant(0, Val::f64(2.5)), "circle(2.5)");
  f.both(f.shape, Val::variant(1), "%none");  // a case named like a keyword
  f.both(f.shape, Val::variant(2, Val::record({Val::s32(0), Val::s32(0), Val::some(Val::u32(7))})),
         "at({x: 0, y: 0, label: some(7)})");
  f.both(f.color, Val::enumeration(1), "%true");
  f.both(f.color, Val::enumeration(2), "dark-green");
  f.both(f.perms, Val::flags(0), "{}");
  f.both(f.perms, Val::flags(5), "{read, exec}");
  f.both(f.opt_opt, Val::some(Val::none()), "some(none)");
  f.both(f.opt_opt, Val::none(), "none");
  f.both(f.res, Val::ok(Val::string("fine")), "ok(\"fine\")");
  f.both(f.res, Val::err(Val::u8(3)), "err(3)");
  f.both(f.res_unit, Val::ok(), "ok");
  f.both(f.res_unit, Val::err(), "err");
}

TEST(Wave, AcceptsWhatAPersonWrites) {
  Fixture f;
  auto v = f.parse(f.point, "  { y : 2 ,\n x: -1, }  ");  // any order, spaces, a trailing comma
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, Val::record({Val::s32(-1), Val::s32(2), Val::none()}));  // label left out: none
  v = f.parse(f.strs, "[\"a\", \"\\u{48}\\u{10FFFF}\",]");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->items[1].str, "H\xF4\x8F\xBF\xBF");
  v = f.parse(f.perms, "{exec, read,}");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->bits, 5u);
  v = f.parse(f.shape, "none");  // the % is only needed where it could be read otherwise
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, Val::variant(1));
  v = f.parse(prim(Prim::kF64), "-1.5E-3");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->f, -1.5e-3);
}

TEST(Wave, RefusalsNameTheByteAndWhatWasExpected) {
  Fixture f;
  EXPECT_EQ(f.refusal(prim(Prim::kU8), "256"), "WAVE at byte 0: expected u8 (a decimal integer in its range), got \"256\"");
  EXPECT_EQ(f.refusal(prim(Prim::kS8), "-129"), "WAVE at byte 0: expected s8 (a decimal integer in its range), got \"-129\"");
  EXPECT_NE(f.refusal(prim(Prim::kU64), "18446744073709551616").find("expected u64"), std::string::npos);
  EXPECT_NE(f.refusal(prim(Prim::kU32), "0x10").find("expected u32"), std::string::npos);
  EXPECT_NE(f.refusal(prim(Prim::kF64), "0x1p3").find("expected f64"), std::string::npos);
  EXPECT_NE(f.refusal(prim(Prim::kF64), "infinity").find("expected f64"), std::string::npos);
  EXPECT_NE(f.refusal(prim(Prim::kF32), "1e39").find("f32 out of range"), std::string::npos);
  EXPECT_EQ(f.refusal(prim(Prim::kBool), "True"), "WAVE at byte 0: expected bool (true or false), got \"True\"");
  EXPECT_EQ(f.refusal(prim(Prim::kBool), "%true"), "WAVE at byte 0: expected bool (true or false), got \"%true\"");
  EXPECT_EQ(f.refusal(prim(Prim::kU32), "1 2"), "WAVE at byte 2: expected the end of the value, got \"2\"");
  EXPECT_EQ(f.refusal(f.point, "{x: 1}"), "WAVE at byte 6: missing field y");
  EXPECT_EQ(f.refusal(f.point, "{x: 1, x: 2}"), "WAVE at byte 8: field x given twice");
  EXPECT_EQ(f.refusal(f.point, "{z: 1}"), "WAVE at byte 1: expected a field of x, y, label, got \"z: 1}\"");
  EXPECT_EQ(f.refusal(f.shape, "circle"), "WAVE at byte 6: expected '(' and the payload of case circle, got the end of the text");
  EXPECT_EQ(f.refusal(f.res_unit, "ok(1)"), "WAVE at byte 2: the ok case has no payload");
  EXPECT_EQ(f.refusal(f.perms, "{read, read}"), "WAVE at byte 11: flag read given twice");
  EXPECT_EQ(f.refusal(f.pair, "('a')"), "WAVE at byte 4: expected ',' (a tuple of 2), got \")\"");
  EXPECT_EQ(f.refusal(prim(Prim::kString), "\"abc"), "WAVE at byte 4: unterminated string");
  EXPECT_EQ(f.refusal(prim(Prim::kString), "\"\\q\""), "WAVE at byte 1: unknown escape \\q (\\\\ \\\" \\' \\n \\t \\r \\u{HEX})");
  EXPECT_EQ(f.refusal(prim(Prim::kString), "\"\\u{d800}\""), "WAVE at byte 1: \\u{...} is not a Unicode scalar value");
  EXPECT_EQ(f.refusal(prim(Prim::kString), "\"\\u{110000}\""), "WAVE at byte 1: \\u{...} is not a Unicode scalar value");
  EXPECT_EQ(f.refusal(prim(Prim::kString), "\"a\xC3\""), "WAVE at byte 2: not UTF-8");
  EXPECT_EQ(f.refusal(prim(Prim::kString), "\"\xED\xA0\x80\""), "WAVE at byte 1: not UTF-8");  // a surrogate
  EXPECT_EQ(f.refusal(prim(Prim::kString), "\"a\nb\""), "WAVE at byte 2: a control character inside quotes (write it as \\u{...})");
  EXPECT_EQ(f.refusal(prim(Prim::kChar), "'ab'"), "WAVE at byte 0: expected a char of one Unicode scalar value");
  // Text nested deeper than the type is simply the wrong kind at the type's leaf.
  EXPECT_EQ(f.refusal(f.bytes, std::string(100000, '[')),
            "WAVE at byte 1: expected u8 (a decimal integer in its range), got \"" + std::string(40, '[') + "\"");
}

TEST(Wave, BoundsHoldBeforeTheMemoryIsTaken) {
  Fixture f;
  JsonValOptions o;
  o.max_nodes = 100;
  std::string list = "[";
  for (int i = 0; i < 200; ++i) list += "\"x\",";
  list += "]";
  EXPECT_NE(f.refusal(f.strs, list, o).find("more than 100 values"), std::string::npos);
  o = JsonValOptions{};
  o.max_bytes = 10;
  EXPECT_NE(f.refusal(f.strs, "[\"12345\", \"123456\"]", o).find("more than 10 bytes of strings"), std::string::npos);
  EXPECT_TRUE(f.parse(f.strs, "[\"12345\", \"12345\"]", o));
}

TEST(Wave, CallsAreSplitAndTheirArgumentsCountedAgainstTheParameters) {
  Fixture f;
  auto c = split_wave_call("  example:calc/ops@1.0.0#add (1, {x: 1, y: 2}) ");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->function, "example:calc/ops@1.0.0#add");
  EXPECT_EQ(c->args, "1, {x: 1, y: 2}");
  EXPECT_FALSE(split_wave_call("add"));
  EXPECT_FALSE(split_wave_call("add(1"));
  EXPECT_FALSE(split_wave_call("(1)"));
  EXPECT_FALSE(split_wave_call("a;b(1)"));
  TypeDef fn;
  fn.kind = TypeKind::kFunc;
  fn.fields = {Field{"n", true, prim(Prim::kU32)}, Field{"at", true, f.point}};
  auto args = wave_to_args(f.t.d, fn, "7, {x: 1, y: 2},", {});
  ASSERT_TRUE(args) << args.error().message;
  ASSERT_EQ(args->size(), 2u);
  EXPECT_EQ((*args)[0], Val::u32(7));
  auto few = wave_to_args(f.t.d, fn, "7", {});
  ASSERT_FALSE(few);
  EXPECT_EQ(few.error().message,
            "the arguments (WAVE) at byte 1: expected ',' and the next argument (2 parameters: n, at), got the end of the text");
  auto many = wave_to_args(f.t.d, fn, "7, {x: 1, y: 2}, 3", {});
  ASSERT_FALSE(many);
  EXPECT_EQ(many.error().message,
            "the arguments (WAVE) at byte 17: expected the end of the arguments (2 parameters: n, at), got \"3\"");
  TypeDef none;
  none.kind = TypeKind::kFunc;
  EXPECT_TRUE(wave_to_args(f.t.d, none, "  ", {}));
  EXPECT_FALSE(wave_to_args(f.t.d, none, "1", {}));
}

}  // namespace
}  // namespace wasmcap::component
