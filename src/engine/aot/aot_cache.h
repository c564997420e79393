// The AOT object cache: compiled modules under a per-user directory, keyed by everything that
// determines the object's bytes, verified before every dlopen.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "wasmcap/engine.h"
#include "wasmcap/error.h"
#include "engine/aot/translate.h"
#include "engine/cache_files.h"

namespace wasmcap::aot {

// Bounds of one compiler run (docs/aot.md, "Compile bounds"). The compiler runs in its own
// process group under RLIMIT_AS/RLIMIT_DATA = memory_bytes and RLIMIT_CPU; the group is killed at
// timeout_ms, at `deadline`, when `interrupt` is raised, and when wasmcap dies.
struct CompileLimits {
  uint64_t timeout_ms = kDefaultCompileTimeoutMs;
  uint64_t memory_bytes = kDefaultCompileMemoryMb << 20;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const std::atomic<bool>* interrupt = nullptr;
};

// The default wall-clock limit grows with the module's code (docs/aot.md, "Compile bounds"):
// gcc -O2 costs 40-50 CPU s per MiB of wasm code (esbuild: 13 MiB, ~540 CPU s), and a
// background compile runs at nice 10 on a machine that may be busy, so a flat 120 s made every
// module above ~3 MiB of code fail, and a failed background compile is not retried for a day.
// The limit is kDefaultCompileTimeoutMs + kCompileTimeoutPerCodeMibMs per MiB of code, at most
// kMaxScaledCompileTimeoutMs; an explicit AotOptions::compile_timeout_ms is used as given.
inline constexpr uint64_t kCompileTimeoutPerCodeMibMs = 150000;
inline constexpr uint64_t kMaxScaledCompileTimeoutMs = 30 * 60 * 1000;

// The limits `options` ask for (0 = the defaults above, the time limit scaled by `code_bytes`,
// the size of the module's code section: wasm_code_bytes()).
CompileLimits compile_limits(const AotOptions& options, uint64_t code_bytes = 0);

// The size in bytes of the code section of the wasm binary `bytes` (the function bodies), 0 when
// there is none or the section headers before it are malformed. Never more than `size`: the
// declared size must fit in the bytes, so a module cannot claim code it does not have.
uint64_t wasm_code_bytes(const uint8_t* bytes, size_t size);

// The C compiler and flags one engine uses.
struct Toolchain {
  std::string compiler;  // absolute path
  std::string identity;  // `cc --version` output + path (memoised on disk, see compiler_identity)
  std::vector<std::string> flags;
  bool interruptible = true;  // translation setting, part of the key
  // Poll the interrupt flag in guest code even where the runtime preempts (translate()'s
  // `poll`; $WASMCAP_AOT_POLL=1, a measurement knob: bench/notes/2026-11-23-aot-v6-preemption.md). Part of the key.
  bool poll = !kAsyncPreemption;
  int opt_level = 2;          // the -O in `flags`
  uint32_t unit_functions = 0;  // split setting (translate()), part of the key
  unsigned jobs = 1;          // compilers at once (not part of the key: same object); 0 = the
                              // online CPUs, counted when a compile needs them (compile_jobs)
  CompileLimits limits;       // not part of the key: a compile either finishes or stores nothing
};

// The cache directory for `options` (option, $WASMCAP_CACHE_DIR, $XDG_CACHE_HOME/wasmcap/aot,
// ~/.cache/wasmcap/aot), created 0700 when missing. Refused (io_error) when it is not a directory
// owned by this user, or is group/world-writable: another user could plant objects there.
Result<std::string> open_cache_dir(const AotOptions& options);

// The compiler named by options/$WASMCAP_CC/"cc", resolved through PATH; not_found if none.
Result<std::string> find_compiler(const AotOptions& options);

// The compilers a split compile runs at once: tc.jobs, or the online CPUs (at most 64) when it
// is 0 (make_toolchain leaves the count to the compile: a cached run never needs it).
unsigned compile_jobs(const Toolchain& tc);

// The compilers a background compile runs at once (AotOptions::background_jobs): as given, else
// half of `cpus` (at least 1); never more than an explicit compile_jobs or $WASMCAP_AOT_JOBS;
// 1..64. `cpus` is the online CPUs but for tests.
unsigned background_compile_jobs(const AotOptions& options, long cpus);

// Compiler + identity + flags for `options`. The identity is memoised under the cache dir by the
// compiler binary's (path, size, mtime, inode), so a cached run does not spawn the compiler.
Result<Toolchain> make_toolchain(const AotOptions& options, const std::string& cache_dir);

// Lowercase hex sha256 of the cache key: module bytes + wabt version + compiler identity and
// flags + instrumentation and ABI versions.
// `translator_version` is kInstrumentationVersion but for tests.
std::string cache_key(const std::vector<uint8_t>& module, const Toolchain& tc,
                      int translator_version);
std::string cache_key(const std::vector<uint8_t>& module, const Toolchain& tc);
// The same from the module's lowercase hex sha256 (module_sha256), which the key covers in place
// of the bytes themselves.
std::string module_sha256(const uint8_t* bytes, size_t size);
std::string cache_key_for_module_hash(const std::string& module_sha256, const Toolchain& tc,
                                      int translator_version);
std::string cache_key_for_module_hash(const std::string& module_sha256, const Toolchain& tc);

// Module file records (docs/aot.md, "Cold start"): shared with the fast engine's validation
// records, see cache_files.h.
using cache::kMaxFileRecords;
using cache::module_file_record;
using cache::module_file_record_path;
using cache::record_module_sha256;
using cache::recorded_module_sha256;

// The path of a verified object for `key`: its sidecar names the key and the sha256 of the .so,
// both files are regular, owned by this user and not group/world-writable. Returns an open file
// descriptor of the verified object (dlopen it through /proc/self/fd, so what was checked is
// what is loaded), or -1 when there is no valid entry (missing, corrupt or foreign).
int lookup(const std::string& dir, const std::string& key);

// Temporary directories are named tmp-KEY-XXXXXX and made while KEY.lock is held: one whose
// lock nobody holds belongs to a compile that was killed. Removes those (`own_key`'s too: the
// caller holds that key's lock; "" for none).
void sweep_stale_tmp(const std::string& dir, const std::string& own_key);

struct CompileRequest {
  std::string module_c, module_h, glue_c;
  // A split translation (TranslatedModule): compiled as separate units in parallel, linked once.
  std::string common_h;
  std::vector<CodeUnit> units;
  uint32_t functions = 0;
  bool progress = false;     // spinner on stderr when it is a terminal and the compile is long
  std::string what;          // shown in the progress line
};

// Compiles under an exclusive lock on the entry (concurrent compiles of one module wait, then
// reuse), under tc.limits (compile_limit when the compiler hits them, deadline_exceeded at the
// deadline or on interrupt; the temporary directory is removed in every case, and stale ones
// left by killed processes are swept first), writing to temporary names and renaming into place (sidecar last). Returns an open,
// verified descriptor like lookup(). `translate` is called only if the entry is still missing
// once the lock is held.
Result<int> compile_and_store(const std::string& dir, const std::string& key, const Toolchain& tc,
                              const std::function<Result<CompileRequest>()>& translate);

}  // namespace wasmcap::aot
