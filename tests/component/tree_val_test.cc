// Component values as typed trees (src/component/tree_val.h; docs/components.md, "Values as
// trees"): every WIT type converted to a tree and back to the same value; each refusal of a tree
// that is not exactly of its type, naming its path; the bounds (values and string bytes) in both
// directions; a component's value that does not have its type refused, never mangled.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "component/runtime.h"
#include "component/tree_val.h"
#include "value_types.h"

namespace wasmcap::component {
namespace {

using testing::prim;
using testing::Types;
using Kind = ComponentValue::Kind;

ComponentValue scalar(Kind k, uint64_t bits) {
  ComponentValue v;
  v.kind = k;
  v.bits = bits;
  return v;
}
ComponentValue str(std::string s) {
  ComponentValue v;
  v.kind = Kind::kString;
  v.text = std::move(s);
  return v;
}
ComponentValue node(Kind k, std::vector<ComponentValue> items, std::vector<std::string> names = {},
                    std::string text = "", uint64_t bits = 0) {
  ComponentValue v;
  v.kind = k;
  v.items = std::move(items);
  v.names = std::move(names);
  v.text = std::move(text);
  v.bits = bits;
  return v;
}

struct Fixture {
  Types t;
  ValType point, shape, color, perms, maybe, res, pair, strs, s8, s64, f32, chr, alias;
  Fixture() {
    maybe = t.option(prim(Prim::kU32));
    point = t.record({{"x", prim(Prim::kS32)}, {"y", prim(Prim::kS32)}, {"label", maybe}});
    shape = t.variant({{"circle", true, prim(Prim::kF64)}, {"none", false, {}}, {"at", true, point}});
    color = t.labels(TypeKind::kEnum, {"red", "green"});
    perms = t.labels(TypeKind::kFlags, {"read", "write", "exec"});
    res = t.result(true, prim(Prim::kString), false, {});
    pair = t.tuple({prim(Prim::kChar), prim(Prim::kBool)});
    strs = t.list(prim(Prim::kString));
    s8 = prim(Prim::kS8);
    s64 = prim(Prim::kS64);
    f32 = prim(Prim::kF32);
    chr = prim(Prim::kChar);
    alias = t.alias(Prim::kU16);
  }
  // `tree` converts to `v`, and `v` back to a tree that converts to `v` again (trees compare by
  // their conversion: a record's fields may be given in any order).
  void both(ValType ty, const ComponentValue& tree, const Val& v) {
    auto in = tree_to_val(t.d, ty, tree);
    ASSERT_TRUE(in) << in.error().message;
    EXPECT_EQ(*in, v);
    auto out = val_to_tree(t.d, ty, v);
    ASSERT_TRUE(out) << out.error().message;
    auto again = tree_to_val(t.d, ty, *out);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*again, v);
  }
  std::string refusal(ValType ty, const ComponentValue& tree, const JsonValOptions& o = {}) {
    auto v = tree_to_val(t.d, ty, tree, o);
    EXPECT_FALSE(v);
    if (v) return "";
    EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
    return v.error().message;
  }
};

TEST(TreeVal, EveryTypeBothWays) {
  Fixture f;
  f.both(f.s8, scalar(Kind::kS8, static_cast<uint64_t>(int64_t{-128})), Val::s8(-128));
  f.both(f.s64, scalar(Kind::kS64, static_cast<uint64_t>(INT64_MIN)), Val::s64(INT64_MIN));
  f.both(prim(Prim::kU64), scalar(Kind::kU64, UINT64_MAX), Val::u64(UINT64_MAX));
  f.both(prim(Prim::kBool), scalar(Kind::kBool, 1), Val::boolean(true));
  f.both(f.alias, scalar(Kind::kU16, 65535), Val::u16(65535));
  ComponentValue fl;
  fl.kind = Kind::kF32;
  fl.f = -2.5;
  f.both(f.f32, fl, Val::f32(-2.5f));
  f.both(f.chr, scalar(Kind::kChar, 0x1f600), Val::character(0x1f600));
  f.both(prim(Prim::kString), str(std::string("a\0b\xc3\xa9", 5)), Val::string(std::string("a\0b\xc3\xa9", 5)));
  f.both(f.strs, node(Kind::kList, {str("x"), str("")}), Val::list({Val::string("x"), Val::string("")}));
  f.both(f.pair, node(Kind::kTuple, {scalar(Kind::kChar, 'z'), scalar(Kind::kBool, 0)}),
         Val::tuple({Val::character('z'), Val::boolean(false)}));
  // Fields in any order; an option field left out is none.
  f.both(f.point, node(Kind::kRecord, {scalar(Kind::kS32, 2), scalar(Kind::kS32, 1)}, {"y", "x"}),
         Val::record({Val::s32(1), Val::s32(2), Val::none()}));
  f.both(f.shape, node(Kind::kVariant, {}, {}, "none"), Val::variant(1));
  ComponentValue c;
  c.kind = Kind::kF64;
  c.f = INFINITY;
  f.both(f.shape, node(Kind::kVariant, {c}, {}, "circle"), Val::variant(0, Val::f64(INFINITY)));
  f.both(f.color, node(Kind::kEnum, {}, {}, "green"), Val::enumeration(1));
  f.both(f.perms, node(Kind::kFlags, {}, {"exec", "read"}), Val::flags(0b101));
  f.both(f.maybe, node(Kind::kOption, {}), Val::none());
  f.both(f.maybe, node(Kind::kOption, {scalar(Kind::kU32, 7)}), Val::some(Val::u32(7)));
  f.both(f.res, node(Kind::kResult, {str("fine")}), Val::ok(Val::string("fine")));
  f.both(f.res, node(Kind::kResult, {}, {}, "", 1), Val::err());
  // The tree of a value names what WIT names.
  auto out = val_to_tree(f.t.d, f.point, Val::record({Val::s32(1), Val::s32(2), Val::some(Val::u32(3))}));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->names, (std::vector<std::string>{"x", "y", "label"}));
  EXPECT_EQ(out->items[2].kind, Kind::kOption);
  EXPECT_EQ(out->items[2].items.at(0).bits, 3u);
  auto fl_out = val_to_tree(f.t.d, f.perms, Val::flags(0b110));
  ASSERT_TRUE(fl_out);
  EXPECT_EQ(fl_out->names, (std::vector<std::string>{"write", "exec"}));
}

TEST(TreeVal, RefusesWhatIsNotExactlyOfItsType) {
  Fixture f;
  EXPECT_EQ(f.refusal(f.s8, scalar(Kind::kS64, 1)), "$: expected s8, got s64");
  EXPECT_EQ(f.refusal(f.alias, scalar(Kind::kU32, 1)), "$: expected u16, got u32");
  EXPECT_NE(f.refusal(f.s8, scalar(Kind::kS8, 128)).find("out of range"), std::string::npos);
  EXPECT_NE(f.refusal(f.s8, scalar(Kind::kS8, static_cast<uint64_t>(int64_t{-129}))).find("out of range"),
            std::string::npos);
  EXPECT_NE(f.refusal(prim(Prim::kU8), scalar(Kind::kU8, 256)).find("out of range"), std::string::npos);
  EXPECT_NE(f.refusal(prim(Prim::kBool), scalar(Kind::kBool, 2)).find("0 or 1"), std::string::npos);
  ComponentValue big;
  big.kind = Kind::kF32;
  big.f = 1e39;
  EXPECT_NE(f.refusal(f.f32, big).find("beyond"), std::string::npos);
  EXPECT_NE(f.refusal(f.chr, scalar(Kind::kChar, 0xdfff)).find("scalar value"), std::string::npos);
  EXPECT_NE(f.refusal(f.chr, scalar(Kind::kChar, 0x110000)).find("scalar value"), std::string::npos);
  EXPECT_NE(f.refusal(prim(Prim::kString), str("\xc0\x80")).find("not valid UTF-8"), std::string::npos);
  EXPECT_EQ(f.refusal(f.strs, node(Kind::kList, {str("a"), scalar(Kind::kU8, 1)})), "$[1]: expected string, got u8");
  EXPECT_NE(f.refusal(f.pair, node(Kind::kTuple, {scalar(Kind::kChar, 'a')})).find("2 elements, got 1"), std::string::npos);
  EXPECT_EQ(f.refusal(f.point, node(Kind::kRecord, {scalar(Kind::kS32, 1)}, {"x"})), "$: missing field y");
  EXPECT_NE(f.refusal(f.point, node(Kind::kRecord, {scalar(Kind::kS32, 1), scalar(Kind::kS32, 1)}, {"x", "x"}))
                .find("$.x: field given twice"),
            std::string::npos);
  EXPECT_NE(f.refusal(f.point, node(Kind::kRecord, {scalar(Kind::kS32, 1)}, {"z"})).find("$.z: unknown field"),
            std::string::npos);
  EXPECT_NE(f.refusal(f.point, node(Kind::kRecord, {scalar(Kind::kS32, 1)}, {})).find("names each"), std::string::npos);
  EXPECT_EQ(f.refusal(f.point, node(Kind::kRecord, {scalar(Kind::kS32, 1), scalar(Kind::kU32, 1)}, {"x", "y"})),
            "$.y: expected s32, got u32");
  EXPECT_NE(f.refusal(f.shape, node(Kind::kVariant, {}, {}, "square")).find("expected a case of circle, none, at"),
            std::string::npos);
  EXPECT_NE(f.refusal(f.shape, node(Kind::kVariant, {}, {}, "circle")).find("needs one payload"), std::string::npos);
  EXPECT_NE(f.refusal(f.shape, node(Kind::kVariant, {str("x")}, {}, "none")).find("has no payload"), std::string::npos);
  EXPECT_EQ(f.refusal(f.shape, node(Kind::kVariant, {str("x")}, {}, "circle")), "$.circle: expected f64, got string");
  EXPECT_NE(f.refusal(f.color, node(Kind::kEnum, {}, {}, "blue")).find("expected one of red, green"), std::string::npos);
  EXPECT_NE(f.refusal(f.perms, node(Kind::kFlags, {}, {"read", "read"})).find("given twice"), std::string::npos);
  EXPECT_NE(f.refusal(f.perms, node(Kind::kFlags, {}, {"delete"})).find("expected labels of"), std::string::npos);
  EXPECT_NE(f.refusal(f.maybe, node(Kind::kOption, {scalar(Kind::kU32, 1), scalar(Kind::kU32, 2)})).find("at most one"),
            std::string::npos);
  EXPECT_NE(f.refusal(f.res, node(Kind::kResult, {}, {}, "", 2)).find("ok (0) or err (1)"), std::string::npos);
  EXPECT_NE(f.refusal(f.res, node(Kind::kResult, {str("x")}, {}, "", 1)).find("err has no payload"), std::string::npos);
  EXPECT_NE(f.refusal(f.res, node(Kind::kResult, {})).find("ok needs one payload"), std::string::npos);
  EXPECT_EQ(f.refusal(f.res, node(Kind::kResult, {scalar(Kind::kU8, 1)})), "$.ok: expected string, got u8");
  EXPECT_EQ(f.refusal(f.point, str("x")), "$: expected record, got string");
  // A resource handle is never a caller's value.
  Types r;
  ValType own = r.own();
  auto v = tree_to_val(r.d, own, scalar(Kind::kU32, 0));
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("resource handles"), std::string::npos);
}

TEST(TreeVal, ArgumentsByPositionNamedByParameter) {
  Fixture f;
  TypeDef fn;
  fn.kind = TypeKind::kFunc;
  fn.fields = {Field{"a", true, prim(Prim::kU32)}, Field{"p", true, f.point}};
  auto args = tree_to_args(f.t.d, fn, {scalar(Kind::kU32, 1), node(Kind::kRecord, {scalar(Kind::kS32, 1), scalar(Kind::kS32, 2)}, {"x", "y"})});
  ASSERT_TRUE(args) << args.error().message;
  EXPECT_EQ(args->size(), 2u);
  auto wrong = tree_to_args(f.t.d, fn, {scalar(Kind::kU32, 1), node(Kind::kRecord, {scalar(Kind::kU8, 1)}, {"x"})});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message, "$.p.x: expected s32, got u8");
  auto few = tree_to_args(f.t.d, fn, {scalar(Kind::kU32, 1)});
  ASSERT_FALSE(few);
  EXPECT_NE(few.error().message.find("takes 2 arguments (a, p), got 1"), std::string::npos);
}

// Values and string bytes are bounded in both directions: a caller's tree and a component's
// result alike.
TEST(TreeVal, Bounds) {
  Fixture f;
  JsonValOptions o;
  o.max_nodes = 10;
  std::vector<ComponentValue> many(20, str("x"));
  EXPECT_NE(f.refusal(f.strs, node(Kind::kList, many), o).find("max_nodes"), std::string::npos);
  std::vector<Val> vals(20, Val::string("x"));
  auto out = val_to_tree(f.t.d, f.strs, Val::list(vals), o);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("max_nodes"), std::string::npos);
  o = {};
  o.max_bytes = 8;
  EXPECT_NE(f.refusal(f.strs, node(Kind::kList, {str("12345"), str("6789")}), o).find("max_bytes"), std::string::npos);
  out = val_to_tree(f.t.d, f.strs, Val::list({Val::string("12345"), Val::string("6789")}), o);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("max_bytes"), std::string::npos);
  // Exactly at the bounds: accepted.
  o = {};
  o.max_nodes = 3;
  o.max_bytes = 9;
  EXPECT_TRUE(tree_to_val(f.t.d, f.strs, node(Kind::kList, {str("12345"), str("6789")}), o));
  EXPECT_TRUE(val_to_tree(f.t.d, f.strs, Val::list({Val::string("12345"), Val::string("6789")}), o));
}

// A component's value that does not have its type (what a buggy lifting or a hostile guest could
// produce) is refused, never turned into a tree of another shape.
TEST(TreeVal, ValuesThatDoNotHaveTheirTypeAreRefused) {
  Fixture f;
  EXPECT_FALSE(val_to_tree(f.t.d, f.s8, Val::u8(1)));
  EXPECT_FALSE(val_to_tree(f.t.d, prim(Prim::kString), Val::string("\xff")));
  EXPECT_FALSE(val_to_tree(f.t.d, f.chr, Val::character(0xd800)));
  EXPECT_FALSE(val_to_tree(f.t.d, f.color, Val::enumeration(2)));
  EXPECT_FALSE(val_to_tree(f.t.d, f.shape, Val::variant(3)));
  EXPECT_FALSE(val_to_tree(f.t.d, f.shape, Val::variant(1, Val::f64(1))));
  EXPECT_FALSE(val_to_tree(f.t.d, f.perms, Val::flags(0b1000)));
  EXPECT_FALSE(val_to_tree(f.t.d, f.point, Val::record({Val::s32(1)})));
  EXPECT_FALSE(val_to_tree(f.t.d, f.res, Val::err(Val::u8(1))));
}

}  // namespace
}  // namespace wasmcap::component
