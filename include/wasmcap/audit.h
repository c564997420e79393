// Audit events: one JSON Lines record per https request (allowed, denied or failed), written to a
// sink the operator chooses (host config `audit.file`, stderr, or an in-process callback).
//
// The record schema is documented in docs/https.md ("Audit events"). Records are sanitized here,
// at the last step before a sink sees them: sensitive header values and every configured secret
// value are replaced with "[REDACTED]", whatever field they appear in.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wasmcap/error.h"

namespace wasmcap {
namespace audit {

// What replaces a sensitive value in audit records (and in responses, for echoed secrets).
inline constexpr std::string_view kRedacted = "[REDACTED]";

// The largest audit record, newline included: to_json_line never returns a longer line, whatever
// the guest sent. Long fields are cut with kTruncatedMarker (see to_json_line).
inline constexpr size_t kMaxRecordBytes = 65536;
// Appended to a string field cut to fit its share of the record.
inline constexpr std::string_view kTruncatedMarker = "...[truncated]";

// Event names (the record's "event" field).
inline constexpr std::string_view kEventRequest = "https_request";  // the outcome, one per request
inline constexpr std::string_view kEventAttempt = "https_attempt";  // before each hop goes out

// A destination for audit records. Implementations must be safe to call from several threads.
//
// Record or refuse (docs/audit.md, "When a record cannot be written"): append() reports whether
// the record was written whole. Front ends write the record that precedes a run, a shell command
// or a tool call first and do not start the work when it fails; a record that follows the work
// and fails makes the command fail (non-zero exit, isError) with a warning.
class Sink {
 public:
  virtual ~Sink() = default;
  // Writes one complete JSON object (given without its trailing newline) as one line. Ok when
  // the whole line was written; otherwise an io_error naming the destination and the OS error,
  // and nothing of the record stays behind. A sink opened with OnFailure::kContinue warns on
  // stderr instead and returns Ok.
  virtual Result<void> append(std::string_view json_line) = 0;
  // append() for records whose loss cannot stop anything any more (the outcome of an https
  // request already made): a failure is the sink's to report.
  void write(std::string_view json_line) { (void)append(json_line); }
};

// What a file sink does when a record cannot be written (host config `audit.on_failure`).
enum class OnFailure {
  kRefuse,    // append() fails: no work starts without its record (the default)
  kContinue,  // append() warns on stderr (once per run of failures) and returns Ok
};

// The largest record a file sink writes (newline included): a record is one write(2) on an
// O_APPEND file, and a bound keeps that write one the kernel does whole. Records are built far
// below it (kMaxRecordBytes for https records; run, shell and tool records cut their fields); a
// longer one is refused rather than written in pieces.
inline constexpr size_t kMaxSinkRecordBytes = 1u << 20;

// Appends records to `path` (created with mode 0600 if missing; O_APPEND | O_CLOEXEC). Each
// record is one bounded write(2) made under an exclusive flock(2) on the file (writers in other
// processes and other sinks on the same file wait for it); before it, a file that does not end in
// a newline (a record torn by a crash) gets one, so the new record starts a line of its own; a
// short or failed write is truncated back to where the record began. io_error when the file
// cannot be opened (the message names the path and the OS error).
Result<std::shared_ptr<Sink>> open_file_sink(const std::string& path,
                                             OnFailure on_failure = OnFailure::kRefuse);

// Writes records to the process's stderr (fd 2), one write(2) per line.
std::shared_ptr<Sink> stderr_sink();

// Calls `fn` with each record (embedders, tests). `fn` must not throw.
std::shared_ptr<Sink> callback_sink(std::function<void(std::string_view json_line)> fn);

// Both sinks get every record (either may be null); append() fails when either fails.
std::shared_ptr<Sink> tee_sink(std::shared_ptr<Sink> a, std::shared_ptr<Sink> b);

// --- Records --------------------------------------------------------------------------------

// One redirect hop (the first request is not a hop).
struct Hop {
  std::string url;       // redacted URL of the hop target (see redact_url)
  uint16_t status = 0;   // the status of the response that redirected to it
  std::string address;   // the checked address the hop connected to ("" if it did not)
  std::string decision;  // "allowed" or "denied"
  std::string reason;    // why it was denied ("" when allowed)
};

struct Durations {
  double dns_ms = 0;      // name resolution by wasmcap (pinned names: ~0)
  double connect_ms = 0;  // TCP connect, summed over hops
  double tls_ms = 0;      // TLS handshake, summed over hops
  double total_ms = 0;    // the whole request, policy checks included
};

struct Event {
  std::string event = std::string(kEventRequest);
  std::string time;  // RFC 3339 UTC with milliseconds; filled by to_json_line when empty
  std::string plugin;
  std::string invocation_id;
  uint64_t request = 0;  // the request's number in this invocation (1, 2, ...): links attempts
  uint64_t hop = 0;      // https_attempt only: 0 for the first request, n for the n-th redirect
  std::string method;
  std::string url;       // scheme://host[:port]/path?name=[REDACTED] (see redact_url)
  std::string address;   // the checked address of the first connection ("" if none)
  std::string decision;  // "allowed" (policy allowed the request) or "denied"
  std::string rule;      // the matching grant ("GET api.example.com /v1/") or the denying rule
  std::vector<Hop> hops;
  std::vector<std::pair<std::string, std::string>> request_headers;   // as sent (secrets resolved)
  std::vector<std::pair<std::string, std::string>> response_headers;  // as received
  std::optional<uint16_t> status;
  uint64_t request_bytes = 0;   // request body bytes sent
  uint64_t response_bytes = 0;  // response body bytes returned to the plugin
  bool truncated = false;
  Durations durations;
  std::string error;    // https error code name ("" on success)
  std::string message;  // the error message ("" on success)
};

// True for header names whose values are always redacted: Authorization, Proxy-Authorization,
// Cookie, Set-Cookie, and any name containing "token", "key", "secret", "password" or "auth"
// (case-insensitive).
bool is_sensitive_header(std::string_view name);

// Replaces every occurrence of any of `secrets` in `text` with kRedacted. Empty secrets are
// ignored; overlapping matches are merged into one replacement. With `limit` set, only
// text[0, limit) is kept, and a secret that starts before `limit` and extends past it is
// replaced entirely (so truncating a body can never leave a secret's prefix behind, provided
// `text` holds at least the longest secret's length - 1 bytes beyond `limit`).
std::string scrub(std::string_view text, const std::vector<std::string>& secrets,
                  size_t limit = std::string_view::npos);

// "scheme://host[:port]/path" of an absolute URL with each query parameter's value replaced by
// kRedacted ("?q=[REDACTED]&page=[REDACTED]"; a parameter without '=' is kept as a name) and the
// fragment and any userinfo dropped. Input that is not an absolute URL is returned as "[REDACTED]"
// (never echoed raw: it could carry anything).
std::string redact_url(std::string_view url);

// The record as one JSON object (no newline), sanitized: sensitive header values redacted, and
// every string field scrubbed of `secrets`. Framing-safe: the line is printable ASCII only (every
// other character, U+2028/U+2029 and DEL included, is a \uXXXX escape; bytes that are not UTF-8
// become U+FFFD). Bounded: string fields are cut to a per-field budget (after scrubbing, so no
// secret prefix survives a cut) with kTruncatedMarker, header lists to 64 entries, hops to 32;
// if the line would still exceed kMaxRecordBytes - 1, the header lists and then the hops are
// replaced by a count ("request_headers_omitted": n, ...).
// An https_attempt record carries only: time, event, plugin, invocation_id, request, hop,
// method, url, address, rule, request_headers, request_bytes.
std::string to_json_line(const Event& event, const std::vector<std::string>& secrets);

// The current time as RFC 3339 UTC with milliseconds ("2026-01-02T03:04:05.678Z").
std::string now_rfc3339();

}  // namespace audit
}  // namespace wasmcap
