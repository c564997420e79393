// Internal to wasmcap (not a public header): the AOT engine with the link check that runs
// before any compile (docs/aot.md, "Imports are checked first"). run_module() uses it.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <string>

#include "wasmcap/engine.h"

namespace wasmcap {

// Like make_aot_engine(options), and load() first checks every imported function against
// `link_check` (names and signatures only; nothing in it is ever called). A module that cannot
// link is not translated or compiled: load() returns it without an object and instantiate()
// reports the interpreter's link error (same code, same message).
std::unique_ptr<Engine> make_aot_engine_linked(AotOptions options,
                                               std::shared_ptr<const HostFuncTable> link_check);

}  // namespace wasmcap

namespace wasmcap {

// Translates and compiles `bytes` (already validated by the caller) into the cache `options`
// names, unless a verified object is there already; no dlopen. `key_out` receives the entry's
// cache key. The background compile's worker runs this.
Result<void> aot_precompile(const uint8_t* bytes, size_t size, const AotOptions& options,
                            std::string* key_out = nullptr);

// True when `module` was loaded by an aot engine and has a compiled object (false: a module
// refused at link time, or another engine's).
bool aot_module_has_object(const Module& module);

// A compile `--engine auto` started so that the next run finds an object (docs/aot.md,
// "Background compile").
struct BackgroundCompile {
  int pid = 0;         // the worker's process id (not a child of the caller); 0 = not started
  std::string reason;  // why it was not started, when pid == 0
};

// At most this many background compiles run at once per cache directory.
inline constexpr int kMaxBackgroundCompiles = 2;

// Starts a detached worker process that compiles `bytes` into the cache and exits. Bounds (all
// of them hold after the caller exits or is killed): one worker per cache entry (the entry's
// lock) and kMaxBackgroundCompiles per cache directory (slot locks bg-N.lock); nice 10; the
// compile's own time and memory bounds (AotOptions::compile_timeout_ms, by default scaled by the
// module's code: compile_limits(); compile_memory_mb; the run's deadline does not apply) plus an alarm that ends the worker 30 s after the compile's
// time limit whatever it is doing; stdin/stdout/stderr on /dev/null and every other descriptor
// closed. A failed compile leaves a marker (KEY.failed) that stops further background compiles
// of the module for a day; a foreground compile (`wasmcap compile`, --wait-for-compile) retries.
BackgroundCompile start_background_compile(const uint8_t* bytes, size_t size,
                                           const AotOptions& options);

}  // namespace wasmcap

namespace wasmcap::aot {

// The marker a failed background compile leaves in the cache (KEY.failed, one line: the error
// code). Markers older than a day are ignored.
void record_failure(const std::string& dir, const std::string& key, const Error& error);
// The recorded error code of a failure younger than a day, or "" when there is none.
std::string recent_failure(const std::string& dir, const std::string& key);
void clear_failure(const std::string& dir, const std::string& key);

}  // namespace wasmcap::aot

namespace wasmcap::aot {

// The module description sidecar KEY.desc (docs/aot.md, "Cold start"): written after the first
// validation of the module, read instead of validating again. Decoding is strict and bounded;
// a missing, foreign or damaged file reads as nullopt (validate as usual).
std::string encode_module_info(const ModuleInfo& info);
std::optional<ModuleInfo> decode_module_info(std::string_view body);
void store_module_info(const std::string& dir, const std::string& key, const ModuleInfo& info);
std::optional<ModuleInfo> load_module_info(const std::string& dir, const std::string& key);

}  // namespace wasmcap::aot
