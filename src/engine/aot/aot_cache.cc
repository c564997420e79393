// The AOT object cache (see aot_cache.h and docs/aot.md, "Cache").
#include "engine/aot/aot_cache.h"

#include <fcntl.h>
#include <spawn.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "engine/aot/aot_abi.h"
#include "engine/aot/translate.h"

extern char** environ;

namespace wasmcap::aot {
namespace {

namespace fs = std::filesystem;

// Cap on a sidecar or identity file: they are a few lines; anything bigger is not ours.
constexpr size_t kMaxSmallFile = 64 << 10;
// Cap on a compiled object we are willing to hash and load.
constexpr size_t kMaxObjectBytes = 1ull << 30;

std::string hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

std::string sha256_hex(const void* data, size_t n) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, static_cast<const unsigned char*>(data), n);
  return hex(out, sizeof out);
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// A file we may trust: regular, owned by us, not writable by group or others.
bool trusted_file(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
         (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

bool read_fd(int fd, std::string* out, size_t cap) {
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return true;
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > cap) return false;
  }
}

int open_trusted(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  if (!trusted_file(fd)) {
    close(fd);
    return -1;
  }
  return fd;
}

bool write_file(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return close(fd) == 0;
}

std::string sidecar(const std::string& key, const std::string& so_sha) {
  return "wasmcap-aot-cache 1\nkey " + key + "\nsha256 " + so_sha + "\n";
}

// Runs argv with stdout+stderr to `log`; returns the exit status (-1: could not run).
int run_process(const std::vector<std::string>& argv, const std::string& log, bool progress,
                const std::string& what) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  const bool tty = progress && isatty(STDERR_FILENO) == 1;
  auto start = std::chrono::steady_clock::now();
  bool shown = false;
  int status = 0;
  static const char spinner[] = "|/-\\";
  for (int tick = 0;; ++tick) {
    pid_t r = waitpid(pid, &status, tty ? WNOHANG : 0);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (r == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (s >= 1.0) {
        std::fprintf(stderr, "\r%c wasmcap: compiling %s to native code (%.0f s)",
                     spinner[tick % 4], what.c_str(), s);
        std::fflush(stderr);
        shown = true;
      }
    }
  }
  if (shown) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

Result<std::string> open_cache_dir(const AotOptions& options) {
  std::string dir = options.cache_dir;
  if (dir.empty()) dir = env_or("WASMCAP_CACHE_DIR", "");
  if (dir.empty()) {
    std::string xdg = env_or("XDG_CACHE_HOME", "");
    if (!xdg.empty() && xdg.front() == '/') {
      dir = xdg + "/wasmcap/aot";
    } else {
      std::string home = env_or("HOME", "");
      if (home.empty()) {
        return make_error(ErrorCode::kConfigInvalid,
                          "no AOT cache directory: set --cache-dir or WASMCAP_CACHE_DIR (HOME is "
                          "not set)");
      }
      dir = home + "/.cache/wasmcap/aot";
    }
  }
  std::error_code ec;
  fs::path p(dir);
  // Parents are created with the default umask; the cache directory itself is private.
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error(ErrorCode::kIo, "cannot create the AOT cache directory '" + dir +
                                          "': " + std::strerror(errno) +
                                          "; choose another one with --cache-dir");
  }
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::kIo, "the AOT cache path '" + dir +
                                          "' is not a directory; choose another with --cache-dir");
  }
  // Whoever can write here can plant code that wasmcap would load: only a private directory.
  if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return make_error(ErrorCode::kIo,
                      "the AOT cache directory '" + dir +
                          "' is not owned by this user or is writable by others; fix it "
                          "(chmod 700) or choose another with --cache-dir");
  }
  return dir;
}

Result<std::string> find_compiler(const AotOptions& options) {
  std::string cc = options.compiler;
  if (cc.empty()) cc = env_or("WASMCAP_CC", "cc");
  if (cc.find('/') != std::string::npos) {
    if (access(cc.c_str(), X_OK) == 0) return cc;
  } else {
    std::string path = env_or("PATH", "/usr/local/bin:/usr/bin:/bin");
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find(':', start);
      if (end == std::string::npos) end = path.size();
      std::string d = path.substr(start, end - start);
      if (!d.empty()) {
        std::string cand = d + "/" + cc;
        if (access(cand.c_str(), X_OK) == 0) return cand;
      }
      start = end + 1;
    }
  }
  return make_error(ErrorCode::kNotFound,
                    "no C compiler '" + cc +
                        "' found for the AOT engine; install gcc, set WASMCAP_CC, or use "
                        "--engine interp");
}

Result<Toolchain> make_toolchain(const AotOptions& options, const std::string& cache_dir) {
  auto cc = find_compiler(options);
  if (!cc) return tl::unexpected(cc.error());
  Toolchain tc;
  tc.compiler = *cc;
  tc.interruptible = options.interruptible;
  int opt = options.opt_level;
  if (opt < 0) {
    std::string e = env_or("WASMCAP_AOT_OPT", "2");
    opt = (e.size() == 1 && e[0] >= '0' && e[0] <= '3') ? e[0] - '0' : 2;
  }
  if (opt > 3) opt = 3;
  // -fstack-clash-protection: a large guest frame probes the stack page by page, so stack
  // exhaustion always faults in the guard area (never past it into another mapping).
  // -fno-optimize-sibling-calls: wasm has no tail calls here, and GCC would otherwise turn
  // runaway recursion such as f(x) = f(x+1) + 1 into an endless loop instead of the stack
  // exhaustion trap the interpreter reports.
  // -z defs: the object must not reference any symbol outside itself and libc/libm.
  tc.flags = {"-std=gnu11", "-O" + std::to_string(opt), "-fPIC", "-shared",
              "-fvisibility=hidden", "-fstack-clash-protection", "-fno-strict-aliasing",
              "-fno-optimize-sibling-calls",
              "-DNDEBUG", "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1", "-w", "-Wl,-z,defs",
              "-Wl,-z,noexecstack"};

  // Identity: the `--version` text of the compiler, memoised by the binary's stat signature.
  char resolved[PATH_MAX];
  std::string real = realpath(tc.compiler.c_str(), resolved) ? resolved : tc.compiler;
  struct stat st;
  if (stat(real.c_str(), &st) != 0) {
    return make_error(ErrorCode::kNotFound, "cannot stat the C compiler '" + real + "'");
  }
  std::string sig = real + "|" + std::to_string(st.st_size) + "|" +
                    std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) +
                    "|" + std::to_string(st.st_ino) + "|" + tc.compiler;
  std::string memo = cache_dir + "/compiler-" + sha256_hex(sig.data(), sig.size()).substr(0, 32);
  std::string version;
  if (int fd = open_trusted(memo); fd >= 0) {
    bool ok = read_fd(fd, &version, kMaxSmallFile);
    close(fd);
    if (!ok) version.clear();
  }
  if (version.empty()) {
    char tmpl[] = "/tmp/wasmcap-ccid-XXXXXX";
    int tfd = mkstemp(tmpl);
    if (tfd < 0) return make_error(ErrorCode::kIo, "cannot create a temporary file");
    close(tfd);
    int rc = run_process({tc.compiler, "--version"}, tmpl, false, "");
    int fd = open(tmpl, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      read_fd(fd, &version, kMaxSmallFile);
      close(fd);
    }
    unlink(tmpl);
    if (rc != 0 || version.empty()) {
      return make_error(ErrorCode::kNotFound,
                        "the C compiler '" + tc.compiler + "' does not run (" + tc.compiler +
                            " --version failed); set WASMCAP_CC or use --engine interp");
    }
    std::string tmp = memo + ".tmp" + std::to_string(getpid());
    if (write_file(tmp, version)) {
      if (rename(tmp.c_str(), memo.c_str()) != 0) unlink(tmp.c_str());
    }
  }
  tc.identity = real + "\n" + version;
  return tc;
}

std::string cache_key(const std::vector<uint8_t>& module, const Toolchain& tc) {
  return cache_key(module, tc, kInstrumentationVersion);
}

std::string cache_key(const std::vector<uint8_t>& module, const Toolchain& tc,
                      int translator_version) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  auto add = [&](const std::string& s) {
    // Length-prefixed, so no two different inputs concatenate to the same stream.
    uint64_t n = s.size();
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(&n), sizeof n);
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  add("wasmcap-aot");
  add(std::to_string(translator_version) + "/" + std::to_string(WASMCAP_AOT_ABI_VERSION) +
      (tc.interruptible ? "/interruptible" : "/plain"));
  add(std::string(wabt_version()));
  add(tc.identity);
  std::string flags;
  for (const auto& f : tc.flags) flags += f + " ";
  add(flags);
  add(std::string(module.begin(), module.end()));
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, out);
  return hex(out, sizeof out);
}

int lookup(const std::string& dir, const std::string& key) {
  int mfd = open_trusted(dir + "/" + key + ".meta");
  if (mfd < 0) return -1;
  std::string meta;
  bool ok = read_fd(mfd, &meta, kMaxSmallFile);
  close(mfd);
  if (!ok) return -1;
  const std::string head = "wasmcap-aot-cache 1\nkey " + key + "\nsha256 ";
  if (meta.compare(0, head.size(), head) != 0) return -1;
  std::string so_sha = meta.substr(head.size());
  while (!so_sha.empty() && so_sha.back() == '\n') so_sha.pop_back();
  int fd = open_trusted(dir + "/" + key + ".so");
  if (fd < 0) return -1;
  std::string data;
  if (!read_fd(fd, &data, kMaxObjectBytes) || sha256_hex(data.data(), data.size()) != so_sha) {
    close(fd);
    return -1;
  }
  return fd;
}

Result<int> compile_and_store(const std::string& dir, const std::string& key, const Toolchain& tc,
                              const std::function<Result<CompileRequest>()>& translate) {
  std::string lock_path = dir + "/" + key + ".lock";
  int lock = open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock < 0) {
    return make_error(ErrorCode::kIo, "cannot create '" + lock_path + "': " + std::strerror(errno));
  }
  struct Unlock {
    int fd;
    ~Unlock() { close(fd); }  // closing drops the flock
  } unlock{lock};
  while (flock(lock, LOCK_EX) != 0) {
    if (errno != EINTR) return make_error(ErrorCode::kIo, "cannot lock '" + lock_path + "'");
  }
  // Another process may have finished the same compile while we waited.
  if (int fd = lookup(dir, key); fd >= 0) return fd;

  auto req = translate();
  if (!req) return tl::unexpected(req.error());
  std::string tmpl = dir + "/tmp-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    return make_error(ErrorCode::kIo, "cannot create a temporary directory in '" + dir + "'");
  }
  std::string tmp(buf.data());
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      if (std::getenv("WASMCAP_AOT_KEEP_SOURCES") != nullptr) return;  // debugging aid
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{tmp};
  if (!write_file(tmp + "/module.c", req->module_c) ||
      !write_file(tmp + "/module.h", req->module_h) || !write_file(tmp + "/glue.c", req->glue_c)) {
    return make_error(ErrorCode::kIo, "cannot write the generated C code to '" + tmp + "'");
  }
  std::vector<std::string> argv{tc.compiler};
  argv.insert(argv.end(), tc.flags.begin(), tc.flags.end());
  argv.insert(argv.end(), {"-I" + tmp, "-o", tmp + "/out.so", tmp + "/module.c", tmp + "/glue.c",
                           "-lm"});
  int rc = run_process(argv, tmp + "/cc.log", req->progress, req->what);
  if (rc != 0) {
    std::string log;
    if (int fd = open((tmp + "/cc.log").c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
      read_fd(fd, &log, kMaxSmallFile);
      close(fd);
    }
    if (log.size() > 2000) log = log.substr(0, 2000) + "...";
    return make_error(ErrorCode::kModuleUnsupported,
                      "the C compiler failed on the translated module (" + tc.compiler +
                          (rc < 0 ? " could not run" : " exit " + std::to_string(rc)) + "): " +
                          log + "; run with --engine interp");
  }
  int fd = open_trusted(tmp + "/out.so");
  std::string data;
  if (fd < 0 || !read_fd(fd, &data, kMaxObjectBytes)) {
    if (fd >= 0) close(fd);
    return make_error(ErrorCode::kIo, "cannot read the compiled object in '" + tmp + "'");
  }
  close(fd);
  // Object first, sidecar last: a reader that sees the sidecar sees a complete object, and a
  // crash in between leaves an entry that fails verification and is rebuilt.
  if (rename((tmp + "/out.so").c_str(), (dir + "/" + key + ".so").c_str()) != 0 ||
      !write_file(tmp + "/meta", sidecar(key, sha256_hex(data.data(), data.size()))) ||
      rename((tmp + "/meta").c_str(), (dir + "/" + key + ".meta").c_str()) != 0) {
    return make_error(ErrorCode::kIo,
                      "cannot store the compiled object in '" + dir + "': " + std::strerror(errno));
  }
  int out = lookup(dir, key);
  if (out < 0) {
    return make_error(ErrorCode::kIo, "the compiled object in '" + dir +
                                          "' changed while it was stored; try again");
  }
  return out;
}

}  // namespace wasmcap::aot
