// Internal: loading an optional system library on first use (libcurl for https, libidn2 for
// internationalised host names, libsqlite3 for the registry), so a process that never needs one
// never maps it (bench/notes/2026-11-23-coldstart.md, "Cold start").
//
// The library is opened by its soname only, through the dynamic loader's system search — never a
// path, the working directory or a name from the guest — with RTLD_NOW | RTLD_LOCAL, and stays
// open for the life of the process (callers keep function pointers into it). Callers open it once
// (std::call_once) and keep the result.
#pragma once

#include <dlfcn.h>

#include <string>

namespace wasmcap::syslib {

class Library {
 public:
  explicit Library(const char* soname) : soname_(soname) {
    handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* e = ::dlerror();
      error_ = std::string("cannot load ") + soname + ": " + (e != nullptr ? e : "dlopen failed");
    }
  }

  // Resolves `name` into *fn. The first failure (no library, or no such symbol) is kept in
  // error(); returns whether every get() so far succeeded.
  template <typename F>
  bool get(F* fn, const char* name) {
    *fn = handle_ != nullptr ? reinterpret_cast<F>(::dlsym(handle_, name)) : nullptr;
    if (*fn == nullptr && error_.empty()) error_ = std::string(soname_) + " has no symbol " + name;
    return error_.empty();
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  const char* soname_;
  void* handle_ = nullptr;
  std::string error_;
};

}  // namespace wasmcap::syslib
