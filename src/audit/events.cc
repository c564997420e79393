// Run and registry audit records (wasmcap/audit_events.h). Separate from audit.cc (the https
// request records) so each kind of record has one owner.
#include <nlohmann/json.hpp>

#include "wasmcap/audit_events.h"

namespace wasmcap::audit {
namespace {

std::string dump(const nlohmann::json& j) {
  // Invalid UTF-8 (a module path, say) is replaced, never written raw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json opt(const std::optional<uint64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

std::string run_start_line(const RunInfo& run, const policy::Plan* plan) {
  nlohmann::json j = {{"event", "run_start"},       {"time", now_rfc3339()},
                      {"plugin", run.plugin},       {"version", run.version},
                      {"invocation_id", run.invocation_id}, {"module", run.module},
                      {"module_sha256", run.module_sha256}, {"engine", run.engine}};
  nlohmann::json grants = {{"fs", nlohmann::json::array()}, {"env", nlohmann::json::array()},
                           {"args", false}, {"https", nlohmann::json::array()},
                           {"secrets", nlohmann::json::array()}};
  for (const auto& m : run.fs) {
    grants["fs"].push_back({{"guest", m.guest}, {"access", m.read_only ? "ro" : "rw"}, {"denied", m.denied}});
  }
  for (const auto& name : run.env) grants["env"].push_back(name);
  grants["args"] = run.args;
  nlohmann::json limits = {{"max_memory_mb", opt(run.max_memory_mb)},
                           {"timeout_ms", opt(run.timeout_ms)},
                           {"fuel", opt(run.fuel)},
                           {"max_write_mb", run.max_write_mb}};
  if (plan != nullptr) {
    if (plan->https) {
      for (const auto& r : plan->https->allow) {
        std::string methods;
        for (const auto& m : r.methods) methods += (methods.empty() ? "" : ",") + m;
        grants["https"].push_back(methods + " " + r.host + " " + r.path_prefix);
      }
      for (const auto& s : plan->https->secrets) grants["secrets"].push_back(s.name);
    }
    if (!plan->denied.empty()) j["denied"] = plan->denied;
  }
  j["grants"] = grants;
  j["limits"] = limits;
  j["clocks"] = {{"wall", run.clock_wall},
                 {"monotonic", run.clock_monotonic},
                 {"source", run.clock_source.empty() ? nlohmann::json(nullptr)
                                                     : nlohmann::json(run.clock_source)}};
  j["random"] = run.random_source.empty() ? nlohmann::json(nullptr) : nlohmann::json(run.random_source);
  return dump(j);
}

std::string run_end_line(const RunInfo& run, const std::string& engine, std::optional<int> exit_code,
                         const std::optional<Error>& error, double wall_ms, uint64_t fuel_consumed,
                         bool write_budget_refused) {
  nlohmann::json j = {{"event", "run_end"},   {"time", now_rfc3339()},
                      {"plugin", run.plugin}, {"version", run.version},
                      {"invocation_id", run.invocation_id}, {"engine", engine},
                      {"outcome", error ? "error" : "exit"},
                      {"exit_code", exit_code ? nlohmann::json(*exit_code) : nlohmann::json(nullptr)},
                      {"error", nullptr}, {"message", ""}, {"limit_hit", nullptr},
                      {"wall_ms", wall_ms}, {"fuel_consumed", fuel_consumed},
                      {"write_budget_refused", write_budget_refused}};
  if (error) {
    j["error"] = std::string(error_code_name(error->code));
    j["message"] = error->message;
    switch (error->code) {
      case ErrorCode::kFuelExhausted:
      case ErrorCode::kDeadlineExceeded:
      case ErrorCode::kMemoryLimit:
      case ErrorCode::kOutputLimit:
        j["limit_hit"] = std::string(error_code_name(error->code));
        break;
      default:
        break;
    }
  }
  return dump(j);
}

Result<std::shared_ptr<Sink>> open_configured_sink(const policy::AuditConfig& config) {
  if (!config.file) return std::shared_ptr<Sink>();
  return open_file_sink(*config.file,
                        config.continue_on_failure ? OnFailure::kContinue : OnFailure::kRefuse);
}

std::string registry_line(const std::string& event,
                          const std::vector<std::pair<std::string, std::string>>& fields) {
  nlohmann::json j = {{"event", event}, {"time", now_rfc3339()}};
  for (const auto& [k, v] : fields) j[k] = v;
  return dump(j);
}

}  // namespace wasmcap::audit
