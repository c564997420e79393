// The one owning file-descriptor type of wasmcap (the WASI host, the shell, workspaces and
// MCP all hold descriptors in it): closes what it owns exactly once, moves but never copies.
#pragma once

#include <unistd.h>

namespace wasmcap::platform {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd` (-1: owns nothing).
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership without closing; returns the descriptor.
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  // Closes what it owns (never retried on EINTR: on Linux the descriptor is released even
  // then, and a retry could close one another thread just opened), then owns `fd`.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace wasmcap::platform
