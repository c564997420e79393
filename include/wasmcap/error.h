// Errors as values: every fallible wasmcap API returns Result<T>.
//
// Public headers of wasmcap are kept C++17-compatible because the translation units that include
// wabt's headers (the interpreter's loader, the AOT translator) must be compiled as C++17 (wabt's
// interp headers do not build as C++20).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace wasmcap {

// X-macro: (enumerator, stable snake_case name, CLI exit code). This is the one table of
// wasmcap's exit codes (docs/cli.md "Exit status" mirrors it; tests/common/error_test.cc checks
// the doc against it). wasmcap's own codes stay below 126: 126-165 mean "command not executable",
// "not found" and "killed by signal N" to shells and supervisors (137 = SIGKILL/OOM-killed).
// Append new codes at the end: the C API numbers codes by position (include/wasmcap/wasmcap.h).
#define WASMCAP_ERROR_CODES(X)                                   \
  X(kInvalidArgument, "invalid_argument", 64)                    \
  X(kIo, "io_error", 74)                                         \
  X(kNotFound, "not_found", 66)                                  \
  X(kModuleMalformed, "module_malformed", 65)                    \
  X(kModuleUnsupported, "module_unsupported", 65)                \
  X(kLinkError, "link_error", 67)                                \
  X(kNoEntryPoint, "no_entry_point", 67)                         \
  X(kTrapUnreachable, "trap_unreachable", 80)                   \
  X(kTrapMemoryOutOfBounds, "trap_memory_out_of_bounds", 80)    \
  X(kTrapTableOutOfBounds, "trap_table_out_of_bounds", 80)      \
  X(kTrapIntegerDivideByZero, "trap_integer_divide_by_zero", 80) \
  X(kTrapIntegerOverflow, "trap_integer_overflow", 80)          \
  X(kTrapInvalidConversion, "trap_invalid_conversion", 80)      \
  X(kTrapIndirectCallNull, "trap_indirect_call_null", 80)       \
  X(kTrapIndirectCallMismatch, "trap_indirect_call_mismatch", 80) \
  X(kTrapStackExhausted, "trap_stack_exhausted", 80)            \
  X(kTrapHost, "trap_host", 80)                                 \
  X(kTrapOther, "trap", 80)                                     \
  X(kFuelExhausted, "fuel_exhausted", 81)                       \
  X(kDeadlineExceeded, "deadline_exceeded", 82)                 \
  X(kMemoryLimit, "memory_limit", 83)                           \
  X(kOutputLimit, "output_limit", 84)                           \
  X(kManifestInvalid, "manifest_invalid", 65)                    \
  X(kConfigInvalid, "config_invalid", 78)                        \
  X(kGrantDenied, "grant_denied", 77)                            \
  X(kCapabilityUnavailable, "capability_unavailable", 69)        \
  X(kBundleInvalid, "bundle_invalid", 65)                        \
  X(kBundleUntrusted, "bundle_untrusted", 77)                    \
  X(kBundleRevoked, "bundle_revoked", 77)                        \
  X(kBundleConflict, "bundle_conflict", 73)                      \
  X(kInternal, "internal_error", 70)                             \
  X(kCompileLimit, "compile_limit", 85)                          \
  X(kWorkspaceConflict, "workspace_conflict", 73)                \
  X(kTrapUncaughtException, "trap_uncaught_exception", 80)

enum class ErrorCode : uint16_t {
#define WASMCAP_X(e, name, exit) e,
  WASMCAP_ERROR_CODES(WASMCAP_X)
#undef WASMCAP_X
};

// Stable machine-readable name of an error code ("trap_unreachable", ...).
std::string_view error_code_name(ErrorCode code);
// Documented process exit code the CLI uses for an error of this code.
int error_exit_code(ErrorCode code);
// True for every kTrap* code.
bool is_trap(ErrorCode code);

// Quotes text that came from an untrusted source (a module's import/export names, a guest's
// bytes) for a message or terminal line: "..." with printable ASCII kept, `"` `\` and every
// other byte escaped as \xNN, at most `max` input bytes (then "..."). A hostile name can then
// neither forge lines, inject terminal escapes nor flood a log.
std::string quote_untrusted(std::string_view s, size_t max = 64);
// For listings (`inspect`): a plain name ([A-Za-z0-9_.$-]{1,max}) as it is, anything else
// through quote_untrusted, so ordinary names read naturally and odd ones cannot mislead.
std::string display_untrusted(std::string_view s, size_t max = 64);

// A small error value: a code for programs, a message for humans. The message says what went
// wrong and, where possible, what to do next. It never contains secret values.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  Error() = default;
  Error(ErrorCode c, std::string m) : code(c), message(std::move(m)) {}

  // "code_name: message"
  std::string to_string() const;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}

}  // namespace wasmcap

// WASMCAP_TRY(expr): if the Result `expr` holds an error, returns it from the enclosing function
// (which returns a Result of any type); otherwise goes on. `expr` is evaluated once. A named
// Result is neither copied nor moved from (its error is copied out), so
//     auto file = open_file(path);
//     WASMCAP_TRY(file);
//     use(*file);
// is the same as `if (!file) return tl::unexpected(file.error());`.
#define WASMCAP_TRY(expr)                                                                     \
  do {                                                                                        \
    auto&& wasmcap_try_r_ = (expr);                                                           \
    if (!wasmcap_try_r_) {                                                                    \
      return ::tl::unexpected(std::forward<decltype(wasmcap_try_r_)>(wasmcap_try_r_).error()); \
    }                                                                                         \
  } while (0)

// WASMCAP_TRY_ASSIGN(lhs, expr): assigns the value of the Result `expr` to `lhs`, or returns its
// error from the enclosing function as WASMCAP_TRY does. A temporary's value is moved, a named
// Result's copied.
#define WASMCAP_TRY_ASSIGN(lhs, expr)                                                         \
  do {                                                                                        \
    auto&& wasmcap_try_r_ = (expr);                                                           \
    if (!wasmcap_try_r_) {                                                                    \
      return ::tl::unexpected(std::forward<decltype(wasmcap_try_r_)>(wasmcap_try_r_).error()); \
    }                                                                                         \
    lhs = *std::forward<decltype(wasmcap_try_r_)>(wasmcap_try_r_);                            \
  } while (0)
