// Audit events beyond https requests (docs/audit.md): a run's start and end, and changes to the
// local registry and trust store. Same JSON Lines files and sinks as the https events
// (wasmcap/audit.h); every record carries "event" and "time" (https requests: "https_request").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wasmcap/audit.h"
#include "wasmcap/error.h"
#include "wasmcap/policy.h"

namespace wasmcap {
namespace audit {

struct RunInfo {
  std::string invocation_id;
  std::string plugin;   // manifest name ("" for a flag-based run)
  std::string version;  // manifest version
  std::string module;   // module path or bundle reference
  std::string module_sha256;
  std::string engine;  // as requested ("auto" until the run resolves it)
  // The run's effective clocks and random, after pins (docs/wasi-support.md#clocks-and-random):
  // which clocks are on, and the sources' canonical spellings ("" = none: ENOTCAPABLE). A
  // pinned run can be replayed from these.
  bool clock_wall = false;
  bool clock_monotonic = false;
  std::string clock_source;
  std::string random_source;
  // What the run gets as it runs, after every narrowing (the front end's limits, --degrade's
  // denials): run_start's "grants" fs, env and args and its "limits" say these, so a flag-based
  // run's record names its --dir/--env grants and a narrowed limit is the one recorded. The https
  // rules and secret names come from the plan.
  struct Mount {
    std::string guest;
    bool read_only = false;
    bool denied = false;
  };
  std::vector<Mount> fs;
  std::vector<std::string> env;  // names only: values are the operator's
  bool args = false;             // the guest may be given arguments
  std::optional<uint64_t> max_memory_mb, timeout_ms, fuel;
  uint64_t max_write_mb = 0;  // the write budget's bytes (WasiConfig::max_write_bytes), MiB
};

// {"event":"run_start", time, plugin, version, invocation_id, module, module_sha256, engine,
//  grants: {fs: [{guest, access, denied}], env: [names], args, https: ["GET host /prefix"],
//  secrets: [names]}, limits: {max_memory_mb, timeout_ms, fuel, max_write_mb}, clocks: {wall, monotonic,
//  source}, random}. Host paths and env values are
// not recorded (they are the operator's; the guest path and name identify the grant).
std::string run_start_line(const RunInfo& run, const policy::Plan* plan);

// {"event":"run_end", time, plugin, version, invocation_id, engine, outcome ("exit" | "error"),
//  exit_code (null on error), error (code or null), message, limit_hit (fuel_exhausted,
//  deadline_exceeded, memory_limit, output_limit, or null), wall_ms, fuel_consumed,
//  write_budget_refused (the write budget answered ENOSPC at least once: one field per run, not
//  a record per write)}.
std::string run_end_line(const RunInfo& run, const std::string& engine, std::optional<int> exit_code,
                         const std::optional<Error>& error, double wall_ms, uint64_t fuel_consumed,
                         bool write_budget_refused = false);

// The host config's audit file (audit.file) as a sink that follows its audit.on_failure choice;
// nullptr when the config names no file. io_error when the file cannot be opened.
Result<std::shared_ptr<Sink>> open_configured_sink(const policy::AuditConfig& config);

// {"event":"bundle_install"|"bundle_remove"|"trust_add"|"trust_remove"|"trust_revoke"|
//  "trust_unrevoke", time,
//  plus the given string fields}.
std::string registry_line(const std::string& event,
                          const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace audit
}  // namespace wasmcap
