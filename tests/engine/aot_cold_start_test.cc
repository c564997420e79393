// The AOT tier's cold start (docs/aot.md, "Cold start"): cached objects, descriptions and
// validated-module records, compiler identity and the link-check table; and cases found by the
// spec suite on aot. Helpers: aot_start_support.h.
#include "aot_start_support.h"

namespace wasmcap {
namespace {

using namespace aot_start_test;

// --- cold start (docs/aot.md, "Cold start") --------------------------------------------------

std::string read_all(const fs::path& p) { return testing::read_text(p); }

AotOptions cache_options(const fs::path& cache) {
  AotOptions o;
  o.cache_dir = cache.string();
  o.opt_level = 0;
  return o;
}

bool loads(const AotOptions& o, const std::vector<uint8_t>& bytes, ModuleInfo* info = nullptr) {
  auto engine = make_aot_engine(o);
  auto m = engine->load(bytes.data(), bytes.size());
  if (m && info != nullptr) *info = (*m)->info();
  return m.has_value();
}

// An object verified once is trusted by its recorded identity and times; rewriting it in place
// (same size, the old mtime put back) changes its ctime, so it is hashed again, found corrupt,
// and rebuilt — never loaded.
TEST(AotColdStart, ModifiedObjectIsRehashedAndRefused) {
  TempDir cache;
  const AotOptions o = cache_options(cache.path());
  const auto bytes = guest_bytes("hello");
  ASSERT_TRUE(loads(o, bytes));
  auto sos = files_ending(cache.path(), ".so");
  ASSERT_EQ(sos.size(), 1u);
  const std::string good = read_all(sos[0]);
  // The record is written for files whose last change is over 2 s old.
  std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  ASSERT_TRUE(loads(o, bytes));
  ASSERT_EQ(files_ending(cache.path(), ".verified").size(), 1u);

  // Flip the last byte (the section header table: dlopen would not notice) in place.
  struct stat before;
  ASSERT_EQ(stat(sos[0].c_str(), &before), 0);
  {
    int fd = open(sos[0].c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    char c = static_cast<char>(good.back() ^ 0x5a);
    ASSERT_EQ(pwrite(fd, &c, 1, static_cast<off_t>(good.size() - 1)), 1);
    close(fd);
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(utimensat(AT_FDCWD, sos[0].c_str(), times, 0), 0);
  }
  struct stat after;
  ASSERT_EQ(stat(sos[0].c_str(), &after), 0);
  ASSERT_EQ(after.st_size, before.st_size);
  ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  ASSERT_EQ(after.st_ino, before.st_ino);

  const std::string corrupt = read_all(sos[0]);
  ASSERT_NE(corrupt, good);
  ASSERT_TRUE(loads(o, bytes));
  EXPECT_NE(read_all(sos[0]), corrupt) << "the modified object was trusted instead of rebuilt";
}

// The module description written at the first validation replaces validation on later loads of
// the same bytes; a damaged description is ignored (the module is validated again).
TEST(AotColdStart, DescriptionIsUsedAndDamageIsIgnored) {
  TempDir cache;
  const AotOptions o = cache_options(cache.path());
  const auto bytes = guest_bytes("hello");
  ModuleInfo validated;
  ASSERT_TRUE(loads(o, bytes, &validated));
  auto descs = files_ending(cache.path(), ".desc");
  ASSERT_EQ(descs.size(), 1u);
  const std::string key = descs[0].stem().string();
  auto stored = aot::load_module_info(cache.path().string(), key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(aot::encode_module_info(*stored), aot::encode_module_info(validated));
  ASSERT_NE(validated.find_export("_start"), nullptr);

  // Used: a description naming the export differently (correctly sealed) is what load reports.
  ModuleInfo renamed = validated;
  for (auto& e : renamed.exports) {
    if (e.name == "_start") e.name = "_begin";
  }
  aot::store_module_info(cache.path().string(), key, renamed);
  ModuleInfo seen;
  ASSERT_TRUE(loads(o, bytes, &seen));
  EXPECT_NE(seen.find_export("_begin"), nullptr);

  // Damaged (one byte of the body changed, hash not updated): ignored, validated again.
  std::string text = read_all(descs[0]);
  size_t pos = text.find("6:_begin");
  ASSERT_NE(pos, std::string::npos);
  text[pos + 2] = '-';
  testing::write_text(descs[0], text);
  chmod(descs[0].c_str(), 0600);
  ASSERT_TRUE(loads(o, bytes, &seen));
  EXPECT_NE(seen.find_export("_start"), nullptr);
  EXPECT_EQ(seen.find_export("_begin"), nullptr);
}

// The decoder takes any bytes: every truncation and every single-byte change of a real
// description decodes to nothing or to a description, never a crash or an unbounded allocation.
TEST(AotColdStart, DescriptionDecoderIsStrict) {
  auto interp = make_fast_engine();
  for (const char* guest : {"hello", "host_calls", "exits"}) {
    auto bytes = guest_bytes(guest);
    auto m = interp->load(bytes.data(), bytes.size());
    ASSERT_TRUE(m.has_value()) << guest;
    const std::string body = aot::encode_module_info((*m)->info());
    auto back = aot::decode_module_info(body);
    ASSERT_TRUE(back.has_value()) << guest;
    EXPECT_EQ(aot::encode_module_info(*back), body);
    for (size_t n = 0; n < body.size(); ++n) {
      EXPECT_FALSE(aot::decode_module_info(std::string_view(body).substr(0, n)).has_value());
      std::string changed = body;
      changed[n] = static_cast<char>(changed[n] ^ 0x11);
      (void)aot::decode_module_info(changed);
    }
  }
  EXPECT_FALSE(aot::decode_module_info("0 0 99999999999 end\n").has_value());
}

// A never-seen module under --engine auto is validated once in the foreground (docs/aot.md,
// "Cold start"): the fast engine's load validates it and the aot probe describes it from that
// load — it does not describe it again. `--engine aot` describes a never-seen module with one
// validation too. (The background compile validates in its own process.)
TEST(AotColdStart, NeverSeenModuleIsValidatedOnceInTheForeground) {
  TempDir cache, bin;
  const fs::path gate = bin.path() / "gate";
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.path(), gated_compiler(bin.path(), gate), &notices);
  const auto bytes = guest_bytes("hello");
  const uint64_t validations = engine_test_hooks::module_validations();
  const uint64_t bounds = engine_test_hooks::aot_bounds_passes();
  auto r = run_module(bytes, o);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->engine, "interp");
  ASSERT_NE(r->background_compile_pid, 0);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("engine auto: interp; no compiled object yet"),
            std::string::npos)
      << notices[0];
  EXPECT_EQ(engine_test_hooks::module_validations() - validations, 1u)
      << "a never-seen module was validated more than once in the foreground";
  EXPECT_EQ(engine_test_hooks::aot_bounds_passes() - bounds, 0u)
      << "the aot probe decoded the module once more for the translator's bounds";
  auto descs = files_ending(cache.path(), ".desc");
  ASSERT_EQ(descs.size(), 1u);
  auto stored = aot::load_module_info(cache.path().string(), descs[0].stem().string());
  ASSERT_TRUE(stored.has_value());
  {
    std::ofstream(gate.string()) << "go\n";
    EXPECT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 120000));
  }

  // --engine aot on a never-seen module (a cache of its own; no object: cache-only load).
  TempDir cache2;
  AotOptions ao = cache_options(cache2.path());
  ao.cache_only = true;
  const uint64_t v2 = engine_test_hooks::module_validations();
  const uint64_t b2 = engine_test_hooks::aot_bounds_passes();
  auto probe = make_aot_engine(ao)->load(bytes.data(), bytes.size());
  ASSERT_FALSE(probe.has_value());
  EXPECT_EQ(probe.error().code, ErrorCode::kNotFound) << probe.error().to_string();
  EXPECT_EQ(engine_test_hooks::module_validations() - v2, 1u);
  EXPECT_EQ(engine_test_hooks::aot_bounds_passes() - b2, 0u)
      << "the aot engine decoded the module once more for the translator's bounds";
  auto descs2 = files_ending(cache2.path(), ".desc");
  ASSERT_EQ(descs2.size(), 1u);
  auto stored2 = aot::load_module_info(cache2.path().string(), descs2[0].stem().string());
  ASSERT_TRUE(stored2.has_value());

  // Both descriptions are the wabt oracle's load's (tests/support/wabt_engine), field for field.
  auto wabt = testing::make_wabt_reference_engine();
  auto m = wabt->load(bytes.data(), bytes.size());
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(aot::encode_module_info(*stored), aot::encode_module_info((*m)->info()));
  EXPECT_EQ(aot::encode_module_info(*stored2), aot::encode_module_info((*m)->info()));
}


// A module of ~100 KB (validated-module records are kept from 64 KiB on) that exports an empty
// _start: `functions` functions of `pairs` (i32.const 0, drop) each.
std::vector<uint8_t> recordable_module(uint32_t functions = 10, uint32_t pairs = 3400) {
  std::vector<uint8_t> m = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  put_section(m, 1, {0x01, 0x60, 0x00, 0x00});
  std::vector<uint8_t> funcs;
  put_leb(funcs, functions);
  funcs.resize(funcs.size() + functions, 0x00);
  put_section(m, 3, funcs);
  put_section(m, 7, {0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00});
  std::vector<uint8_t> code;
  put_leb(code, functions);
  for (uint32_t i = 0; i < functions; ++i) {
    std::vector<uint8_t> body = {0x00};  // no locals
    for (uint32_t k = 0; k < pairs; ++k) {
      body.push_back(0x41);
      body.push_back(0x00);
      body.push_back(0x1a);
    }
    body.push_back(0x0b);
    put_leb(code, body.size());
    code.insert(code.end(), body.begin(), body.end());
  }
  put_section(m, 10, code);
  return m;
}

// --engine auto keeps the fast engine's validated-module records (docs/fast-interp.md) like
// --engine interp: the first run of a never-seen module writes one, the next run (no compiled
// object yet) trusts it instead of validating again; and each run hashes the module at most once
// (the aot probe's sha256 serves the AOT cache, the module file's record and the validated-module
// record). WASMCAP_VALIDATION_CACHE=0 turns the records off under auto too.
TEST(AotColdStart, AutoKeepsValidatedModuleRecordsAndHashesOnce) {
  TempDir cache, bin, files;
  const fs::path gate = bin.path() / "gate";
  testing::write_text(gate, "go\n");  // the stand-in compiler fails at once: no object ever
  std::vector<std::string> notices;
  RunOptions o = auto_options(cache.path(), gated_compiler(bin.path(), gate, /*fail=*/true), &notices);
  const auto bytes = recordable_module();
  ASSERT_GE(bytes.size(), 64u * 1024);
  const fs::path wasm = files.path() / "m.wasm";
  testing::write_text(wasm, std::string(bytes.begin(), bytes.end()));
  auto file = read_module_file(wasm.string());
  ASSERT_TRUE(file.has_value() && file->file.has_value());
  o.module_file = file->file;
  const std::string sha = aot::module_sha256(bytes.data(), bytes.size());

  struct Counts {
    uint64_t validations, hashes, bounds;
  };
  auto counts = [] {
    return Counts{engine_test_hooks::module_validations(), engine_test_hooks::module_hashes(),
                  engine_test_hooks::aot_bounds_passes()};
  };
  auto run = [&](const RunOptions& ro, Counts* delta) {
    notices.clear();
    Counts c0 = counts();
    auto r = run_module(bytes, ro);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_EQ(r->engine, "interp");
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_EQ(notices[0].rfind("engine auto: interp", 0), 0u) << notices[0];
    Counts c1 = counts();
    *delta = {c1.validations - c0.validations, c1.hashes - c0.hashes, c1.bounds - c0.bounds};
    if (r->background_compile_pid != 0) {
      EXPECT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 60000));
    }
  };

  Counts first{};
  run(o, &first);
  EXPECT_EQ(first.validations, 1u);
  EXPECT_EQ(first.hashes, 1u) << "the first run hashed the module more than once";
  EXPECT_EQ(first.bounds, 0u);
  const fs::path record = cache.path() / ("valid-" + sha);
  ASSERT_TRUE(fs::exists(record)) << "no validated-module record under --engine auto";
  EXPECT_EQ(testing::read_text(record).rfind("wasmcap-fast-validated 4\n", 0), 0u);
  // The aot probe has the description now, so the run loads on the fast engine afresh.
  Counts second{};
  run(o, &second);
  EXPECT_EQ(second.validations, 0u) << "the record was not trusted under --engine auto";
  EXPECT_LE(second.hashes, 1u);
  EXPECT_EQ(second.bounds, 0u);
  // Without a file identity (bytes from elsewhere): still one hash.
  RunOptions no_file = o;
  no_file.module_file.reset();
  Counts third{};
  run(no_file, &third);
  EXPECT_EQ(third.validations, 0u);
  EXPECT_EQ(third.hashes, 1u);

  // Records off: none written, every run validates.
  TempDir cache2;
  RunOptions off = auto_options(cache2.path(), o.aot.compiler, &notices);
  ASSERT_EQ(setenv("WASMCAP_VALIDATION_CACHE", "0", 1), 0);
  Counts a{}, b{};
  run(off, &a);
  run(off, &b);
  unsetenv("WASMCAP_VALIDATION_CACHE");
  EXPECT_EQ(a.validations, 1u);
  EXPECT_EQ(b.validations, 1u);
  EXPECT_TRUE(files_starting(cache2.path(), "valid-").empty());
}

// The background compile's worker keys the cache on the sha256 it is given (the probe's): it
// does not hash the module again (aot_precompile, which the worker runs).
TEST(AotColdStart, PrecompileUsesTheGivenHash) {
  TempDir cache, bin;
  const fs::path gate = bin.path() / "gate";
  testing::write_text(gate, "go\n");
  AotOptions o = cache_options(cache.path());
  o.compiler = gated_compiler(bin.path(), gate, /*fail=*/true);
  const auto bytes = recordable_module();
  const std::string sha = aot::module_sha256(bytes.data(), bytes.size());
  std::string key_given, key_hashed;
  const uint64_t h0 = engine_test_hooks::module_hashes();
  EXPECT_FALSE(aot_precompile(ModuleBytes(bytes).with_sha256(sha), o, &key_given).has_value());
  EXPECT_EQ(engine_test_hooks::module_hashes() - h0, 0u);
  EXPECT_FALSE(aot_precompile(ModuleBytes(bytes), o, &key_hashed).has_value());
  EXPECT_EQ(engine_test_hooks::module_hashes() - h0, 1u);
  EXPECT_EQ(key_given, key_hashed);
}

// A stand-in compiler at `path` that answers --version with `version` and appends a line to
// `count` each time it does. Written to a temporary name and renamed into place: a new file
// (inode, mtime) as a package upgrade would leave it.
void identity_compiler(const fs::path& path, const std::string& version, const fs::path& count) {
  const fs::path tmp = path.string() + ".new";
  testing::write_text(tmp, "#!/bin/sh\n"
                           "if [ \"$1\" = --version ]; then echo run >> '" + count.string() +
                           "'; echo '" + version + "'; exit 0; fi\n"
                           "exit 1\n");
  chmod(tmp.c_str(), 0755);
  fs::rename(tmp, path);
}

size_t lines(const fs::path& p) {
  const std::string t = testing::read_text(p);
  return static_cast<size_t>(std::count(t.begin(), t.end(), '\n'));
}

// Why a cached run still resolves the compiler (docs/aot.md, "Cache"): the key covers the
// compiler's identity (resolved path + `--version` text), so an object built by another
// compiler, or by this one before it changed, is never found. The identity's memo is keyed by
// the binary's stat signature: an unchanged compiler is not run again, a replaced one is.
TEST(AotColdStart, CompilerIdentityIsInTheKeyAndItsMemoFollowsTheBinary) {
  TempDir cache, bin;
  const fs::path count = bin.path() / "version-runs";
  const fs::path cc = bin.path() / "cc-a", other = bin.path() / "cc-b";
  identity_compiler(cc, "idcc 1", count);
  identity_compiler(other, "idcc 1", count);
  AotOptions o = cache_options(cache.path());
  const std::string sha = std::string(64, 'a');
  auto key_with = [&](const fs::path& compiler) {
    AotOptions c = o;
    c.compiler = compiler.string();
    auto tc = aot::make_toolchain(c, cache.path().string());
    EXPECT_TRUE(tc.has_value()) << tc.error().to_string();
    return tc ? aot::cache_key_for_module_hash(sha, *tc) : std::string();
  };
  const std::string a1 = key_with(cc);
  ASSERT_FALSE(a1.empty());
  EXPECT_EQ(lines(count), 1u);
  EXPECT_EQ(key_with(cc), a1);
  EXPECT_EQ(lines(count), 1u) << "an unchanged compiler's identity comes from the memo";
  // Another compiler binary (same version text, other path): another key.
  EXPECT_NE(key_with(other), a1);
  EXPECT_EQ(lines(count), 2u);
  // The compiler replaced in place by another version: run again, another key.
  identity_compiler(cc, "idcc 2", count);
  const std::string a2 = key_with(cc);
  EXPECT_EQ(lines(count), 3u) << "a replaced compiler was trusted by its stale memo";
  EXPECT_NE(a2, a1);
  // ... and back: the identity is the binary's answer, not its file.
  identity_compiler(cc, "idcc 1", count);
  EXPECT_EQ(key_with(cc), a1);
  EXPECT_EQ(lines(count), 4u);
  // No compiler at all: no key, so no object of any compiler is loaded.
  AotOptions none = o;
  none.compiler = (bin.path() / "missing-cc").string();
  auto tc = aot::make_toolchain(none, cache.path().string());
  ASSERT_FALSE(tc.has_value());
  EXPECT_EQ(tc.error().code, ErrorCode::kNotFound);
}

// The number of compilers a split compile runs at once is counted when a compile needs it, not
// by make_toolchain (a cached run never does: it read /sys for it on every load).
TEST(AotColdStart, CompileJobsAreCountedOnlyForACompile) {
  unsetenv("WASMCAP_AOT_JOBS");
  TempDir cache;
  AotOptions o = cache_options(cache.path());
  auto tc = aot::make_toolchain(o, cache.path().string());
  if (!tc && tc.error().code == ErrorCode::kNotFound) GTEST_SKIP() << "no C compiler";
  ASSERT_TRUE(tc.has_value()) << tc.error().to_string();
  EXPECT_EQ(tc->jobs, 0u);
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  EXPECT_EQ(aot::compile_jobs(*tc), static_cast<unsigned>(std::clamp<long>(cpus, 1, 64)));
  o.compile_jobs = 3;
  tc = aot::make_toolchain(o, cache.path().string());
  ASSERT_TRUE(tc.has_value());
  EXPECT_EQ(tc->jobs, 3u);
  EXPECT_EQ(aot::compile_jobs(*tc), 3u);
  o.compile_jobs = 1000;
  tc = aot::make_toolchain(o, cache.path().string());
  ASSERT_TRUE(tc.has_value());
  EXPECT_EQ(aot::compile_jobs(*tc), 64u);
  setenv("WASMCAP_AOT_JOBS", "2", 1);
  o.compile_jobs = 0;
  tc = aot::make_toolchain(o, cache.path().string());
  unsetenv("WASMCAP_AOT_JOBS");
  ASSERT_TRUE(tc.has_value());
  EXPECT_EQ(aot::compile_jobs(*tc), 2u);
}

// Only an engine that checks links before compiling asks for the table: an interpreted run (a
// cold start, one per CLI process) does not pay for building it (EngineConfig::link_check).
TEST(AotColdStart, InterpretedRunBuildsNoLinkCheckTable) {
  TempDir cache;
  RunOptions o;
  o.engine = "interp";
  o.aot = cache_options(cache.path());
  const uint64_t before = runtime_test_hooks::link_signature_tables();
  auto r = testing::run_guest(guest_bytes("hello"), o);
  ASSERT_TRUE(r.report.has_value()) << r.report.error().to_string();
  EXPECT_EQ(runtime_test_hooks::link_signature_tables(), before);
}

// The link check's table of host signatures (WASI, and WASI + https) is built once per process
// and shared by every later run, also runs started on several threads at once.
TEST(AotColdStart, LinkCheckTableIsBuiltOncePerProcess) {
  TempDir cache, bin;
  const fs::path count = bin.path() / "version-runs";
  const fs::path cc = bin.path() / "cc";
  identity_compiler(cc, "idcc 1", count);  // never asked to compile: the module cannot link
  auto run_once = [&](bool https) {
    RunOptions o;
    o.engine = "aot";
    o.aot = cache_options(cache.path());
    o.aot.compiler = cc.string();
    if (https) o.host_apis.add(Capability::kHostApiHttps);
    auto r = testing::run_guest(guest_bytes("link_unknown_func"), o);
    ASSERT_FALSE(r.report.has_value());
    // With https and no plan, the run's own table is refused (invalid_argument) after the link
    // check's table was used.
    if (!https) {
      EXPECT_EQ(r.report.error().code, ErrorCode::kLinkError) << r.report.error().to_string();
    }
  };
  const uint64_t t0 = runtime_test_hooks::link_signature_tables();
  run_once(false);
  const uint64_t t1 = runtime_test_hooks::link_signature_tables();
  EXPECT_LE(t1 - t0, 1u);
  EXPECT_GE(t1, 1u);
  run_once(false);
  EXPECT_EQ(runtime_test_hooks::link_signature_tables(), t1);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { run_once(true); });
  for (auto& t : threads) t.join();
  run_once(true);
  run_once(false);
  EXPECT_LE(runtime_test_hooks::link_signature_tables(), t1 + 1);
  EXPECT_GE(runtime_test_hooks::link_signature_tables(), 2u);
}

// --- found by the spec suite on aot ------------------------------------------------------------

// An imported function called through a table: wasm2c 1.0.32 records a wrong instance pointer
// for it, which crashed the host (SIGSEGV in the dispatcher) — with a pointer a module shapes
// through its own table sizes. The runtime now takes the instance from the thread. Run in a
// child process, so the old behaviour shows as a signal, not a dead test binary.
TEST(AotIndirectImport, CallIndirectOfAnImportedFunctionReachesTheHost) {
  TempDir cache;
  const std::string wasm = testing::guest_path("indirect_import");
  auto want = testing::run_cli({"run", "--engine", "interp", wasm});
  ASSERT_TRUE(want.exited) << testing::describe(want);
  ASSERT_EQ(want.exit_code, 7) << testing::describe(want);
  testing::ProcOptions po;
  po.extra_env = {{"WASMCAP_AOT_OPT", "0"}};
  auto got = testing::run_cli(
      {"run", "--engine", "aot", "--cache-dir", cache.path().string(), wasm}, po);
  EXPECT_TRUE(got.exited) << testing::describe(got);
  EXPECT_EQ(got.exit_code, 7) << testing::describe(got);
  EXPECT_EQ(got.out, want.out);
  EXPECT_EQ(got.out, "indirect import ok\n");
}


// A SIMD instruction that wabt 1.0.32's reader lets through with SIMD disabled
// (v128.load8x8_s): the translator must refuse the module (module_unsupported) instead of
// letting wabt's C writer abort the process (simd_align in the spec suite on aot). Run through
// the CLI: before, `wasmcap compile` died with SIGABRT.
TEST(AotSimd, LoadExtendIsRefusedNotFatal) {
  TempDir tmp;
  // (module (memory 1) (func i32.const 0 v128.load8x8_s align=1 drop))
  const std::vector<uint8_t> bytes = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
      0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x0a, 0x0b, 0x01, 0x09, 0x00,
      0x41, 0x00, 0xfd, 0x01, 0x00, 0x00, 0x1a, 0x0b};
  const fs::path wasm = tmp.path() / "load8x8.wasm";
  testing::write_text(wasm, std::string(bytes.begin(), bytes.end()));
  auto interp = make_fast_engine();
  ASSERT_TRUE(interp->load(bytes.data(), bytes.size()).has_value()) << "a valid module";
  auto r = testing::run_cli({"compile", "--cache-dir", (tmp.path() / "cache").string(), wasm.string()});
  EXPECT_TRUE(r.exited) << testing::describe(r);
  EXPECT_EQ(r.exit_code, error_exit_code(ErrorCode::kModuleUnsupported)) << testing::describe(r);
  EXPECT_NE(r.err.find("SIMD"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wasmcap
