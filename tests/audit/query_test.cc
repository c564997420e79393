// Reading an audit log back (src/audit/query.h): filters, the since bound, and a hostile file
// (torn, oversized and deeply nested lines are counted as malformed and skipped, never fatal).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "audit/query.h"

namespace wasmcap::audit {
namespace {

std::string write_log(const std::string& text) {
  char path[] = "/tmp/wasmcap-query-XXXXXX";
  int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::vector<std::string> ids(const std::string& path, const Query& q, QueryStats* stats = nullptr) {
  std::vector<std::string> out;
  auto r = query_file(path, q, [&](const nlohmann::json& j) { out.push_back(j.value("invocation_id", "")); });
  EXPECT_TRUE(r) << r.error().to_string();
  if (r && stats != nullptr) *stats = *r;
  return out;
}

TEST(AuditQuery, SinceBoundTakesDurationsAndTimePrefixes) {
  const std::time_t now = 1767323045;  // 2026-01-02T03:04:05Z
  EXPECT_EQ(since_bound("", now), std::string());
  EXPECT_EQ(since_bound("90s", now), std::string("2026-01-02T03:02:35.000Z"));
  EXPECT_EQ(since_bound("2h", now), std::string("2026-01-02T01:04:05.000Z"));
  EXPECT_EQ(since_bound("1d", now), std::string("2026-01-01T03:04:05.000Z"));
  EXPECT_EQ(since_bound("2026-01-02", now), std::string("2026-01-02"));
  EXPECT_EQ(since_bound("2026-01-02T03:04Z", now), std::string("2026-01-02T03:04"));
  for (const char* bad : {"yesterday", "5w", "2026-1-2", "2026-01-02T03:04:05.6789Z", "1234567890s", "-5m"}) {
    EXPECT_EQ(since_bound(bad, now), std::nullopt) << bad;
  }
}

TEST(AuditQuery, FiltersAndSkipsWhatIsNotARecord) {
  std::string deep(100000, '[');
  const std::string path = write_log(
      R"({"time":"2026-01-01T00:00:00.000Z","event":"run_start","plugin":"a","invocation_id":"1"})" "\n"
      R"({"time":"2026-01-02T00:00:00.000Z","decision":"deny","plugin":"b","invocation_id":"2"})" "\n"
      "{\"torn\":\n" + deep + "\n" + std::string(kMaxQueryLine + 1, ' ') + "\n[1,2]\n\n" +
      R"({"time":"2026-01-03T00:00:00.000Z","event":"run_end","plugin":"a","invocation_id":"3"})" "\n");
  QueryStats stats;
  EXPECT_EQ(ids(path, {}, &stats), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(stats.matched, 3u);
  EXPECT_EQ(stats.malformed, 4u);
  EXPECT_EQ(ids(path, {"a", "", "", "", ""}), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(ids(path, {"", "deny", "", "", ""}), std::vector<std::string>{"2"});
  // A record without "event" is an https_request (the first format).
  EXPECT_EQ(ids(path, {"", "", "https_request", "", ""}), std::vector<std::string>{"2"});
  EXPECT_EQ(ids(path, {"", "", "", "3", ""}), std::vector<std::string>{"3"});
  EXPECT_EQ(ids(path, {"", "", "", "", "2026-01-02"}), (std::vector<std::string>{"2", "3"}));
  std::remove(path.c_str());
  auto missing = query_file(path, {}, [](const nlohmann::json&) {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace wasmcap::audit
