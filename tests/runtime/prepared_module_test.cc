// PreparedModule (runtime.h): a module loaded once and run many times, each run in a fresh
// instance with everything run_module does but the load. Runs on the engine under test (the
// plain run: interp; "aot:": aot).
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"
#include "wasmcap/audit.h"
#include "wasmcap/runtime.h"

namespace wasmcap {
namespace {

using testing::guest_bytes;

std::string prepared_engine() {
  const std::string e = testing::test_engine_name();
  return e == "aot" ? "aot" : "interp";
}

std::shared_ptr<const PreparedModule> prepare(const std::string& guest) {
  PrepareOptions po;
  po.engine = prepared_engine();
  auto p = PreparedModule::prepare(guest_bytes(guest), po);
  EXPECT_TRUE(p) << p.error().to_string();
  return p ? *p : nullptr;
}

// Runs `p` with output captured.
testing::Captured run_prepared(const PreparedModule& p, RunOptions o) {
  auto cap = std::make_shared<testing::Captured>();
  o.wasi.stdout_sink = [cap](const uint8_t* d, size_t n) {
    cap->out.append(reinterpret_cast<const char*>(d), n);
    return true;
  };
  o.wasi.stderr_sink = [cap](const uint8_t* d, size_t n) {
    cap->err.append(reinterpret_cast<const char*>(d), n);
    return true;
  };
  testing::Captured c;
  c.report = p.run(std::move(o));
  c.out = cap->out;
  c.err = cap->err;
  return c;
}

TEST(PreparedModule, LoadsOnceAndRunsManyTimes) {
  auto p = prepare("hello");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->engine(), prepared_engine());
  EXPECT_EQ(p->module_sha256().size(), 64u);
  EXPECT_NE(p->info().find_export("_start"), nullptr);
  for (const char* who : {"a", "b", "c"}) {
    RunOptions o;
    o.wasi.args = {"hello", who};
    testing::Captured c = run_prepared(*p, o);
    ASSERT_TRUE(c.report) << c.report.error().to_string();
    EXPECT_EQ(c.report->exit_code, 0);
    EXPECT_EQ(c.out, std::string("hello from wasm\narg[1]=") + who + "\n");
  }
}

// Bytes the caller shares are kept, not copied: by the prepared module, and on the interpreter
// by its loaded module too (views of their code and data sections: copying megabytes into fresh
// pages cost a `wasmcap sh` start milliseconds); the caller may drop its reference.
TEST(PreparedModule, KeepsBytesTheCallerSharesInsteadOfCopyingThem) {
  auto bytes = std::make_shared<const std::vector<uint8_t>>(guest_bytes("hello"));
  const uint8_t* data = bytes->data();
  PrepareOptions po;
  po.engine = prepared_engine();
  auto p = PreparedModule::prepare(bytes, po);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ((*p)->bytes().data(), data);
  // The caller's, the prepared module's and its ModuleBytes' keeper; the interpreter's module.
  EXPECT_GE(bytes.use_count(), prepared_engine() == "interp" ? 4 : 3);
  bytes.reset();
  RunOptions o;
  o.wasi.args = {"hello", "kept"};
  testing::Captured c = run_prepared(**p, o);
  ASSERT_TRUE(c.report) << c.report.error().to_string();
  EXPECT_EQ(c.out, "hello from wasm\narg[1]=kept\n");
}

// No run sees another's globals or memory.
TEST(PreparedModule, EveryRunIsAFreshInstance) {
  auto p = prepare("counter");
  ASSERT_TRUE(p);
  for (int i = 0; i < 3; ++i) {
    RunOptions o;
    o.entry = "bump";
    auto r = p->run(o);
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_EQ(r->results.size(), 1u);
    EXPECT_EQ(r->results[0].i32, 2u) << "run " << i;
  }
}

TEST(PreparedModule, RunsFromManyThreadsAtOnce) {
  auto p = prepare("counter");
  ASSERT_TRUE(p);
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        RunOptions o;
        o.entry = "bump";
        auto r = p->run(o);
        if (r && r->results.size() == 1 && r->results[0].i32 == 2) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 100);
}

// Each run keeps run_module's rules: its limits, its records, the import check against the host
// APIs it requested, the load budget of its own memory limit.
TEST(PreparedModule, EachRunKeepsTheRunsRules) {
  auto spin = prepare("spin");
  ASSERT_TRUE(spin);
  RunOptions o;
  o.timeout_ms = 50;
  auto r = spin->run(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded);

  // A module importing the https host API runs only when the run requested it.
  auto fetch = prepare("fetch");
  ASSERT_TRUE(fetch);
  RunOptions f;
  f.wasi.args = {"fetch", "https://api.test/"};
  auto denied = fetch->run(f);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kGrantDenied) << denied.error().to_string();

  // Records, under the run's id, naming the prepared module's hash.
  auto hello = prepare("hello");
  ASSERT_TRUE(hello);
  auto lines = std::make_shared<std::vector<std::string>>();
  RunOptions h;
  h.wasi.args = {"hello"};
  h.audit_sink = audit::callback_sink([lines](std::string_view l) { lines->emplace_back(l); });
  testing::Captured c = run_prepared(*hello, h);
  ASSERT_TRUE(c.report) << c.report.error().to_string();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_NE((*lines)[0].find("\"module_sha256\":\"" + hello->module_sha256() + "\""), std::string::npos)
      << (*lines)[0];
  EXPECT_NE((*lines)[0].find(c.report->invocation_id), std::string::npos);
}

TEST(PreparedModule, RefusesWhatCannotBePrepared) {
  PrepareOptions po;
  po.engine = "auto";
  auto a = PreparedModule::prepare(guest_bytes("hello"), po);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::kInvalidArgument);
  po.engine = prepared_engine();
  auto bad = PreparedModule::prepare(std::vector<uint8_t>{0x00, 0x61, 0x73, 0x6d, 0x02}, po);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().code, ErrorCode::kInternal) << bad.error().to_string();
}

}  // namespace
}  // namespace wasmcap
