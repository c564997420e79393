// Reading an audit log back (query.h).
#include "audit/query.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/json.h"

namespace wasmcap::audit {

std::optional<std::string> since_bound(std::string_view since_view, std::time_t now) {
  const std::string since(since_view);
  if (since.empty()) return std::string();
  if (since.size() >= 2 && std::isdigit(static_cast<unsigned char>(since[0]))) {
    char unit = since.back();
    std::string num = since.substr(0, since.size() - 1);
    bool digits = !num.empty() && num.size() <= 9 &&
                  std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; });
    long mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 0;
    if (digits && mult != 0) {
      std::time_t t = now - static_cast<std::time_t>(std::stol(num) * mult);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[40];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
      return std::string(buf);
    }
  }
  // An RFC 3339 UTC prefix: YYYY-MM-DD[THH[:MM[:SS[.mmm]]]][Z]; records compare as text.
  static const char kShape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
  std::string s = since;
  if (!s.empty() && s.back() == 'Z') s.pop_back();
  if (s.size() < 10 || s.size() > sizeof kShape - 2) return std::nullopt;
  for (size_t i = 0; i < s.size(); ++i) {
    bool ok = kShape[i] == 'd' ? std::isdigit(static_cast<unsigned char>(s[i])) != 0 : s[i] == kShape[i];
    if (!ok) return std::nullopt;
  }
  return s;
}

namespace {

std::string string_field(const nlohmann::json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string event_of(const nlohmann::json& record) {
  std::string e = string_field(record, "event");
  return e.empty() ? "https_request" : e;
}

Result<QueryStats> query_file(const std::string& path, const Query& q,
                              const std::function<void(const nlohmann::json&)>& each) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      "cannot read audit file '" + path + "': " + std::strerror(errno));
  }
  QueryStats stats;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.size() > kMaxQueryLine) {
      ++stats.malformed;
      continue;
    }
    // Audit records are flat (depth 2); json::kMaxDepth stops a planted deep line.
    nlohmann::json r = json::parse(line, json::Limits{kMaxQueryLine, json::kMaxDepth}).value_or(nullptr);
    if (!r.is_object()) {
      ++stats.malformed;
      continue;
    }
    if (!q.plugin.empty() && string_field(r, "plugin") != q.plugin) continue;
    if (!q.decision.empty() && string_field(r, "decision") != q.decision) continue;
    if (!q.event.empty() && event_of(r) != q.event) continue;
    if (!q.invocation_id.empty() && string_field(r, "invocation_id") != q.invocation_id) continue;
    if (!q.since.empty() && string_field(r, "time").substr(0, q.since.size()) < q.since) continue;
    ++stats.matched;
    each(r);
  }
  return stats;
}

}  // namespace wasmcap::audit
