// Internal: the WASI 0.2 host interfaces (layer 4 of running components, docs/components.md,
// "WASI 0.2"), served to a component's imports through a HostRegistry (component/host.h) over the
// same ABI-neutral capability layer the Preview 1 binding uses (wasi/core.h, wasi::Core): one
// sandbox, one set of grants and bounds, whichever ABI the guest speaks.
//
// Interfaces are registered under their 0.2 semver series ("wasi:cli/environment@0.2"), so an
// import of any 0.2.x a toolchain emits (0.2.0 from wasi-sdk and jco's preview1 adapter, 0.2.3,
// 0.2.6, ...) is served, and a 0.3 or an unversioned one is not (HostRegistry's version rule).
#pragma once

#include <cstdint>
#include <memory>

#include "component/host.h"
#include "wasi/core.h"
#include "wasmcap/https.h"

namespace wasmcap::wasip2 {

// The semver series every interface is registered under.
inline constexpr const char* kSeries = "@0.2";

// wasi:cli/environment (get-arguments, get-environment, initial-cwd), wasi:cli/exit (exit,
// exit-with-code), wasi:clocks/monotonic-clock and wasi:clocks/wall-clock (now, resolution),
// wasi:random/random, wasi:random/insecure and wasi:random/insecure-seed. Clocks and random come
// from the run's grants (--clock, --random: the fixed clock and the seeded stream make a run
// deterministic); a read of a clock or of random the run is not granted traps, naming the grant
// (0.2 gives these functions no error result). `core` must outlive every instance using `host`.
void add_cli_clocks_random(component::HostRegistry& host, wasi::Core& core);

class Objects;  // objects.h: the host objects behind resource handles

// wasi:io/error, wasi:io/poll, wasi:io/streams, wasi:cli/stdin, stdout, stderr (streams over the
// run's stdio: the same output cap, sinks and broken-pipe rule as P1's fd 1 and 2),
// wasi:cli/terminal-* (no terminal is ever exposed: every get-terminal-* is none) and
// wasi:clocks/monotonic-clock's subscribe-instant and subscribe-duration. A wait (poll, block,
// blocking reads) ends with the run's deadline or interrupt, and under --clock fixed= moves the
// virtual clock instead of sleeping. Returns the object table the filesystem binding shares.
std::shared_ptr<Objects> add_io(component::HostRegistry& host, wasi::Core& core);

// wasi:filesystem/preopens (get-directories: the run's preopens, ro as granted) and
// wasi:filesystem/types' descriptors over Core's open descriptions (so far: get-type, stat,
// stat-at, open-at, read-via-stream, write-via-stream, append-via-stream, create-directory-at,
// remove-directory-at, unlink-file-at, read-directory, read-directory-entry,
// filesystem-error-code). Paths go through Core's resolver (the rules of P1's path_* calls);
// errors are error-code values, the sandbox's refusals (not-capable, escape) `access`.
void add_filesystem(component::HostRegistry& host, wasi::Core& core, std::shared_ptr<Objects> objects);

// What wasi:http is served over: the run's https client (the https host API's policy, bounds,
// secrets by reference and audit), or none when the run is not granted https (every request is
// then refused with HTTP-request-denied before anything leaves).
struct HttpOptions {
  std::shared_ptr<https::Client> client;
  // An outgoing body's bound: the plan's max_request_bytes (bodies are buffered until finished).
  uint64_t max_request_bytes = https::kDefaultMaxRequestBytes;
  // Headers and buffered request bodies the component makes, together (a trap beyond).
  uint64_t max_state_bytes = uint64_t{64} << 20;
};

// wasi:http/types (fields, outgoing-request/-response, request-options, outgoing-body,
// future-incoming-response, incoming-response/-body, future-trailers, http-error-code) and
// wasi:http/outgoing-handler (handle), over `options.client`: docs/components.md, "wasi:http".
// Headers and buffered bodies the component makes are bounded together (max_state_bytes, a trap
// beyond). Needs add_io's objects (bodies are its streams, futures its pollables).
void add_http(component::HostRegistry& host, wasi::Core& core, std::shared_ptr<Objects> objects, HttpOptions options);

}  // namespace wasmcap::wasip2
