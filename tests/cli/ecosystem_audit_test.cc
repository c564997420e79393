// The audit log through `wasmcap` processes: a run is recorded before it starts or refused
// (#37), on_failure "continue", concurrent runs and kills never lose or glue records, a full
// disk, run_start/run_end and their query, registry and trust changes.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <set>

#include "cli_home.h"
#include "wasmcap/bundle.h"
#include "wasmcap/runtime.h"

namespace wasmcap::cli_test {
namespace {

// --- audit ----------------------------------------------------------------------------------------

// --- record or refuse (#37) ------------------------------------------------------------------

// A hello manifest and a host config whose audit.file is `log` (on_failure: "" = not set).
void audited_hello(const Home& h, const std::string& log, const std::string& on_failure = "") {
  fs::copy_file(guest_path("hello"), h.path("hello.wasm"), fs::copy_options::overwrite_existing);
  testing::write_text(h.path("m.json"),
                      R"({"name":"hello","version":"1.0.0","module":"hello.wasm","permissions":{"args":true}})");
  testing::write_text(h.path("c.json"),
                      R"({"plugins":{"hello":{}},"audit":{"file":")" + log + "\"" +
                          (on_failure.empty() ? "" : R"(,"on_failure":")" + on_failure + "\"") + "}}");
}

ProcResult run_hello(const Home& h, const std::string& failpoints = "",
                     const std::string& trace = "") {
  testing::ProcOptions o = h.opts();
  if (!failpoints.empty()) o.extra_env.emplace_back("WASMCAP_FAILPOINTS", failpoints);
  if (!trace.empty()) o.extra_env.emplace_back("WASMCAP_FAILPOINT_TRACE", trace);
  return run_cli({"run", "--manifest", h.path("m.json"), "--config", h.path("c.json"), "x"}, o);
}

// Every line of an audit file is one whole JSON record.
void expect_whole_lines(const std::string& text) {
  EXPECT_TRUE(text.empty() || text.back() == '\n') << text;
  for (const auto& l : testing::lines_of(text)) {
    EXPECT_FALSE(json::parse(l, nullptr, false).is_discarded()) << "torn line: " << l;
  }
}

// Before: with the audit file's disk full, runs exited 0 and did their work unrecorded. Now the
// run_start record is written before the guest starts, or the run does not start (74); a run
// whose run_end record fails exits 74 with a warning; a kill at the write leaves no work done.
TEST(CliAudit, RunIsRecordedBeforeItStartsOrRefused) {
  Home h;
  const std::string log = h.path("audit.jsonl");
  audited_hello(h, log);
  ProcResult traced = run_hello(h, "", h.path("trace"));
  ASSERT_EQ(traced.exit_code, 0) << describe(traced);
  if (testing::read_text(h.path("trace")).find("audit.write.append") == std::string::npos) {
    GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON (scripts/test.sh turns it on)";
  }
  for (const char* action : {"enospc", "eio"}) {
    SCOPED_TRACE(action);
    const std::string before = testing::read_text(log);
    ProcResult r = run_hello(h, std::string("audit.write.append=") + action);
    EXPECT_EQ(r.exit_code, 74) << describe(r);
    EXPECT_EQ(r.out.find("hello from wasm"), std::string::npos) << "the guest ran: " << describe(r);
    EXPECT_NE(r.err.find("io_error: audit record not written to " + log), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(std::strerror(std::string(action) == "enospc" ? ENOSPC : EIO)), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("the run was not started"), std::string::npos) << r.err;
    EXPECT_EQ(testing::read_text(log), before);

    // The run_end record (the second write) fails: the guest ran, the run fails with a warning.
    ProcResult e = run_hello(h, std::string("audit.write.append=") + action + "@2");
    EXPECT_EQ(e.exit_code, 74) << describe(e);
    EXPECT_NE(e.out.find("hello from wasm"), std::string::npos) << describe(e);
    EXPECT_NE(e.err.find("warning: the run finished (status 0) but its run_end io_error: audit record not written"),
              std::string::npos)
        << e.err;
    auto lines = testing::lines_of(testing::read_text(log));
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(json::parse(lines.back())["event"], "run_start");
    expect_whole_lines(testing::read_text(log));
  }
  // Killed while writing the record before the run: nothing ran, nothing torn.
  const std::string before = testing::read_text(log);
  ProcResult k = run_hello(h, "audit.write.append=kill");
  EXPECT_EQ(k.term_signal, SIGKILL) << describe(k);
  EXPECT_EQ(k.out.find("hello from wasm"), std::string::npos) << describe(k);
  EXPECT_EQ(testing::read_text(log), before);
  // The retry.
  ProcResult ok = run_hello(h);
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  expect_whole_lines(testing::read_text(log));
}

// audit.on_failure = "continue": the operator's explicit choice to run without the record, with
// a warning; an unknown value is a config error.
TEST(CliAudit, OnFailureContinueRunsWithAWarning) {
  Home h;
  const std::string log = h.path("audit.jsonl");
  audited_hello(h, log, "continue");
  ProcResult traced = run_hello(h, "", h.path("trace"));
  ASSERT_EQ(traced.exit_code, 0) << describe(traced);
  if (testing::read_text(h.path("trace")).find("audit.write.append") == std::string::npos) {
    GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON (scripts/test.sh turns it on)";
  }
  ProcResult r = run_hello(h, "audit.write.append=enospc");
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("hello from wasm"), std::string::npos);
  EXPECT_NE(r.err.find("warning: audit record not written"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("audit.on_failure is \"continue\""), std::string::npos) << r.err;
  audited_hello(h, log, "ignore");
  ProcResult bad = run_hello(h);
  EXPECT_EQ(bad.exit_code, 78) << describe(bad);
  EXPECT_NE(bad.err.find("$.audit.on_failure"), std::string::npos) << bad.err;
}

// Many runs at once on one audit file, half of them killed at varying moments: no two records
// are ever glued, a torn line (a kill inside a record's write) is at most one per killed run and
// ended by the next record, and every run whose guest printed anything has its run_start.
TEST(CliAudit, ConcurrentRunsAndKillsNeverLoseOrGlueRecords) {
  Home h;
  const std::string log = h.path("audit.jsonl");
  audited_hello(h, log);
  constexpr int kRuns = 16;
  std::vector<pid_t> pids;
  for (int i = 0; i < kRuns; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int out = ::open(h.path("out-" + std::to_string(i)).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(out, 1);
      ::dup2(null, 2);
      ::setenv("WASMCAP_HOME", h.path("home").c_str(), 1);
      std::string id = "run-" + std::to_string(i);
      ::execl(testing::cli_path().c_str(), "wasmcap", "run", "--engine", "interp", "--manifest",
              h.path("m.json").c_str(), "--config", h.path("c.json").c_str(), "--invocation-id",
              id.c_str(), "x", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pids.push_back(pid);
  }
  for (int i = 0; i < kRuns; i += 2) {
    ::usleep(static_cast<useconds_t>(1500 * i));
    ::kill(pids[i], SIGKILL);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  const std::string text = testing::read_text(log);
  std::set<std::string> started;
  int torn = 0;
  for (const auto& l : testing::lines_of(text)) {
    json j = json::parse(l, nullptr, false);
    if (j.is_discarded()) {
      ++torn;
      EXPECT_EQ(l.find("}{"), std::string::npos) << "glued records: " << l;
      continue;
    }
    if (j["event"] == "run_start") started.insert(j["invocation_id"]);
  }
  EXPECT_LE(torn, kRuns / 2);
  for (int i = 0; i < kRuns; ++i) {
    if (testing::read_text(h.path("out-" + std::to_string(i))).find("hello from wasm") == std::string::npos) continue;
    EXPECT_EQ(started.count("run-" + std::to_string(i)), 1u) << "run " << i << " ran unrecorded";
  }
  // The runs not killed are complete.
  for (int i = 1; i < kRuns; i += 2) EXPECT_EQ(started.count("run-" + std::to_string(i)), 1u) << i;
  // The next record starts a line of its own whatever the kills left.
  ProcResult ok = run_hello(h);
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_EQ(json::parse(testing::lines_of(testing::read_text(log)).back())["event"], "run_end");
}

// The same on a real full disk: a 64 KiB tmpfs. Full: no run starts, the audit file is unchanged.
// With room for less than a record: the kernel writes part of it, the rest fails, and the part is
// truncated back (no torn line). Room for run_start but not run_end: the guest ran, the run
// fails with a warning, and run_start is the last (whole) line. Space freed: the retry works.
TEST(CliAudit, FullDiskRefusesRunsAndTearsNoLine) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  if (::unshare(CLONE_NEWNS) != 0) GTEST_SKIP() << "no mount namespace: " << std::strerror(errno);
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    GTEST_SKIP() << "cannot make mounts private: " << std::strerror(errno);
  }
  Home h;
  const std::string disk = h.path("disk");
  fs::create_directories(disk);
  if (::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
  }
  struct Unmount {
    std::string d;
    ~Unmount() { ::umount2(d.c_str(), MNT_DETACH); }
  } unmount{disk};
  const std::string log = disk + "/audit.jsonl", filler = disk + "/filler";
  audited_hello(h, log);
  auto fill = [&] {  // fills the disk to the last byte
    std::ofstream f(filler, std::ios::binary | std::ios::app);
    std::string block(512, 'f');
    while (f.write(block.data(), block.size()) && f.flush()) {
    }
    std::ofstream(filler, std::ios::binary | std::ios::app) << 'f';  // partial blocks
  };
  // Learn the records' sizes from a run with room.
  ProcResult first = run_hello(h);
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  auto first_lines = testing::lines_of(testing::read_text(log));
  ASSERT_EQ(first_lines.size(), 2u);
  const size_t start_len = first_lines[0].size() + 1;
  // Pads the log so that the last page of the file has exactly `room` bytes left.
  auto pad_to_room = [&](size_t room) {
    size_t size = fs::file_size(log);
    size_t target = (size / 4096 + 1) * 4096 - room;
    if (target < size + 12) target += 4096;
    std::ofstream(log, std::ios::app) << "{\"pad\":\"" << std::string(target - size - 11, 'p') << "\"}\n";
    ASSERT_EQ(fs::file_size(log), target);
  };

  std::string before;
  {
    SCOPED_TRACE("full, and the log's page full too");
    pad_to_room(0);
    fill();
    before = testing::read_text(log);
    ProcResult r = run_hello(h);
    EXPECT_EQ(r.exit_code, 74) << describe(r);
    EXPECT_EQ(r.out.find("hello from wasm"), std::string::npos) << describe(r);
    EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
    EXPECT_EQ(testing::read_text(log), before);
  }
  fs::remove(filler);
  {
    SCOPED_TRACE("room for part of run_start");
    pad_to_room(start_len / 2);
    fill();
    before = testing::read_text(log);
    ProcResult r = run_hello(h);
    EXPECT_EQ(r.exit_code, 74) << describe(r);
    EXPECT_EQ(r.out.find("hello from wasm"), std::string::npos) << describe(r);
    EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
    EXPECT_EQ(testing::read_text(log), before) << "the partial record is truncated back";
  }
  fs::remove(filler);
  {
    SCOPED_TRACE("room for run_start, not run_end");
    pad_to_room(start_len + 16);
    fill();
    ProcResult r = run_hello(h);
    EXPECT_EQ(r.exit_code, 74) << describe(r);
    EXPECT_NE(r.out.find("hello from wasm"), std::string::npos) << describe(r);
    EXPECT_NE(r.err.find("warning: the run finished (status 0) but its run_end"), std::string::npos) << r.err;
    auto lines = testing::lines_of(testing::read_text(log));
    EXPECT_EQ(json::parse(lines.back())["event"], "run_start");
    expect_whole_lines(testing::read_text(log));
  }
  fs::remove(filler);
  ProcResult ok = run_hello(h);
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  auto lines = testing::lines_of(testing::read_text(log));
  EXPECT_EQ(json::parse(lines.back())["event"], "run_end");
  expect_whole_lines(testing::read_text(log));
}

TEST(CliAudit, RunStartAndEndAreAuditedAndQueryable) {
  Home h;
  fs::copy_file(guest_path("hello"), h.path("hello.wasm"));
  testing::write_text(h.path("m.json"),
                      R"({"name":"hello","version":"1.0.0","module":"hello.wasm",)"
                      R"("permissions":{"args":true,"env":["WHO"]}})");
  std::string log = h.path("audit.jsonl");
  testing::write_text(h.path("c.json"), R"({"plugins":{"hello":{"grants":{"env":{"WHO":"s3cret-value"}}}},)"
                                        R"("audit":{"file":")" + log + R"("}})");
  ProcResult r = h.cli({"run", "--manifest", h.path("m.json"), "--config", h.path("c.json"),
                        "--invocation-id", "tool-call-7", "x"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto lines = testing::lines_of(testing::read_text(log));
  ASSERT_EQ(lines.size(), 2u) << testing::read_text(log);
  json start = json::parse(lines[0]), end = json::parse(lines[1]);
  EXPECT_EQ(start["event"], "run_start");
  EXPECT_EQ(start["plugin"], "hello");
  EXPECT_EQ(start["version"], "1.0.0");
  EXPECT_EQ(start["invocation_id"], "tool-call-7");
  EXPECT_EQ(start["engine"], testing::test_engine_name());
  EXPECT_EQ(start["module_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(start["grants"]["env"][0], "WHO");
  EXPECT_EQ(start["grants"]["args"], true);
  EXPECT_EQ(end["event"], "run_end");
  // The engine that ran, by the name it was asked for ("interp" is one engine everywhere).
  EXPECT_EQ(end["engine"], start["engine"]);
  EXPECT_EQ(end["outcome"], "exit");
  EXPECT_EQ(end["exit_code"], 0);
  EXPECT_TRUE(end["limit_hit"].is_null());
  EXPECT_EQ(testing::read_text(log).find("s3cret-value"), std::string::npos) << "env values are not audited";

  // A limit hit is named.
  ProcResult spin = h.cli({"run", "--manifest", h.path("m.json"), "--config", h.path("c.json"),
                           "--timeout-ms", "50", guest_path("spin")});
  EXPECT_EQ(spin.exit_code, 82) << describe(spin);
  json last = json::parse(testing::lines_of(testing::read_text(log)).back());
  EXPECT_EQ(last["outcome"], "error");
  EXPECT_EQ(last["limit_hit"], "deadline_exceeded");

  // Query.
  ProcResult q = h.cli({"audit", log, "--event", "run_end", "--json"});
  ASSERT_EQ(q.exit_code, 0) << describe(q);
  EXPECT_EQ(testing::lines_of(q.out).size(), 2u) << q.out;
  EXPECT_EQ(testing::lines_of(h.cli({"audit", log, "--invocation-id", "tool-call-7", "--json"}).out).size(), 2u);
  EXPECT_EQ(h.cli({"audit", log, "--plugin", "nope", "--json"}).out, "");
  EXPECT_EQ(testing::lines_of(h.cli({"audit", log, "--since", "1d", "--json"}).out).size(), 4u);
  EXPECT_EQ(h.cli({"audit", log, "--since", "2999-01-01", "--json"}).out, "");
  EXPECT_EQ(h.cli({"audit", "--config", h.path("c.json"), "--since", "2000-01-01T00:00", "--json"}).out,
            h.cli({"audit", log, "--json"}).out);
  ProcResult text = h.cli({"audit", log, "--event", "run_start"});
  EXPECT_NE(text.out.find("run_start"), std::string::npos);
  EXPECT_NE(text.out.find("tool-call-7"), std::string::npos);
  expect_usage_error(h.cli({"audit", log, "--since", "yesterday"}), "--since");
  EXPECT_EQ(h.cli({"audit", h.path("missing.jsonl")}).exit_code, 66);
  // Hostile lines: skipped with a warning; control bytes in fields are escaped in text output.
  std::ofstream(log, std::ios::app) << "not json\n"
                                    << R"({"event":"run_start","plugin":"\u001b[2Jevil","time":"2030-01-01T00:00:00.000Z"})" << "\n";
  ProcResult hostile = h.cli({"audit", log, "--event", "run_start"});
  EXPECT_EQ(hostile.exit_code, 0);
  EXPECT_NE(hostile.err.find("skipped 1 malformed"), std::string::npos) << hostile.err;
  EXPECT_EQ(hostile.out.find('\x1b'), std::string::npos);
  EXPECT_NE(hostile.out.find("\\x1b[2Jevil"), std::string::npos) << hostile.out;
}

TEST(CliAudit, UnwritableAuditFileStopsTheRunBeforeItStarts) {
  Home h;
  fs::copy_file(guest_path("hello"), h.path("hello.wasm"));
  testing::write_text(h.path("m.json"), R"({"name":"hello","version":"1.0.0","module":"hello.wasm"})");
  testing::write_text(h.path("c.json"), R"({"plugins":{"hello":{}},"audit":{"file":")" +
                                            h.path("no-such-dir/audit.jsonl") + R"("}})");
  ProcResult r = h.cli({"run", "--manifest", h.path("m.json"), "--config", h.path("c.json")});
  EXPECT_EQ(r.exit_code, 74) << describe(r);
  EXPECT_EQ(r.out, "") << "the guest must not have run";
}

TEST(CliAudit, RegistryAndTrustChangesAreAudited) {
  Home h;
  h.keygen("acme");
  ASSERT_EQ(h.cli({"trust", "add", h.path("keys/acme.pub")}).exit_code, 0);
  ASSERT_EQ(h.cli({"bundle", "install", h.pack_hello("acme")}).exit_code, 0);
  ASSERT_EQ(h.cli({"bundle", "remove", "hello"}).exit_code, 0);
  auto lines = testing::lines_of(testing::read_text(h.path("home/audit.jsonl")));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(json::parse(lines[0])["event"], "trust_add");
  json inst = json::parse(lines[1]);
  EXPECT_EQ(inst["event"], "bundle_install");
  EXPECT_EQ(inst["plugin"], "hello");
  EXPECT_EQ(inst["version"], "1.2.3");
  EXPECT_EQ(inst["trust"], "trusted");
  EXPECT_EQ(json::parse(lines[2])["event"], "bundle_remove");
  ProcResult q = h.cli({"audit", "--event", "bundle_install"});
  EXPECT_NE(q.out.find("hello"), std::string::npos) << describe(q);
}

}  // namespace
}  // namespace wasmcap::cli_test
