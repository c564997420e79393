// Running components (layers 2 and 3, src/component/instance.h): instantiation and linking, the
// Canonical ABI on every 0.2 value type, host functions and resources, on every engine (interp,
// aot and auto run the same tests). The components are text (tests/component/wat/*.wat) turned
// into binaries by npm's jco (`jco parse`) in run_components.sh, which runs this with
// WASMCAP_TEST_COMPONENT_WAT_DIR. Hostile cases (pointers and lengths out of range, huge lists,
// invalid UTF-8/UTF-16, bad discriminants and chars, handle misuse) must trap with a named error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "component/instance.h"
#include "component/json_val.h"
#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"
#include "test_paths.h"

namespace wasmcap::component {
namespace {

std::vector<uint8_t> read_component(const std::string& name) {
  const char* d = std::getenv("WASMCAP_TEST_COMPONENT_WAT_DIR");
  if (d == nullptr) return {};
  std::ifstream f(std::string(d) + "/" + name + ".wasm", std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

class ComponentRun : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_NE(std::getenv("WASMCAP_TEST_COMPONENT_WAT_DIR"), nullptr)
        << "run by run_components.sh, which builds the components";
    if (GetParam() == "aot" || GetParam() == "auto") {
      if (!aot_available()) GTEST_SKIP() << "no C compiler for aot";
      EngineConfig config;
      config.aot.cache_dir = test_paths::aot_test_cache();
      config.aot.opt_level = 1;
      config.wait_for_compile = true;  // auto: compile in the foreground, no background process
      auto e = make_engine(GetParam(), std::move(config));
      ASSERT_TRUE(e.has_value()) << e.error().to_string();
      engine_ = std::move(*e);
    } else {
      engine_ = make_fast_engine();
    }
  }

  Result<std::unique_ptr<ComponentInstance>> try_instantiate(const std::string& name, InstantiateOptions o = {}) {
    std::vector<uint8_t> bytes = read_component(name);
    if (bytes.empty()) return make_error(ErrorCode::kNotFound, "no component " + name);
    return ComponentInstance::instantiate(*engine_, bytes.data(), bytes.size(), host_, limits_, o);
  }
  std::unique_ptr<ComponentInstance> instantiate(const std::string& name, InstantiateOptions o = {}) {
    auto r = try_instantiate(name, o);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return r ? std::move(*r) : nullptr;
  }
  // Calls and expects one result.
  Val call1(ComponentInstance& c, const std::string& f, std::vector<Val> args) {
    auto r = c.call(f, std::move(args));
    EXPECT_TRUE(r.has_value()) << f << ": " << r.error().to_string();
    if (!r || r->results.size() != 1) {
      ADD_FAILURE() << f << ": no single result";
      return Val::boolean(false);
    }
    return r->results[0];
  }
  // Calls in a fresh instance (a trap ends an instance) and returns the error.
  Error trap(const std::string& component, const std::string& f, std::vector<Val> args) {
    auto c = instantiate(component);
    if (!c) return Error{ErrorCode::kInternal, "no instance"};
    auto r = c->call(f, std::move(args));
    EXPECT_FALSE(r.has_value()) << f << " returned " << (r && !r->results.empty() ? r->results[0].to_string() : "");
    return r ? Error{ErrorCode::kInternal, "no error"} : r.error();
  }

  std::unique_ptr<Engine> engine_;
  HostRegistry host_;
  ExecLimits limits_;
};

// ---- the Canonical ABI through exports (abi.wat) ----

TEST_P(ComponentRun, Scalars) {
  auto c = instantiate("abi");
  ASSERT_TRUE(c);
  EXPECT_EQ(call1(*c, "add", {Val::u32(40), Val::u32(2)}), Val::u32(42));
  EXPECT_EQ(call1(*c, "add", {Val::u32(0xffffffffu), Val::u32(2)}), Val::u32(1));
  EXPECT_EQ(call1(*c, "echo-bool", {Val::boolean(true)}), Val::boolean(true));
  EXPECT_EQ(call1(*c, "echo-s8", {Val::s8(-5)}), Val::s8(-5));
  // A core i32 lifted as s8 keeps its low 8 bits, sign-extended.
  EXPECT_EQ(call1(*c, "u32-as-s8", {Val::u32(0x1ff)}), Val::s8(-1));
  EXPECT_EQ(call1(*c, "u32-as-bool", {Val::u32(7)}), Val::boolean(true));
  EXPECT_EQ(call1(*c, "echo-s64", {Val::s64(-1234567890123LL)}), Val::s64(-1234567890123LL));
  EXPECT_EQ(call1(*c, "echo-f32", {Val::f32(1.5f)}), Val::f32(1.5f));
  EXPECT_EQ(call1(*c, "echo-f64", {Val::f64(-2.25)}), Val::f64(-2.25));
  Val nan = call1(*c, "echo-f64", {Val::f64(std::nan(""))});
  EXPECT_TRUE(std::isnan(nan.f));
  EXPECT_EQ(call1(*c, "echo-char", {Val::character(0x1F600)}), Val::character(0x1F600));
  EXPECT_EQ(call1(*c, "echo-enum", {Val::enumeration(2)}), Val::enumeration(2));
  EXPECT_EQ(call1(*c, "echo-flags", {Val::flags(5)}), Val::flags(5));
  // Flags bits beyond the labels are ignored when lifted.
  EXPECT_EQ(call1(*c, "u32-as-flags", {Val::u32(0xff)}), Val::flags(7));
}

TEST_P(ComponentRun, StringsInEveryEncoding) {
  auto c = instantiate("abi");
  ASSERT_TRUE(c);
  const std::string s = "h\xc3\xa9llo \xf0\x9f\x98\x80";  // héllo 😀: 2-, 4-byte UTF-8
  EXPECT_EQ(call1(*c, "echo-string", {Val::string(s)}), Val::string(s));
  EXPECT_EQ(call1(*c, "echo-string", {Val::string("")}), Val::string(""));
  EXPECT_EQ(call1(*c, "string-len", {Val::string(s)}), Val::u32(static_cast<uint32_t>(s.size())));
  // UTF-16: code units (the emoji is a surrogate pair).
  EXPECT_EQ(call1(*c, "utf16-len", {Val::string(s)}), Val::u32(8));
  EXPECT_EQ(call1(*c, "echo-utf16", {Val::string(s)}), Val::string(s));
  // latin1+utf16: Latin-1 when every code point fits, else UTF-16 tagged with the high bit.
  EXPECT_EQ(call1(*c, "latin1-len", {Val::string("h\xc3\xa9")}), Val::u32(2));
  EXPECT_EQ(call1(*c, "latin1-len", {Val::string(s)}), Val::u32(0x80000000u | 8));
  EXPECT_EQ(call1(*c, "echo-latin1", {Val::string("h\xc3\xa9")}), Val::string("h\xc3\xa9"));
  EXPECT_EQ(call1(*c, "echo-latin1", {Val::string(s)}), Val::string(s));
  // Latin-1 bytes in memory (216: "h\xe9") read as Latin-1.
  EXPECT_EQ(call1(*c, "pair-as-latin1", {Val::u32(216), Val::u32(2)}), Val::string("h\xc3\xa9"));
}

TEST_P(ComponentRun, PostReturnRunsAfterEachCall) {
  auto c = instantiate("abi");
  ASSERT_TRUE(c);
  EXPECT_EQ(call1(*c, "posts", {}), Val::u32(0));
  call1(*c, "echo-string", {Val::string("a")});
  call1(*c, "echo-string", {Val::string("b")});
  EXPECT_EQ(call1(*c, "posts", {}), Val::u32(2));
}

TEST_P(ComponentRun, ListsRecordsTuples) {
  auto c = instantiate("abi");
  ASSERT_TRUE(c);
  std::vector<Val> l;
  for (uint32_t i = 1; i <= 100; ++i) l.push_back(Val::u32(i * 1000));
  EXPECT_EQ(call1(*c, "sum-list", {Val::list(l)}), Val::u64(5050000));
  EXPECT_EQ(call1(*c, "sum-list", {Val::list({})}), Val::u64(0));
  Val made = call1(*c, "make-list", {Val::u32(5)});
  EXPECT_EQ(made, Val::list({Val::u16(0), Val::u16(7), Val::u16(14), Val::u16(21), Val::u16(28)}));
  EXPECT_EQ(call1(*c, "swap", {Val::record({Val::u8(9), Val::u64(1ull << 40)})}),
            Val::tuple({Val::u64(1ull << 40), Val::u8(9)}));
  std::vector<Val> recs;
  for (uint32_t i = 0; i < 100; ++i) recs.push_back(Val::record({Val::string(std::string(i % 7, 'x')), Val::u32(i)}));
  uint64_t want = 0;
  for (uint32_t i = 0; i < 100; ++i) want += i + i % 7;
  EXPECT_EQ(call1(*c, "sum-recs", {Val::list(recs)}), Val::u64(want));
}

TEST_P(ComponentRun, VariantsOptionsResults) {
  auto c = instantiate("abi");
  ASSERT_TRUE(c);
  for (const Val& v : {Val::variant(0, Val::u32(77)), Val::variant(1, Val::f32(-0.5f)),
                       Val::variant(2, Val::string("case c")), Val::variant(3)}) {
    EXPECT_EQ(call1(*c, "echo-v", {v}), v) << v.to_string();
  }
  EXPECT_EQ(call1(*c, "echo-opt", {Val::none()}), Val::none());
  EXPECT_EQ(call1(*c, "echo-opt", {Val::some(Val::u64(~0ull))}), Val::some(Val::u64(~0ull)));
  EXPECT_EQ(call1(*c, "echo-res", {Val::ok(Val::f64(3.75))}), Val::ok(Val::f64(3.75)));
  EXPECT_EQ(call1(*c, "echo-res", {Val::err(Val::string("bad"))}), Val::err(Val::string("bad")));
}

// Calls through the JSON mapping (json_val.h): arguments from a JSON object by parameter name,
// results as JSON, the function types found from the decoded component alone
// (exported_func_type), which must agree with what the instance exports.
TEST_P(ComponentRun, JsonArgumentsAndResults) {
  auto c = instantiate("abi");
  ASSERT_TRUE(c);
  const Decoded& d = c->decoded();
  for (const std::string& name : c->exported_functions()) {
    EXPECT_NE(exported_func_type(d, name), kNone) << name;
  }
  auto json_call = [&](const std::string& f, const std::string& args) -> std::string {
    const uint32_t t = exported_func_type(d, f);
    if (t == kNone) return "no function " + f;
    auto j = parse_json_value(args);
    if (!j) return j.error().message;
    JsonValOptions o;
    o.path = "$.args";
    auto a = json_to_args(d, d.types[t], *j, o);
    if (!a) return a.error().message;
    auto r = c->call(f, std::move(*a));
    if (!r) return r.error().to_string();
    auto out = results_to_json(d, d.types[t], r->results);
    return out ? out->dump() : out.error().message;
  };
  EXPECT_EQ(json_call("add", R"({"a":2,"b":40})"), "42");
  EXPECT_EQ(json_call("echo-string", R"({"s":"h\u00e9llo"})"), "\"h\u00e9llo\"");
  EXPECT_EQ(json_call("make-list", R"({"n":3})"), "[0,7,14]");
  EXPECT_EQ(json_call("swap", R"({"r":{"a":9,"b":"1099511627776"}})"), "[1099511627776,9]");
  EXPECT_EQ(json_call("swap", R"({"r":{"a":9,"b":"18446744073709551615"}})"), "[\"18446744073709551615\",9]");
  EXPECT_EQ(json_call("echo-v", R"({"v":{"tag":"b","val":-0.5}})"), R"({"tag":"b","val":-0.5})");
  EXPECT_EQ(json_call("echo-v", R"({"v":{"tag":"d"}})"), R"({"tag":"d"})");
  EXPECT_EQ(json_call("echo-opt", R"({"o":null})"), "null");
  EXPECT_EQ(json_call("echo-opt", R"({})"), "null");  // an option parameter left out is none
  EXPECT_EQ(json_call("echo-res", R"({"r":{"err":"bad"}})"), R"({"err":"bad"})");
  EXPECT_EQ(json_call("echo-res", R"({"r":{"ok":"NaN"}})"), R"({"ok":"NaN"})");
  EXPECT_EQ(json_call("echo-flags", R"({"f":["z","x"]})"), R"(["x","z"])");
  EXPECT_EQ(json_call("echo-enum", R"({"e":"blue"})"), R"("blue")");
  EXPECT_EQ(json_call("echo-char", R"({"c":"\ud83d\ude00"})"), "\"\xf0\x9f\x98\x80\"");
  // Refused before the component runs: the instance takes more calls.
  EXPECT_EQ(json_call("add", R"({"a":-1,"b":1})"), "$.args.a: expected u32 (an integer 0..4294967295), got -1");
  EXPECT_EQ(json_call("add", R"({"a":1})"), "$.args: missing parameter b");
  EXPECT_EQ(json_call("swap", R"({"r":{"a":1,"b":2,"c":3}})"), "$.args.r.c: unknown field (the record's fields: a, b)");
  EXPECT_EQ(json_call("add", R"({"a":1,"b":2})"), "3");
}

TEST_P(ComponentRun, SeventeenParametersSpillToMemory) {
  auto c = instantiate("abi");
  ASSERT_TRUE(c);
  std::vector<Val> args;
  for (uint32_t i = 1; i <= 17; ++i) args.push_back(Val::u32(i));
  EXPECT_EQ(call1(*c, "sum17", args), Val::u32(153));
}

TEST_P(ComponentRun, ArgumentsAreTypeChecked) {
  auto c = instantiate("abi");
  ASSERT_TRUE(c);
  auto r = c->call("add", {Val::u32(1)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  r = c->call("add", {Val::u32(1), Val::string("x")});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("a string given for a u32"), std::string::npos) << r.error().message;
  Val big = Val::s8(0);
  big.bits = 300;
  r = c->call("echo-s8", {big});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("s8 out of range"), std::string::npos);
  r = c->call("echo-string", {Val::string("\xff")});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not UTF-8"), std::string::npos);
  r = c->call("echo-enum", {Val::enumeration(3)});
  ASSERT_FALSE(r);
  r = c->call("echo-flags", {Val::flags(8)});
  ASSERT_FALSE(r);
  r = c->call("no-such", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNoEntryPoint);
  // Refused arguments are not traps: the instance still works.
  EXPECT_EQ(call1(*c, "add", {Val::u32(1), Val::u32(2)}), Val::u32(3));
}

// ---- the reference host: the same calls through `jco transpile` on node (compare.mjs) ----

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// As compare.mjs prints a value: u64 as a decimal string, lists and tuples as arrays, none as null.
std::string json(const Val& v) {
  switch (v.kind) {
    case ValKind::kU64: return "\"" + std::to_string(v.bits) + "\"";
    case ValKind::kS8: case ValKind::kS16: case ValKind::kS32: return std::to_string(v.as_signed());
    case ValKind::kF64: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", v.f);
      return buf;
    }
    case ValKind::kString: return json_string(v.str);
    case ValKind::kChar: {
      std::string s;
      uint32_t cp = static_cast<uint32_t>(v.bits);
      if (cp < 0x80) s += static_cast<char>(cp);
      else if (cp < 0x800) s += {static_cast<char>(0xc0 | cp >> 6), static_cast<char>(0x80 | (cp & 0x3f))};
      else if (cp < 0x10000) s += {static_cast<char>(0xe0 | cp >> 12), static_cast<char>(0x80 | (cp >> 6 & 0x3f)), static_cast<char>(0x80 | (cp & 0x3f))};
      else s += {static_cast<char>(0xf0 | cp >> 18), static_cast<char>(0x80 | (cp >> 12 & 0x3f)), static_cast<char>(0x80 | (cp >> 6 & 0x3f)), static_cast<char>(0x80 | (cp & 0x3f))};
      return json_string(s);
    }
    case ValKind::kList: case ValKind::kTuple: {
      std::string out = "[";
      for (size_t i = 0; i < v.items.size(); ++i) out += (i ? "," : "") + json(v.items[i]);
      return out + "]";
    }
    case ValKind::kOption: return v.bits == 0 ? "null" : json(v.items[0]);
    default: return std::to_string(v.bits);
  }
}

TEST_P(ComponentRun, MatchesJcoTranspile) {
  std::ifstream f(std::string(std::getenv("WASMCAP_TEST_COMPONENT_WAT_DIR")) + "/compare.expected");
  ASSERT_TRUE(f) << "run_components.sh writes compare.expected with node";
  std::string expected((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto c = instantiate("compare");
  ASSERT_TRUE(c);
  const std::string s = "h\xc3\xa9llo \xf0\x9f\x98\x80";
  std::vector<Val> thousands, seventeen;
  for (uint32_t i = 1; i <= 100; ++i) thousands.push_back(Val::u32(i * 1000));
  for (uint32_t i = 1; i <= 17; ++i) seventeen.push_back(Val::u32(i));
  const std::vector<std::tuple<std::string, std::string, std::vector<Val>>> calls = {
      {"add", "add", {Val::u32(40), Val::u32(2)}},
      {"add-wraps", "add", {Val::u32(4294967295u), Val::u32(2)}},
      {"echo-string", "echo-string", {Val::string(s)}},
      {"utf16-len", "utf16-len", {Val::string(s)}},
      {"echo-utf16", "echo-utf16", {Val::string(s)}},
      {"sum-list", "sum-list", {Val::list(thousands)}},
      {"make-list", "make-list", {Val::u32(5)}},
      {"swap", "swap", {Val::tuple({Val::u8(9), Val::u64(1ull << 40)})}},
      {"echo-opt-none", "echo-opt", {Val::none()}},
      {"echo-opt-some", "echo-opt", {Val::some(Val::u64(18446744073709551615ull))}},
      {"echo-char", "echo-char", {Val::character(0x1F600)}},
      {"echo-f64", "echo-f64", {Val::f64(-2.25)}},
      {"sum17", "sum17", seventeen},
      {"pair-as-string-oob", "pair-as-string", {Val::u32(0xfffffff0u), Val::u32(100)}},
  };
  std::string got;
  for (const auto& [label, fn, args] : calls) {
    auto r = c->call(fn, args);
    got += label + ": " + (r && r->results.size() == 1 ? json(r->results[0]) : "trap") + "\n";
  }
  EXPECT_EQ(got, expected);
}

// ---- hostile results: every pointer, length, discriminant and code point checked ----

void expect_trap(const Error& e, ErrorCode code, const std::string& words) {
  EXPECT_EQ(e.code, code) << e.to_string();
  EXPECT_NE(e.message.find(words), std::string::npos) << e.message;
}

TEST_P(ComponentRun, OutOfBoundsPointersTrap) {
  expect_trap(trap("abi", "pair-as-string", {Val::u32(0xfffffff0u), Val::u32(100)}),
              ErrorCode::kTrapMemoryOutOfBounds, "a string at 0xfffffff0 of 100 bytes is outside the guest's memory");
  expect_trap(trap("abi", "pair-as-string", {Val::u32(65530), Val::u32(7)}), ErrorCode::kTrapMemoryOutOfBounds,
              "outside the guest's memory");
  expect_trap(trap("abi", "pair-as-list", {Val::u32(65532), Val::u32(2)}), ErrorCode::kTrapMemoryOutOfBounds,
              "a list at 0xfffc of 8 bytes");
  expect_trap(trap("abi", "pair-as-utf16", {Val::u32(65534), Val::u32(2)}), ErrorCode::kTrapMemoryOutOfBounds,
              "outside the guest's memory");
}

TEST_P(ComponentRun, HugeLengthsTrapBeforeAllocating) {
  // 2^30 u32s: past the Canonical ABI's list bound, refused before anything is allocated.
  expect_trap(trap("abi", "pair-as-list", {Val::u32(0), Val::u32(1u << 30)}), ErrorCode::kTrapHost,
              "exceeds the Canonical ABI's");
  expect_trap(trap("abi", "pair-as-string", {Val::u32(0), Val::u32(0xffffffffu)}), ErrorCode::kTrapHost,
              "exceeds the Canonical ABI's");
  // latin1+utf16 with the UTF-16 tag: 2^31 - 1 code units.
  expect_trap(trap("abi", "pair-as-latin1", {Val::u32(0), Val::u32(0xffffffffu)}), ErrorCode::kTrapHost,
              "exceeds the Canonical ABI's");
}

TEST_P(ComponentRun, LiftedBytesAreBoundedByTheHostsCap) {
  // 60,000 u8s fit in memory, but as values they take 60,000 * sizeof(Val) host bytes: over a
  // 1 MiB cap the call traps before allocating them.
  InstantiateOptions o;
  o.max_lift_bytes = 1 << 20;
  auto c = instantiate("abi", o);
  ASSERT_TRUE(c);
  auto r = c->call("pair-as-big-list", {Val::u32(0), Val::u32(60000)});
  ASSERT_FALSE(r);
  expect_trap(r.error(), ErrorCode::kTrapHost, "max_lift_bytes");
  // Under the cap it is lifted.
  auto c2 = instantiate("abi", o);
  ASSERT_TRUE(c2);
  Val small = call1(*c2, "pair-as-big-list", {Val::u32(0), Val::u32(1000)});
  EXPECT_EQ(small.items.size(), 1000u);
}

TEST_P(ComponentRun, MisalignedPointersTrap) {
  expect_trap(trap("abi", "pair-as-list", {Val::u32(1), Val::u32(1)}), ErrorCode::kTrapHost, "not 4-byte aligned");
  expect_trap(trap("abi", "pair-as-utf16", {Val::u32(201), Val::u32(1)}), ErrorCode::kTrapHost, "not 2-byte aligned");
}

TEST_P(ComponentRun, BadReallocResultsTrap) {
  expect_trap(trap("abi", "len-oob-realloc", {Val::string("abc")}), ErrorCode::kTrapMemoryOutOfBounds,
              "a string at 0xfffffff0 of 3 bytes is outside the guest's memory");
  expect_trap(trap("abi", "sum-odd-realloc", {Val::list({Val::u32(1)})}), ErrorCode::kTrapHost,
              "a list at 0x1 is not 4-byte aligned");
}

TEST_P(ComponentRun, InvalidTextTraps) {
  expect_trap(trap("abi", "pair-as-string", {Val::u32(200), Val::u32(2)}), ErrorCode::kTrapHost, "not valid UTF-8");
  expect_trap(trap("abi", "pair-as-utf16", {Val::u32(208), Val::u32(2)}), ErrorCode::kTrapHost, "unpaired surrogate");
  expect_trap(trap("abi", "u32-as-char", {Val::u32(0xd800)}), ErrorCode::kTrapHost, "not a Unicode scalar value");
  expect_trap(trap("abi", "u32-as-char", {Val::u32(0x110000)}), ErrorCode::kTrapHost, "not a Unicode scalar value");
}

TEST_P(ComponentRun, BadDiscriminantsTrap) {
  expect_trap(trap("abi", "u32-as-enum", {Val::u32(3)}), ErrorCode::kTrapHost, "case 3 of a enum with 3 cases");
}

TEST_P(ComponentRun, AnInstanceThatTrappedTakesNoMoreCalls) {
  auto c = instantiate("abi");
  ASSERT_TRUE(c);
  ASSERT_FALSE(c->call("u32-as-char", {Val::u32(0xd800)}));
  auto r = c->call("add", {Val::u32(1), Val::u32(2)});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("trapped in an earlier call"), std::string::npos);
}

// ---- host functions and host resources (host.wat) ----

class ComponentHost : public ComponentRun {
 protected:
  void SetUp() override {
    ComponentRun::SetUp();
    if (IsSkipped()) return;
    counter_ = host_.add_resource("test:host/api", "counter", [this](uint32_t rep) { dropped_.push_back(rep); });
    host_.add_function("test:host/api", "add", [](const HostCallInfo&, std::vector<Val>& a, std::vector<Val>& r) {
      r.push_back(Val::u32(static_cast<uint32_t>(a[0].bits + a[1].bits)));
      return HostCallResult::ok();
    });
    host_.add_function("test:host/api", "greet", [](const HostCallInfo& info, std::vector<Val>& a, std::vector<Val>& r) {
      r.push_back(Val::string("hello, " + a[0].str + " (" + std::string(info.interface) + ")"));
      return HostCallResult::ok();
    });
    host_.add_function("test:host/api", "sum", [](const HostCallInfo&, std::vector<Val>& a, std::vector<Val>& r) {
      uint64_t s = 0;
      for (const Val& v : a[0].items) s += v.bits;
      r.push_back(Val::u64(s));
      return HostCallResult::ok();
    });
    host_.add_function("test:host/api", "log", [this](const HostCallInfo&, std::vector<Val>& a, std::vector<Val>&) {
      logged_.push_back(a[0].str);
      return HostCallResult::ok();
    });
    host_.add_function("test:host/api", "[constructor]counter",
                       [this](const HostCallInfo&, std::vector<Val>& a, std::vector<Val>& r) {
                         r.push_back(Val::own(counter_, static_cast<uint32_t>(a[0].bits) + 1000));
                         return HostCallResult::ok();
                       });
    host_.add_function("test:host/api", "[method]counter.get",
                       [this](const HostCallInfo&, std::vector<Val>& a, std::vector<Val>& r) {
                         EXPECT_EQ(a[0].kind, ValKind::kBorrow);
                         EXPECT_EQ(a[0].resource, counter_);
                         r.push_back(Val::u32(static_cast<uint32_t>(a[0].bits)));
                         return HostCallResult::ok();
                       });
    host_.add_function("test:host/api", "sum17", [](const HostCallInfo&, std::vector<Val>& a, std::vector<Val>& r) {
      uint32_t s = 0;
      for (const Val& v : a) s += static_cast<uint32_t>(v.bits);
      r.push_back(Val::u32(a.size() == 17 ? s : 0));
      return HostCallResult::ok();
    });
    host_.add_function("test:host/api", "div", [](const HostCallInfo&, std::vector<Val>& a, std::vector<Val>& r) {
      if (a[1].bits == 0) r.push_back(Val::err(Val::string("division by zero")));
      else r.push_back(Val::ok(Val::u32(static_cast<uint32_t>(a[0].bits / a[1].bits))));
      return HostCallResult::ok();
    });
    host_.add_function("test:host/api", "exit", [](const HostCallInfo&, std::vector<Val>& a, std::vector<Val>&) {
      return HostCallResult::exit(static_cast<int32_t>(a[0].bits));
    });
  }
  const ResourceType* counter_ = nullptr;
  std::vector<uint32_t> dropped_;
  std::vector<std::string> logged_;
};

TEST_P(ComponentHost, HostFunctionsTakeAndReturnValues) {
  auto c = instantiate("host");
  ASSERT_TRUE(c);
  EXPECT_EQ(call1(*c, "call-add", {Val::u32(20), Val::u32(22)}), Val::u32(42));
  // The registry's unversioned name serves the import's @0.1.0; the host sees the import's name.
  EXPECT_EQ(call1(*c, "call-greet", {Val::string("b\xc3\xb6" "b")}),
            Val::string("hello, b\xc3\xb6" "b (test:host/api@0.1.0)"));
  std::vector<Val> l;
  for (uint32_t i = 0; i < 1000; ++i) l.push_back(Val::u32(i));
  EXPECT_EQ(call1(*c, "call-sum", {Val::list(l)}), Val::u64(499500));
  auto r = c->call("call-log", {Val::string("a line")});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->results.empty());
  EXPECT_EQ(logged_, std::vector<std::string>{"a line"});
}

// A core instance importing another's memory and global gets the exporter's own (interp:
// docs/fast-interp.md, aot: docs/aot.md, "Shared memories and globals"): strings cross in the
// one memory, and the bump pointer the exporter's realloc moved is what the importer reads.
TEST_P(ComponentHost, CoreInstancesShareAMemoryAndAGlobal) {
  auto c = instantiate("sharing");
  ASSERT_TRUE(c);
  EXPECT_EQ(call1(*c, "call-greet", {Val::string("bob")}),
            Val::string("hello, bob (test:host/api@0.1.0)"));
  Val top = call1(*c, "heap-top", {});
  EXPECT_GE(top.bits, 1024u + 3 + 31) << "the argument and the result were placed by realloc";
}

TEST_P(ComponentHost, ImportsSpillParametersAndResultsToMemory) {
  auto c = instantiate("host");
  ASSERT_TRUE(c);
  // 17 flat parameters: the guest passes a pointer to them, the host lifts them from memory.
  EXPECT_EQ(call1(*c, "call-sum17", {}), Val::u32(153));
  // A result<u32, string> (3 flat values) goes to the return area the guest passed, the error's
  // string allocated with realloc.
  EXPECT_EQ(call1(*c, "call-div", {Val::u32(84), Val::u32(2)}), Val::ok(Val::u32(42)));
  EXPECT_EQ(call1(*c, "call-div", {Val::u32(1), Val::u32(0)}), Val::err(Val::string("division by zero")));
}

TEST_P(ComponentHost, LiftingForTheHostIsMeteredAsFuel) {
  if (GetParam() != "interp") GTEST_SKIP() << "fuel is metered by the interpreter only";
  std::vector<Val> l(10000, Val::u32(1));
  // Under 40,000 units the calls' instructions fit, but lifting 10,000 values for the host's
  // `sum` (10,000 x sizeof(Val) bytes at kFuelBytesPerUnit: over 50,000 units) does not.
  limits_.fuel = 40000;
  auto c = instantiate("host");
  ASSERT_TRUE(c);
  EXPECT_EQ(call1(*c, "call-sum", {Val::list(std::vector<Val>(10, Val::u32(1)))}), Val::u64(10));
  auto r = c->call("call-sum", {Val::list(l)});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kFuelExhausted) << r.error().to_string();
  // Without the bound the same call passes.
  limits_.fuel = 0;
  auto c2 = instantiate("host");
  ASSERT_TRUE(c2);
  EXPECT_EQ(call1(*c2, "call-sum", {Val::list(l)}), Val::u64(10000));
}

// A component's fuel is the sum over the host's calls into it, each counting the core calls
// nested in it (the export, the realloc calls lowering its arguments and results, post-return)
// once: the same call costs the same again, a call moving more values costs more. A budget holds
// for the sum: in "sharing" the host's call runs two core instances (realloc in $libc lowers the
// argument, $main runs call-greet), so with a budget of two calls' sum less one, neither core
// instance reaches it alone (each engine's cap is per instance) but the second call's sum does.
TEST_P(ComponentHost, FuelIsTheSumOfTheHostsCalls) {
  if (GetParam() != "interp") GTEST_SKIP() << "fuel is metered by the interpreter only";
  auto c = instantiate("sharing");
  ASSERT_TRUE(c);
  const Val hello = Val::string("hello, bob (test:host/api@0.1.0)");
  const uint64_t f0 = c->fuel_consumed();
  EXPECT_EQ(call1(*c, "call-greet", {Val::string("bob")}), hello);
  const uint64_t f1 = c->fuel_consumed();
  EXPECT_EQ(call1(*c, "call-greet", {Val::string("bob")}), hello);
  const uint64_t f2 = c->fuel_consumed();
  EXPECT_GT(f1, f0);
  EXPECT_EQ(f2 - f1, f1 - f0) << "the same call, the same fuel";
  auto h = instantiate("host");
  ASSERT_TRUE(h);
  const uint64_t h0 = h->fuel_consumed();
  EXPECT_EQ(call1(*h, "call-sum", {Val::list(std::vector<Val>(1000, Val::u32(1)))}), Val::u64(1000));
  const uint64_t h1 = h->fuel_consumed();
  EXPECT_EQ(call1(*h, "call-sum", {Val::list(std::vector<Val>(10, Val::u32(1)))}), Val::u64(10));
  EXPECT_GT(h1 - h0, h->fuel_consumed() - h1) << "1,000 values lifted cost more than 10";
  limits_.fuel = 2 * (f1 - f0) - 1;
  auto b = instantiate("sharing");
  ASSERT_TRUE(b);
  EXPECT_EQ(call1(*b, "call-greet", {Val::string("bob")}), hello);
  auto r = b->call("call-greet", {Val::string("bob")});
  ASSERT_FALSE(r) << "the sum passed the budget";
  EXPECT_EQ(r.error().code, ErrorCode::kFuelExhausted) << r.error().to_string();
  EXPECT_NE(r.error().message.find("across the component's core instances"), std::string::npos) << r.error().message;
  EXPECT_GT(b->fuel_consumed(), limits_.fuel);
}

TEST_P(ComponentHost, HostFunctionsCannotReenterTheInstance) {
  ComponentInstance* self = nullptr;
  std::string inner;
  host_.add_function("test:host/api", "add", [&](const HostCallInfo&, std::vector<Val>&, std::vector<Val>& r) {
    auto again = self->call("posts-none", {});
    inner = again ? "called" : again.error().message;
    r.push_back(Val::u32(0));
    return HostCallResult::ok();
  });
  auto c = instantiate("host");
  ASSERT_TRUE(c);
  self = c.get();
  EXPECT_EQ(call1(*c, "call-add", {Val::u32(1), Val::u32(2)}), Val::u32(0));
  EXPECT_NE(inner.find("no exported function"), std::string::npos) << inner;
  host_.add_function("test:host/api", "add", [&](const HostCallInfo&, std::vector<Val>&, std::vector<Val>& r) {
    auto again = self->call("call-add", {Val::u32(1), Val::u32(2)});
    inner = again ? "called" : again.error().message;
    r.push_back(Val::u32(0));
    return HostCallResult::ok();
  });
  auto c2 = instantiate("host");
  ASSERT_TRUE(c2);
  self = c2.get();
  EXPECT_EQ(call1(*c2, "call-add", {Val::u32(1), Val::u32(2)}), Val::u32(0));
  EXPECT_NE(inner.find("re-entrant call into a component instance"), std::string::npos) << inner;
}

// An engine that loads modules on interp and aot in turn: core instances on different engines
// link through the same host-function tables.
class AlternatingEngine : public Engine {
 public:
  AlternatingEngine(std::unique_ptr<Engine> a, std::unique_ptr<Engine> b) : a_(std::move(a)), b_(std::move(b)) {}
  std::string_view name() const override { return "alternating"; }
  Result<std::unique_ptr<wasmcap::Instance>> instantiate(std::shared_ptr<const Module> module, const HostFuncTable& host,
                                                         const ExecLimits& limits) override {
    return (module->engine() == "aot" ? b_ : a_)->instantiate(std::move(module), host, limits);
  }
  std::vector<std::string> loaded;

 protected:
  Result<std::shared_ptr<const Module>> load_module(const ModuleBytes& bytes) override {
    auto m = (loaded.size() % 2 == 0 ? a_ : b_)->load(bytes);
    if (m) loaded.emplace_back((*m)->engine());
    return m;
  }

 private:
  std::unique_ptr<Engine> a_, b_;
};

TEST_P(ComponentHost, CoreInstancesOnDifferentEnginesLink) {
  if (!aot_available()) GTEST_SKIP() << "no C compiler for aot";
  AotOptions o;
  o.cache_dir = test_paths::aot_test_cache();
  o.opt_level = 1;
  AlternatingEngine mixed(make_fast_engine(), make_aot_engine(o));
  std::vector<uint8_t> bytes = read_component("host");
  auto c = ComponentInstance::instantiate(mixed, bytes.data(), bytes.size(), host_, limits_);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(mixed.loaded, (std::vector<std::string>{"interp", "aot"}));  // libc, main
  EXPECT_EQ(call1(**c, "call-greet", {Val::string("ann")}), Val::string("hello, ann (test:host/api@0.1.0)"));
  EXPECT_EQ(call1(**c, "call-sum17", {}), Val::u32(153));
  EXPECT_EQ(call1(**c, "counter", {Val::u32(1)}), Val::u32(1001));
}

TEST_P(ComponentHost, HostResourcesOwnBorrowDrop) {
  auto c = instantiate("host");
  ASSERT_TRUE(c);
  // own from the host's constructor, a borrow to its method (the rep), resource.drop runs the
  // host's destructor with the rep.
  EXPECT_EQ(call1(*c, "counter", {Val::u32(5)}), Val::u32(1005));
  EXPECT_EQ(dropped_, std::vector<uint32_t>{1005});
  EXPECT_EQ(c->live_handles(), 0u);
  EXPECT_EQ(call1(*c, "leak", {Val::u32(1)}), Val::u32(1));  // the first handle index
  EXPECT_EQ(c->live_handles(), 1u);
}

TEST_P(ComponentHost, HandleMisuseTraps) {
  expect_trap(trap("host", "drop-twice", {}), ErrorCode::kTrapHost, "resource.drop: handle 1 is not a live handle");
  expect_trap(trap("host", "get-handle", {Val::u32(99)}), ErrorCode::kTrapHost, "borrow: handle 99 is not a live handle");
  expect_trap(trap("host", "get-handle", {Val::u32(0)}), ErrorCode::kTrapHost, "handle 0 is not a live handle");
}

TEST_P(ComponentHost, HandleTablesAreBounded) {
  InstantiateOptions o;
  o.max_handles = 3;
  auto c = instantiate("host", o);
  ASSERT_TRUE(c);
  for (int i = 0; i < 3; ++i) call1(*c, "leak", {Val::u32(1)});
  auto r = c->call("leak", {Val::u32(1)});
  ASSERT_FALSE(r);
  expect_trap(r.error(), ErrorCode::kTrapHost, "the handle table is full (3 handles");
}

TEST_P(ComponentHost, HostileImportArgumentsTrap) {
  expect_trap(trap("host", "call-log-raw", {Val::u32(0xffffff00u), Val::u32(0x1000)}),
              ErrorCode::kTrapMemoryOutOfBounds, "outside the guest's memory");
  expect_trap(trap("host", "call-log-raw", {Val::u32(0), Val::u32(0x7fffffff)}), ErrorCode::kTrapHost,
              "exceeds the Canonical ABI's");
  EXPECT_TRUE(logged_.empty());
}

TEST_P(ComponentHost, HostExitEndsTheCall) {
  auto c = instantiate("host");
  ASSERT_TRUE(c);
  auto r = c->call("call-exit", {Val::u32(3)});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->exited);
  EXPECT_EQ(r->exit_code, 3);
}

TEST_P(ComponentHost, WrongHostResultsAreTrapsNamingTheFunction) {
  host_.add_function("test:host/api", "add", [](const HostCallInfo&, std::vector<Val>&, std::vector<Val>& r) {
    r.push_back(Val::string("not a u32"));
    return HostCallResult::ok();
  });
  expect_trap(trap("host", "call-add", {Val::u32(1), Val::u32(2)}), ErrorCode::kTrapHost,
              "host function \"test:host/api@0.1.0#add\" returned #0: a string given for a u32");
}

TEST_P(ComponentHost, MissingHostFunctionsAreLinkErrors) {
  HostRegistry empty;
  std::vector<uint8_t> bytes = read_component("host");
  auto r = ComponentInstance::instantiate(*engine_, bytes.data(), bytes.size(), empty, limits_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kLinkError);
  EXPECT_NE(r.error().message.find("\"test:host/api@0.1.0\" resource \"counter\": the host provides none"),
            std::string::npos) << r.error().message;
  empty.add_resource("test:host/api", "counter");
  r = ComponentInstance::instantiate(*engine_, bytes.data(), bytes.size(), empty, limits_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("\"test:host/api@0.1.0\" function \"add\": the host provides no such function"),
            std::string::npos) << r.error().message;
}

// ---- a resource the component defines (resources.wat) ----

TEST_P(ComponentHost, GuestResourcesNewRepDropDestructor) {
  auto c = instantiate("resources");
  ASSERT_TRUE(c);
  const ResourceType* thing = c->exported_resource("thing");
  ASSERT_NE(thing, nullptr);
  EXPECT_EQ(thing->name, "thing");
  // resource.new in the guest; the own handle is lifted out of its table to the host.
  Val made = call1(*c, "make", {Val::u32(7)});
  EXPECT_EQ(made, Val::own(thing, 7));
  EXPECT_EQ(c->live_handles(), 0u);
  // A borrow of the component's own resource arrives as the representation.
  EXPECT_EQ(call1(*c, "rep-of", {Val::borrow(thing, 7)}), Val::u32(7));
  // An own given back becomes a handle; resource.rep reads it, resource.drop runs the destructor.
  EXPECT_EQ(call1(*c, "consume", {made}), Val::u32(7));
  EXPECT_EQ(call1(*c, "dtors", {}), Val::u32(1));
  EXPECT_EQ(call1(*c, "last", {}), Val::u32(7));
  // The host drops an own it holds: the guest's destructor runs.
  ASSERT_TRUE(c->drop(Val::own(thing, 8)));
  EXPECT_EQ(call1(*c, "dtors", {}), Val::u32(2));
  EXPECT_EQ(call1(*c, "last", {}), Val::u32(8));
  EXPECT_EQ(call1(*c, "new-and-rep", {Val::u32(5)}), Val::u32(5));
  EXPECT_EQ(c->live_handles(), 1u);
}

TEST_P(ComponentHost, BorrowsOfHostResourcesMustBeDroppedBeforeReturning) {
  auto c = instantiate("resources");
  ASSERT_TRUE(c);
  EXPECT_EQ(call1(*c, "peek-drop", {Val::borrow(counter_, 3)}), Val::u32(1));
  EXPECT_TRUE(dropped_.empty());  // dropping a borrow runs no destructor
  EXPECT_EQ(c->live_handles(), 0u);
  // An own of the host's resource dropped by the guest runs the host's destructor.
  auto r = c->call("take-counter", {Val::own(counter_, 9)});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(dropped_, std::vector<uint32_t>{9});
  expect_trap(trap("resources", "peek-keep", {Val::borrow(counter_, 3)}), ErrorCode::kTrapHost,
              "1 borrowed handle(s) not dropped before the call returned");
}

TEST_P(ComponentHost, GuestResourceMisuseTraps) {
  expect_trap(trap("resources", "rep-of-handle", {Val::u32(99)}), ErrorCode::kTrapHost,
              "resource.rep: handle 99 is not a live handle");
  // A handle of another resource type where `thing` is expected.
  expect_trap(trap("resources", "consume", {Val::own(counter_, 1)}), ErrorCode::kTrapHost,
              "a handle of resource \"test:host/api#counter\" where \"thing\" is expected");
}

// ---- nested components (nested.wat) ----

TEST_P(ComponentHost, NestedComponentsStartFunctionsAndComponentToComponentCalls) {
  auto c = instantiate("nested");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->exported_functions(), (std::vector<std::string>{"a#inits", "a#twice", "b#inits", "b#twice", "quad"}));
  // Each inner instance ran its start function once, and has its own state.
  EXPECT_EQ(call1(*c, "a#inits", {}), Val::u32(1));
  EXPECT_EQ(call1(*c, "b#inits", {}), Val::u32(1));
  // The host's add through the inner component's import.
  EXPECT_EQ(call1(*c, "a#twice", {Val::u32(5)}), Val::u32(10));
  // Core code of the outer component calling the inner component's lifted export twice.
  EXPECT_EQ(call1(*c, "quad", {Val::u32(3)}), Val::u32(12));
}

// The run pipeline's call of an export (RunOptions::component_call, what `wasmcap call` runs):
// the result as JSON, a result's err case as exit 1, and bad arguments refused with their JSON
// path before the component is instantiated (a memory limit too small for its memory, which
// instantiation would hit, is not reached).
// A prepared component (PreparedModule: the C API's modules, `wasmcap sh`, `wasmcap mcp`) loads
// its core modules on its engine once, by its first run, and every later run instantiates them
// afresh: nothing of one run's instance is seen by the next (abi.wat's posts() counts the
// post-return calls its instance made). A run metering fuel loads them once more, on the
// metering engine, and then no more.
TEST_P(ComponentRun, PreparedComponentLoadsItsCoreModulesOnce) {
  if (GetParam() == std::string("auto")) GTEST_SKIP() << "auto chooses an engine per run: nothing is prepared";
  std::vector<uint8_t> bytes = read_component("abi");
  ASSERT_FALSE(bytes.empty());
  PrepareOptions po;
  po.engine = GetParam();
  po.aot.cache_dir = test_paths::aot_test_cache();
  po.aot.opt_level = 1;
  auto p = PreparedModule::prepare(bytes, po);
  ASSERT_TRUE(p) << p.error().to_string();
  auto call = [&](const std::string& fn, const std::string& args, uint64_t fuel = 0) {
    RunOptions o;
    o.wasi.stdin_fd = o.wasi.stdout_fd = o.wasi.stderr_fd = -1;
    o.fuel = fuel;
    o.component_call = ComponentCall{fn, args, std::nullopt, std::nullopt};
    auto r = (*p)->run(std::move(o));
    EXPECT_TRUE(r) << fn << ": " << r.error().to_string();
    return r ? r->result_json : std::string();
  };
  const uint64_t before = component::core_module_loads_for_tests();
  EXPECT_EQ(call("posts", "{}"), "0");
  const uint64_t first = component::core_module_loads_for_tests() - before;
  EXPECT_GE(first, 1u);
  EXPECT_EQ(call("echo-string", R"({"s": "a string with a post-return"})"), R"("a string with a post-return")");
  EXPECT_EQ(call("posts", "{}"), "0") << "a run saw the previous run's instance";
  EXPECT_EQ(call("add", R"({"a": 1, "b": 2})"), "3");
  EXPECT_EQ(component::core_module_loads_for_tests() - before, first) << "a later run loaded its core modules again";
  if (GetParam() == std::string("interp")) {
    EXPECT_EQ(call("add", R"({"a": 1, "b": 2})", 1000000), "3");
    EXPECT_EQ(call("posts", "{}", 1000000), "0");
    EXPECT_EQ(component::core_module_loads_for_tests() - before, 2 * first) << "the metered engine's loads";
  }
}

// PreparedModule::check_call refuses what check_component_call refuses, with the same message,
// from the decoding prepare() made.
TEST(PreparedComponent, ChecksACallAsCheckComponentCallDoes) {
  std::vector<uint8_t> bytes = read_component("call");
  ASSERT_FALSE(bytes.empty());
  PrepareOptions po;
  auto p = PreparedModule::prepare(bytes, po);
  ASSERT_TRUE(p) << p.error().to_string();
  for (const auto& [fn, args] : std::vector<std::pair<std::string, std::string>>{
           {"add", R"({"a": 1, "b": 2})"}, {"add", R"({"a": -1, "b": 2})"}, {"norm2", R"({"p": [3, "x"]})"},
           {"nope", "{}"}, {"add", R"({"a": 1})"}, {"example:call/ops#add", R"({"a": 1, "b": 2, "c": 3})"}}) {
    ComponentCall c{fn, args, std::nullopt, std::nullopt};
    auto direct = check_component_call(bytes.data(), bytes.size(), c);
    auto prepared = (*p)->check_call(c);
    ASSERT_EQ(direct.has_value(), prepared.has_value()) << fn << " " << args;
    if (!direct) {
      EXPECT_EQ(direct.error().code, prepared.error().code);
      EXPECT_EQ(direct.error().message, prepared.error().message);
    }
  }
  auto core = PreparedModule::prepare(std::vector<uint8_t>{0, 'a', 's', 'm', 1, 0, 0, 0}, po);
  ASSERT_TRUE(core);
  auto refused = (*core)->check_call(ComponentCall{"f", "{}", std::nullopt, std::nullopt});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(ComponentRun, RunModuleCallsAnExport) {
  std::vector<uint8_t> bytes = read_component("call");
  ASSERT_FALSE(bytes.empty());
  auto run = [&](const std::string& fn, const std::string& args, uint64_t max_memory = 1u << 20) {
    RunOptions o;
    o.engine = GetParam();
    o.aot.cache_dir = test_paths::aot_test_cache();
    o.aot.opt_level = 1;
    o.wait_for_compile = true;
    o.max_memory_bytes = max_memory;
    o.wasi.stdin_fd = o.wasi.stdout_fd = o.wasi.stderr_fd = -1;
    o.component_call = ComponentCall{fn, args, std::nullopt, std::nullopt};
    return run_module(bytes, std::move(o));
  };
  auto ok = run("add", R"({"a": 40, "b": 2})");
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(ok->result_json, "42");
  EXPECT_EQ(ok->exit_code, 0);
  auto err = run("div", R"({"a": 7, "b": 0})");
  ASSERT_TRUE(err.has_value()) << err.error().to_string();
  EXPECT_EQ(err->result_json, R"({"err":"division by zero"})");
  EXPECT_EQ(err->exit_code, 1);
  // No memory for the component's one page: instantiating it fails ...
  auto no_memory = run("add", R"({"a": 1, "b": 2})", 0);
  ASSERT_FALSE(no_memory.has_value());
  EXPECT_EQ(no_memory.error().code, ErrorCode::kMemoryLimit) << no_memory.error().to_string();
  // ... but bad arguments are refused first.
  auto bad = run("norm2", R"({"p": [3, "x"]})", 0);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("$.p[1]: expected s32"), std::string::npos) << bad.error().message;
  auto unknown = run("nope", "{}", 0);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNoEntryPoint) << unknown.error().to_string();
  EXPECT_TRUE(check_component_call(bytes.data(), bytes.size(), ComponentCall{"add", R"({"a": 1, "b": 2})", std::nullopt, std::nullopt}));
  auto core = check_component_call(reinterpret_cast<const uint8_t*>("\0asm\1\0\0\0"), 8, ComponentCall{"f", "{}", std::nullopt, std::nullopt});
  ASSERT_FALSE(core.has_value());
  EXPECT_EQ(core.error().code, ErrorCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Engines, ComponentHost, ::testing::Values("interp", "aot", "auto"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Engines, ComponentRun, ::testing::Values("interp", "aot", "auto"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace wasmcap::component
