// Audit records: sanitizing (sensitive headers, secret values, query values) and the sinks.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <functional>
#include <map>
#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/failpoint.h"
#include "wasmcap/audit.h"

namespace wasmcap::audit {
namespace {

using Json = nlohmann::json;

TEST(Scrub, ReplacesEveryOccurrenceOfEverySecret) {
  EXPECT_EQ(scrub("a SECRET b SECRET", {"SECRET"}), "a [REDACTED] b [REDACTED]");
  EXPECT_EQ(scrub("xx-abc-yy", {"abc", "xx"}), "[REDACTED]-[REDACTED]-yy");
  EXPECT_EQ(scrub("nothing here", {"SECRET", ""}), "nothing here");
  // Overlapping secrets leave no tail behind.
  EXPECT_EQ(scrub("abcdef", {"abcd", "cdef"}), "[REDACTED]");
  EXPECT_EQ(scrub("aaaa", {"aa"}), "[REDACTED]");  // overlapping matches merge
}

TEST(Scrub, LimitKeepsAPrefixAndReplacesASecretCutByIt) {
  EXPECT_EQ(scrub("0123SECRET789", {"SECRET"}, 6), "0123[REDACTED]");
  EXPECT_EQ(scrub("0123SECRET789", {"SECRET"}, 4), "0123");
  EXPECT_EQ(scrub("0123456789", {"SECRET"}, 3), "012");
  EXPECT_EQ(scrub("SECRET", {"SECRET"}, 1), "[REDACTED]");
}

TEST(SensitiveHeaders, NamesThatLookSecret) {
  for (const char* n : {"Authorization", "authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
                        "X-Api-Key", "X-Auth-User", "X-Access-Token", "Client-Secret", "DB-Password",
                        "Keyid"}) {
    EXPECT_TRUE(is_sensitive_header(n)) << n;
  }
  for (const char* n : {"Accept", "Content-Type", "User-Agent", "X-Request-Id"}) {
    EXPECT_FALSE(is_sensitive_header(n)) << n;
  }
}

TEST(RedactUrl, QueryValuesFragmentAndUserinfo) {
  EXPECT_EQ(redact_url("https://api.test/v1/x?q=abc&page=2#frag"),
            "https://api.test/v1/x?q=[REDACTED]&page=[REDACTED]");
  EXPECT_EQ(redact_url("https://u:p@api.test:8443/a?flag"), "https://api.test:8443/a?flag");
  EXPECT_EQ(redact_url("HTTPS://api.test"), "https://api.test");
  EXPECT_EQ(redact_url("not a url with secret"), "[REDACTED]");
  EXPECT_EQ(redact_url("https://api.test/?a=1&&b"), "https://api.test/?a=[REDACTED]&&b");
}

TEST(Record, SchemaAndSanitizing) {
  Event e;
  e.time = "2026-01-02T03:04:05.678Z";
  e.plugin = "fetch";
  e.invocation_id = "inv";
  e.method = "GET";
  e.url = "https://api.test/x?q=[REDACTED]";
  e.address = "93.184.216.34";
  e.decision = "allowed";
  e.rule = "GET api.test /";
  e.hops.push_back(Hop{"https://api.test/y", 302, "93.184.216.34", "allowed", ""});
  e.request_headers = {{"Authorization", "Bearer hunter2"}, {"X-Plain", "has hunter2 inside"},
                       {"Accept", "*/*"}};
  e.response_headers = {{"Set-Cookie", "a=b"}, {"X-Echo", "hunter2"}};
  e.status = 200;
  e.request_bytes = 3;
  e.response_bytes = 10;
  e.message = "";
  std::string line = to_json_line(e, {"hunter2"});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find("hunter2"), std::string::npos);
  Json j = Json::parse(line);
  EXPECT_EQ(j["event"], "https_request");
  EXPECT_EQ(j["time"], e.time);
  EXPECT_EQ(j["request_headers"][0][1], "[REDACTED]");
  EXPECT_EQ(j["request_headers"][1][1], "has [REDACTED] inside");
  EXPECT_EQ(j["request_headers"][2][1], "*/*");
  EXPECT_EQ(j["response_headers"][0][1], "[REDACTED]");
  EXPECT_EQ(j["response_headers"][1][1], "[REDACTED]");
  EXPECT_EQ(j["hops"][0]["status"], 302);
  EXPECT_EQ(j["status"], 200);
  EXPECT_TRUE(j["error"].is_null());
  for (const char* k : {"dns", "connect", "tls", "total"}) EXPECT_TRUE(j["durations_ms"].contains(k));
  // Hostile bytes (invalid UTF-8 from a server) never throw.
  e.response_headers = {{"X-Bin", std::string("\xff\xfe", 2)}};
  EXPECT_NO_THROW(to_json_line(e, {}));
}

// Issue #10 item 14: guest-controlled strings never break the JSON Lines framing. Every byte of
// a record is printable ASCII; U+2028/U+2029, C0/C1 controls, DEL and non-UTF-8 bytes arrive
// escaped, and the parsed record still holds the characters (invalid bytes as U+FFFD).
TEST(Record, EveryByteIsPrintableAsciiWhateverTheGuestSent) {
  const std::string hostile = std::string("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\x7f" "d\xc2\x85" "e") +
                              std::string("\r\n\x00\x1b[31m\xff\xfe\xc0\xae", 11) + "\"\\";
  Event e;
  e.time = "2026-01-02T03:04:05.678Z";
  e.plugin = "p" + hostile;
  e.method = "GET" + hostile;
  e.url = "https://api.test/" + hostile;
  e.rule = hostile;
  e.request_headers = {{"X-" + hostile, hostile}};
  e.response_headers = {{"X-R", hostile}};
  e.hops.push_back(Hop{hostile, 302, "", "denied", hostile});
  e.message = hostile;
  for (const std::string& line : {to_json_line(e, {}), [&] {
                                    Event a = e;
                                    a.event = std::string(kEventAttempt);
                                    return to_json_line(a, {});
                                  }()}) {
    for (size_t i = 0; i < line.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(line[i]);
      ASSERT_TRUE(c >= 0x20 && c <= 0x7e) << "byte 0x" << std::hex << int(c) << " at " << i
                                          << " in " << line;
    }
    EXPECT_NE(line.find("\\u2028"), std::string::npos) << line;
    EXPECT_NE(line.find("\\u2029"), std::string::npos) << line;
    EXPECT_NE(line.find("\\u007f"), std::string::npos) << line;
    Json j = Json::parse(line);
    EXPECT_EQ(j["rule"].get<std::string>().substr(0, 4), "a\xe2\x80\xa8" "");
  }
}

// Issue #10 item 2: a record never exceeds kMaxRecordBytes (newline included), whatever the sizes
// of its fields; long fields end in the truncation marker; a secret cut by the truncation leaves
// no prefix behind.
TEST(Record, SizeIsBoundedAndLongFieldsAreMarked) {
  const std::string big(4u << 20, 'u');           // 4 MiB
  const std::string controls(64u << 10, '\x01');  // escapes to 6x
  const std::string medium(8u << 10, '\x01');
  Event e;
  e.plugin = big;
  e.invocation_id = big;
  e.method = big;
  e.url = "https://api.test/" + big;
  e.rule = controls;
  e.address = big;
  e.decision = big;
  e.message = controls;
  e.error = big;
  for (int i = 0; i < 1024; ++i) {
    e.request_headers.emplace_back("X-" + std::to_string(i), medium);
    e.response_headers.emplace_back(medium, medium);
  }
  e.request_headers[0].second = big;
  for (int i = 0; i < 100; ++i) e.hops.push_back(Hop{medium, 302, medium, medium, medium});
  for (const char* kind : {"https_request", "https_attempt"}) {
    e.event = kind;
    std::string line = to_json_line(e, {});
    EXPECT_LT(line.size() + 1, kMaxRecordBytes + 1) << kind;
    Json j = Json::parse(line);
    EXPECT_NE(j["url"].get<std::string>().find(kTruncatedMarker), std::string::npos);
    EXPECT_EQ(j["request_headers_omitted"], 1024) << kind;
  }
  // Moderate fields are kept whole, lists cut at 64 entries with a count.
  Event m;
  for (int i = 0; i < 100; ++i) m.request_headers.emplace_back("X-" + std::to_string(i), "v");
  Json j = Json::parse(to_json_line(m, {}));
  EXPECT_EQ(j["request_headers"].size(), 64u);
  EXPECT_EQ(j["request_headers_omitted"], 36);
  // Scrub before cut: a secret straddling the cut point is replaced whole.
  Event s;
  s.url = "https://api.test/" + std::string(4096 - 17 - 20, 'x') + "SECRETSECRETSECRET" + "tail";
  std::string line = to_json_line(s, {"SECRETSECRETSECRET"});
  EXPECT_EQ(line.find("SECRET"), std::string::npos) << line.substr(line.size() - 200);
}

TEST(Record, AttemptRecordSchema) {
  Event e;
  e.event = std::string(kEventAttempt);
  e.time = "2026-01-02T03:04:05.678Z";
  e.plugin = "fetch";
  e.invocation_id = "inv";
  e.request = 3;
  e.hop = 1;
  e.method = "POST";
  e.url = "https://api.test/x";
  e.address = "127.0.0.1";
  e.rule = "POST api.test /";
  e.request_headers = {{"Authorization", "Bearer hunter2"}};
  e.request_bytes = 5;
  Json j = Json::parse(to_json_line(e, {"hunter2"}));
  EXPECT_EQ(j["event"], "https_attempt");
  EXPECT_EQ(j["request"], 3);
  EXPECT_EQ(j["hop"], 1);
  EXPECT_EQ(j["request_headers"][0][1], "[REDACTED]");
  EXPECT_EQ(j["request_bytes"], 5);
  EXPECT_FALSE(j.contains("status"));
  EXPECT_FALSE(j.contains("decision"));
}

TEST(Record, TimeIsFilledWhenEmpty) {
  Json j = Json::parse(to_json_line(Event{}, {}));
  std::string t = j["time"];
  EXPECT_EQ(t.size(), 24u);
  EXPECT_EQ(t.back(), 'Z');
}

class FileSink : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/https/audit-test-" + std::to_string(getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(FileSink, AppendsOneLinePerRecordWithMode0600) {
  std::string path = dir_ + "/a.jsonl";
  {
    std::ofstream(path) << "{\"old\":1}\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  std::string fresh = dir_ + "/b.jsonl";
  auto s = open_file_sink(fresh);
  ASSERT_TRUE(s) << s.error().to_string();
  struct stat st {};
  ASSERT_EQ(stat(fresh.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto a = open_file_sink(path);
  ASSERT_TRUE(a);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) (*a)->write("{\"t\":" + std::to_string(t) + ",\"pad\":\"" + std::string(3000, 'p') + "\"}");
    });
  }
  for (auto& th : threads) th.join();
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    EXPECT_NO_THROW(Json::parse(line)) << "interleaved record";
    ++n;
  }
  EXPECT_EQ(n, 201);
}

TEST_F(FileSink, FdIsCloseOnExec) {
  auto s = open_file_sink(dir_ + "/c.jsonl");
  ASSERT_TRUE(s);
  int found = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(e.path(), ec);
    if (ec || target.string() != dir_ + "/c.jsonl") continue;
    int fd = std::stoi(e.path().filename().string());
    EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    ++found;
  }
  EXPECT_EQ(found, 1);
}

TEST_F(FileSink, UnopenablePathIsIoError) {
  auto s = open_file_sink(dir_ + "/missing-dir/x.jsonl");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kIo);
  EXPECT_NE(s.error().message.find("audit.file"), std::string::npos);
}

TEST(CallbackSink, ReceivesEachLine) {
  std::vector<std::string> got;
  auto s = callback_sink([&](std::string_view l) { got.emplace_back(l); });
  s->write("{\"a\":1}");
  s->write("{\"b\":2}");
  EXPECT_EQ(got, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
}


// --- record or refuse, no torn lines (#37) ---------------------------------------------------

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `body` in a forked child whose file size limit lets the audit file grow by `room` bytes
// only: a write past it is cut short by the kernel (EFBIG for the rest), as a full disk cuts one
// short with ENOSPC. Returns the child's exit status (body's return value).
int with_room(const std::string& path, off_t room, const std::function<int()>& body,
              const std::string& stderr_path = "/dev/null") {
  pid_t pid = ::fork();
  if (pid == 0) {
    int e = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(e, 2);
    ::signal(SIGXFSZ, SIG_IGN);
    struct stat st {};
    ::stat(path.c_str(), &st);
    struct rlimit rl {static_cast<rlim_t>(st.st_size + room), static_cast<rlim_t>(st.st_size + room)};
    ::setrlimit(RLIMIT_FSIZE, &rl);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Before: a record cut short (full disk) stayed in the file as half a line without a newline,
// the append reported nothing, and the next record was glued to the half ("{...{...}"), so
// readers lost both. Now the short write is truncated back and append() fails, naming the error.
TEST_F(FileSink, ShortWriteIsTruncatedBackAndReported) {
  std::string path = dir_ + "/short.jsonl";
  std::ofstream(path) << "{\"old\":1}\n";
  const std::string before = slurp(path);
  int code = with_room(path, 10, [&] {
    auto s = open_file_sink(path);
    if (!s) return 10;
    auto r = (*s)->append("{\"pad\":\"" + std::string(200, 'p') + "\"}");
    if (r) return 11;  // the record cannot have been written whole
    if (r.error().code != ErrorCode::kIo) return 12;
    if (r.error().message.find(std::strerror(EFBIG)) == std::string::npos) return 13;
    if (r.error().message.find(path) == std::string::npos) return 14;
    return 0;
  });
  EXPECT_EQ(code, 0);
  EXPECT_EQ(slurp(path), before) << "no part of the refused record stays";
  // With room again, the next record goes in whole, on a line of its own.
  auto s = open_file_sink(path);
  ASSERT_TRUE(s);
  ASSERT_TRUE((*s)->append("{\"new\":2}"));
  EXPECT_EQ(slurp(path), "{\"old\":1}\n{\"new\":2}\n");
}

// A line torn by a crash (or a truncation that failed) is ended before the next record, so the
// torn line stays one unreadable line and the new record is readable. Before: glued to it.
TEST_F(FileSink, TornLastLineIsEndedBeforeTheNextRecord) {
  std::string path = dir_ + "/torn.jsonl";
  std::ofstream(path) << "{\"whole\":1}\n{\"torn\":\"ab";
  auto s = open_file_sink(path);
  ASSERT_TRUE(s);
  ASSERT_TRUE((*s)->append("{\"next\":2}"));
  ASSERT_TRUE((*s)->append("{\"next\":3}"));
  EXPECT_EQ(slurp(path), "{\"whole\":1}\n{\"torn\":\"ab\n{\"next\":2}\n{\"next\":3}\n");
}

// audit.on_failure = "continue": append() succeeds, and the operator is told on stderr, once per
// run of failures (not once per record).
TEST_F(FileSink, ContinueWarnsOnceAndGoesOn) {
  std::string path = dir_ + "/cont.jsonl";
  // (The size limit applies to the stderr file too: it must have room for the warning.)
  const std::string old = "{\"old\":\"" + std::string(2000, 'o') + "\"}\n";
  std::ofstream(path) << old;
  std::string err = dir_ + "/stderr";
  int code = with_room(path, 10, [&] {
    auto s = open_file_sink(path, OnFailure::kContinue);
    if (!s) return 10;
    for (int i = 0; i < 5; ++i) {
      if (!(*s)->append("{\"pad\":\"" + std::string(100, 'p') + "\"}")) return 11;
    }
    return 0;
  }, err);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(slurp(path), old);
  std::string warned = slurp(err);
  EXPECT_NE(warned.find("warning: audit record not written to " + path), std::string::npos) << warned;
  EXPECT_NE(warned.find("audit.on_failure"), std::string::npos) << warned;
  EXPECT_EQ(std::count(warned.begin(), warned.end(), '\n'), 1) << warned;
}

TEST_F(FileSink, OversizedRecordIsRefusedNotSplit) {
  std::string path = dir_ + "/big.jsonl";
  auto s = open_file_sink(path);
  ASSERT_TRUE(s);
  auto r = (*s)->append("{\"pad\":\"" + std::string(kMaxSinkRecordBytes, 'p') + "\"}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_EQ(slurp(path), "");
}

// Many processes with several threads each append records (up to 48 KiB, more than a pipe's
// atomic write and several pages) while some of them are killed at random moments: every line
// is one whole record, or one torn by the kill of its writer, never two glued together.
TEST_F(FileSink, ConcurrentWritersAndKillsNeverGlueRecords) {
  std::string path = dir_ + "/many.jsonl";
  constexpr int kProcs = 8, kThreads = 3, kRecords = 60;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto s = open_file_sink(path);
      if (!s) ::_exit(10);
      std::vector<std::thread> ts;
      for (int t = 0; t < kThreads; ++t) {
        ts.emplace_back([&, t] {
          std::mt19937 rng(static_cast<unsigned>(p * 100 + t));
          for (int i = 0; i < kRecords; ++i) {
            size_t pad = rng() % 2 ? rng() % 200 : rng() % (48 * 1024);
            Json j = {{"p", p}, {"t", t}, {"i", i}, {"pad", std::string(pad, 'x')}};
            if (!(*s)->append(j.dump())) ::_exit(11);
          }
        });
      }
      for (auto& th : ts) th.join();
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  // Kill every other writer after a short, varying delay.
  for (int p = 0; p < kProcs; p += 2) {
    ::usleep(static_cast<useconds_t>(2000 * (p + 1)));
    ::kill(pids[p], SIGKILL);
  }
  int finished = 0;
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFEXITED(status)) {
      EXPECT_EQ(WEXITSTATUS(status), 0);
      ++finished;
    }
  }
  EXPECT_GE(finished, kProcs / 2);
  std::ifstream in(path);
  std::string line;
  int whole = 0, torn = 0;
  std::map<int, int> per_proc;
  while (std::getline(in, line)) {
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded()) {
      ++torn;
      EXPECT_EQ(line.find("}{"), std::string::npos) << "glued records";
      continue;
    }
    ++whole;
    ++per_proc[j["p"].get<int>()];
  }
  EXPECT_LE(torn, kProcs / 2) << "at most one torn record per killed writer";
  for (int p = 1; p < kProcs; p += 2) EXPECT_EQ(per_proc[p], kThreads * kRecords) << p;
  EXPECT_GE(whole, (kProcs / 2) * kThreads * kRecords);
}

// --- failpoints (audit.*): each armed in a fresh process, this binary run again -------------

// The child side: appends AUDIT_CHILD_RECORD to AUDIT_CHILD_PATH; exit 0 when written, 20 (with
// the error on stderr) when refused. Skipped when not run by the tests below.
TEST(AuditChild, Append) {
  const char* path = std::getenv("AUDIT_CHILD_PATH");
  const char* record = std::getenv("AUDIT_CHILD_RECORD");
  if (path == nullptr || record == nullptr) GTEST_SKIP() << "run by the failpoint tests only";
  auto s = open_file_sink(path);
  if (!s) {
    std::fprintf(stderr, "%s\n", s.error().message.c_str());
    std::_Exit(10);
  }
  auto r = (*s)->append(record);
  if (!r) std::fprintf(stderr, "%s\n", r.error().message.c_str());
  std::fflush(stderr);
  std::_Exit(r ? 0 : 20);
}

struct ChildResult {
  int status = -1;  // exit code, or 128 + signal
  std::string err;
};

ChildResult append_in_child(const std::string& path, const std::string& record,
                            const std::string& failpoints, const std::string& err_path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("AUDIT_CHILD_PATH", path.c_str(), 1);
    ::setenv("AUDIT_CHILD_RECORD", record.c_str(), 1);
    ::setenv("WASMCAP_FAILPOINTS", failpoints.c_str(), 1);
    int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(e, 2);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::execl("/proc/self/exe", "audit_test", "--gtest_filter=AuditChild.Append", nullptr);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ChildResult r;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.err = slurp(err_path);
  return r;
}

class FileSinkFaults : public FileSink {
 protected:
  void SetUp() override {
    if (!failpoint::compiled_in()) {
      GTEST_SKIP() << "built without WASMCAP_FAILPOINTS=ON (scripts/test.sh turns it on)";
    }
    FileSink::SetUp();
  }
};

// Every step of an audit write, failed with ENOSPC or EIO: the record is refused with the OS
// error's text, and the file is exactly what it was (a torn last line only gains its newline,
// which is what the repair step writes). Killed at any step: the file is what it was, or the
// record is whole. A retry without the fault writes the record whole on a line of its own.
TEST_F(FileSinkFaults, EveryStepFailedOrKilledLeavesTheFileConsistent) {
  const std::string rec = "{\"event\":\"run_start\",\"pad\":\"" + std::string(300, 'p') + "\"}";
  for (const char* point : {"audit.open.file", "audit.write.lock", "audit.write.repair",
                            "audit.write.append"}) {
    for (const char* action : {"enospc", "eio", "kill"}) {
      SCOPED_TRACE(std::string(point) + "=" + action);
      std::string path = dir_ + "/fp.jsonl";
      // A torn last line, so the repair step is reached too.
      std::ofstream(path, std::ios::trunc) << "{\"whole\":1}\n{\"torn";
      const std::string before = slurp(path);
      ChildResult c = append_in_child(path, rec, std::string(point) + "=" + action, dir_ + "/err");
      std::string after = slurp(path);
      if (std::string(action) == "kill") {
        EXPECT_EQ(c.status, 128 + SIGKILL) << c.err;
        EXPECT_TRUE(after == before || after == before + "\n") << after;
      } else {
        EXPECT_EQ(c.status, std::string(point) == "audit.open.file" ? 10 : 20) << c.err;
        EXPECT_NE(c.err.find(std::strerror(std::string(action) == "enospc" ? ENOSPC : EIO)),
                  std::string::npos)
            << c.err;
        EXPECT_TRUE(after == before || (std::string(point) == "audit.write.append" && after == before + "\n"))
            << after;
      }
      // The retry.
      ChildResult ok = append_in_child(path, rec, "", dir_ + "/err");
      EXPECT_EQ(ok.status, 0) << ok.err;
      EXPECT_EQ(slurp(path), before + "\n" + rec + "\n");
    }
  }
}

// A short write whose truncation also fails leaves a torn line; the next record ends it first.
TEST_F(FileSinkFaults, FailedTruncationIsRepairedByTheNextRecord) {
  std::string path = dir_ + "/trunc.jsonl";
  std::ofstream(path) << "{\"whole\":1}\n";
  const std::string rec = "{\"event\":\"run_end\",\"n\":12345678}";
  ChildResult c =
      append_in_child(path, rec, "audit.write.append=enospc,audit.write.truncate=eio", dir_ + "/err");
  EXPECT_EQ(c.status, 20) << c.err;
  std::string torn = slurp(path);
  ASSERT_EQ(torn, "{\"whole\":1}\n" + rec.substr(0, rec.size() / 2));
  ChildResult ok = append_in_child(path, rec, "", dir_ + "/err");
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(slurp(path), torn + "\n" + rec + "\n");
}
}  // namespace
}  // namespace wasmcap::audit
