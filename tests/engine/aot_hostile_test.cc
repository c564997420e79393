// The AOT translator against hostile modules (docs/security-model.md, "AOT translation"):
// - no byte of a module name reaches the generated C, so a name that closes a comment and adds
//   code (a constructor that runs at dlopen) compiles nothing: on translate(), on an engine
//   load + run, and through the CLI's `run --engine aot` and `compile`;
// - structures that would exhaust the translator (deep nesting, huge local counts, huge
//   br_table, many functions or parameters) are refused as module_unsupported, and
//   `--engine auto` runs them on the interpreter; the host process survives all of them;
// - the cache key changed with the translator, so no object built by the old one is reused.
#include <pthread.h>
#include <unistd.h>

#include <filesystem>

#include "engine/aot/aot_cache.h"
#include "engine/aot/translate.h"
#include "hostile_wasm.h"
#include "test_support.h"
#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

namespace fs = std::filesystem;
namespace hostile = testing::hostile;
using hostile::Where;
using testing::run_cli;
using testing::TempDir;

const bool kTestEnv = [] {
  setenv("WASMCAP_AOT_OPT", "1", 1);
  return true;
}();

AotOptions options_for(const TempDir& cache) {
  AotOptions o;
  o.cache_dir = cache.str();
  o.opt_level = 1;
  return o;
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    if (n == 2 && c < 0xc2) return false;  // overlong
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

// The hostile names plus two whose injected constructor would create `marker`.
std::vector<std::pair<std::string, std::string>> corpus(const std::string& marker) {
  auto v = hostile::hostile_names();
  v.push_back({"constructor", hostile::constructor_payload(marker)});
  v.push_back({"constructor_guarded", hostile::guarded_constructor_payload(marker)});
  return v;
}

// What a run of named_module(name, where) must end in: exit 0, or the refusal of an import
// no host grants; invalid UTF-8 may also be refused as malformed.
void expect_clean_outcome(const Result<RunReport>& r, const std::string& name, Where where,
                          const std::string& what) {
  const bool import = where == Where::kImportField || where == Where::kImportModule;
  if (!valid_utf8(name) && !r && r.error().code == ErrorCode::kModuleMalformed) return;
  if (import) {
    ASSERT_FALSE(r.has_value()) << what;
    EXPECT_EQ(r.error().code, ErrorCode::kLinkError) << what << ": " << r.error().to_string();
  } else {
    ASSERT_TRUE(r.has_value()) << what << ": " << r.error().to_string();
    EXPECT_EQ(r->exit_code, 0) << what;
  }
}

// Bytes of the generated C that could only have come from the module.
void expect_no_module_text(const aot::TranslatedModule& t, const std::string& name,
                           const std::string& what) {
  std::vector<const std::string*> texts = {&t.module_c, &t.module_h, &t.glue_c, &t.common_h};
  for (const auto& u : t.units) texts.push_back(&u.c);
  for (const std::string* s : texts) {
    // The whole name, and its distinctive parts.
    if (name.size() >= 3) {
      EXPECT_EQ(s->find(name), std::string::npos) << what;
    }
    for (const char* token : {"injected", "evil", "creat(", "#error", "NNNNNNNN", "?" "?"}) {
      EXPECT_EQ(s->find(token), std::string::npos) << what << ": found " << token;
    }
    for (unsigned char c : *s) {
      ASSERT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f)) << what << ": byte " << int(c);
    }
  }
}

// --- names --------------------------------------------------------------------------------------

TEST(AotHostileNames, NoNameByteReachesTheGeneratedC) {
  for (const auto& [label, name] : corpus("/nonexistent/marker")) {
    for (Where where : hostile::kAllWheres) {
      std::string what = label + "@" + hostile::where_name(where);
      auto m = hostile::named_module(name, where);
      auto t = aot::translate(m.data(), m.size());
      if (!t) {
        // Only invalid UTF-8 in a name the binary format decodes may be refused.
        EXPECT_FALSE(valid_utf8(name)) << what << ": " << t.error().to_string();
        EXPECT_EQ(t.error().code, ErrorCode::kModuleMalformed) << what;
        continue;
      }
      expect_no_module_text(*t, name, what);
    }
  }
}

// The same corpus through the chunked translator (every function a unit of its own, so every
// module with a function is split): still no byte of a name in any file.
TEST(AotHostileNames, NoNameByteReachesTheChunkedC) {
  size_t split = 0;
  for (const auto& [label, name] : corpus("/nonexistent/marker")) {
    for (Where where : hostile::kAllWheres) {
      std::string what = label + "@" + hostile::where_name(where) + " (chunked)";
      auto m = hostile::named_module(name, where);
      auto t = aot::translate(m.data(), m.size(), true, /*unit_functions=*/1);
      if (!t) {
        EXPECT_FALSE(valid_utf8(name)) << what << ": " << t.error().to_string();
        EXPECT_EQ(t.error().code, ErrorCode::kModuleMalformed) << what;
        continue;
      }
      if (!t->units.empty()) ++split;
      expect_no_module_text(*t, name, what);
    }
  }
  EXPECT_GT(split, 0u) << "no module took the chunked path";
}

// The whole path on the AOT engine: translate, compile, dlopen, link, run. The injected
// constructor would run at dlopen (before linking), so import names count too.
TEST(AotHostileNames, EngineRunsCompileNothingInjected) {
  TempDir tmp;
  TempDir cache;
  const std::string marker = (tmp.path() / "injected-marker").string();
  for (const auto& [label, name] : corpus(marker)) {
    // Every name compiles once per position: the ones that break out of C differently (the
    // translate-level test above covers the whole corpus).
    if (label != "constructor" && label != "constructor_guarded" && label != "comment_end_error") {
      continue;
    }
    for (Where where : hostile::kAllWheres) {
      std::string what = label + "@" + hostile::where_name(where);
      RunOptions o;
      o.engine = "aot";
      o.aot = options_for(cache);
      o.wasi.args = {"hostile"};
      auto r = run_module(hostile::named_module(name, where), o);
      expect_clean_outcome(r, name, where, what);
      ASSERT_FALSE(fs::exists(marker)) << what << ": the injected constructor ran";
    }
  }
}

// Link errors and `inspect` quote module names: a name can neither start a forged line, carry
// a terminal escape nor flood the message, on either engine.
bool printable_line(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

TEST(HostileNamesInMessages, LinkErrorsQuoteImportNamesOnBothEngines) {
  TempDir cache;
  const std::string name = "x\nwasmcap: error: forged\x1b[2J" + std::string(100000, 'N');
  for (const char* engine : {"interp", "aot"}) {
    for (Where where : {Where::kImportField, Where::kImportModule}) {
      std::string what = std::string(engine) + "@" + hostile::where_name(where);
      RunOptions o;
      o.engine = engine;
      o.aot = options_for(cache);
      auto r = run_module(hostile::named_module(name, where), o);
      ASSERT_FALSE(r.has_value()) << what;
      EXPECT_EQ(r.error().code, ErrorCode::kLinkError) << what;
      EXPECT_TRUE(printable_line(r.error().message)) << what << ": " << r.error().message;
      EXPECT_NE(r.error().message.find("x\\x0awasmcap: error: forged\\x1b[2J"), std::string::npos)
          << what << ": " << r.error().message;
      EXPECT_LT(r.error().message.size(), 1000u) << what;
    }
  }
}

TEST(HostileNamesInMessages, InspectQuotesNames) {
  TempDir tmp;
  const std::string name = "e\nforged line\x1b[2J";
  for (Where where : {Where::kImportField, Where::kExport}) {
    fs::path wasm = tmp.path() / (std::string(hostile::where_name(where)) + ".wasm");
    auto bytes = hostile::named_module(name, where);
    testing::write_text(wasm, std::string(bytes.begin(), bytes.end()));
    auto r = run_cli({"inspect", wasm.string()});
    ASSERT_TRUE(r.exited) << testing::describe(r);
    EXPECT_EQ(r.exit_code, 0) << testing::describe(r);
    EXPECT_EQ(r.out.find("forged line\x1b"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("\nforged line"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"e\\x0aforged line\\x1b[2J\""), std::string::npos) << r.out;
  }
}

// The CLI's `compile` and `run --engine aot` (each in a fresh cache, so both translate).
TEST(AotHostileNames, CliCompileAndRunCompileNothingInjected) {
  TempDir tmp;
  const std::string marker = (tmp.path() / "injected-marker").string();
  const std::string payload = hostile::constructor_payload(marker);
  for (Where where : {Where::kExport, Where::kImportField, Where::kLinking}) {
    std::string what = std::string("constructor@") + hostile::where_name(where);
    fs::path wasm = tmp.path() / (std::string(hostile::where_name(where)) + ".wasm");
    auto bytes = hostile::named_module(payload, where);
    testing::write_text(wasm, std::string(bytes.begin(), bytes.end()));
    {
      TempDir cache;
      auto c = run_cli({"compile", "--cache-dir", cache.str(), wasm.string()});
      EXPECT_TRUE(c.exited) << what << "\n" << testing::describe(c);
      EXPECT_EQ(c.exit_code, 0) << what << "\n" << testing::describe(c);
      EXPECT_FALSE(fs::exists(marker)) << what << ": compile ran the injected constructor";
    }
    {
      TempDir cache;
      auto r = run_cli({"run", "--engine", "aot", "--cache-dir", cache.str(), wasm.string()});
      EXPECT_TRUE(r.exited) << what << "\n" << testing::describe(r);
      const bool import = where == Where::kImportField;
      if (import) {
        EXPECT_EQ(r.exit_code, error_exit_code(ErrorCode::kLinkError))
            << what << "\n" << testing::describe(r);
      } else {
        EXPECT_EQ(r.exit_code, 0) << what << "\n" << testing::describe(r);
      }
      EXPECT_FALSE(fs::exists(marker)) << what << ": run ran the injected constructor";
    }
  }
}

// `plan --engine aot` loads (so translates and dlopens) the plugin's module too.
TEST(AotHostileNames, CliPlanCompilesNothingInjected) {
  TempDir tmp;
  const std::string marker = (tmp.path() / "injected-marker").string();
  for (Where where : {Where::kImportField, Where::kLinking}) {
    std::string what = std::string("constructor@") + hostile::where_name(where);
    auto bytes = hostile::named_module(hostile::constructor_payload(marker), where);
    testing::write_text(tmp.path() / "m.wasm", std::string(bytes.begin(), bytes.end()));
    testing::write_text(tmp.path() / "manifest.json",
                        R"({"name":"hostile","version":"1.0.0","module":"m.wasm","permissions":{}})");
    testing::write_text(tmp.path() / "config.json", R"({"plugins":{"hostile":{"grants":{}}}})");
    TempDir cache;
    auto r = run_cli({"plan", "--manifest", (tmp.path() / "manifest.json").string(), "--config",
                      (tmp.path() / "config.json").string(), "--engine", "aot", "--cache-dir",
                      cache.str()});
    EXPECT_TRUE(r.exited) << what << "\n" << testing::describe(r);
    EXPECT_NE(r.out.find("hostile"), std::string::npos) << what << "\n" << testing::describe(r);
    EXPECT_FALSE(fs::exists(marker)) << what << ": plan ran the injected constructor";
  }
}

// Objects built by translators that copied names into C (versions <= 2) have other cache keys:
// none of them is ever found, verified or loaded again.
TEST(AotHostileNames, CacheKeyChangedWithTheTranslator) {
  aot::Toolchain tc;
  tc.compiler = "/usr/bin/cc";
  tc.identity = "cc";
  std::vector<uint8_t> m = hostile::named_module("x", Where::kExport);
  const std::string now = aot::cache_key(m, tc);
  EXPECT_EQ(now, aot::cache_key(m, tc, aot::kInstrumentationVersion));
  for (int old = 1; old < aot::kInstrumentationVersion; ++old) {
    EXPECT_NE(now, aot::cache_key(m, tc, old)) << old;
  }
}

// --- structures ---------------------------------------------------------------------------------

struct Shape {
  std::string label;
  std::vector<uint8_t> bytes;
};

std::vector<Shape> oversized_shapes() {
  return {
      {"nested_blocks_20000", hostile::nested_blocks(20000)},
      {"nested_blocks_over_limit", hostile::nested_blocks(aot::kMaxNestingDepth + 1)},
      {"locals_1e9", hostile::many_locals(1000000000ull)},
      {"locals_over_limit", hostile::many_locals(aot::kMaxFunctionLocals + 1)},
      {"br_table_over_limit", hostile::big_br_table(aot::kMaxBrTableTargets + 1)},
      {"params_over_limit", hostile::many_params(aot::kMaxFunctionParams + 1)},
      {"functions_over_limit", hostile::many_functions(aot::kMaxFunctions)},
  };
}

TEST(AotHostileShapes, OversizedModulesAreRefusedNotFatal) {
  for (const auto& s : oversized_shapes()) {
    auto t = aot::translate(s.bytes.data(), s.bytes.size());
    ASSERT_FALSE(t.has_value()) << s.label;
    EXPECT_EQ(t.error().code, ErrorCode::kModuleUnsupported) << s.label << ": "
                                                             << t.error().to_string();
    EXPECT_NE(t.error().message.find("beyond the AOT translator's bounds"), std::string::npos)
        << s.label << ": " << t.error().message;
    EXPECT_NE(t.error().message.find("--engine interp"), std::string::npos) << s.label;
  }
}

// Right at each bound the module still translates (the bounds refuse only what is beyond them,
// and the translator's stack holds at the deepest nesting allowed).
TEST(AotHostileShapes, ModulesAtTheBoundsTranslate) {
  std::vector<Shape> at = {
      {"nested_blocks_at_limit", hostile::nested_blocks(aot::kMaxNestingDepth)},
      {"br_table_at_limit", hostile::big_br_table(aot::kMaxBrTableTargets)},
      {"params_at_limit", hostile::many_params(aot::kMaxFunctionParams)},
      {"locals_at_limit", hostile::many_locals(aot::kMaxFunctionLocals)},
  };
  for (const auto& s : at) {
    auto t = aot::translate(s.bytes.data(), s.bytes.size());
    EXPECT_TRUE(t.has_value()) << s.label << ": " << t.error().to_string();
  }
}

// An embedder may call from a thread with a small stack: the translator runs on a stack of its
// own, so the deepest nesting allowed translates from a 256 KiB thread too.
TEST(AotHostileShapes, DeepestNestingTranslatesFromASmallStack) {
  auto bytes = hostile::nested_blocks(aot::kMaxNestingDepth);
  struct Arg {
    const std::vector<uint8_t>* bytes;
    bool ok = false;
  } arg{&bytes};
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 256 << 10), 0);
  pthread_t t;
  ASSERT_EQ(pthread_create(
                &t, &attr,
                [](void* p) -> void* {
                  auto* a = static_cast<Arg*>(p);
                  a->ok = aot::translate(a->bytes->data(), a->bytes->size()).has_value();
                  return nullptr;
                },
                &arg),
            0);
  pthread_join(t, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_TRUE(arg.ok);
}

TEST(AotHostileShapes, AotRefusesAndAutoFallsBackToTheInterpreter) {
  TempDir cache;
  for (const auto& s : oversized_shapes()) {
    auto aot = make_aot_engine(options_for(cache));
    auto m = aot->load(s.bytes.data(), s.bytes.size());
    if (m || m.error().code == ErrorCode::kModuleMalformed) {
      // The interpreter's loader (which validates first) may refuse what no engine runs.
      auto interp = make_fast_engine();
      ASSERT_FALSE(interp->load(s.bytes.data(), s.bytes.size()).has_value() && !m) << s.label;
      ASSERT_FALSE(m.has_value()) << s.label << ": the aot engine accepted it";
      continue;
    }
    EXPECT_EQ(m.error().code, ErrorCode::kModuleUnsupported) << s.label;
    RunOptions o;
    o.engine = "auto";
    o.aot = options_for(cache);
    o.wasi.args = {"shape"};
    auto r = run_module(s.bytes, o);
    // auto interprets on the fast engine (docs/aot.md, "Engine choice"): its own answer, whatever
    // it is, is auto's (it runs the 10^9-local frame, which wabt's value stack could not hold).
    RunOptions f = o;
    f.engine = "interp";
    auto want = run_module(s.bytes, f);
    ASSERT_EQ(r.has_value(), want.has_value()) << s.label;
    if (!want) {
      EXPECT_EQ(r.error().code, want.error().code) << r.error().to_string();
      continue;
    }
    ASSERT_TRUE(r.has_value()) << s.label << ": " << r.error().to_string();
    EXPECT_EQ(r->exit_code, 0) << s.label;
    EXPECT_EQ(r->engine, "interp") << s.label;
  }
}

// A never-seen module beyond a bound (its verdict now comes from the validating pass, and
// aot::check_bounds runs only when that pass cannot vouch for the bounds: docs/aot.md, "Cold
// start"): the aot engine refuses it with check_bounds' own error, code and message, before any
// description is stored (a stored description would spare later loads the bounds), and auto's
// notice carries that error. A module both beyond a bound and invalid still gets the bound's
// error, as when the bounds were checked before validating.
TEST(AotHostileShapes, NeverSeenModuleBeyondABoundGetsTheBoundsError) {
  std::vector<Shape> shapes = oversized_shapes();
  {
    // nested_blocks(kMaxNestingDepth + 1) with an i32.add on an empty stack in the innermost block.
    const uint32_t depth = aot::kMaxNestingDepth + 1;
    hostile::Bytes m = hostile::header();
    hostile::section(m, 1, {0x01, 0x60, 0x00, 0x00});
    hostile::section(m, 3, {0x01, 0x00});
    hostile::Bytes body = {0x00};
    for (uint32_t i = 0; i < depth; ++i) {
      body.push_back(0x02);
      body.push_back(0x40);
    }
    body.push_back(0x6a);
    body.resize(body.size() + depth + 1, 0x0b);
    hostile::Bytes code;
    hostile::leb(code, 1);
    hostile::leb(code, body.size());
    code.insert(code.end(), body.begin(), body.end());
    hostile::section(m, 10, code);
    auto invalid = make_fast_engine()->load(m.data(), m.size());
    ASSERT_FALSE(invalid.has_value());
    ASSERT_EQ(invalid.error().code, ErrorCode::kModuleMalformed) << invalid.error().to_string();
    shapes.push_back({"nested_over_limit_and_invalid", m});
  }
  for (const auto& s : shapes) {
    auto bounds = aot::check_bounds(s.bytes.data(), s.bytes.size());
    TempDir cache;
    AotOptions o = options_for(cache);
    o.cache_only = true;  // nothing compiles: a load that got past the bounds says not_found
    auto m = make_aot_engine(o)->load(s.bytes.data(), s.bytes.size());
    ASSERT_FALSE(m.has_value()) << s.label;
    if (bounds) {
      // Refused by the reader before the bound is reached (as before: both passes read alike).
      EXPECT_EQ(m.error().code, ErrorCode::kModuleMalformed) << s.label << ": " << m.error().to_string();
    } else {
      EXPECT_EQ(m.error().code, bounds.error().code) << s.label;
      EXPECT_EQ(m.error().message, bounds.error().message) << s.label;
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache.path(), ec)) {
      EXPECT_NE(e.path().extension(), ".desc") << s.label << ": described a module beyond a bound";
    }
    if (bounds || s.label == "nested_over_limit_and_invalid") continue;
    RunOptions ro;
    ro.engine = "auto";
    ro.aot = options_for(cache);
    ro.wasi.args = {"shape"};
    std::vector<std::string> notices;
    ro.notice = [&notices](const std::string& line) { notices.push_back(line); };
    (void)run_module(s.bytes, ro);
    ASSERT_EQ(notices.size(), 1u) << s.label;
    EXPECT_EQ(notices[0], "engine auto: interp (aot: " + bounds.error().to_string() + ")")
        << s.label;
  }
}

// The CLI process survives and says what to do (the bound's error, exit code of
// module_unsupported), and auto runs the module.
TEST(AotHostileShapes, CliRefusesOrFallsBack) {
  TempDir tmp;
  for (const auto& s : {Shape{"nested", hostile::nested_blocks(20000)},
                        Shape{"locals", hostile::many_locals(aot::kMaxFunctionLocals + 1)}}) {
    fs::path wasm = tmp.path() / (s.label + ".wasm");
    testing::write_text(wasm, std::string(s.bytes.begin(), s.bytes.end()));
    TempDir cache;
    auto a = run_cli({"run", "--engine", "aot", "--cache-dir", cache.str(), wasm.string()});
    EXPECT_TRUE(a.exited) << s.label << "\n" << testing::describe(a);
    EXPECT_EQ(a.exit_code, error_exit_code(ErrorCode::kModuleUnsupported))
        << s.label << "\n" << testing::describe(a);
    auto c = run_cli({"compile", "--cache-dir", cache.str(), wasm.string()});
    EXPECT_EQ(c.exit_code, error_exit_code(ErrorCode::kModuleUnsupported))
        << s.label << "\n" << testing::describe(c);
    auto b = run_cli({"run", "--engine", "auto", "--cache-dir", cache.str(), wasm.string()});
    EXPECT_TRUE(b.exited) << s.label << "\n" << testing::describe(b);
    EXPECT_EQ(b.exit_code, 0) << s.label << "\n" << testing::describe(b);
  }
}

}  // namespace
}  // namespace wasmcap
