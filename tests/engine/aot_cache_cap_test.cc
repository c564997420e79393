// The AOT cache's own bounds (docs/aot.md, "Cache" and "Background compile"): a size cap enforced
// after every compile (least recently used objects first, never the object just compiled nor one
// whose compile holds its lock), and the background compile's job count (half the CPUs by
// default, at nice 10). Compiles are of tiny generated modules at -O0.
#include <sys/resource.h>

#include <cstdlib>
#include <sstream>

#include "aot_start_support.h"

namespace wasmcap {
namespace {

using namespace aot_start_test;

AotOptions cap_options(const fs::path& cache, uint64_t cap) {
  AotOptions o;
  o.cache_dir = cache.string();
  o.opt_level = 0;
  o.cache_max_bytes = cap;
  return o;
}

// Compiles `m` into the cache; its key.
std::string compile(const std::vector<uint8_t>& m, const AotOptions& o) {
  std::string key;
  auto r = aot_precompile(ModuleBytes(m), o, &key);
  EXPECT_TRUE(r.has_value()) << r.error().to_string();
  return key;
}

uint64_t object_bytes(const AotOptions& o, const std::string& key) {
  auto c = cache_contents(o);
  EXPECT_TRUE(c.has_value());
  if (!c) return 0;
  for (const auto& obj : c->objects) {
    if (obj.key == key) return obj.bytes;
  }
  ADD_FAILURE() << "no object " << key;
  return 0;
}

// Sets the object's access and modification times (what "least recently used" reads).
void used_at(const fs::path& cache, const std::string& key, time_t when) {
  struct timespec times[2] = {{when, 0}, {when, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, (cache / (key + ".so")).c_str(), times, 0), 0);
}

bool has_object(const fs::path& cache, const std::string& key) {
  return fs::exists(cache / (key + ".so")) && fs::exists(cache / (key + ".meta"));
}

// Three objects of about the same size under a cap of two and a half: the compile of the third
// removes the least recently used one (a), keeps b and the one it stored.
TEST(AotCacheCap, CompileEvictsTheLeastRecentlyUsedBeyondTheCap) {
  TempDir cache;
  AotOptions o = cap_options(cache.path(), UINT64_MAX);
  const std::string a = compile(generated_module(1, 1), o);
  const std::string b = compile(generated_module(1, 2), o);
  const uint64_t size = std::max(object_bytes(o, a), object_bytes(o, b));
  ASSERT_GT(size, 0u);
  used_at(cache.path(), a, time(nullptr) - 7200);
  used_at(cache.path(), b, time(nullptr) - 3600);

  o.cache_max_bytes = size * 5 / 2;
  const std::string c = compile(generated_module(1, 3), o);
  EXPECT_FALSE(has_object(cache.path(), a)) << "the least recently used object stayed";
  EXPECT_FALSE(fs::exists(cache.path() / (a + ".meta")));
  EXPECT_TRUE(has_object(cache.path(), b));
  EXPECT_TRUE(has_object(cache.path(), c));
  auto left = cache_contents(o);
  ASSERT_TRUE(left.has_value());
  EXPECT_LE(left->object_bytes, o.cache_max_bytes);
}

// A cap smaller than any object: the compile keeps what it stored (the run loads it next) and an
// object whose compile holds KEY.lock, and removes everything else.
TEST(AotCacheCap, NeverEvictsTheObjectJustCompiledNorOneBeingCompiled) {
  TempDir cache;
  AotOptions o = cap_options(cache.path(), UINT64_MAX);
  const std::string a = compile(generated_module(1, 1), o);
  const std::string b = compile(generated_module(1, 2), o);
  used_at(cache.path(), a, 1000);  // the least recently used, but busy
  int lock = open((cache.path() / (a + ".lock")).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX), 0);

  o.cache_max_bytes = 1;
  const std::string c = compile(generated_module(1, 3), o);
  close(lock);
  EXPECT_TRUE(has_object(cache.path(), a)) << "an object a compile holds was removed";
  EXPECT_FALSE(has_object(cache.path(), b));
  EXPECT_TRUE(has_object(cache.path(), c)) << "the object just compiled was removed";
  // ... and it is the object the next run loads, from the cache.
  o.cache_only = true;
  auto engine = make_aot_engine(o);
  const auto again = generated_module(1, 3);
  auto loaded = engine->load(ModuleBytes(again));
  EXPECT_TRUE(loaded.has_value()) << loaded.error().to_string();
}

// The default is a cap (kDefaultCacheMaxBytes), not "unbounded": an object of 3 GiB (a sparse
// file: its size is what the cache counts) goes at the next compile with default options.
TEST(AotCacheCap, TheDefaultCapIsBounded) {
  TempDir cache;
  const std::string big(64, 'f');
  {
    int fd = open((cache.path() / (big + ".so")).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, off_t{3} << 30), 0);
    close(fd);
    testing::write_text(cache.path() / (big + ".meta"), "m");
  }
  fs::permissions(cache.path(), fs::perms::owner_all);
  used_at(cache.path(), big, 1000);
  AotOptions o = cap_options(cache.path(), 0);
  const std::string a = compile(generated_module(1, 1), o);
  EXPECT_FALSE(fs::exists(cache.path() / (big + ".so")));
  EXPECT_TRUE(has_object(cache.path(), a));
}

TEST(AotBackground, JobsAreHalfTheCpusUnlessConfigured) {
  const char* saved = std::getenv("WASMCAP_AOT_JOBS");
  std::string keep = saved != nullptr ? saved : "";
  unsetenv("WASMCAP_AOT_JOBS");
  AotOptions o;
  EXPECT_EQ(aot::background_compile_jobs(o, 1), 1u);
  EXPECT_EQ(aot::background_compile_jobs(o, 2), 1u);
  EXPECT_EQ(aot::background_compile_jobs(o, 8), 4u);
  EXPECT_EQ(aot::background_compile_jobs(o, 500), 64u);
  o.background_jobs = 3;
  EXPECT_EQ(aot::background_compile_jobs(o, 2), 3u) << "as configured";
  o.compile_jobs = 2;
  EXPECT_EQ(aot::background_compile_jobs(o, 2), 2u) << "never more than --compile-jobs";
  o = AotOptions{};
  setenv("WASMCAP_AOT_JOBS", "1", 1);
  EXPECT_EQ(aot::background_compile_jobs(o, 8), 1u) << "never more than $WASMCAP_AOT_JOBS";
  if (saved != nullptr) {
    setenv("WASMCAP_AOT_JOBS", keep.c_str(), 1);
  } else {
    unsetenv("WASMCAP_AOT_JOBS");
  }
}

// A stand-in compiler that records, for every unit compile (-c), how many unit compiles run at
// that moment and its nice value, holds each for 0.4 s, then runs the real cc.
std::string concurrency_compiler(const fs::path& dir) {
  fs::path p = dir / "countcc";
  const std::string running = (dir / "running").string();
  testing::write_text(p, "#!/bin/sh\n"
                         "if [ \"$1\" = --version ]; then exec cc --version; fi\n"
                         "case \" $* \" in *' -c '*)\n"
                         "  mkdir -p '" + running + "'; : > '" + running + "'/$$\n"
                         "  ls '" + running + "' | wc -l >> '" + (dir / "seen").string() + "'\n"
                         "  cut -d')' -f2 /proc/$$/stat | awk '{print $17}' >> '" +
                         (dir / "nice").string() + "'\n"
                         "  sleep 0.4; rm -f '" + running + "'/$$;;\n"
                         "esac\n"
                         "exec cc \"$@\"\n");
  chmod(p.c_str(), 0755);
  return p.string();
}

// The most compiles the background worker ran at once for a module split into 6 jobs (4 units,
// module.c, glue.c), and the nice values they ran at.
std::pair<long, std::string> background_concurrency(const AotOptions& base, const fs::path& bin) {
  TempDir cache;
  AotOptions o = base;
  o.cache_dir = cache.path().string();
  o.compiler = concurrency_compiler(bin);
  o.opt_level = 0;
  o.unit_functions = 1;
  BackgroundCompile bg = start_background_compile(ModuleBytes(generated_module(4, 1)), o);
  EXPECT_GT(bg.pid, 0) << bg.reason;
  EXPECT_TRUE(wait_until([&] { return workers_done(cache.path()); }, 120000));
  EXPECT_EQ(files_ending(cache.path(), ".meta").size(), 1u) << "the compile failed";
  long most = 0;
  std::istringstream seen(testing::read_text(bin / "seen"));
  for (long n; seen >> n;) most = std::max(most, n);
  std::string nice = testing::read_text(bin / "nice");
  return {most, nice};
}

// By default the worker runs half the CPUs' compilers (1 on a 2-CPU machine: with every CPU it
// ran 2), niced; aot.background_jobs (AotOptions::background_jobs) raises it.
TEST(AotBackground, CompileUsesHalfTheCpusNiced) {
  // timing: each unit compile is held 0.4 s, so compiles allowed to overlap do.
  const char* saved = std::getenv("WASMCAP_AOT_JOBS");
  if (saved != nullptr) GTEST_SKIP() << "WASMCAP_AOT_JOBS is set: it bounds every compile";
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  {
    TempDir bin;
    auto [most, nice] = background_concurrency(AotOptions{}, bin.path());
    EXPECT_GE(most, 1);
    EXPECT_LE(most, static_cast<long>(aot::background_compile_jobs(AotOptions{}, cpus)));
    EXPECT_LT(most, std::max<long>(2, cpus)) << "the background compile used every CPU";
    std::istringstream lines(nice);
    int n = 0;
    for (std::string line; std::getline(lines, line); ++n) EXPECT_EQ(line, "10");
    EXPECT_GE(n, 3) << nice;  // 4 units, module.c, glue.c
  }
  {
    TempDir bin;
    AotOptions two;
    two.background_jobs = 2;
    auto [most, nice] = background_concurrency(two, bin.path());
    EXPECT_EQ(most, 2) << "aot.background_jobs 2 ran " << most << " compiles at once";
  }
}

}  // namespace
}  // namespace wasmcap
