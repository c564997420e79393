// Audit records: sanitizing (sensitive headers, secret values, query values) and the sinks.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace wasmcap::audit
