// Internal to wasmcap (not a public header): the AOT engine with the link check that runs
// before any compile (docs/aot.md, "Imports are checked first"). run_module() uses it.
#pragma once

#include <functional>
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
//
// `describe`: how load() validates and describes a module it has no stored description of
// (module-SHA.desc, docs/aot.md "Cold start"); it must answer as the wabt oracle's load() does
// (describe.h). Default (null): describe_module(). --engine auto passes one that loads the module
// on the fast engine and keeps it for the run, so the module is validated once. It sets
// `*within_aot_bounds` to whether its validating pass found every bound of the AOT translator
// held (describe.h; false when unknown: load() then checks them in a pass of its own). The
// module's hash is in the ModuleBytes it is given (load() learnt or computed it first).
using AotDescribe =
    std::function<Result<ModuleInfo>(const ModuleBytes& module, bool* within_aot_bounds)>;
std::unique_ptr<Engine> make_aot_engine_linked(AotOptions options,
                                               std::shared_ptr<const HostFuncTable> link_check,
                                               AotDescribe describe = nullptr);

}  // namespace wasmcap

namespace wasmcap {

// Translates and compiles `module` (already validated by the caller) into the cache `options`
// names, unless a verified object is there already; no dlopen. `key_out` receives the entry's
// cache key (named by module.sha256(): hashed here unless known). The background compile's
// worker runs this. The translator's bounds are checked by translate() before anything is
// translated.
Result<void> aot_precompile(const ModuleBytes& module, const AotOptions& options,
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
// closed. A compile that failed because of the module (failure_is_the_modules) leaves a marker
// (KEY.failed) that stops further background compiles of the module for a day; a foreground
// compile (`wasmcap compile`, --wait-for-compile) retries.
// The cache key is named by module.sha256() (known from the AOT engine's probe of these very
// bytes, or hashed here).
BackgroundCompile start_background_compile(const ModuleBytes& module, const AotOptions& options);

}  // namespace wasmcap

namespace wasmcap::aot {

// Whether a failed compile says something about the module (malformed, unsupported, over the
// compile's bounds), as opposed to this machine's state at the time (io_error: a full disk, EIO;
// internal errors; deadlines). Only the former leave a marker: a transient failure must not keep
// a module interpreted for a day after space returns.
bool failure_is_the_modules(const Error& error);

// The marker a failed background compile leaves in the cache (KEY.failed, one line: the error
// code) when failure_is_the_modules. Markers older than a day are ignored.
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
