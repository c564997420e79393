// The component decoder (src/component/component.h) on hand-built components: a small valid one
// in the shape of a WASI command, and a malformed corpus (every truncation, hostile counts and
// lengths, out-of-range indices, wrong sorts, deep nesting, type rules, canon option rules, name
// rules), each with the error it must get.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "component/component.h"
#include "component_writer.h"

namespace wasmcap::component {
namespace {

using testing::preamble;
using testing::vec;
using testing::W;

Result<Decoded> dec(const std::vector<uint8_t>& b) { return decode(b.data(), b.size()); }

// A component of the given sections.
std::vector<uint8_t> comp(std::initializer_list<std::pair<uint8_t, W>> sections) {
  W c = preamble();
  for (const auto& [id, w] : sections) c.section(id, w);
  return c.b;
}

// "f0", "f1", ...
std::string label(uint32_t i) {
  std::string s = std::to_string(i);
  s.insert(s.begin(), 'f');
  return s;
}

void expect_error(const std::vector<uint8_t>& b, ErrorCode code, const std::string& what) {
  auto d = dec(b);
  ASSERT_FALSE(d.has_value()) << "decoded, expected: " << what;
  EXPECT_EQ(d.error().code, code) << d.error().message;
  EXPECT_NE(d.error().message.find(what), std::string::npos) << d.error().message;
  EXPECT_EQ(d.error().message.rfind("component: ", 0), 0u) << d.error().message;
}

TEST(ComponentDecode, SmallCommandShapedComponentDecodes) {
  std::vector<uint8_t> b = testing::small_component();
  ASSERT_TRUE(is_component(b.data(), b.size()));
  auto d = dec(b);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  const Component& c = d->root;
  ASSERT_EQ(c.imports.size(), 1u);
  EXPECT_EQ(c.imports[0].name, "wasi:cli/stdout@0.2.0");
  EXPECT_EQ(c.imports[0].desc.sort, Sort::kInstance);
  const TypeDef& it = d->types[c.imports[0].desc.type];
  ASSERT_EQ(it.kind, TypeKind::kInstance);
  ASSERT_EQ(it.exports.size(), 2u);
  EXPECT_EQ(it.exports[0].name, "output-stream");
  EXPECT_TRUE(it.exports[0].desc.sub_resource);
  EXPECT_EQ(d->types[it.exports[0].desc.type].kind, TypeKind::kResource);
  const TypeDef& get = d->types[it.exports[1].desc.type];
  ASSERT_EQ(get.kind, TypeKind::kFunc);
  ASSERT_TRUE(get.has_a);
  EXPECT_EQ(d->types[get.a.type].kind, TypeKind::kOwn);
  EXPECT_EQ(d->types[get.a.type].resource, it.exports[0].desc.type);

  ASSERT_EQ(c.exports.size(), 1u);
  EXPECT_EQ(c.exports[0].name, "wasi:cli/run@0.2.0");
  EXPECT_EQ(c.exports[0].sort, Sort::kInstance);
  ASSERT_EQ(c.modules.size(), 1u);
  std::vector<uint8_t> module = testing::core_module();
  ASSERT_EQ(c.modules[0].bytes.size, module.size());
  EXPECT_TRUE(std::equal(module.begin(), module.end(), b.begin() + c.modules[0].bytes.offset));
  const TypeDef& mt = d->types[c.modules[0].type];
  ASSERT_EQ(mt.core_imports.size(), 1u);
  EXPECT_EQ(mt.core_imports[0].module, "host");
  ASSERT_EQ(mt.core_exports.size(), 2u);
  EXPECT_EQ(mt.core_exports[1].sort, Sort::kCoreMemory);

  // Index spaces: core funcs from canon lower and a core export alias; funcs from an instance
  // export alias and canon lift; instances: the import and the inline one.
  ASSERT_EQ(c.space(Sort::kCoreFunc).size(), 2u);
  EXPECT_EQ(c.space(Sort::kCoreFunc)[0].origin, Origin::kCanonLower);
  EXPECT_EQ(c.space(Sort::kCoreFunc)[1].origin, Origin::kAliasCoreExport);
  ASSERT_EQ(c.space(Sort::kFunc).size(), 2u);
  EXPECT_EQ(c.space(Sort::kFunc)[0].origin, Origin::kAliasExport);
  EXPECT_EQ(c.space(Sort::kFunc)[1].origin, Origin::kCanonLift);
  EXPECT_EQ(c.space(Sort::kCoreInstance).size(), 2u);
  EXPECT_EQ(c.space(Sort::kInstance).size(), 3u);  // import, inline, export
  ASSERT_EQ(c.canons.size(), 2u);
  EXPECT_EQ(c.canons[0].kind, CanonKind::kLower);
  EXPECT_EQ(c.canons[1].kind, CanonKind::kLift);
  EXPECT_EQ(c.order.front().kind, DefKind::kType);
  EXPECT_EQ(c.order.back().kind, DefKind::kExport);
  EXPECT_EQ(describe_imports(*d), "1 import: \"wasi:cli/stdout@0.2.0\" (instance)");
}

TEST(ComponentDecode, CoreModulesAreNotComponents) {
  std::vector<uint8_t> m = testing::core_module();
  EXPECT_FALSE(is_component(m.data(), m.size()));
  expect_error(m, ErrorCode::kModuleMalformed, "not a component (layer 0");
}

// Every prefix of a valid component that ends inside a section is refused with a named error,
// at an offset within it; every prefix that ends between sections is a valid component (each
// section refers only to those before it).
TEST(ComponentDecode, EveryTruncationIsANamedError) {
  std::vector<uint8_t> b = testing::small_component();
  std::vector<size_t> boundaries = {8};
  for (size_t p = 8; p < b.size();) {
    size_t len = 0, shift = 0, q = p + 1;
    while (b[q] & 0x80) len |= size_t{b[q++] & 0x7fu} << shift, shift += 7;
    len |= size_t{b[q++]} << shift;
    p = q + len;
    boundaries.push_back(p);
  }
  ASSERT_EQ(boundaries.back(), b.size());
  for (size_t n = 0; n < b.size(); ++n) {
    std::vector<uint8_t> prefix(b.begin(), b.begin() + n);
    auto d = dec(prefix);
    if (std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end()) {
      EXPECT_TRUE(d.has_value()) << n << ": " << d.error().message;
      continue;
    }
    ASSERT_FALSE(d.has_value()) << "prefix of " << n << " bytes decoded";
    EXPECT_EQ(d.error().code, ErrorCode::kModuleMalformed) << n << ": " << d.error().message;
    if (n == 0) continue;
    size_t at = d.error().message.find("at byte ");
    ASSERT_NE(at, std::string::npos) << d.error().message;
    EXPECT_LE(std::stoul(d.error().message.substr(at + 8)), n) << d.error().message;
  }
}

// Every single-byte change decodes or fails with a named error (a small deterministic fuzz; the
// libFuzzer target, tests/component/fuzz, does the rest).
TEST(ComponentDecode, EveryByteFlipDecodesOrIsANamedError) {
  std::vector<uint8_t> b = testing::small_component();
  for (size_t i = 0; i < b.size(); ++i) {
    for (uint8_t v : {uint8_t{0x00}, uint8_t{0x7f}, uint8_t{0x80}, uint8_t{0xff}, uint8_t(b[i] ^ 1)}) {
      std::vector<uint8_t> m = b;
      m[i] = v;
      auto d = dec(m);
      if (!d) {
        EXPECT_TRUE(d.error().code == ErrorCode::kModuleMalformed ||
                    d.error().code == ErrorCode::kModuleUnsupported)
            << d.error().message;
      }
    }
  }
}

TEST(ComponentMalformed, PreambleAndSections) {
  expect_error(W().bytes({0x00, 0x61, 0x73, 0x6d, 0x0c, 0x00, 0x01, 0x00}).b,
               ErrorCode::kModuleUnsupported, "component binary version 0x0c");
  expect_error(comp({{13, W()}}), ErrorCode::kModuleMalformed, "unknown section id 13");
  expect_error(preamble().bytes({0x07, 0x10, 0x00}).b, ErrorCode::kModuleMalformed,
               "size 16 exceeds the 1 bytes left");
  expect_error(comp({{7, W().u32(1).byte(0x79).byte(0x00)}}), ErrorCode::kModuleMalformed,
               "1 bytes after its contents");
  expect_error(comp({{12, W().u32(0)}}), ErrorCode::kModuleUnsupported, "value sections");
  // A core module section that is not a core module.
  expect_error(comp({{1, W().bytes({0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00})}}),
               ErrorCode::kModuleMalformed, "core module preamble");
}

TEST(ComponentMalformed, HostileCountsAndLengths) {
  expect_error(comp({{7, W().u32(0xffffffffu)}}), ErrorCode::kModuleUnsupported,
               "type count 4294967295 exceeds wasmcap's bound of 100000");
  expect_error(comp({{7, W().u32(1000).bytes({0x79, 0x79})}}), ErrorCode::kModuleMalformed,
               "type count 1000 exceeds the 2 bytes left");
  // Overlong and too-large LEB128s.
  expect_error(preamble().bytes({0x07, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}).b,
               ErrorCode::kModuleMalformed, "integer representation too long");
  expect_error(preamble().bytes({0x07, 0xff, 0xff, 0xff, 0xff, 0x7f}).b, ErrorCode::kModuleMalformed,
               "integer too large");
  // A name longer than the bytes left, a name over the bound, a name that is not UTF-8.
  expect_error(comp({{0, W().u32(50).byte('x')}}), ErrorCode::kModuleMalformed,
               "custom section name length 50 exceeds");
  expect_error(comp({{0, W().u32(kMaxNameBytes + 1)}}), ErrorCode::kModuleUnsupported,
               "exceeds wasmcap's bound of 65536");
  expect_error(comp({{10, W().u32(1).byte(0x00).u32(2).bytes({0xff, 0xfe}).bytes({0x03, 0x01})}}),
               ErrorCode::kModuleMalformed, "not valid UTF-8");
  // The whole input.
  uint8_t one = 0;
  auto d = decode(&one, kMaxComponentBytes + 1);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::kModuleUnsupported);
}

TEST(ComponentMalformed, SectionAndIndexSpaceBounds) {
  W many = preamble();
  for (uint32_t i = 0; i <= kMaxSections; ++i) many.bytes({0x00, 0x01, 0x00});
  expect_error(many.b, ErrorCode::kModuleUnsupported, "bound of 100000 sections");
  // Two type sections of 60000 primitive types: the type index space's bound.
  W types;
  types.u32(60000);
  for (int i = 0; i < 60000; ++i) types.byte(0x79);
  expect_error(comp({{7, types}, {7, types}}), ErrorCode::kModuleUnsupported,
               "bound of 100000 entries in the type index space");
  // Type definitions of all scopes: 70000 in each of three nested components.
  types = W().u32(70000);
  for (int i = 0; i < 70000; ++i) types.byte(0x79);
  W inner = preamble();
  inner.section(7, types);
  W mid = preamble();
  mid.section(7, types).section(4, inner);
  W outer = preamble();
  outer.section(7, types).section(4, mid);
  expect_error(outer.b, ErrorCode::kModuleUnsupported, "bound of 200000 type definitions");
}

TEST(ComponentMalformed, IndicesAndSorts) {
  expect_error(comp({{6, vec(1, W().bytes({0x01, 0x00, 0x05}).str("f"))}}), ErrorCode::kModuleMalformed,
               "instance index 5 is out of range (0 defined)");
  expect_error(comp({{8, vec(1, W().bytes({0x00, 0x00, 0x00, 0x00, 0x00}))}}),
               ErrorCode::kModuleMalformed, "core func index 0 is out of range");
  // An import of an instance type whose "get-stdout" is a func, aliased as an instance; and a name
  // it does not export.
  auto alias_as = [&](std::initializer_list<uint8_t> sort, const char* name) {
    W c = preamble();
    W it;  // (instance (type (func)) (export "get" (func (type 0))))
    it.byte(0x42).u32(2).byte(0x01).bytes({0x40, 0x00, 0x01, 0x00});
    it.byte(0x04).name("get").bytes({0x01, 0x00});
    c.section(7, vec(1, it));
    c.section(10, vec(1, W().name("i").bytes({0x05, 0x00})));
    c.section(6, vec(1, W().bytes(sort).bytes({0x00, 0x00}).str(name)));
    return c.b;
  };
  EXPECT_TRUE(dec(alias_as({0x01}, "get")).has_value());
  expect_error(alias_as({0x05}, "get"), ErrorCode::kModuleMalformed, "is a func, aliased as a instance");
  expect_error(alias_as({0x01}, "put"), ErrorCode::kModuleMalformed, "has no export named \"put\"");
  // A core module instantiated without the instance its imports name.
  W nomod = preamble();
  nomod.section(1, W().raw(testing::core_module()));
  nomod.section(2, vec(1, W().bytes({0x00, 0x00, 0x00})));
  expect_error(nomod.b, ErrorCode::kModuleMalformed,
               "imports \"host\" \"get\" but no instantiation argument is named \"host\"");
  // ... or with one that lacks the import.
  W lacks = preamble();
  lacks.section(1, W().raw(testing::core_module()));
  lacks.section(2, vec(2, W().bytes({0x01, 0x00}).bytes({0x00, 0x00}).u32(1).str("host").bytes({0x12, 0x00})));
  expect_error(lacks.b, ErrorCode::kModuleMalformed, "which its argument does not export");
  // Outer alias beyond the enclosing scopes.
  expect_error(comp({{6, vec(1, W().bytes({0x03, 0x02, 0x03, 0x00}))}}), ErrorCode::kModuleMalformed,
               "outer alias count 3 exceeds the 0 enclosing scopes");
  // A component cannot export a core func.
  expect_error(comp({{11, vec(1, W().name("f").bytes({0x00, 0x00, 0x00, 0x00}))}}),
               ErrorCode::kModuleMalformed, "cannot export a core func");
}

TEST(ComponentMalformed, NestingIsBounded) {
  // Components in components.
  W c = preamble();
  for (uint32_t i = 0; i < kMaxScopeDepth + 2; ++i) {
    W outer = preamble();
    outer.section(4, c);
    c = std::move(outer);
  }
  expect_error(c.b, ErrorCode::kModuleUnsupported, "components nested deeper than wasmcap's bound of 32");
  // Instance types in instance types (each exports the next as "i").
  W t;
  t.bytes({0x42, 0x00});
  for (uint32_t i = 0; i < kMaxScopeDepth + 2; ++i) {
    W outer;
    outer.bytes({0x42, 0x02, 0x01}).raw(t).byte(0x04).name("i").bytes({0x05, 0x00});
    t = std::move(outer);
  }
  expect_error(comp({{7, vec(1, t)}}), ErrorCode::kModuleUnsupported,
               "component and instance types nested deeper than wasmcap's bound of 32");
  // Value types: list of list of ... 70 deep.
  W lists;
  lists.u32(70).byte(0x79);
  for (uint32_t i = 0; i < 69; ++i) lists.byte(0x70).valtype_index(i);
  expect_error(comp({{7, lists}}), ErrorCode::kModuleUnsupported,
               "value type nested deeper than wasmcap's bound of 64");
  W within;
  within.u32(64).byte(0x79);
  for (uint32_t i = 0; i < 63; ++i) within.byte(0x70).valtype_index(i);
  EXPECT_TRUE(dec(comp({{7, within}})).has_value());
  // A type index of 64 or more as a value type is a two-byte s33; one byte is a value type code.
  W types;
  types.u32(66);
  for (int i = 0; i < 65; ++i) types.byte(0x79);
  EXPECT_TRUE(dec(comp({{7, W(types).byte(0x70).valtype_index(64)}})).has_value());
  expect_error(comp({{7, W(types).bytes({0x70, 0x40})}}), ErrorCode::kModuleMalformed, "unknown value type code");
}

TEST(ComponentMalformed, ValueTypeRules) {
  // Type size: a record of 1000 u64 (1001 nodes), in a record of 1000 of those (1001001 nodes);
  // 900 of them are within the bound.
  auto record = [](uint32_t n, std::initializer_list<uint8_t> field) {
    W r;
    r.byte(0x72).u32(n);
    for (uint32_t i = 0; i < n; ++i) r.str(label(i)).bytes(field);
    return r;
  };
  expect_error(comp({{7, vec(2, W().raw(record(1000, {0x77})).raw(record(1000, {0x00})))}}),
               ErrorCode::kModuleUnsupported, "value type larger than wasmcap's bound of 1000000 nodes");
  EXPECT_TRUE(dec(comp({{7, vec(2, W().raw(record(1000, {0x77})).raw(record(900, {0x00})))}})).has_value());
  // Flags: at most 32 labels.
  W flags;
  flags.byte(0x6e).u32(33);
  for (uint32_t i = 0; i < 33; ++i) flags.str(label(i));
  expect_error(comp({{7, vec(1, flags)}}), ErrorCode::kModuleMalformed, "flags with 33 labels");
  // Labels: valid, strongly unique.
  expect_error(comp({{7, vec(1, W().byte(0x72).u32(2).str("a").byte(0x79).str("A").byte(0x79))}}),
               ErrorCode::kModuleMalformed, "record field \"A\" is not unique");
  expect_error(comp({{7, vec(1, W().byte(0x6d).u32(1).str("no_underscores"))}}),
               ErrorCode::kModuleMalformed, "is not a valid label");
  expect_error(comp({{7, vec(1, W().byte(0x72).u32(0))}}), ErrorCode::kModuleMalformed, "record with no elements");
  // own/borrow of a resource only; no borrow in a function result.
  expect_error(comp({{7, vec(2, W().byte(0x79).bytes({0x69, 0x00}))}}), ErrorCode::kModuleMalformed,
               "own of type 0, which is not a resource type");
  expect_error(comp({{7, vec(3, W().bytes({0x3f, 0x7f, 0x00}).bytes({0x68, 0x00}).bytes({0x40, 0x00, 0x00, 0x01}))}}),
               ErrorCode::kModuleMalformed, "a function result contains a borrow handle");
  EXPECT_TRUE(dec(comp({{7, vec(3, W().bytes({0x3f, 0x7f, 0x00}).bytes({0x69, 0x00}).bytes({0x40, 0x00, 0x00, 0x01}))}})).has_value());
  // A value type index naming a function type.
  expect_error(comp({{7, vec(2, W().bytes({0x40, 0x00, 0x01, 0x00}).bytes({0x70, 0x00}))}}),
               ErrorCode::kModuleMalformed, "is not a defined value type");
  expect_error(comp({{7, vec(1, W().byte(0x50))}}), ErrorCode::kModuleMalformed, "unknown type definition code 0x50");
  expect_error(comp({{7, vec(1, W().bytes({0x43, 0x00, 0x01, 0x00}))}}), ErrorCode::kModuleUnsupported,
               "async function types");
  expect_error(comp({{7, vec(1, W().bytes({0x3f, 0x7e, 0x00}))}}), ErrorCode::kModuleMalformed,
               "representation must be i32");
}

// Canon definitions: a local resource gives a core func (resource.new) to lift.
TEST(ComponentMalformed, CanonOptionRules) {
  W string_param;
  string_param.byte(0x40).u32(1).str("s").byte(0x73).bytes({0x01, 0x00});
  auto lift = [&](const W& ftype, std::initializer_list<uint8_t> opts) {
    return comp({{7, vec(2, W().bytes({0x3f, 0x7f, 0x00}).raw(ftype))},
                 {8, vec(2, W().bytes({0x02, 0x00}).bytes({0x00, 0x00, 0x00}).bytes(opts).byte(0x01))}});
  };
  W unit = W().bytes({0x40, 0x00, 0x01, 0x00});
  EXPECT_TRUE(dec(lift(unit, {0x00})).has_value());
  expect_error(lift(string_param, {0x00}), ErrorCode::kModuleMalformed, "needs a realloc option");
  expect_error(lift(unit, {0x01, 0x04, 0x00}), ErrorCode::kModuleMalformed, "realloc needs a memory option");
  expect_error(lift(unit, {0x02, 0x00, 0x01}), ErrorCode::kModuleMalformed, "duplicate or conflicting canon option");
  expect_error(lift(unit, {0x01, 0x03, 0x00}), ErrorCode::kModuleMalformed, "core memory index 0 is out of range");
  expect_error(lift(unit, {0x01, 0x06}), ErrorCode::kModuleUnsupported, "async canon options");
  // A string result of a lift needs a memory.
  expect_error(lift(W().bytes({0x40, 0x00, 0x00, 0x73}), {0x00}), ErrorCode::kModuleMalformed,
               "needs a memory option");
  // post-return only on lift: lower an imported func with it.
  expect_error(comp({{7, vec(2, W().bytes({0x3f, 0x7f, 0x00}).raw(unit))},
                     {10, vec(1, W().name("f").bytes({0x01, 0x01}))},
                     {8, vec(2, W().bytes({0x02, 0x00}).bytes({0x01, 0x00, 0x00, 0x01, 0x05, 0x00}))}}),
               ErrorCode::kModuleMalformed, "post-return is only allowed on canon lift");
  // resource.new of an imported resource.
  expect_error(comp({{10, vec(1, W().name("r").bytes({0x03, 0x01}))}, {8, vec(1, W().bytes({0x02, 0x00}))}}),
               ErrorCode::kModuleMalformed, "need a resource defined by this component");
  EXPECT_TRUE(dec(comp({{10, vec(1, W().name("r").bytes({0x03, 0x01}))}, {8, vec(1, W().bytes({0x03, 0x00}))}})).has_value());
  expect_error(comp({{8, vec(1, W().byte(0x1f))}}), ErrorCode::kModuleUnsupported, "canon built-in 0x1f");
}

TEST(ComponentMalformed, ImportAndExportNames) {
  auto import_type = [](std::initializer_list<const char*> names) {
    W v;
    v.u32(static_cast<uint32_t>(names.size()));
    for (const char* n : names) v.name(n).bytes({0x03, 0x01});
    return comp({{10, v}});
  };
  EXPECT_TRUE(dec(import_type({"foo", "foo-bar", "wasi:io/streams@0.2.0", "wasi:io/streams@0.2.1",
                               "a:b/c@1.0.0-rc.1+build.5"})).has_value());
  expect_error(import_type({"foo", "FOO"}), ErrorCode::kModuleMalformed, "import name \"FOO\" is not unique");
  expect_error(import_type({"foo_bar"}), ErrorCode::kModuleMalformed, "is neither a plain name");
  expect_error(import_type({"wasi:io/streams@0.2"}), ErrorCode::kModuleMalformed, "is neither a plain name");
  expect_error(import_type({"wasi:io/streams@00.2.0"}), ErrorCode::kModuleMalformed, "is neither a plain name");
  expect_error(import_type({"wasi:io"}), ErrorCode::kModuleMalformed, "is neither a plain name");
  // Annotated names: functions of a resource imported before them.
  W ftype = W().bytes({0x40, 0x00, 0x01, 0x00});
  expect_error(comp({{7, vec(1, ftype)}, {10, vec(1, W().name("[method]r.f").bytes({0x01, 0x00}))}}),
               ErrorCode::kModuleMalformed, "names a resource not imported or exported before it");
  EXPECT_TRUE(dec(comp({{7, vec(1, ftype)},
                        {10, vec(2, W().name("r").bytes({0x03, 0x01}).name("[method]r.f").bytes({0x01, 0x00}))}}))
                  .has_value());
  expect_error(comp({{10, vec(2, W().name("r").bytes({0x03, 0x01}).name("[static]r.f").bytes({0x03, 0x01}))}}),
               ErrorCode::kModuleMalformed, "is not a function");
  // Hostile bytes in a name are quoted in the message.
  expect_error(import_type({"a\x1b[31m"}), ErrorCode::kModuleMalformed, "\"a\\x1b[31m\"");
}

TEST(ComponentNames, LabelsAndUniqueness) {
  EXPECT_TRUE(valid_label("a"));
  EXPECT_TRUE(valid_label("get-stdout"));
  EXPECT_TRUE(valid_label("HTTP-request2"));
  EXPECT_TRUE(valid_label("a-1"));
  EXPECT_FALSE(valid_label("1a"));
  EXPECT_FALSE(valid_label("a--b"));
  EXPECT_FALSE(valid_label("a-"));
  EXPECT_FALSE(valid_label("aB"));
  EXPECT_FALSE(valid_label(""));
  EXPECT_TRUE(valid_extern_name("[constructor]fields"));
  EXPECT_TRUE(valid_extern_name("wasi:cli/run@0.2.0"));
  EXPECT_FALSE(valid_extern_name("[method]fields"));
  EXPECT_FALSE(valid_extern_name("Wasi:cli/run"));
  EXPECT_EQ(strongly_unique_key("[method]foo.foo"), "foo");
  EXPECT_EQ(strongly_unique_key("[static]FOO-bar.Baz"), "foo-bar.baz");
  EXPECT_EQ(strongly_unique_key("[constructor]Foo"), "[constructor]foo");
}

}  // namespace
}  // namespace wasmcap::component
