// Internal: the host objects behind WASI 0.2 resource handles (streams, pollables, errors; the
// filesystem's descriptors later), one table per Core. A guest holds each through a handle in its
// instance's handle table (bounded by InstantiateOptions::max_handles); dropping the last own
// handle runs the resource's destructor, which erases the object here.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "component/host.h"
#include "component/val.h"
#include "wasi/core.h"

namespace wasmcap::wasip2 {

// The most bytes one read returns (input-stream.read, descriptor.read): 0.2 lets a read return
// less than asked, and a list<u8> is a host value a byte until it is lowered.
constexpr uint64_t kMaxReadBytes = 64 * 1024;

// Host memory of the guest's making in wasi:http (headers and their copies, buffered request
// bodies), bounded together per run (HttpOptions::max_state_bytes): every holder takes its bytes
// from the one budget and gives them back when it goes.
struct StateBudget {
  explicit StateBudget(uint64_t b) : bound(b), left(b) {}
  const uint64_t bound;
  uint64_t left;
};

class StateCharge {
 public:
  StateCharge() = default;
  explicit StateCharge(std::shared_ptr<StateBudget> budget) : budget_(std::move(budget)) {}
  StateCharge(const StateCharge&) = delete;
  StateCharge& operator=(const StateCharge&) = delete;
  ~StateCharge() {
    if (budget_) budget_->left += taken_;
  }
  // Takes `n` bytes more: false, and nothing taken, past the bound.
  bool take(uint64_t n) {
    if (!budget_) return true;
    if (n > budget_->left) return false;
    budget_->left -= n;
    taken_ += n;
    return true;
  }
  uint64_t taken() const { return taken_; }
  // The bytes move with what they paid for (a fields' entries into a request).
  void swap(StateCharge& other) {
    std::swap(budget_, other.budget_);
    std::swap(taken_, other.taken_);
  }
  // What a call that would pass the bound is told (a trap: 0.2 has no error for it).
  std::string refusal() const {
    return "the run's wasi:http state (headers and buffered request bodies the component made) would pass "
           "its bound of " + std::to_string(budget_ ? budget_->bound : 0) + " bytes";
  }

 private:
  std::shared_ptr<StateBudget> budget_;
  uint64_t taken_ = 0;
};

// A wasi:http body in host memory (http.cc), behind the streams of io.cc: an outgoing body the
// guest writes (up to `limit` bytes; the request leaves when the body is finished), or a
// response body it reads.
struct BodyBuffer {
  std::string bytes;
  uint64_t limit = 0;     // outgoing: most bytes the writes may bring it to
  uint64_t read = 0;      // incoming: bytes read so far
  bool finished = false;  // outgoing: outgoing-body.finish was called (no more writes)
  bool abandoned = false; // outgoing: the outgoing-body was dropped without finish
  // The error the stream reports instead of `closed` at its end (a response body cut at the
  // response bound), or, for an outgoing body, on a write past `limit`: a wasi:http error-code.
  std::shared_ptr<const component::Val> error;
  std::string error_message;  // its to-debug-string
  StateCharge charge;  // outgoing: what its writes took of the run's budget
};

struct HttpState;  // http.cc

struct Object {
  enum class Kind : uint8_t {
    kInputStream, kOutputStream, kError, kPollable, kDescriptor, kDirEntries,
    kHttp,  // every wasi:http resource (http.cc): `http` says which
  };
  enum class Poll : uint8_t { kReady, kStdin, kInstant, kCheck };
  Kind kind = Kind::kError;
  wasi::DescriptionRef desc;  // a stream's description (stdio now, files later)
  std::string message;        // an error's debug string
  wasi::Errc errc = wasi::Errc::kOk;  // and its code (filesystem-error-code)
  Poll poll = Poll::kReady;   // a pollable's: always ready, stdin readable, a monotonic instant,
  uint64_t instant_ns = 0;    // or what `check` answers (a wasi:http future: it may do the request)
  std::function<bool()> check;
  // A stream over host memory (a wasi:http body) instead of a description.
  std::shared_ptr<BodyBuffer> body;
  // An error's wasi:http error-code (http-error-code), when it has one.
  std::shared_ptr<const component::Val> http_error;
  // A wasi:http resource's state (http.cc).
  std::shared_ptr<HttpState> http;
  // A file stream's position (read-via-stream, write-via-stream) or a directory-entry-stream's
  // next cookie; append: every write at the end (append-via-stream).
  uint64_t offset = 0;
  bool append = false;
  // A descriptor's access (descriptor-flags read, write), as open-at asked: the description
  // itself keeps none (P1 keeps rights in its fd table).
  bool readable = true, writable = true;
};

using Kind = Object::Kind;

class Objects {
 public:
  uint32_t add(Object o) {
    uint32_t rep = next_++;
    if (next_ == 0) next_ = 1;
    objects_[rep] = std::move(o);
    return rep;
  }
  // The object `rep` names when it is of `kind` (a borrow the instance checked is live, but the
  // kind is the host's to check: one handle table serves every resource type).
  Object* get(uint32_t rep, Object::Kind kind) {
    auto it = objects_.find(rep);
    return it == objects_.end() || it->second.kind != kind ? nullptr : &it->second;
  }
  // The object a handle argument names: null for a value that is no handle at all (a component
  // importing a WASI function with another type than WASI's, a number where the handle goes).
  Object* get(const component::Val& handle, Object::Kind kind) {
    if (handle.kind != component::ValKind::kBorrow && handle.kind != component::ValKind::kOwn) return nullptr;
    return get(static_cast<uint32_t>(handle.bits), kind);
  }
  void erase(uint32_t rep) { objects_.erase(rep); }
  size_t size() const { return objects_.size(); }

 private:
  std::unordered_map<uint32_t, Object> objects_;
  uint32_t next_ = 1;
};

}  // namespace wasmcap::wasip2
