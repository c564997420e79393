// The wasmcap_https import module (ABI v1, docs/abi-https.md): guest memory <-> https::Request /
// https::Outcome. Policy lives in the Client; this file is the memory-safety boundary.
//
// Rules every function follows (each has a test in tests/https/abi_test.cc):
//   - Arguments are checked in a fixed order (flags/counts, handle, then every pointer range)
//     BEFORE anything is done, so a bad call has no effect: no request is sent, no handle is
//     consumed, no byte of guest memory is written.
//   - Ranges are computed in 64 bits (ptr + len cannot wrap) and checked by GuestMemory.
//   - The host writes at most buf_len bytes to buf, always; lengths that do not fit are reported
//     through *_out values, never by writing more.
//   - Every failure is an errno result; no callback traps (safe under a longjmp-based engine).
#include <array>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "common/host_bind.h"
#include "wasmcap/https.h"
#include "wasmcap/https_abi.h"

namespace wasmcap {
namespace https {
namespace {

using E = AbiErrno;

// Stable error names straight from the X-macro (no link dependency on the client library).
std::string_view error_name(HttpsError e) {
  switch (e) {
#define WASMCAP_X(en, name) \
  case HttpsError::en:      \
    return name;
    WASMCAP_HTTPS_ERRORS(WASMCAP_X)
#undef WASMCAP_X
  }
  return "network_error";
}

// RFC 9110 token characters (methods and header names). Anything else could smuggle a second
// header line or request line into the wire format, whatever the client does later.
bool is_tchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

// Header values: no CR, LF or NUL (header injection / truncation in the wire format).
bool is_safe_value(std::string_view s) {
  for (unsigned char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

class AbiState {
 public:
  explicit AbiState(std::shared_ptr<Client> client) : client_(std::move(client)) {}

  // --- The imports: each member's parameters are the import's, in order (host_bind.h) ---

  uint32_t version(const GuestMemory&) { return kAbiVersion; }

  // When the run's deadline passed or its interrupt was raised during the call, the run ends
  // after it (take_termination; the request's outcome is still behind the handle).
  E request(HostContext& c, uint32_t method_ptr, uint32_t method_len, uint32_t url_ptr,
            uint32_t url_len, uint32_t headers_ptr, uint32_t header_count, uint32_t body_ptr,
            uint32_t body_len, uint32_t flags, uint32_t handle_out) {
    const GuestMemory& m = c.memory;

    if ((flags & ~kFlagStrict) != 0) return E::kInval;  // unknown bits: a newer ABI's guest
    if (header_count > kMaxRequestHeaders) return E::kInval;
    if (method_len > kMaxMethodBytes) return E::kInval;

    // 1. Every range, checked in place: nothing is copied yet, so a guest that names the same
    //    16 MiB buffer for 1024 headers costs the host 1024 table reads here, not 16 GiB.
    const uint8_t* method = m.range(method_ptr, method_len);
    if (method == nullptr) return E::kFault;
    const uint8_t* url = m.range(url_ptr, url_len);
    if (url == nullptr) return E::kFault;
    // header_count <= 1024: the product cannot overflow even in 32 bits; 64 bits regardless.
    if (!m.in_bounds(headers_ptr, uint64_t{header_count} * kHeaderEntrySize)) return E::kFault;
    std::vector<std::array<uint32_t, 4>> entries(header_count);  // <= 16 KiB
    uint64_t header_bytes = 0;
    for (uint32_t i = 0; i < header_count; ++i) {
      auto& f = entries[i];
      const uint64_t at = uint64_t{headers_ptr} + uint64_t{i} * kHeaderEntrySize;
      for (uint32_t k = 0; k < 4; ++k) {
        if (!m.load(at + 4 * k, &f[k])) return E::kFault;
      }
      if (!m.in_bounds(f[0], f[1]) || !m.in_bounds(f[2], f[3])) return E::kFault;
      header_bytes += uint64_t{f[1]} + f[3] + 4;  // "Name: value\r\n", as the client counts
    }
    const uint8_t* body = m.range(body_ptr, body_len);
    if (body == nullptr) return E::kFault;
    if (!m.in_bounds(handle_out, 4)) return E::kFault;
    const std::string_view method_text(reinterpret_cast<const char*>(method), method_len);
    if (!is_token(method_text)) return E::kInval;

    std::lock_guard<std::mutex> lock(mu_);
    // Room for the handle is checked before the request goes out: a call that cannot return a
    // handle must not reach the network.
    if (open_.size() >= kMaxOpenHandles || next_handle_ == 0) return E::kTooManyHandles;

    // 2. The client's bounds on the declared sizes (max_requests, max_url_bytes, header count
    //    and bytes, body bytes), before any byte is copied. Only the method and a URL within the
    //    ABI's maximum are copied for the check (and its audit record).
    RequestShape shape;
    shape.method.assign(method_text);
    shape.url_bytes = url_len;
    if (url_len <= kAbiMaxUrlBytes) shape.url.assign(reinterpret_cast<const char*>(url), url_len);
    shape.header_count = header_count;
    shape.header_bytes = header_bytes;
    shape.body_bytes = body_len;
    std::optional<Failure> refused = client_->precheck(shape);
    // The ABI's own maximums hold whatever the client answered.
    if (!refused && (url_len > kAbiMaxUrlBytes || header_bytes > kAbiMaxRequestHeaderBytes ||
                     body_len > kAbiMaxRequestBytes)) {
      refused = Client::precheck_maximums(shape);
    }
    if (refused) return store(m, handle_out, tl::unexpected<Failure>(std::move(*refused)));

    // 3. Header syntax, read in place (bounded now by max_request_header_bytes).
    for (const auto& f : entries) {
      if (!is_token(view(m, f[0], f[1])) || !is_safe_value(view(m, f[2], f[3]))) return E::kInval;
    }

    // 4. Copy (every size is within the client's bounds) and send.
    Request req;
    req.strict = (flags & kFlagStrict) != 0;
    req.method = std::move(shape.method);
    req.url = std::move(shape.url);
    req.headers.resize(header_count);
    for (uint32_t i = 0; i < header_count; ++i) {
      req.headers[i].name.assign(view(m, entries[i][0], entries[i][1]));
      req.headers[i].value.assign(view(m, entries[i][2], entries[i][3]));
    }
    req.body.assign(reinterpret_cast<const char*>(body), body_len);
    if (c.limits != nullptr) {
      req.deadline = c.limits->deadline;
      req.interrupt = c.limits->interrupt;
    }
    Outcome outcome = client_->fetch(req);
    const bool interrupted =
        req.interrupt != nullptr && req.interrupt->load(std::memory_order_relaxed);
    // A transfer the run's deadline cut ends a moment before it (libcurl's millisecond timer):
    // a timeout that close to the deadline ends the run too, with the same 50 ms tolerance the
    // client uses to call it the run's deadline, so the guest never continues past it.
    const auto now = std::chrono::steady_clock::now();
    const bool cut_by_deadline = !outcome && outcome.error().code == HttpsError::kTimeout &&
                                 req.deadline != std::chrono::steady_clock::time_point::max() &&
                                 now + std::chrono::milliseconds(50) >= req.deadline;
    if (interrupted || now >= req.deadline || cut_by_deadline) {
      // The transfer was cut by the run's deadline or interrupt: the run ends here (its audit
      // record is written), not at the engine's next check. The wording is every engine's.
      ExecLimits limits;  // (c.limits is set by every engine; req holds the same two fields)
      limits.deadline = req.deadline;
      limits.interrupt = req.interrupt;
      termination_ = deadline_error(limits, "wasmcap_https.request");
    }
    return store(m, handle_out, std::move(outcome));
  }

  // info layout (docs/abi-https.md): u32 kind, u32 status, u64 body_len, u32 header_count,
  // u32 flags (bit 0: truncated).
  E response_info(const GuestMemory& m, uint32_t handle, uint32_t info_out) {
    std::lock_guard<std::mutex> lock(mu_);
    const Outcome* o = find(handle);
    if (o == nullptr) return E::kBadHandle;
    uint8_t* p = m.range(info_out, kResponseInfoSize);
    if (p == nullptr) return E::kFault;
    uint32_t kind = 1, status = 0, header_count = 0, flags = 0;
    uint64_t body_len = 0;
    if (o->has_value()) {
      kind = 0;
      status = (*o)->status;
      body_len = (*o)->body.size();
      header_count = static_cast<uint32_t>((*o)->headers.size());
      flags = (*o)->truncated ? 1u : 0u;
    }
    std::memcpy(p + 0, &kind, 4);
    std::memcpy(p + 4, &status, 4);
    std::memcpy(p + 8, &body_len, 8);
    std::memcpy(p + 16, &header_count, 4);
    std::memcpy(p + 20, &flags, 4);
    return E::kOk;
  }

  E header_name(const GuestMemory& m, uint32_t handle, uint32_t index, uint32_t buf,
                uint32_t buf_len, uint32_t len_out) {
    return header_part(m, handle, index, buf, buf_len, len_out, true);
  }

  E header_value(const GuestMemory& m, uint32_t handle, uint32_t index, uint32_t buf,
                 uint32_t buf_len, uint32_t len_out) {
    return header_part(m, handle, index, buf, buf_len, len_out, false);
  }

  E body_read(const GuestMemory& m, uint32_t handle, uint64_t offset, uint32_t buf,
              uint32_t buf_len, uint32_t nread_out) {
    std::lock_guard<std::mutex> lock(mu_);
    const Outcome* o = find(handle);
    if (o == nullptr) return E::kBadHandle;
    if (!o->has_value()) return E::kWrongKind;
    uint8_t* dst = m.range(buf, buf_len);
    if (dst == nullptr || !m.in_bounds(nread_out, 4)) return E::kFault;
    const std::string& body = (*o)->body;
    // offset at or past the end: 0 bytes (end of body), not an error.
    uint64_t n = 0;
    if (offset < body.size()) n = std::min<uint64_t>(buf_len, body.size() - offset);
    if (n != 0) std::memcpy(dst, body.data() + offset, n);
    m.store<uint32_t>(nread_out, static_cast<uint32_t>(n));
    return E::kOk;
  }

  E error_code(const GuestMemory& m, uint32_t handle, uint32_t buf, uint32_t buf_len,
               uint32_t len_out) {
    return error_part(m, handle, buf, buf_len, len_out, true);
  }

  E error_message(const GuestMemory& m, uint32_t handle, uint32_t buf, uint32_t buf_len,
                  uint32_t len_out) {
    return error_part(m, handle, buf, buf_len, len_out, false);
  }

  E close(const GuestMemory&, uint32_t handle) {
    std::lock_guard<std::mutex> lock(mu_);
    return open_.erase(handle) == 1 ? E::kOk : E::kBadHandle;
  }

  // The error that ends the run after this call, if any (a request cut by the deadline).
  std::optional<Error> take_termination() {
    std::optional<Error> t = std::move(termination_);
    termination_.reset();
    return t;
  }

 private:
  static constexpr uint32_t kFlagStrict = 1;

  E header_part(const GuestMemory& m, uint32_t handle, uint32_t index, uint32_t buf,
                uint32_t buf_len, uint32_t len_out, bool name) {
    std::lock_guard<std::mutex> lock(mu_);
    const Outcome* o = find(handle);
    if (o == nullptr) return E::kBadHandle;
    if (!o->has_value()) return E::kWrongKind;
    if (index >= (*o)->headers.size()) return E::kRange;
    const Header& h = (*o)->headers[index];
    return copy_out(m, name ? h.name : h.value, buf, buf_len, len_out);
  }

  E error_part(const GuestMemory& m, uint32_t handle, uint32_t buf, uint32_t buf_len,
               uint32_t len_out, bool code) {
    std::lock_guard<std::mutex> lock(mu_);
    const Outcome* o = find(handle);
    if (o == nullptr) return E::kBadHandle;
    if (o->has_value()) return E::kWrongKind;
    if (code) return copy_out(m, error_name(o->error().code), buf, buf_len, len_out);
    return copy_out(m, o->error().message, buf, buf_len, len_out);
  }

  // Keeps `outcome` behind a new handle and writes the handle to the guest. Called with mu_ held
  // after the room and the handle_out range were checked (memory cannot shrink during a call).
  E store(const GuestMemory& m, uint32_t handle_out, Outcome outcome) {
    const uint32_t h = next_handle_++;  // never reused: a stale handle stays invalid
    open_.emplace(h, std::move(outcome));
    m.store<uint32_t>(handle_out, h);
    return E::kOk;
  }

  // Guest bytes [ptr, ptr+len) in place; the range was checked by the caller.
  static std::string_view view(const GuestMemory& m, uint32_t ptr, uint32_t len) {
    return std::string_view(reinterpret_cast<const char*>(m.range(ptr, len)), len);
  }

  const Outcome* find(uint32_t handle) const {
    auto it = open_.find(handle);
    return it == open_.end() ? nullptr : &it->second;
  }

  // Writes min(len, buf_len) bytes of `s` to buf and the full length to *len_out, so a guest with
  // a short buffer learns the size it needs without the host writing past its buffer.
  static E copy_out(const GuestMemory& m, std::string_view s, uint32_t buf, uint32_t buf_len,
                    uint32_t len_out) {
    uint8_t* dst = m.range(buf, buf_len);
    if (dst == nullptr || !m.in_bounds(len_out, 4)) return E::kFault;
    // Strings stored here come from a bounded response (or a short message); a length over 4 GiB
    // cannot be described in the ABI, so it is reported as 4 GiB - 1 (never happens in practice).
    const uint64_t full = std::min<uint64_t>(s.size(), UINT32_MAX);
    const uint64_t n = std::min<uint64_t>(full, buf_len);
    if (n != 0) std::memcpy(dst, s.data(), n);
    m.store<uint32_t>(len_out, static_cast<uint32_t>(full));
    return E::kOk;
  }

  std::shared_ptr<Client> client_;
  std::mutex mu_;
  std::map<uint32_t, Outcome> open_;
  uint32_t next_handle_ = 1;  // 0 is never a handle; wraps to 0 only after 2^32-1 requests
  std::optional<Error> termination_;  // set by request(), taken after the call
};

// One list, many uses: registration and the names table. Each import's wasm signature comes
// from its AbiState member's parameter types (common/host_bind.h), as for WASI.
#define WASMCAP_HTTPS_ABI_FUNCTIONS(X) \
  X(version)                           \
  X(request)                           \
  X(response_info)                     \
  X(header_name)                       \
  X(header_value)                      \
  X(body_read)                         \
  X(error_code)                        \
  X(error_message)                     \
  X(close)

using AbiImport = host_bind::Import<AbiState>;

constexpr AbiImport kImports[] = {
#define WASMCAP_IMPORT(name) WASMCAP_BIND_IMPORT(AbiState, name),
    WASMCAP_HTTPS_ABI_FUNCTIONS(WASMCAP_IMPORT)
#undef WASMCAP_IMPORT
};

// Every function returns an errno (version() its number) and ends the run only when request()
// says so. An exception (running out of host memory while copying a request or storing a
// response: the only allocations in proportion to guest input) ends the run with an error at
// the engine boundary (engine/host_call.h), never unwinds through an engine.
HostFunc bind_import(const std::shared_ptr<AbiState>& st, const AbiImport& import) {
  HostFunc f;
  f.module = kAbiModule;
  f.name = import.name;
  f.sig = import.sig();
  host_bind::Invoke<AbiState> invoke = import.invoke;
  f.callback = [st, invoke](HostContext& ctx, const Value* args, Value* results) {
    try {
      invoke(*st, ctx, args, results);
    } catch (...) {
      (void)st->take_termination();  // nothing of the failed call is left for the next one
      throw;
    }
    if (auto t = st->take_termination()) return HostCallResult::fail(std::move(*t));
    return HostCallResult::ok();
  };
  return f;
}

}  // namespace

void register_https_abi(std::shared_ptr<Client> client, HostFuncTable& table) {
  auto st = std::make_shared<AbiState>(std::move(client));
  for (const AbiImport& import : kImports) table.add(bind_import(st, import));
}

const std::vector<std::string>& https_abi_function_names() {
  static const std::vector<std::string> names = {
#define WASMCAP_NAME(name) #name,
      WASMCAP_HTTPS_ABI_FUNCTIONS(WASMCAP_NAME)
#undef WASMCAP_NAME
  };
  return names;
}

}  // namespace https
}  // namespace wasmcap
