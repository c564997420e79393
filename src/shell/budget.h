// The shell's own host-side work, bounded like a guest's (docs/shell.md "Limits").
//
// Threat: the script is untrusted text, and the executor is host code. Without bounds a few
// lines make it allocate without end (`A=$A$A` doubling a variable, `*/../*/../*` multiplying
// glob candidates), run far past the deadline inside one expansion, or start thousands of
// pipeline threads and tool instances. One Budget per shell session holds every such bound:
//   - bytes: every container of shell state (words, fields, glob candidates and listings,
//     variables, captures of $(...), builtin output) allocates through BudgetAlloc, so the
//     budget is charged at the allocation itself and released when the memory is freed;
//   - the deadline and the script's stop flag, checked on every charge and by check() in the
//     loops that may run long without allocating;
//   - words one command expands to (and candidates one glob holds);
//   - commands running at once (pipeline stages and the commands of nested $(...)).
// Hitting a bound throws LimitHit; the command boundary (run_command) catches it, prints the
// message and gives the command status 1, and the script goes on (as sh after a failed
// expansion). The deadline and a stopped script stop the whole script instead.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/error.h"

namespace wasmcap::shell {

class LimitHit : public std::exception {
 public:
  // `stop`: the script is stopping (deadline, or another limit already recorded): unwind
  // quietly instead of failing one command.
  LimitHit(Error e, bool stop) : error_(std::move(e)), stop_(stop) {}
  const char* what() const noexcept override { return error_.message.c_str(); }
  const Error& error() const { return error_; }
  bool stop() const { return stop_; }

 private:
  Error error_;
  bool stop_;
};

class Budget {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    uint64_t memory_bytes = 0;  // 0 = none
    uint64_t words = 0;         // 0 = none
    uint64_t pipeline_stages = 0;
    uint64_t live_commands = 0;
  };
  explicit Budget(Limits l) : limits_(l) {}
  Budget(const Budget&) = delete;
  Budget& operator=(const Budget&) = delete;

  // For the length of one script: its deadline and the flag set when it must stop. Called
  // while no command runs.
  void arm(Clock::time_point deadline, const std::atomic<bool>* stop) {
    deadline_ = deadline;
    stop_ = stop;
  }
  void disarm() { arm(Clock::time_point::max(), nullptr); }

  // Throws LimitHit when the script must stop (deadline passed, stop flag set).
  void check() const;
  // Takes `n` bytes of the memory budget (after check()); throws LimitHit past the budget.
  void charge(size_t n);
  void release(size_t n) noexcept { used_.fetch_sub(n, std::memory_order_relaxed); }
  // Throws LimitHit when `count` (the words of one command so far, one glob pattern's
  // candidates, the lines one mapfile stores) exceeds the word cap; then check(). The message
  // says `what` made more than the cap of `unit`.
  void check_words(size_t count, std::string_view what = "an expansion produced",
                   std::string_view unit = "words") const;

  // Reserves `n` running commands (one pipeline's stages) for the life of the object.
  class Commands {
   public:
    Commands(Budget* b, uint64_t n) : b_(b), n_(n) {}
    Commands(Commands&& o) noexcept : b_(o.b_), n_(o.n_) { o.n_ = 0; }
    Commands(const Commands&) = delete;
    ~Commands() {
      if (n_ != 0) b_->live_.fetch_sub(n_);
    }

   private:
    Budget* b_;
    uint64_t n_;
  };
  Commands start_commands(uint64_t n);

  // Charges `n` bytes for the life of the object: for copies the shell hands to an API that
  // takes plain std::string (a tool's argv and environment), and for a parsed script.
  class Lease {
   public:
    enum Adopt { kAdopt };
    Lease(Budget* b, size_t n) : b_(b), n_(n) { b_->charge(n_); }
    // Takes over `n` bytes already charged (a parsed script's, parse.h).
    Lease(Budget* b, size_t n, Adopt) : b_(b), n_(n) {}
    Lease(const Lease&) = delete;
    ~Lease() { b_->release(n_); }

   private:
    Budget* b_;
    size_t n_;
  };

  uint64_t used() const { return used_.load(); }
  const Limits& limits() const { return limits_; }

 private:
  Limits limits_;
  std::atomic<uint64_t> used_{0};
  std::atomic<uint64_t> live_{0};
  Clock::time_point deadline_ = Clock::time_point::max();
  const std::atomic<bool>* stop_ = nullptr;
};

// The allocator of shell state: every allocation is charged to the session's Budget.
template <class T>
class BudgetAlloc {
 public:
  using value_type = T;
  explicit BudgetAlloc(Budget* b) noexcept : b_(b) {}
  template <class U>
  BudgetAlloc(const BudgetAlloc<U>& o) noexcept : b_(o.budget()) {}  // NOLINT: rebinding
  T* allocate(size_t n) {
    b_->charge(n * sizeof(T));
    try {
      return std::allocator<T>().allocate(n);
    } catch (...) {
      b_->release(n * sizeof(T));
      throw;
    }
  }
  void deallocate(T* p, size_t n) noexcept {
    std::allocator<T>().deallocate(p, n);
    b_->release(n * sizeof(T));
  }
  Budget* budget() const noexcept { return b_; }
  template <class U>
  bool operator==(const BudgetAlloc<U>& o) const noexcept {
    return b_ == o.budget();
  }
  template <class U>
  bool operator!=(const BudgetAlloc<U>& o) const noexcept {
    return b_ != o.budget();
  }

 private:
  Budget* b_;
};

using Str = std::basic_string<char, std::char_traits<char>, BudgetAlloc<char>>;
template <class T>
using Vec = std::vector<T, BudgetAlloc<T>>;

inline std::string_view view(const Str& s) { return {s.data(), s.size()}; }

// The shell's variables. Values are shared and immutable, so copying the state for a pipeline
// stage or a $(...) costs the names and pointers, not the values again.
using VarValue = std::shared_ptr<const Str>;
using VarMap = std::map<Str, VarValue, std::less<>, BudgetAlloc<std::pair<const Str, VarValue>>>;

}  // namespace wasmcap::shell
