// Fault injection into the registry and trust changes (#37): every failpoint `bundle install`,
// `bundle remove` and the trust commands reach, and kills at random moments; afterwards the
// registry's index passes its integrity check, the old version still runs, the trust store reads,
// and a retry finishes with nothing left behind.
#include <gtest/gtest.h>

#include <fcntl.h>
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

// --- fault injection: registry and trust changes (#37) --------------------------------------
//
// Every failpoint `bundle install`, `bundle remove` and the trust commands reach (listed through
// WASMCAP_FAILPOINT_TRACE, so a new step is covered as soon as it has a failpoint), armed in turn
// with ENOSPC, EIO and SIGKILL: afterwards the registry's SQLite index passes its integrity check,
// the old version still runs, the trust store still reads, and a retry of the command finishes
// with nothing left behind (no staged tree, no store tree without a row, no temporary key file).

// hello VERSION signed by `signer`'s key in `keys`, packed to keys/hello-VERSION.wcb.
std::string pack_version(const Home& keys, const std::string& signer, const std::string& version) {
  fs::copy_file(guest_path("hello"), keys.path("hello.wasm"), fs::copy_options::overwrite_existing);
  testing::write_text(keys.path("manifest.json"),
                      R"({"name":"hello","version":")" + version +
                          R"(","module":"hello.wasm","permissions":{"args":true,"env":["WHO"]}})");
  std::string out = keys.path("hello-" + version + ".wcb");
  ProcResult r = keys.cli({"bundle", "pack", "--manifest", keys.path("manifest.json"), "--key",
                           keys.path("keys/" + signer + ".key"), "--out", out});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  return out;
}

ProcResult faulted(const Home& h, const std::vector<std::string>& args, const std::string& failpoints,
                   const std::string& trace = "") {
  testing::ProcOptions o = h.opts();
  if (!failpoints.empty()) o.extra_env.emplace_back("WASMCAP_FAILPOINTS", failpoints);
  if (!trace.empty()) o.extra_env.emplace_back("WASMCAP_FAILPOINT_TRACE", trace);
  return run_cli(args, o);
}

// The distinct failpoints `args` reaches in `h` (in first-hit order) whose names start with one of
// `prefixes`; empty when wasmcap has no failpoints compiled in.
std::vector<std::string> failpoints_reached(const Home& h, const std::vector<std::string>& args,
                                            const std::vector<std::string>& prefixes) {
  const std::string trace = h.path("trace");
  fs::remove(trace);
  ProcResult r = faulted(h, args, "", trace);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  std::vector<std::string> out;
  for (const auto& name : testing::lines_of(testing::read_text(trace))) {
    bool wanted = false;
    for (const auto& p : prefixes) wanted = wanted || starts_with(name, p);
    if (wanted && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

void expect_registry_intact(const Home& h) {
  const std::string db = h.path("home/registry/index.sqlite3");
  if (::access("/usr/bin/sqlite3", X_OK) == 0 && fs::exists(db)) {
    testing::ProcOptions o;
    ProcResult ic = testing::run_process({"/usr/bin/sqlite3", db, "PRAGMA integrity_check;"}, o);
    EXPECT_EQ(ic.out, "ok\n") << describe(ic);
  }
  ProcResult list = h.cli({"bundle", "list", "--json"});
  EXPECT_EQ(list.exit_code, 0) << describe(list);
}

// Installed versions, from `bundle list --json`.
std::vector<std::string> installed_versions(const Home& h) {
  std::vector<std::string> out;
  ProcResult list = h.cli({"bundle", "list", "--json"});
  json j = json::parse(list.out, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j) out.push_back(e["version"]);
  return out;
}

// No staged tree, and one store tree per installed version.
void expect_nothing_leaked(const Home& h) {
  std::error_code ec;
  size_t staged = 0, stored = 0;
  for (const auto& e : fs::directory_iterator(h.path("home/registry/tmp"), ec)) {
    (void)e;
    ++staged;
  }
  for (const auto& e : fs::directory_iterator(h.path("home/registry/store"), ec)) {
    (void)e;
    ++stored;
  }
  EXPECT_EQ(staged, 0u);
  EXPECT_EQ(stored, installed_versions(h).size());
}

void expect_runs(const Home& h, const std::string& ref) {
  ProcResult r = h.cli({"run", "--env", "WHO=me", ref});
  EXPECT_EQ(r.exit_code, 0) << ref << ": " << describe(r);
  EXPECT_EQ(r.out, "hello from wasm\nWHO=me\n");
}

struct FaultCase {
  std::string point, action;
  std::string spec() const { return point + "=" + action; }
};

// One line per fault case on stdout, which ctest shows for a failed or timed-out test: how long
// each case and its faulted run took, so a slow or stuck case is named in the CI log.
class CaseLog {
 public:
  CaseLog(std::string what, size_t index, size_t count)
      : what_(std::move(what)), index_(index), count_(count), start_(std::chrono::steady_clock::now()) {}
  void faulted(const ProcResult& r) { faulted_ms_ = r.wall_ms; }
  ~CaseLog() {
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
    std::printf("[case %zu/%zu] %s: %.0f ms (the faulted run %.0f ms)\n", index_ + 1, count_, what_.c_str(),
                ms, faulted_ms_);
    std::fflush(stdout);
  }

 private:
  std::string what_;
  size_t index_, count_;
  std::chrono::steady_clock::time_point start_;
  double faulted_ms_ = 0;
};

// Every failpoint with every action (ENOSPC, EIO, SIGKILL) in the Release run. Under the
// sanitizers, whose child runs are 3-5x slower, each failpoint gets one action, in turn, so that
// every point and every action still run there (the point of that run is memory errors on the
// failure paths) within the tests' bound.
std::vector<FaultCase> cases_for(const std::vector<std::string>& points) {
  static constexpr const char* kActions[] = {"enospc", "eio", "kill"};
  std::vector<FaultCase> out;
  for (size_t i = 0; i < points.size(); ++i) {
#if defined(__SANITIZE_ADDRESS__)
    out.push_back({points[i], kActions[i % 3]});
#else
    for (const char* a : kActions) out.push_back({points[i], a});
#endif
  }
  return out;
}

TEST(Faults, BundleInstallAndRemoveAtEveryFailpoint) {
  Home keys;
  keys.keygen("acme");
  const std::string v1 = pack_version(keys, "acme", "1.0.0"), v2 = pack_version(keys, "acme", "1.1.0");
  auto prepare = [&](bool with_v2) {
    auto h = std::make_unique<Home>();
    EXPECT_EQ(h->cli({"trust", "add", keys.path("keys/acme.pub")}).exit_code, 0);
    EXPECT_EQ(h->cli({"bundle", "install", v1}).exit_code, 0);
    if (with_v2) {
      EXPECT_EQ(h->cli({"bundle", "install", v2}).exit_code, 0);
    }
    return h;
  };
  // Each case starts from a copy of one of these (Home::copy_of).
  const auto with_v1 = prepare(false), with_both = prepare(true);
  auto fresh = [&](bool with_v2) { return Home::copy_of(with_v2 ? *with_both : *with_v1); };
  std::vector<std::string> install_points, remove_points;
  {
    auto h = fresh(false);
    install_points = failpoints_reached(*h, {"bundle", "install", v2}, {"registry.", "audit."});
    remove_points = failpoints_reached(*h, {"bundle", "remove", "hello@1.1.0"}, {"registry.", "audit."});
  }
  if (install_points.empty()) GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON";
  for (const char* step : {"registry.install.write", "registry.install.rename", "registry.install.commit"}) {
    EXPECT_NE(std::find(install_points.begin(), install_points.end(), step), install_points.end()) << step;
  }
  EXPECT_NE(std::find(remove_points.begin(), remove_points.end(), "registry.remove.commit"), remove_points.end());

  const auto install_cases = cases_for(install_points), remove_cases = cases_for(remove_points);
  for (size_t i = 0; i < install_cases.size(); ++i) {
    const FaultCase& c = install_cases[i];
    SCOPED_TRACE("bundle install at " + c.spec());
    CaseLog log("bundle install at " + c.spec(), i, install_cases.size());
    auto h = fresh(false);
    ProcResult r = faulted(*h, {"bundle", "install", v2}, c.spec());
    log.faulted(r);
    if (c.action == "kill") {
      EXPECT_EQ(r.term_signal, SIGKILL) << describe(r);
    }
    if (c.action != "kill" && r.exit_code != 0) {
      EXPECT_NE(r.err.find(std::strerror(c.action == "enospc" ? ENOSPC : EIO)), std::string::npos) << r.err;
    }
    expect_registry_intact(*h);
    expect_runs(*h, "hello@1.0.0");  // the old version stays usable
    ProcResult retry = h->cli({"bundle", "install", v2});
    EXPECT_EQ(retry.exit_code, 0) << describe(retry);
    EXPECT_EQ(installed_versions(*h), (std::vector<std::string>{"1.0.0", "1.1.0"}));
    expect_runs(*h, "hello");
    expect_nothing_leaked(*h);
  }
  for (size_t i = 0; i < remove_cases.size(); ++i) {
    const FaultCase& c = remove_cases[i];
    SCOPED_TRACE("bundle remove at " + c.spec());
    CaseLog log("bundle remove at " + c.spec(), i, remove_cases.size());
    auto h = fresh(true);
    ProcResult r = faulted(*h, {"bundle", "remove", "hello@1.1.0"}, c.spec());
    log.faulted(r);
    if (c.action == "kill") {
      EXPECT_EQ(r.term_signal, SIGKILL) << describe(r);
    }
    expect_registry_intact(*h);
    expect_runs(*h, "hello@1.0.0");
    ProcResult retry = h->cli({"bundle", "remove", "hello@1.1.0"});
    EXPECT_TRUE(retry.exit_code == 0 || retry.exit_code == 66) << describe(retry);
    EXPECT_EQ(installed_versions(*h), std::vector<std::string>{"1.0.0"});
    // A tree a kill left after the commit goes with the next change's garbage collection.
    ASSERT_EQ(h->cli({"bundle", "install", v2}).exit_code, 0);
    expect_nothing_leaked(*h);
  }
}

// Starts `wasmcap ARGS` with $WASMCAP_HOME of `h`, output discarded; returns its pid.
pid_t spawn_cli(const Home& h, const std::vector<std::string>& args) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::setenv("WASMCAP_HOME", h.path("home").c_str(), 1);
    std::vector<std::string> argv{testing::cli_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  return pid;
}

// Random kills per command: 25 (#37's fault-run criterion) in the Release run; 4 under the
// sanitizers, whose runs are 3-5x slower (25 would pass the tests' 120 s bound), and where the
// point is memory errors on the interrupted paths, not the count.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kRandomKills = 4;
#else
constexpr int kRandomKills = 25;
#endif

// Kills `args`, each time in a home `fresh()` makes, at `kills` random moments within the
// command's measured duration (SIGKILL; every fourth a SIGINT, as a Ctrl-C), then calls
// `check(home)`, which verifies the state and finishes the command. In addition to the
// failpoints, which need a build that has them. Returns how many runs the signal ended.
int kill_at_random_moments(const std::function<std::unique_ptr<Home>()>& fresh,
                           const std::vector<std::string>& args, uint32_t seed,
                           const std::function<void(Home&)>& check, int kills = kRandomKills) {
  double wall_ms;
  {
    auto h = fresh();
    ProcResult r = h->cli(args);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    wall_ms = r.wall_ms;
  }
  std::mt19937 rng(seed);
  int killed = 0;
  for (int i = 0; i < kills; ++i) {
    auto h = fresh();
    const auto delay_us = static_cast<useconds_t>(std::uniform_real_distribution<double>(0, wall_ms)(rng) * 1000);
    const int sig = i % 4 == 3 ? SIGINT : SIGKILL;
    SCOPED_TRACE(args[0] + " " + args[1] + ": signal " + std::to_string(sig) + " after " +
                 std::to_string(delay_us) + " us of ~" + std::to_string(wall_ms) + " ms");
    pid_t pid = spawn_cli(*h, args);
    ::usleep(delay_us);
    ::kill(pid, sig);
    int status = 0;
    ::waitpid(pid, &status, 0);
    killed += WIFSIGNALED(status);
    check(*h);
  }
  return killed;
}

// 25 random kills of `bundle install`: each leaves a registry that passes its integrity check,
// runs the old version, and finishes the install on a retry.
TEST(Faults, BundleInstallKilledAtRandomMoments) {
  Home keys;
  keys.keygen("acme");
  const std::string v1 = pack_version(keys, "acme", "1.0.0"), v2 = pack_version(keys, "acme", "1.1.0");
  auto fresh = [&] {
    auto h = std::make_unique<Home>();
    EXPECT_EQ(h->cli({"trust", "add", keys.path("keys/acme.pub")}).exit_code, 0);
    EXPECT_EQ(h->cli({"bundle", "install", v1}).exit_code, 0);
    return h;
  };
  int killed = kill_at_random_moments(fresh, {"bundle", "install", v2}, 37, [&](Home& h) {
    expect_registry_intact(h);
    expect_runs(h, "hello@1.0.0");
    ProcResult retry = h.cli({"bundle", "install", v2});
    EXPECT_EQ(retry.exit_code, 0) << describe(retry);
    EXPECT_EQ(installed_versions(h), (std::vector<std::string>{"1.0.0", "1.1.0"}));
    expect_runs(h, "hello");
    expect_nothing_leaked(h);
  });
  EXPECT_GT(killed, 0);
}

// 25 random kills of `bundle remove`: the registry passes its integrity check, the other version
// runs, the retry finishes the removal (or finds it done), and the next change leaves nothing
// behind.
TEST(Faults, BundleRemoveKilledAtRandomMoments) {
  Home keys;
  keys.keygen("acme");
  const std::string v1 = pack_version(keys, "acme", "1.0.0"), v2 = pack_version(keys, "acme", "1.1.0");
  auto fresh = [&] {
    auto h = std::make_unique<Home>();
    EXPECT_EQ(h->cli({"trust", "add", keys.path("keys/acme.pub")}).exit_code, 0);
    EXPECT_EQ(h->cli({"bundle", "install", v1}).exit_code, 0);
    EXPECT_EQ(h->cli({"bundle", "install", v2}).exit_code, 0);
    return h;
  };
  int killed = kill_at_random_moments(fresh, {"bundle", "remove", "hello@1.1.0"}, 38, [&](Home& h) {
    expect_registry_intact(h);
    expect_runs(h, "hello@1.0.0");
    ProcResult retry = h.cli({"bundle", "remove", "hello@1.1.0"});
    EXPECT_TRUE(retry.exit_code == 0 || retry.exit_code == 66) << describe(retry);
    EXPECT_EQ(installed_versions(h), std::vector<std::string>{"1.0.0"});
    ASSERT_EQ(h.cli({"bundle", "install", v2}).exit_code, 0);
    expect_nothing_leaked(h);
  });
  EXPECT_GT(killed, 0);
}

// The trust store after a fault: readable (no torn or half-written key file under a .pub name).
json trust_list(const Home& h) {
  ProcResult r = h.cli({"trust", "list", "--json"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  return json::parse(r.out, nullptr, false);
}

void expect_no_temporaries(const Home& h) {
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(h.path("home/trust"), ec)) {
    EXPECT_EQ(e.path().extension(), e.is_directory() ? "" : ".pub") << e.path();
  }
}

// The trust changes under fault: a signer key, a bundle it signed, and each command with the
// store's state before it and the status it leaves.
struct TrustFaults {
  struct Command {
    std::vector<std::string> args;
    bool trusted_before;
    std::string status_after;  // "trusted", "revoked" or "" (not listed)
  };
  Home keys;
  std::string wcb, pub, id;
  std::vector<Command> commands;

  TrustFaults() {
    keys.keygen("acme");
    wcb = pack_version(keys, "acme", "1.0.0");
    pub = keys.path("keys/acme.pub");
    Home h;
    EXPECT_EQ(h.cli({"trust", "add", pub}).exit_code, 0);
    id = trust_list(h)[0]["id"];
    commands = {{{"trust", "add", pub}, false, "trusted"},
                {{"trust", "revoke", id}, true, "revoked"},
                {{"trust", "remove", id}, true, ""}};
  }
  // A home with the bundle installed and its signer trusted (or not, removed again): a copy of
  // one prepared once for each state (Home::copy_of).
  std::unique_ptr<Home> fresh(const Command& cmd) {
    std::unique_ptr<Home>& prepared = cmd.trusted_before ? trusted_ : untrusted_;
    if (!prepared) {
      prepared = std::make_unique<Home>();
      EXPECT_EQ(prepared->cli({"trust", "add", pub}).exit_code, 0);
      EXPECT_EQ(prepared->cli({"bundle", "install", wcb}).exit_code, 0);
      if (!cmd.trusted_before) {
        EXPECT_EQ(prepared->cli({"trust", "remove", id}).exit_code, 0);
      }
    }
    return Home::copy_of(*prepared);
  }
  // After an interrupted `cmd`: the store reads, the bundle runs exactly when its signer is
  // listed as trusted and not revoked, the retry reaches the command's result and no temporary
  // is left.
  static void expect_recovers(Home& h, const Command& cmd) {
    json before = trust_list(h);
    ASSERT_TRUE(before.is_array());
    bool trusted = false, revoked = false;
    for (const auto& k : before) {
      trusted = trusted || k["status"] == "trusted";
      revoked = revoked || k["status"] == "revoked";
    }
    ProcResult run = h.cli({"run", "--env", "WHO=me", "hello"});
    EXPECT_EQ(run.exit_code, trusted && !revoked ? 0 : 77) << before.dump() << describe(run);
    ProcResult retry = h.cli(cmd.args);
    EXPECT_TRUE(retry.exit_code == 0 || (cmd.args[1] == "remove" && retry.exit_code == 66))
        << describe(retry);
    json after = trust_list(h);
    if (cmd.status_after.empty()) {
      EXPECT_TRUE(after.empty()) << after.dump();
    } else {
      ASSERT_EQ(after.size(), 1u) << after.dump();
      EXPECT_EQ(after[0]["status"], cmd.status_after);
    }
    expect_no_temporaries(h);
  }

 private:
  std::unique_ptr<Home> trusted_, untrusted_;
};

TEST(Faults, TrustChangesAtEveryFailpoint) {
  TrustFaults t;
  bool any = false;
  for (const auto& cmd : t.commands) {
    std::vector<std::string> points;
    {
      auto h = t.fresh(cmd);
      points = failpoints_reached(*h, cmd.args, {"trust.", "audit."});
    }
    if (points.empty()) continue;
    any = true;
    const auto cases = cases_for(points);
    for (size_t i = 0; i < cases.size(); ++i) {
      const FaultCase& c = cases[i];
      SCOPED_TRACE(cmd.args[1] + " at " + c.spec());
      CaseLog log("trust " + cmd.args[1] + " at " + c.spec(), i, cases.size());
      auto h = t.fresh(cmd);
      ProcResult r = faulted(*h, cmd.args, c.spec());
      log.faulted(r);
      if (c.action == "kill") {
        EXPECT_EQ(r.term_signal, SIGKILL) << describe(r);
      }
      TrustFaults::expect_recovers(*h, cmd);
    }
  }
  if (!any) GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON";
}

// 25 random kills of each trust change (add, revoke, remove), checked as above.
TEST(Faults, TrustChangesKilledAtRandomMoments) {
  TrustFaults t;
  uint32_t seed = 40;
  for (const auto& cmd : t.commands) {
    kill_at_random_moments([&] { return t.fresh(cmd); }, cmd.args, seed++,
                           [&](Home& h) { TrustFaults::expect_recovers(h, cmd); });
  }
}

// #37: a trust write killed between its temporary and the rename left ID.pub.tmp for good (a
// retry of the same command reused the name; any other change did not look). Now every change
// removes the temporaries of killed changes, in trust/ and trust/revoked/, under the store's lock.
TEST(Faults, TrustChangesSweepKilledTemporaries) {
  Home keys;
  keys.keygen("acme");
  keys.keygen("other");
  Home h;
  ProcResult traced = faulted(h, {"trust", "add", keys.path("keys/acme.pub")}, "", h.path("trace"));
  ASSERT_EQ(traced.exit_code, 0) << describe(traced);
  if (testing::read_text(h.path("trace")).find("trust.add.rename") == std::string::npos) {
    GTEST_SKIP() << "wasmcap built without WASMCAP_FAILPOINTS=ON (scripts/test.sh turns it on)";
  }
  ASSERT_EQ(h.cli({"trust", "remove", trust_list(h)[0]["id"]}).exit_code, 0);
  auto temporaries = [&] {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(h.path("home/trust"), ec)) {
      const std::string rel = fs::relative(e.path(), h.path("home/trust")).string();
      if (rel.find(".pub.tmp") != std::string::npos) out.push_back(rel);
    }
    return out;
  };
  // A revoke (in advance, of a key never trusted) killed before its rename leaves
  // revoked/OTHER.pub.tmp; the next change, of another key, removes it.
  ProcResult k1 = faulted(h, {"trust", "revoke", keys.path("keys/other.pub")}, "trust.revoke.rename=kill");
  EXPECT_EQ(k1.term_signal, SIGKILL) << describe(k1);
  ASSERT_EQ(temporaries().size(), 1u) << "the kill left no temporary for this test to sweep";
  EXPECT_EQ(temporaries()[0].rfind("revoked/", 0), 0u) << temporaries()[0];
  ProcResult add = h.cli({"trust", "add", keys.path("keys/acme.pub")});
  EXPECT_EQ(add.exit_code, 0) << describe(add);
  EXPECT_EQ(temporaries(), std::vector<std::string>{});
  // An add killed the same way leaves trust/OTHER.pub.tmp; a remove of another key removes it.
  ProcResult k2 = faulted(h, {"trust", "add", keys.path("keys/other.pub")}, "trust.add.rename=kill");
  EXPECT_EQ(k2.term_signal, SIGKILL) << describe(k2);
  ASSERT_EQ(temporaries().size(), 1u);
  ProcResult rm = h.cli({"trust", "remove", trust_list(h)[0]["id"]});
  EXPECT_EQ(rm.exit_code, 0) << describe(rm);
  EXPECT_EQ(temporaries(), std::vector<std::string>{});
  expect_no_temporaries(h);
  EXPECT_TRUE(trust_list(h).empty()) << trust_list(h).dump();
}

}  // namespace
}  // namespace wasmcap::cli_test
