// The WASI 0.2 interfaces (src/wasip2/host.h) as a component's imports reach them: looked up in
// the HostRegistry by the interface name and version an import carries, called with
// component-level values over a wasi::Core configured as a run's grants configure it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wasip2/host.h"
#include "wasip2/objects.h"
#include "wasip2_fixture.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

namespace wasmcap::wasip2 {
namespace {

// Every 0.2.x a toolchain emits is served (jco 1.35's preview1 adapter imports 0.2.12, and 0.2.6
// for preopens; older toolchains 0.2.0, pre-releases with a suffix); 0.3, 1.x and an unversioned
// name are not: their functions may differ.
TEST_F(Wasip2, ServesEvery02VersionAndNoOther) {
  start(fixed_config());
  for (const char* v : {"@0.2.0", "@0.2.6", "@0.2.12", "@0.2.0-rc-2023-11-10", "@0.2"}) {
    EXPECT_NE(host_.find_function(std::string("wasi:cli/environment") + v, "get-arguments"), nullptr) << v;
  }
  for (const char* v : {"@0.3.0", "@1.0.0", "", "@0.2.x", "@0.20.0", "@00.2.1.1"}) {
    EXPECT_EQ(host_.find_function(std::string("wasi:cli/environment") + v, "get-arguments"), nullptr) << v;
  }
  EXPECT_EQ(host_.find_function("wasi:cli/environment@0.2.0", "get-argumentz"), nullptr);
}

TEST_F(Wasip2, ArgumentsEnvironmentAndNoHostCwd) {
  start(fixed_config());
  EXPECT_EQ(call1("wasi:cli/environment@0.2.0", "get-arguments"),
            Val::list({Val::string("prog"), Val::string("a b"), Val::string("\xc3\xa9")}));
  EXPECT_EQ(call1("wasi:cli/environment@0.2.0", "get-environment"),
            Val::list({Val::tuple({Val::string("HOME"), Val::string("/work")}),
                       Val::tuple({Val::string("EMPTY"), Val::string("")})}));
  EXPECT_EQ(call1("wasi:cli/environment@0.2.0", "initial-cwd"), Val::none());
}

TEST_F(Wasip2, ExitEndsTheRunWithTheStatus) {
  start(fixed_config());
  Call ok = call("wasi:cli/exit@0.2.0", "exit", {Val::ok()});
  EXPECT_EQ(ok.status.status, HostStatus::kExit);
  EXPECT_EQ(ok.status.exit_code, 0);
  Call err = call("wasi:cli/exit@0.2.0", "exit", {Val::err()});
  EXPECT_EQ(err.status.status, HostStatus::kExit);
  EXPECT_EQ(err.status.exit_code, 1);
  Call code = call("wasi:cli/exit@0.2.3", "exit-with-code", {Val::u8(7)});
  EXPECT_EQ(code.status.status, HostStatus::kExit);
  EXPECT_EQ(code.status.exit_code, 7);
}

// --clock fixed=: the virtual clock P1 reads, advanced by the step per read.
TEST_F(Wasip2, FixedClockIsVirtual) {
  start(fixed_config());
  EXPECT_EQ(call1("wasi:clocks/monotonic-clock@0.2.0", "now"), Val::u64(0));
  EXPECT_EQ(call1("wasi:clocks/monotonic-clock@0.2.0", "now"), Val::u64(1000));
  EXPECT_EQ(call1("wasi:clocks/wall-clock@0.2.0", "now"),
            Val::record({Val::u64(1700000000), Val::u32(123456789 + 2000)}));
  Val res = call1("wasi:clocks/wall-clock@0.2.0", "resolution");
  ASSERT_EQ(res.items.size(), 2u);
  EXPECT_EQ(res.items[0].bits * 1000000000u + res.items[1].bits, 1000u);
}

TEST_F(Wasip2, UngrantedClockAndRandomTrapNamingTheGrant) {
  WasiConfig c = fixed_config();
  c.clock.kind = ClockSource::Kind::kDeny;
  c.random.kind = RandomSource::Kind::kDeny;
  start(c);
  for (auto [i, f] : {std::pair{"wasi:clocks/monotonic-clock@0.2.0", "now"},
                      std::pair{"wasi:clocks/wall-clock@0.2.0", "now"},
                      std::pair{"wasi:clocks/wall-clock@0.2.0", "resolution"}}) {
    Call r = call(i, f);
    EXPECT_EQ(r.status.status, HostStatus::kTrap) << i << "#" << f;
    EXPECT_NE(r.status.message.find("--clock"), std::string::npos) << r.status.message;
    // A manifest run is granted its clocks by the host config, not by a flag: both are named.
    EXPECT_NE(r.status.message.find("manifest's \"clocks\" granted by the host config"),
              std::string::npos) << r.status.message;
  }
  for (auto [i, f, args] : {std::tuple{"wasi:random/random@0.2.0", "get-random-bytes", std::vector<Val>{Val::u64(4)}},
                            std::tuple{"wasi:random/random@0.2.0", "get-random-u64", std::vector<Val>{}},
                            std::tuple{"wasi:random/insecure@0.2.0", "get-insecure-random-u64", std::vector<Val>{}},
                            std::tuple{"wasi:random/insecure-seed@0.2.0", "insecure-seed", std::vector<Val>{}}}) {
    Call r = call(i, f, args);
    EXPECT_EQ(r.status.status, HostStatus::kTrap) << i << "#" << f;
    EXPECT_NE(r.status.message.find("--random"), std::string::npos) << r.status.message;
    EXPECT_NE(r.status.message.find("manifest's \"random\" granted by the host config"),
              std::string::npos) << r.status.message;
  }
}

// --random seed=N: the stream P1's random_get reads (one source, one sequence), whatever the
// interface asks through.
TEST_F(Wasip2, SeededRandomIsP1sStream) {
  wasi::Core p1(fixed_config());
  ASSERT_TRUE(p1.init().has_value());
  uint8_t want[40];
  ASSERT_EQ(p1.random_fill(want, sizeof want), wasi::Errc::kOk);

  start(fixed_config());
  std::vector<uint8_t> got = bytes(call1("wasi:random/random@0.2.0", "get-random-bytes", {Val::u64(16)}));
  Val u = call1("wasi:random/random@0.2.0", "get-random-u64");
  for (int i = 0; i < 8; ++i) got.push_back(static_cast<uint8_t>(u.bits >> (8 * i)));
  std::vector<uint8_t> insecure =
      bytes(call1("wasi:random/insecure@0.2.0", "get-insecure-random-bytes", {Val::u64(16)}));
  got.insert(got.end(), insecure.begin(), insecure.end());
  EXPECT_EQ(got, std::vector<uint8_t>(want, want + sizeof want));
  EXPECT_TRUE(call1("wasi:random/random@0.2.0", "get-random-bytes", {Val::u64(0)}).items.empty());
}

TEST_F(Wasip2, InsecureSeedIsDrawnOnce) {
  start(fixed_config());
  Val a = call1("wasi:random/insecure-seed@0.2.0", "insecure-seed");
  call1("wasi:random/random@0.2.0", "get-random-u64");
  EXPECT_EQ(call1("wasi:random/insecure-seed@0.2.0", "insecure-seed"), a);
  ASSERT_EQ(a.items.size(), 2u);
  EXPECT_NE(a.items[0].bits | a.items[1].bits, 0u);
}

// A request beyond max_io_bytes, or beyond 64 MiB of host values, traps before any host memory
// is taken for it.
TEST_F(Wasip2, RandomBytesBounded) {
  WasiConfig c = fixed_config();
  c.max_io_bytes = 1024;
  start(c);
  EXPECT_EQ(call1("wasi:random/random@0.2.0", "get-random-bytes", {Val::u64(1024)}).items.size(), 1024u);
  for (uint64_t n : {uint64_t{1025}, UINT64_MAX}) {
    Call r = call("wasi:random/random@0.2.0", "get-random-bytes", {Val::u64(n)});
    EXPECT_EQ(r.status.status, HostStatus::kTrap) << n;
    EXPECT_NE(r.status.message.find("max_io_bytes"), std::string::npos) << r.status.message;
  }
  c.max_io_bytes = 16u << 20;
  HostRegistry big;
  wasi::Core core(c);
  add_cli_clocks_random(big, core);
  // 1 MiB is within max_io_bytes, but as host values (sizeof(Val) a byte) past 64 MiB.
  std::vector<Val> out, args{Val::u64(uint64_t{1} << 20)};
  HostCallInfo info{"wasi:random/random@0.2.0", "get-random-bytes", &limits_};
  HostCallResult r = (*big.find_function(info.interface, info.function))(info, args, out);
  EXPECT_EQ(r.status, HostStatus::kTrap);
  EXPECT_NE(r.message.find("MiB of host values"), std::string::npos) << r.message;
}

// ---- wasi:io and wasi:cli's stdio ----

TEST_F(Wasip2, StdoutAndStderrGoThroughP1sSinksAndCap) {
  WasiConfig c = fixed_config();
  std::string out, err;
  c.stdout_sink = [&](const uint8_t* p, size_t n) { out.append(reinterpret_cast<const char*>(p), n); return true; };
  c.stderr_sink = [&](const uint8_t* p, size_t n) { err.append(reinterpret_cast<const char*>(p), n); return true; };
  c.max_output_bytes = 8;
  start(c);
  Val so = call1("wasi:cli/stdout@0.2.12", "get-stdout");
  Val se = call1("wasi:cli/stderr@0.2.12", "get-stderr");
  ASSERT_EQ(so.kind, component::ValKind::kOwn);
  EXPECT_EQ(so.resource, host_.find_resource(kStreams, "output-stream"));
  Val borrow_out = Val::borrow(so.resource, static_cast<uint32_t>(so.bits));
  Val borrow_err = Val::borrow(se.resource, static_cast<uint32_t>(se.bits));
  EXPECT_EQ(call1(kStreams, "[method]output-stream.check-write", {borrow_out}), Val::ok(Val::u64(65536)));
  EXPECT_EQ(call1(kStreams, "[method]output-stream.blocking-write-and-flush", {borrow_out, bytes_of("hello")}), Val::ok());
  EXPECT_EQ(call1(kStreams, "[method]output-stream.write", {borrow_err, bytes_of("e")}), Val::ok());
  EXPECT_EQ(out, "hello");
  EXPECT_EQ(err, "e");
  // The run's output cap (stdout and stderr together, as P1's) ends the run.
  Call over = call(kStreams, "[method]output-stream.write", {borrow_out, bytes_of("world")});
  EXPECT_EQ(over.status.status, HostStatus::kFail) << over.status.message;
  // A handle of another resource type (a pollable's) names no stream.
  Val poll = call1(kStreams, "[method]output-stream.subscribe", {borrow_out});
  Call wrong = call(kStreams, "[method]output-stream.check-write", {Val::borrow(so.resource, static_cast<uint32_t>(poll.bits))});
  EXPECT_EQ(wrong.status.status, HostStatus::kTrap);
}

TEST_F(Wasip2, StdinReadsToTheEndThenClosed) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(write(p[1], "abc", 3), 3);
  close(p[1]);
  WasiConfig c = fixed_config();
  c.stdin_fd = p[0];
  start(c);
  Val in = call1("wasi:cli/stdin@0.2.0", "get-stdin");
  Val b = Val::borrow(in.resource, static_cast<uint32_t>(in.bits));
  EXPECT_EQ(call1(kStreams, "[method]input-stream.blocking-read", {b, Val::u64(2)}), Val::ok(bytes_of("ab")));
  EXPECT_EQ(call1(kStreams, "[method]input-stream.read", {b, Val::u64(100)}), Val::ok(bytes_of("c")));
  EXPECT_EQ(call1(kStreams, "[method]input-stream.read", {b, Val::u64(100)}), Val::err(Val::variant(1)));
  close(p[0]);
  EXPECT_EQ(call1("wasi:cli/terminal-stdout@0.2.0", "get-terminal-stdout"), Val::none());
}

// Under --clock fixed= a wait moves the virtual clock instead of sleeping.
// A component importing a WASI function with another type than WASI's (a number where the handle
// goes) names no object with it, whatever the number: the call traps.
TEST_F(Wasip2, ANumberWhereAHandleGoesNamesNoObject) {
  start(fixed_config());
  Val p = call1("wasi:clocks/monotonic-clock@0.2.0", "subscribe-duration", {Val::u64(5)});
  ASSERT_EQ(p.kind, component::ValKind::kOwn);
  Call c = call("wasi:io/poll@0.2.0", "[method]pollable.ready", {Val::u32(static_cast<uint32_t>(p.bits))});
  EXPECT_EQ(c.status.status, HostStatus::kTrap) << c.status.message;
  Call l = call("wasi:io/poll@0.2.0", "poll", {Val::list({Val::u32(static_cast<uint32_t>(p.bits))})});
  EXPECT_EQ(l.status.status, HostStatus::kTrap) << l.status.message;
}

TEST_F(Wasip2, PollOnAFixedClockMovesIt) {
  start(fixed_config());
  const char* mono = "wasi:clocks/monotonic-clock@0.2.0";
  Val p = call1(mono, "subscribe-duration", {Val::u64(5000000000ull)});
  Val b = Val::borrow(p.resource, static_cast<uint32_t>(p.bits));
  EXPECT_EQ(call1("wasi:io/poll@0.2.0", "[method]pollable.ready", {b}), Val::boolean(false));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(call1("wasi:io/poll@0.2.0", "poll", {Val::list({b})}), Val::list({Val::u32(0)}));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_GE(call1(mono, "now").bits, 5000000000ull);
  EXPECT_EQ(call(mono, "now").status.status, HostStatus::kOk);
  EXPECT_EQ(call("wasi:io/poll@0.2.0", "poll", {Val::list({})}).status.status, HostStatus::kTrap);
  // The dropped pollable is gone from the host's table.
  size_t before = objects_->size();
  host_.find_resource("wasi:io/poll@0.2.0", "pollable")->host_dtor(static_cast<uint32_t>(p.bits));
  EXPECT_EQ(objects_->size(), before - 1);
}

// A wait on the host clock ends with the run's deadline.
TEST_F(Wasip2, BlockEndsAtTheDeadline) {
  WasiConfig c = fixed_config();
  c.clock.kind = ClockSource::Kind::kHost;
  start(c);
  Val p = call1("wasi:clocks/monotonic-clock@0.2.0", "subscribe-duration", {Val::u64(60000000000ull)});
  limits_.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  auto t0 = std::chrono::steady_clock::now();
  Call r = call("wasi:io/poll@0.2.0", "[method]pollable.block", {Val::borrow(p.resource, static_cast<uint32_t>(p.bits))});
  EXPECT_EQ(r.status.status, HostStatus::kFail);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

// ---- wasi:filesystem ----

constexpr const char* kTypes = "wasi:filesystem/types@0.2.12";
constexpr uint32_t kAccess = 0, kNoEntry = 20;

class Wasip2Fs : public Wasip2 {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("wasip2-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "rw" / "sub");
    std::filesystem::create_directories(dir_ / "ro");
    std::ofstream(dir_ / "rw" / "f.txt") << "data";
    std::ofstream(dir_ / "ro" / "g.txt") << "ro";
    std::ofstream(dir_ / "secret") << "outside";
    std::filesystem::create_symlink("../../secret", dir_ / "rw" / "sub" / "up");
    WasiConfig c = fixed_config();
    c.preopens = {Preopen{(dir_ / "rw").string(), "/rw", false, false},
                  Preopen{(dir_ / "ro").string(), "/ro", true, false}};
    start(c);
    Val list = call1("wasi:filesystem/preopens@0.2.6", "get-directories");
    ASSERT_EQ(list.items.size(), 2u);
    EXPECT_EQ(list.items[0].items[1], Val::string("/rw"));
    rw_ = borrow(list.items[0].items[0]);
    ro_ = borrow(list.items[1].items[0]);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static Val borrow(const Val& own) { return Val::borrow(own.resource, static_cast<uint32_t>(own.bits)); }
  // open-at(path-flags, path, open-flags, descriptor-flags)
  Val open(const Val& dir, const std::string& path, uint32_t oflags, uint32_t dflags, bool follow = true) {
    return call1(kTypes, "[method]descriptor.open-at",
                 {dir, Val::flags(follow ? 1 : 0), Val::string(path), Val::flags(oflags), Val::flags(dflags)});
  }
  std::string read_all(const Val& file) {
    Val s = call1(kTypes, "[method]descriptor.read-via-stream", {file, Val::u64(0)});
    EXPECT_EQ(s.bits, 0u) << s.to_string();
    if (s.items.empty()) return {};
    std::string out;
    for (;;) {
      Val r = call1(kStreams, "[method]input-stream.blocking-read", {borrow(s.items[0]), Val::u64(1 << 16)});
      if (r.bits != 0) break;
      for (const Val& b : r.items[0].items) out.push_back(static_cast<char>(b.bits));
    }
    return out;
  }
  std::filesystem::path dir_;
  Val rw_, ro_;
};

TEST_F(Wasip2Fs, ReadWriteAndList) {
  Val f = open(rw_, "f.txt", 0, 1);
  ASSERT_EQ(f.bits, 0u) << f.to_string();
  EXPECT_EQ(read_all(borrow(f.items[0])), "data");
  Val st = call1(kTypes, "[method]descriptor.stat", {borrow(f.items[0])});
  EXPECT_EQ(st.items[0].items[0], Val::enumeration(6));  // regular-file
  EXPECT_EQ(st.items[0].items[2], Val::u64(4));

  Val n = open(rw_, "sub/new.txt", 1 /*create*/, 2 /*write*/);
  ASSERT_EQ(n.bits, 0u) << n.to_string();
  Val ws = call1(kTypes, "[method]descriptor.write-via-stream", {borrow(n.items[0]), Val::u64(0)});
  ASSERT_EQ(ws.bits, 0u);
  EXPECT_EQ(call1(kStreams, "[method]output-stream.blocking-write-and-flush", {borrow(ws.items[0]), bytes_of("hi")}),
            Val::ok());
  std::ifstream in(dir_ / "rw" / "sub" / "new.txt");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "hi");

  Val entries = call1(kTypes, "[method]descriptor.read-directory", {rw_});
  ASSERT_EQ(entries.bits, 0u);
  std::set<std::string> names;
  for (int i = 0; i < 10; ++i) {
    Val e = call1(kTypes, "[method]directory-entry-stream.read-directory-entry", {borrow(entries.items[0])});
    ASSERT_EQ(e.bits, 0u);
    if (e.items[0].bits == 0) break;
    names.insert(e.items[0].items[0].items[1].str);
  }
  EXPECT_EQ(names, (std::set<std::string>{"f.txt", "sub"}));
  EXPECT_EQ(call1(kTypes, "[method]descriptor.create-directory-at", {rw_, Val::string("d")}), Val::ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir_ / "rw" / "d"));
  EXPECT_EQ(call1(kTypes, "[method]descriptor.unlink-file-at", {rw_, Val::string("nope")}),
            Val::err(Val::enumeration(kNoEntry)));
}

// descriptor.read / write at an offset: the position untouched, a read bounded whatever the
// length asked, end of file only when a read of at least a byte found nothing, and P1's rules
// (the access open-at asked, a read-only preopen, a directory, an offset past INT64_MAX).
TEST_F(Wasip2Fs, ReadAndWriteAtAnOffset) {
  auto rd = [&](const Val& f, uint64_t len, uint64_t off) {
    return call1(kTypes, "[method]descriptor.read", {f, Val::u64(len), Val::u64(off)});
  };
  auto wr = [&](const Val& f, const std::string& data, uint64_t off) {
    return call1(kTypes, "[method]descriptor.write", {f, bytes_of(data), Val::u64(off)});
  };
  auto got = [&](const Val& r) {
    EXPECT_EQ(r.bits, 0u) << r.to_string();
    if (r.bits != 0 || r.items.empty()) return std::make_pair(std::string("<error>"), false);
    std::vector<uint8_t> b = bytes(r.items[0].items[0]);
    return std::make_pair(std::string(b.begin(), b.end()), r.items[0].items[1].bits != 0);
  };
  Val f = open(rw_, "f.txt", 0, 1 | 2);
  ASSERT_EQ(f.bits, 0u) << f.to_string();
  const Val h = borrow(f.items[0]);
  EXPECT_EQ(got(rd(h, 2, 1)), std::make_pair(std::string("at"), false));
  EXPECT_EQ(got(rd(h, 100, 0)), std::make_pair(std::string("data"), false));
  EXPECT_EQ(got(rd(h, 10, 4)), std::make_pair(std::string(), true));
  EXPECT_EQ(got(rd(h, 10, 1000)), std::make_pair(std::string(), true));
  EXPECT_EQ(got(rd(h, 0, 0)), std::make_pair(std::string(), false));
  // The position is not moved: a stream from 0 still reads everything.
  EXPECT_EQ(read_all(h), "data");

  EXPECT_EQ(wr(h, "XY", 2), Val::ok(Val::u64(2)));
  EXPECT_EQ(wr(h, "!", 6), Val::ok(Val::u64(1)));  // past the end: a hole of zeros
  std::ifstream in(dir_ / "rw" / "f.txt", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), std::string("daXY\0\0!", 7));
  EXPECT_EQ(wr(h, "", 0), Val::ok(Val::u64(0)));

  // Bounded: a 1 GiB length asked of a 100 KiB file reads kMaxReadBytes.
  std::ofstream(dir_ / "rw" / "big") << std::string(100 * 1024, 'b');
  Val big = open(rw_, "big", 0, 1);
  ASSERT_EQ(big.bits, 0u);
  EXPECT_EQ(got(rd(borrow(big.items[0]), uint64_t{1} << 30, 0)).first.size(), kMaxReadBytes);

  constexpr uint32_t kBadDescriptor = 3, kInvalid = 12, kIsDirectory = 14;
  EXPECT_EQ(rd(h, 1, uint64_t{1} << 63), Val::err(Val::enumeration(kInvalid)));
  EXPECT_EQ(wr(h, "x", uint64_t{1} << 63), Val::err(Val::enumeration(kInvalid)));
  EXPECT_EQ(wr(borrow(big.items[0]), "x", 0), Val::err(Val::enumeration(kBadDescriptor)));
  Val w = open(rw_, "sub/w.txt", 1, 2);
  ASSERT_EQ(w.bits, 0u);
  EXPECT_EQ(rd(borrow(w.items[0]), 1, 0), Val::err(Val::enumeration(kBadDescriptor)));
  EXPECT_EQ(rd(rw_, 1, 0), Val::err(Val::enumeration(kIsDirectory)));
  EXPECT_EQ(wr(rw_, "x", 0), Val::err(Val::enumeration(kIsDirectory)));
  Val g = open(ro_, "g.txt", 0, 1);
  ASSERT_EQ(g.bits, 0u);
  EXPECT_EQ(got(rd(borrow(g.items[0]), 10, 0)), std::make_pair(std::string("ro"), false));
  EXPECT_EQ(wr(borrow(g.items[0]), "x", 0), Val::err(Val::enumeration(kAccess)));
  std::ifstream ro(dir_ / "ro" / "g.txt");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(ro), {}), "ro");
}

// The write budget holds through descriptor.write: past it, nothing more is written and the
// call says so (insufficient-space when nothing was).
TEST_F(Wasip2, DescriptorWriteIsChargedToTheWriteBudget) {
  auto dir = std::filesystem::temp_directory_path() / ("wasip2-budget-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  WasiConfig c = fixed_config();
  c.preopens = {Preopen{dir.string(), "/w", false, false}};
  c.max_write_bytes = 10000;
  start(c);
  Val list = call1("wasi:filesystem/preopens@0.2.6", "get-directories");
  ASSERT_EQ(list.items.size(), 1u);
  const Val d = Val::borrow(list.items[0].items[0].resource, static_cast<uint32_t>(list.items[0].items[0].bits));
  Val f = call1(kTypes, "[method]descriptor.open-at",
                {d, Val::flags(0), Val::string("f"), Val::flags(1), Val::flags(2)});
  ASSERT_EQ(f.bits, 0u) << f.to_string();
  const Val h = Val::borrow(f.items[0].resource, static_cast<uint32_t>(f.items[0].bits));
  Val r = call1(kTypes, "[method]descriptor.write", {h, bytes_of(std::string(20000, 'x')), Val::u64(0)});
  const uint64_t written = std::filesystem::file_size(dir / "f");
  EXPECT_LT(written, 10000u);
  if (r.bits == 0) {
    EXPECT_EQ(r, Val::ok(Val::u64(written)));
  } else {
    EXPECT_EQ(written, 0u);
    EXPECT_EQ(r, Val::err(Val::enumeration(23)));  // insufficient-space
  }
  EXPECT_EQ(call1(kTypes, "[method]descriptor.write", {h, bytes_of("more"), Val::u64(1u << 20)}),
            Val::err(Val::enumeration(23)));
  std::filesystem::remove_all(dir);
}

// P1's sandbox rules, through 0.2: no path leaves its preopen (.., absolute, a climbing
// symlink), and a read-only preopen refuses every change.
TEST_F(Wasip2Fs, EscapesAndReadOnlyRefused) {
  for (const char* p : {"../secret", "/etc/passwd", "sub/up", "sub/../../secret"}) {
    EXPECT_EQ(open(rw_, p, 0, 1), Val::err(Val::enumeration(kAccess))) << p;
  }
  EXPECT_EQ(call1(kTypes, "[method]descriptor.stat-at", {rw_, Val::flags(1), Val::string("../secret")}),
            Val::err(Val::enumeration(kAccess)));
  Val g = open(ro_, "g.txt", 0, 1);
  ASSERT_EQ(g.bits, 0u);
  EXPECT_EQ(read_all(borrow(g.items[0])), "ro");
  EXPECT_EQ(open(ro_, "g.txt", 0, 2).bits, 1u);
  EXPECT_EQ(open(ro_, "h.txt", 1, 2).bits, 1u);
  EXPECT_EQ(call1(kTypes, "[method]descriptor.write-via-stream", {borrow(g.items[0]), Val::u64(0)}).bits, 1u);
  EXPECT_EQ(call1(kTypes, "[method]descriptor.create-directory-at", {ro_, Val::string("d")}).bits, 1u);
  EXPECT_EQ(call1(kTypes, "[method]descriptor.unlink-file-at", {ro_, Val::string("g.txt")}).bits, 1u);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "ro" / "g.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "ro" / "h.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "ro" / "d"));
}

TEST_F(Wasip2Fs, RenameLinksFlagsAndAccess) {
  EXPECT_EQ(call1(kTypes, "[method]descriptor.rename-at", {rw_, Val::string("f.txt"), rw_, Val::string("sub/g.txt")}),
            Val::ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "rw" / "sub" / "g.txt"));
  EXPECT_EQ(call1(kTypes, "[method]descriptor.rename-at", {rw_, Val::string("sub/g.txt"), rw_, Val::string("../x")}),
            Val::err(Val::enumeration(kAccess)));
  EXPECT_EQ(call1(kTypes, "[method]descriptor.symlink-at", {rw_, Val::string("sub/g.txt"), Val::string("ln")}), Val::ok());
  EXPECT_EQ(call1(kTypes, "[method]descriptor.readlink-at", {rw_, Val::string("ln")}), Val::ok(Val::string("sub/g.txt")));
  // A symlink pointing out of the preopen is refused when made (P1's rule).
  EXPECT_EQ(call1(kTypes, "[method]descriptor.symlink-at", {rw_, Val::string("../secret"), Val::string("out")}).bits, 1u);
  EXPECT_EQ(call1(kTypes, "[method]descriptor.rename-at", {rw_, Val::string("sub/g.txt"), ro_, Val::string("g2")}).bits, 1u);

  Val r = open(rw_, "sub/g.txt", 0, 1);
  Val w = open(rw_, "sub/g.txt", 0, 2);
  ASSERT_EQ(r.bits, 0u);
  ASSERT_EQ(w.bits, 0u);
  EXPECT_EQ(call1(kTypes, "[method]descriptor.get-flags", {borrow(r.items[0])}), Val::ok(Val::flags(1)));
  EXPECT_EQ(call1(kTypes, "[method]descriptor.get-flags", {borrow(w.items[0])}), Val::ok(Val::flags(2)));
  EXPECT_EQ(call1(kTypes, "[method]descriptor.get-flags", {rw_}), Val::ok(Val::flags(1 | 32)));
  EXPECT_EQ(call1(kTypes, "[method]descriptor.get-flags", {ro_}), Val::ok(Val::flags(1)));
  // A descriptor opened for reading gives no write stream, and one opened for writing no read stream.
  EXPECT_EQ(call1(kTypes, "[method]descriptor.write-via-stream", {borrow(r.items[0]), Val::u64(0)}),
            Val::err(Val::enumeration(3)));
  EXPECT_EQ(call1(kTypes, "[method]descriptor.read-via-stream", {borrow(w.items[0]), Val::u64(0)}),
            Val::err(Val::enumeration(3)));
  EXPECT_EQ(call1(kTypes, "[method]descriptor.is-same-object", {borrow(r.items[0]), borrow(w.items[0])}), Val::boolean(true));
  EXPECT_EQ(call1(kTypes, "[method]descriptor.is-same-object", {borrow(r.items[0]), rw_}), Val::boolean(false));
  EXPECT_EQ(call1(kTypes, "[method]descriptor.metadata-hash", {borrow(r.items[0])}),
            call1(kTypes, "[method]descriptor.metadata-hash-at", {rw_, Val::flags(0), Val::string("sub/g.txt")}));
  EXPECT_EQ(call1(kTypes, "[method]descriptor.set-size", {borrow(w.items[0]), Val::u64(2)}), Val::ok());
  EXPECT_EQ(std::filesystem::file_size(dir_ / "rw" / "sub" / "g.txt"), 2u);
}

}  // namespace
}  // namespace wasmcap::wasip2
