// Loads wasmcap-mcp-http.so (httpd_abi.h) for mcp::serve_http, once per process.
//
// Where from (docs/mcp.md, "The HTTP transport module"): only
// <directory of /proc/self/exe>/WASMCAP_MCP_HTTP_MODULE_REL, the path from the install's bindir
// to its libdir fixed at configure time (the build tree mirrors it: build/bin and
// build/<libdir>/wasmcap). Never a bare name (the loader would search LD_LIBRARY_PATH and the
// system paths), never a path relative to the working directory, never a path from the
// environment. The file is opened once, checked on that descriptor (a regular file owned by
// root or by this user, writable by nobody else) and loaded through /proc/self/fd/N, so the file
// loaded is the file checked even if the directory is changed meanwhile.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include "mcp/transport_http.h"
#include "platform/fd.h"

#ifndef WASMCAP_MCP_HTTP_MODULE_REL
#define WASMCAP_MCP_HTTP_MODULE_REL "../lib/wasmcap/wasmcap-mcp-http.so"
#endif

namespace wasmcap::mcp {

std::string http_module_path_for(const std::string& exe) {
  size_t slash = exe.rfind('/');
  std::string dir = slash == std::string::npos ? std::string() : exe.substr(0, slash);
  return dir + "/" WASMCAP_MCP_HTTP_MODULE_REL;
}

Result<std::string> http_module_path() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0 || buf[0] != '/') {
    return make_error(ErrorCode::kCapabilityUnavailable,
                      "cannot locate the HTTP transport module: /proc/self/exe is unreadable");
  }
  return http_module_path_for(std::string(buf, static_cast<size_t>(n)));
}

Result<const wasmcap_httpd_api*> load_http_module_at(const std::string& path) {
  auto unavailable = [&path](const std::string& why) {
    return make_error(ErrorCode::kCapabilityUnavailable,
                      "the HTTP transport module '" + path + "' " + why +
                          " (`wasmcap mcp --listen` needs it; `wasmcap mcp` over stdio does not)");
  };
  if (path.empty() || path[0] != '/') return unavailable("is not an absolute path");
  platform::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int e = errno;
    return unavailable(e == ENOENT ? "is not installed" : std::string("cannot be opened: ") + std::strerror(e));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return unavailable("is not a regular file");
  }
  if ((st.st_uid != 0 && st.st_uid != ::geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return unavailable("is writable by others or owned by another user: refusing to load it");
  }
  std::string via = "/proc/self/fd/" + std::to_string(fd.get());
  void* h = ::dlopen(via.c_str(), RTLD_NOW | RTLD_LOCAL);
  fd.reset();
  if (h == nullptr) {
    const char* e = ::dlerror();
    return unavailable(std::string("cannot be loaded: ") + (e != nullptr ? e : "dlopen failed"));
  }
  auto entry = reinterpret_cast<wasmcap_httpd_entry_fn>(::dlsym(h, WASMCAP_HTTPD_ENTRY));
  const wasmcap_httpd_api* api = entry != nullptr ? entry(WASMCAP_HTTPD_ABI_VERSION) : nullptr;
  if (api == nullptr || api->abi_version != WASMCAP_HTTPD_ABI_VERSION || api->size < sizeof(wasmcap_httpd_api)) {
    ::dlclose(h);
    return unavailable("is not this wasmcap's version (interface mismatch)");
  }
  return api;  // the handle stays open for the life of the process
}

Result<const wasmcap_httpd_api*> load_http_module() {
  static std::once_flag once;
  static Result<const wasmcap_httpd_api*> loaded = make_error(ErrorCode::kInternal, "not loaded");
  std::call_once(once, [] {
    auto path = http_module_path();
    loaded = path ? load_http_module_at(*path) : Result<const wasmcap_httpd_api*>(tl::unexpected(path.error()));
  });
  return loaded;
}

}  // namespace wasmcap::mcp
