// The shell's budget (budget.h): one place for its memory, word, command and deadline bounds.
#include "shell/budget.h"

#include <string>

namespace wasmcap::shell {

namespace {

std::string bytes_text(uint64_t n) {
  if (n >= (1u << 20) && n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
  if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " bytes";
}

}  // namespace

void Budget::check() const {
  if (stop_ != nullptr && stop_->load(std::memory_order_relaxed)) {
    // Another bound already stopped the script (its error is recorded): unwind quietly.
    throw LimitHit(Error(ErrorCode::kInternal, "the script is stopping"), true);
  }
  if (deadline_ != Clock::time_point::max() && Clock::now() >= deadline_) {
    throw LimitHit(Error(ErrorCode::kDeadlineExceeded,
                         "the script ran past its deadline (--timeout-ms)"),
                   true);
  }
}

void Budget::charge(size_t n) {
  check();
  uint64_t before = used_.fetch_add(n, std::memory_order_relaxed);
  if (limits_.memory_bytes != 0 && before + n > limits_.memory_bytes) {
    used_.fetch_sub(n, std::memory_order_relaxed);
    throw LimitHit(
        Error(ErrorCode::kMemoryLimit,
              "out of shell memory: words, variables, glob results and $(...) output may hold "
              "at most " + bytes_text(limits_.memory_bytes) +
                  " together; raise it with --max-shell-memory BYTES "
                  "(shell::Options::max_shell_memory_bytes)"),
        false);
  }
}

void Budget::check_words(size_t count, std::string_view what, std::string_view unit) const {
  if (limits_.words != 0 && count > limits_.words) {
    throw LimitHit(Error(ErrorCode::kMemoryLimit,
                         std::string(what) + " more than " + std::to_string(limits_.words) + " " +
                             std::string(unit) + "; raise the cap with --max-words N "
                             "(shell::Options::max_words)"),
                   false);
  }
  check();
}

Budget::Commands Budget::start_commands(uint64_t n) {
  check();
  if (limits_.pipeline_stages != 0 && n > limits_.pipeline_stages) {
    throw LimitHit(Error(ErrorCode::kInvalidArgument,
                         "a pipeline of " + std::to_string(n) + " commands: at most " +
                             std::to_string(limits_.pipeline_stages) +
                             " per pipeline; raise the cap with --max-pipeline-stages N "
                             "(shell::Options::max_pipeline_stages)"),
                   false);
  }
  uint64_t before = live_.fetch_add(n);
  if (limits_.live_commands != 0 && before + n > limits_.live_commands) {
    live_.fetch_sub(n);
    throw LimitHit(Error(ErrorCode::kInvalidArgument,
                         "more than " + std::to_string(limits_.live_commands) +
                             " commands would run at once (pipeline stages and the commands "
                             "of nested $(...)); raise the cap with --max-live-commands N "
                             "(shell::Options::max_live_commands)"),
                   false);
  }
  return Commands(this, n);
}

}  // namespace wasmcap::shell
