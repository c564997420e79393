// Audit sinks and records. Records are sanitized at this last step (header values and secret
// values redacted) so no caller can forget to do it.
#include "wasmcap/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>

#include <sys/file.h>

#include <nlohmann/json.hpp>

#include "common/failpoint.h"

namespace wasmcap::audit {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string os_error(int e) { return std::strerror(e); }

// Writes all of `buf` to a descriptor that is not a regular file we own (stderr), retrying on
// EINTR and on short writes. The error of the first failed write(2), or 0.
int write_all(int fd, const char* p, size_t left) {
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    p += n;
    left -= static_cast<size_t>(n);
  }
  return 0;
}

class StderrSink final : public Sink {
 public:
  Result<void> append(std::string_view json_line) override {
    std::string buf;
    buf.reserve(json_line.size() + 1);
    buf.append(json_line);
    buf.push_back('\n');
    std::lock_guard<std::mutex> lock(mu_);
    if (int e = write_all(STDERR_FILENO, buf.data(), buf.size())) {
      return make_error(ErrorCode::kIo, "audit record not written to stderr: " + os_error(e));
    }
    return {};
  }

 private:
  std::mutex mu_;
};

// The audit file. Each record, under an exclusive flock(2) on the file (so writers in other
// processes, and other sinks of this process on the same file, take turns) and this sink's mutex
// (flock locks belong to the open file description, which this process's threads share):
//   1. a file whose last byte is not '\n' (a record torn by a crash or a full disk that could not
//      be truncated back) gets one, so the torn line stays one unreadable line and the new record
//      starts a line of its own;
//   2. the record and its newline go out in one write(2) (O_APPEND: at the end of the file);
//   3. a short or failed write is truncated back to the size the file had before it, so no part
//      of a record that was refused stays behind.
// The file's size read under the lock is exact: every writer that changes it holds the lock.
class FileSink final : public Sink {
 public:
  FileSink(int fd, std::string path, OnFailure on_failure, bool readable)
      : fd_(fd), path_(std::move(path)), on_failure_(on_failure), readable_(readable) {}
  ~FileSink() override { ::close(fd_); }

  Result<void> append(std::string_view json_line) override {
    auto r = append_locked(json_line);
    if (on_failure_ == OnFailure::kRefuse) return r;
    // audit.on_failure = "continue": the operator chose availability over the record. Say so
    // once per run of failures (not once per record: a busy server would flood its stderr).
    std::lock_guard<std::mutex> lock(mu_);
    if (!r && !warned_) {
      std::string w = "wasmcap: warning: " + r.error().message +
                      "; continuing without it (audit.on_failure is \"continue\"); further "
                      "failures are not reported until a record is written again\n";
      (void)write_all(STDERR_FILENO, w.data(), w.size());
    }
    warned_ = !r;
    return {};
  }

 private:
  Error fail(const std::string& what, int e) const {
    return Error(ErrorCode::kIo, "audit record not written to " + path_ + ": " + what + ": " +
                                     os_error(e) +
                                     " (free space on its filesystem or fix audit.file in the "
                                     "host config)");
  }

  Result<void> append_locked(std::string_view json_line) {
    std::string buf;
    buf.reserve(json_line.size() + 1);
    buf.append(json_line);
    buf.push_back('\n');
    if (buf.size() > kMaxSinkRecordBytes) {
      return make_error(ErrorCode::kIo, "audit record not written to " + path_ + ": it has " +
                                            std::to_string(buf.size()) + " bytes, more than " +
                                            std::to_string(kMaxSinkRecordBytes));
    }
    std::lock_guard<std::mutex> lock(mu_);
    int e = failpoint::hit("audit.write.lock");
    while (e == 0 && ::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) e = errno;
    }
    if (e != 0) return tl::unexpected(fail("cannot lock the file", e));
    struct Unlock {
      int fd;
      ~Unlock() { ::flock(fd, LOCK_UN); }
    } unlock{fd_};
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return tl::unexpected(fail("cannot stat the file", errno));
    off_t size = st.st_size;
    if (size > 0 && readable_) {
      char last = 0;
      ssize_t n;
      do {
        n = ::pread(fd_, &last, 1, size - 1);
      } while (n < 0 && errno == EINTR);
      // A read failure here is a failure to write the record safely.
      if (n != 1) return tl::unexpected(fail("cannot read the file's last byte", n < 0 ? errno : EIO));
      if (last != '\n') {
        int re = failpoint::hit("audit.write.repair");
        if (re == 0) re = write_all_file("\n", 1, size);
        if (re != 0) return tl::unexpected(fail("cannot end the torn last line", re));
        size += 1;
      }
    }
    if (int we = failpoint::hit("audit.write.append")) {
      // Stands for a write that ran out of space partway: part of the record lands first, as a
      // full filesystem does, so the truncation below is what a test sees working.
      ssize_t n = ::write(fd_, buf.data(), buf.size() / 2);
      (void)n;
      truncate_back(size);
      return tl::unexpected(fail("write", we));
    }
    if (int we = write_all_file(buf.data(), buf.size(), size)) {
      return tl::unexpected(fail("write", we));
    }
    return {};
  }

  // One write(2) of `len` bytes at the end of the file (O_APPEND). A short write (the kernel
  // stopped at a full disk, a file size limit or a signal) is continued under the same lock, to
  // learn why it stopped; if the record still does not go in whole, the file is truncated back
  // to `size` (its size before the record) and the error returned.
  int write_all_file(const char* p, size_t len, off_t size) {
    while (len > 0) {
      ssize_t n = ::write(fd_, p, len);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int e = n < 0 ? errno : EIO;
        truncate_back(size);
        return e;
      }
      p += n;
      len -= static_cast<size_t>(n);
    }
    return 0;
  }

  void truncate_back(off_t size) {
    // If this fails too, the file ends in a torn line; the next record starts with a newline.
    if (failpoint::hit("audit.write.truncate") != 0) return;
    while (::ftruncate(fd_, size) != 0 && errno == EINTR) {
    }
  }

  int fd_;
  std::string path_;
  OnFailure on_failure_;
  bool readable_;
  std::mutex mu_;
  bool warned_ = false;
};

class CallbackSink final : public Sink {
 public:
  explicit CallbackSink(std::function<void(std::string_view)> fn) : fn_(std::move(fn)) {}
  Result<void> append(std::string_view json_line) override {
    // Callbacks are user code: serialize calls so they need not be thread-safe themselves.
    std::lock_guard<std::mutex> lock(mu_);
    if (fn_) fn_(json_line);
    return {};
  }

 private:
  std::mutex mu_;
  std::function<void(std::string_view)> fn_;
};

class TeeSink final : public Sink {
 public:
  TeeSink(std::shared_ptr<Sink> a, std::shared_ptr<Sink> b) : a_(std::move(a)), b_(std::move(b)) {}
  Result<void> append(std::string_view json_line) override {
    // Both get the record even when the first fails: each destination keeps what it can.
    Result<void> ra = a_ ? a_->append(json_line) : Result<void>();
    Result<void> rb = b_ ? b_->append(json_line) : Result<void>();
    return ra ? rb : ra;
  }

 private:
  std::shared_ptr<Sink> a_, b_;
};

}  // namespace

Result<std::shared_ptr<Sink>> open_file_sink(const std::string& path, OnFailure on_failure) {
  // O_APPEND: records from several processes interleave only between lines. O_RDWR: the sink
  // reads the last byte to see whether a torn line needs ending. O_CLOEXEC: the log fd never
  // leaks into a child. 0600: the log names hosts and paths the operator may consider private;
  // only the owner reads it. O_NOCTTY in case the operator points it at a terminal.
  int fd = -1;
  bool readable = true;
  if (int e = failpoint::hit("audit.open.file")) {
    errno = e;
  } else {
    fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    // A file the operator made write-only for us: records still go in whole and torn ones are
    // still truncated back; only the check for a line torn earlier (by a crash) is skipped.
    if (fd < 0 && errno == EACCES) {
      fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
      readable = false;
    }
  }
  if (fd < 0) {
    return make_error(ErrorCode::kIo, "cannot open audit log " + path + ": " +
                                          std::strerror(errno) +
                                          " (check audit.file in the host config)");
  }
  return std::shared_ptr<Sink>(std::make_shared<FileSink>(fd, path, on_failure, readable));
}

std::shared_ptr<Sink> stderr_sink() { return std::make_shared<StderrSink>(); }

std::shared_ptr<Sink> callback_sink(std::function<void(std::string_view json_line)> fn) {
  return std::make_shared<CallbackSink>(std::move(fn));
}

std::shared_ptr<Sink> tee_sink(std::shared_ptr<Sink> a, std::shared_ptr<Sink> b) {
  if (!a) return b;
  if (!b) return a;
  return std::make_shared<TeeSink>(std::move(a), std::move(b));
}

bool is_sensitive_header(std::string_view name) {
  std::string n = to_lower(name);
  if (n == "authorization" || n == "proxy-authorization" || n == "cookie" || n == "set-cookie") {
    return true;
  }
  for (const char* word : {"token", "key", "secret", "password", "auth"}) {
    if (n.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string scrub(std::string_view text, const std::vector<std::string>& secrets, size_t limit) {
  limit = std::min(limit, text.size());
  // Find every occurrence of every secret, then replace greedily left to right: earliest start
  // first, longest on ties, skipping matches that overlap one already replaced.
  std::vector<std::pair<size_t, size_t>> hits;  // (pos, len)
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    for (size_t pos = text.find(s); pos != std::string_view::npos; pos = text.find(s, pos + 1)) {
      if (pos >= limit) break;
      hits.emplace_back(pos, s.size());
    }
  }
  if (hits.empty()) return std::string(text.substr(0, limit));
  std::sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  });
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  for (const auto& [pos, len] : hits) {
    if (pos < at) {
      // Overlaps the previous replacement: extend it if this match reaches further, so no tail
      // of a secret survives.
      if (pos + len > at) at = pos + len;
      continue;
    }
    out.append(text.substr(at, pos - at));
    out.append(kRedacted);
    at = pos + len;
  }
  if (at < limit) out.append(text.substr(at, limit - at));
  return out;
}

std::string redact_url(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::string(kRedacted);
  std::string_view scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  size_t end_auth = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end_auth);
  // Userinfo never reaches a record (wasmcap refuses it anyway; this is for hop Location values).
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view tail = end_auth == std::string_view::npos ? std::string_view() : rest.substr(end_auth);
  if (size_t hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  std::string_view path = tail.substr(0, tail.find('?'));
  std::string out = to_lower(scheme) + "://" + std::string(authority) + std::string(path);
  if (path.size() < tail.size()) {
    std::string_view query = tail.substr(path.size() + 1);
    out += '?';
    bool first = true;
    while (true) {
      size_t amp = query.find('&');
      std::string_view param = query.substr(0, amp);
      if (!first) out += '&';
      first = false;
      size_t eq = param.find('=');
      if (eq == std::string_view::npos) {
        out.append(param);
      } else {
        out.append(param.substr(0, eq));
        out += '=';
        out.append(kRedacted);
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return out;
}

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

namespace {

// Per-field budgets in bytes, before JSON escaping (which can grow a byte to 6: "\u001f"). With
// the header lists and hops omitted, the remaining fields fit kMaxRecordBytes even at 6x:
// (256 + 128 + 64 + 4096 + 64 + 1024 + 4096 + 64 + 64) * 6 < 60 KiB.
constexpr size_t kPluginBytes = 256, kIdBytes = 128, kMethodBytes = 64, kUrlBytes = 4096,
                 kAddressBytes = 64, kRuleBytes = 1024, kMessageBytes = 4096, kCodeBytes = 64,
                 kDecisionBytes = 64, kHeaderNameBytes = 256, kHeaderValueBytes = 2048,
                 kHopUrlBytes = 2048, kHopReasonBytes = 1024;
constexpr size_t kMaxHeadersListed = 64, kMaxHopsListed = 32;

// `s` cut to at most `max` bytes, at a UTF-8 character boundary, ending in kTruncatedMarker
// (`force`: add the marker even when `s` fits, because the caller already dropped a tail).
std::string cut(std::string s, size_t max, bool force = false) {
  if (s.size() <= max && !force) return s;
  if (s.size() + kTruncatedMarker.size() <= max) return s.append(kTruncatedMarker);
  size_t at = max > kTruncatedMarker.size() ? max - kTruncatedMarker.size() : 0;
  while (at > 0 && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) --at;
  s.resize(at);
  s.append(kTruncatedMarker);
  return s;
}

}  // namespace

std::string to_json_line(const Event& e, const std::vector<std::string>& secrets) {
  using Json = nlohmann::ordered_json;
  // Scrub first, then cut: a secret that straddles the cut is already replaced as a whole. Only
  // the field's budget plus the longest secret is scanned, so a huge field costs O(budget).
  size_t longest = 0;
  for (const auto& sec : secrets) longest = std::max(longest, sec.size());
  auto s = [&](std::string_view v, size_t max) {
    if (v.size() <= max) return cut(scrub(v, secrets), max);
    return cut(scrub(v.substr(0, max + longest), secrets, max), max, true);
  };
  auto headers = [&](const std::vector<std::pair<std::string, std::string>>& hs) {
    Json arr = Json::array();
    for (size_t i = 0; i < hs.size() && i < kMaxHeadersListed; ++i) {
      const auto& [name, value] = hs[i];
      std::string v = is_sensitive_header(name) ? std::string(kRedacted)
                                                : s(value, kHeaderValueBytes);
      arr.push_back(Json::array({s(name, kHeaderNameBytes), v}));
    }
    return arr;
  };
  const bool attempt = e.event == kEventAttempt;
  Json j;
  j["time"] = e.time.empty() ? now_rfc3339() : cut(e.time, 64);
  j["event"] = attempt ? kEventAttempt : kEventRequest;
  j["plugin"] = s(e.plugin, kPluginBytes);
  j["invocation_id"] = s(e.invocation_id, kIdBytes);
  j["request"] = e.request;
  if (attempt) j["hop"] = e.hop;
  j["method"] = s(e.method, kMethodBytes);
  j["url"] = s(e.url, kUrlBytes);
  j["address"] = e.address.empty() ? Json(nullptr) : Json(cut(e.address, kAddressBytes));
  if (!attempt) j["decision"] = cut(e.decision, kDecisionBytes);
  j["rule"] = s(e.rule, kRuleBytes);
  if (!attempt) {
    Json hops = Json::array();
    for (size_t i = 0; i < e.hops.size() && i < kMaxHopsListed; ++i) {
      const Hop& h = e.hops[i];
      Json hj;
      hj["url"] = s(h.url, kHopUrlBytes);
      hj["status"] = h.status;
      hj["address"] = h.address.empty() ? Json(nullptr) : Json(cut(h.address, kAddressBytes));
      hj["decision"] = cut(h.decision, kDecisionBytes);
      if (!h.reason.empty()) hj["reason"] = s(h.reason, kHopReasonBytes);
      hops.push_back(std::move(hj));
    }
    j["hops"] = std::move(hops);
    if (e.hops.size() > kMaxHopsListed) j["hops_omitted"] = e.hops.size() - kMaxHopsListed;
  }
  j["request_headers"] = headers(e.request_headers);
  if (e.request_headers.size() > kMaxHeadersListed) {
    j["request_headers_omitted"] = e.request_headers.size() - kMaxHeadersListed;
  }
  if (attempt) {
    j["request_bytes"] = e.request_bytes;
  } else {
    j["response_headers"] = headers(e.response_headers);
    if (e.response_headers.size() > kMaxHeadersListed) {
      j["response_headers_omitted"] = e.response_headers.size() - kMaxHeadersListed;
    }
    j["status"] = e.status ? Json(*e.status) : Json(nullptr);
    j["request_bytes"] = e.request_bytes;
    j["response_bytes"] = e.response_bytes;
    j["truncated"] = e.truncated;
    j["durations_ms"] = {{"dns", e.durations.dns_ms},
                         {"connect", e.durations.connect_ms},
                         {"tls", e.durations.tls_ms},
                         {"total", e.durations.total_ms}};
    j["error"] = e.error.empty() ? Json(nullptr) : Json(cut(e.error, kCodeBytes));
    j["message"] = e.message.empty() ? Json(nullptr) : Json(s(e.message, kMessageBytes));
  }
  // ensure_ascii: every character outside printable ASCII (controls, DEL, U+2028/U+2029, all
  // non-ASCII) is a \uXXXX escape, so no reader can see a line break inside a record. Invalid
  // UTF-8 (a hostile server's or guest's bytes) becomes U+FFFD, never a throw.
  auto dump = [](const Json& v) { return v.dump(-1, ' ', true, Json::error_handler_t::replace); };
  std::string line = dump(j);
  // The per-field budgets bound everything but the lists; over the cap, drop them to counts.
  const std::pair<const char*, size_t> lists[] = {{"request_headers", e.request_headers.size()},
                                                   {"response_headers", e.response_headers.size()},
                                                   {"hops", e.hops.size()}};
  for (const auto& [list, total] : lists) {
    if (line.size() < kMaxRecordBytes) break;
    if (!j.contains(list)) continue;
    j[list] = Json::array();
    j[std::string(list) + "_omitted"] = total;
    line = dump(j);
  }
  return line;
}

}  // namespace wasmcap::audit
