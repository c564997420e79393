// The guest-facing half of the https host API: the `wasmcap_https` import module.
//
// register_https_abi() binds the module's functions into a HostFuncTable on top of an
// https::Client (wasmcap/https.h), which holds all policy. This layer only moves bytes between
// guest memory and Request/Response values, and it is the memory-safety boundary: every guest
// pointer and length is checked (overflow-safe) before use, a bad one is an ABI errno returned to
// the guest, never a trap or a host crash, and the host never writes outside the buffer the guest
// named. Responses stay on the host behind small integer handles; the guest pulls the body in
// chunks of its choosing. The exact ABI is specified in docs/abi-https.md.
//
// Host callbacks only return HostCallResult::ok() (errno in the result): they never trap, so an
// engine that unwinds traps with longjmp never skips a C++ destructor here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wasmcap/engine.h"

namespace wasmcap {
namespace https {

class Client;

// Version of the ABI documented in docs/abi-https.md; `wasmcap_https.version()` returns it.
constexpr uint32_t kAbiVersion = 1;

// Name of the import module.
constexpr const char* kAbiModule = "wasmcap_https";

// ABI status codes (the i32 every function but version() returns).
#define WASMCAP_HTTPS_ABI_ERRNOS(X)                                                           \
  X(kOk, 0, "ok")                                                                             \
  X(kFault, 1, "fault")              /* a pointer/length reaches outside guest memory */      \
  X(kInval, 2, "inval")              /* malformed argument (flags, method, header, count) */  \
  X(kBadHandle, 3, "badhandle")      /* not an open handle */                                 \
  X(kTooManyHandles, 4, "toomany")   /* kMaxOpenHandles handles are open: close one */        \
  X(kRange, 5, "range")              /* header index out of range */                          \
  X(kWrongKind, 6, "wrongkind")      /* response call on an error handle, or vice versa */

enum class AbiErrno : uint32_t {
#define WASMCAP_X(e, v, name) e = v,
  WASMCAP_HTTPS_ABI_ERRNOS(WASMCAP_X)
#undef WASMCAP_X
};

// Open response handles per instance. Each holds at most the plan's response-size bound on the
// host; the cap bounds what one guest can make the host retain.
constexpr uint32_t kMaxOpenHandles = 8;
// Request headers per call: an ABI bound on the host-side copy, equal to the largest
// max_request_headers an operator may configure (the client applies the configured bound, default
// 64, as request_too_large).
constexpr uint32_t kMaxRequestHeaders = 1024;
// Longest method token accepted.
constexpr uint32_t kMaxMethodBytes = 32;
// Size of the struct response_info() writes.
constexpr uint32_t kResponseInfoSize = 24;
// Size of one request header entry {name_ptr, name_len, value_ptr, value_len}.
constexpr uint32_t kHeaderEntrySize = 16;

// Binds every wasmcap_https function into `table`, served by `client`. The functions keep the
// client and their handle table alive (shared ownership). One registration serves one instance
// at a time: its handles are that instance's. `client` must not be null.
void register_https_abi(std::shared_ptr<Client> client, HostFuncTable& table);

// The names of the functions register_https_abi() binds (for docs and tests).
const std::vector<std::string>& https_abi_function_names();

}  // namespace https
}  // namespace wasmcap
