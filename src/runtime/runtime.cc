#include "wasmcap/runtime.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/wat_text.h"
#include "runtime/component_run.h"
#include "wasi/host.h"
#include "runtime/run_id.h"
#include "runtime/test_hooks.h"
#include "wasmcap/audit.h"
#include "wasmcap/audit_events.h"
#include "wasmcap/https.h"
#include "wasmcap/https_abi.h"

namespace wasmcap {
namespace {

// 128 random bits, hex: ties one run's audit events together without being guessable.
Result<std::string> new_invocation_id() {
  uint8_t bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::kIo, std::string("getrandom: ") + std::strerror(errno));
    }
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (uint8_t b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

// The client behind wasmcap_https for this run (see run_module's contract in runtime.h).
Result<std::shared_ptr<https::Client>> https_client_for(const RunOptions& options) {
  if (options.https_client) return options.https_client;
  if (!options.plan || !options.plan->https) {
    return make_error(ErrorCode::kInvalidArgument,
                      "host_api.https is requested, but the run has neither a plan with an https "
                      "section nor an https client (RunOptions::https_client)");
  }
  const policy::Plan& plan = *options.plan;
  std::shared_ptr<audit::Sink> sink = options.audit_sink;
  if (plan.audit.file) {
    // Fail closed: an operator who asked for an audit log gets one, or no run.
    std::shared_ptr<audit::Sink> file;
    WASMCAP_TRY_ASSIGN(file, audit::open_configured_sink(plan.audit));
    sink = audit::tee_sink(file, sink);
  }
  std::string id = options.invocation_id;
  if (id.empty()) WASMCAP_TRY_ASSIGN(id, new_invocation_id());
  https::ClientOptions co;
  co.plugin = plan.plugin;
  co.invocation_id = std::move(id);
  co.audit = std::move(sink);
  std::unique_ptr<https::Client> client;
  WASMCAP_TRY_ASSIGN(client, https::Client::create(*plan.https, plan.network, std::move(co)));
  return std::shared_ptr<https::Client>(std::move(client));
}

}  // namespace

Result<std::string> make_invocation_id() { return new_invocation_id(); }

Result<void> runtime_detail::settle_invocation_id(std::string& id) {
  if (id.empty()) {
    WASMCAP_TRY_ASSIGN(id, new_invocation_id());
  } else if (!is_valid_invocation_id(id)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invocation id: 1-128 characters of A-Z a-z 0-9 . _ : - (it is written into "
                      "audit records)");
  }
  return {};
}

bool is_valid_invocation_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path) {
  ModuleFile f;
  WASMCAP_TRY_ASSIGN(f, read_module_file(path));
  return std::move(f.bytes);
}

namespace {
// The pages of a fresh buffer, faulted in by one call instead of one page fault per 4 KiB page
// when resize() zero-fills it (docs/aot.md, "Cold start"). The vector's value-initialisation
// cannot be skipped (std::allocator), and it is not what cost: in a profile of a cached aot
// hello (146 KB module), the zero-fill was 1.45% of the process's samples, 1.30% of them the
// page faults of the fresh buffer; reading into uninitialised pages would only move those faults
// into read(). A kernel without MADV_POPULATE_WRITE (< 5.14) says EINVAL and the pages fault in
// as before. Only whole pages inside [data, data + size) are touched.
void prefault(const void* data, size_t size) {
#ifdef MADV_POPULATE_WRITE
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t b = reinterpret_cast<uintptr_t>(data);
  const uintptr_t first = (b + page - 1) & ~(page - 1);
  const uintptr_t end = (b + size) & ~(page - 1);
  if (end > first) madvise(reinterpret_cast<void*>(first), end - first, MADV_POPULATE_WRITE);
#else
  (void)data;
  (void)size;
#endif
}

Result<ModuleFile> read_module_bytes(const std::string& path, uint64_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      "cannot read '" + path + "': " + std::strerror(errno));
  }
  struct Close {
    int fd;
    ~Close() { close(fd); }
  } closer{fd};
  struct stat before;
  if (fstat(fd, &before) != 0) {
    return make_error(ErrorCode::kIo, "cannot read '" + path + "': " + std::strerror(errno));
  }
  const size_t limit = static_cast<size_t>(std::min(max_bytes, kMaxModuleFileBytes));
  auto too_big = [&] {
    return make_error(ErrorCode::kModuleUnsupported,
                      "'" + path + "' is larger than " + std::to_string(limit) +
                          " bytes, the biggest module wasmcap reads");
  };
  if (S_ISREG(before.st_mode) && static_cast<uint64_t>(before.st_size) > limit) return too_big();
  ModuleFile out;
  // One read() per 1 MiB into a buffer sized by fstat (a regular file's size is a hint only:
  // the loop reads to EOF whatever the file holds by then).
  size_t have = 0;
  const size_t first = S_ISREG(before.st_mode) && before.st_size > 0
                           ? static_cast<size_t>(before.st_size) + 1
                           : std::min<size_t>(65536, limit + 1);
  out.bytes.reserve(first);
  prefault(out.bytes.data(), first);
  out.bytes.resize(first);
  for (;;) {
    if (have > limit) return too_big();  // a byte more than the limit was read
    if (have == out.bytes.size()) out.bytes.resize(std::min(out.bytes.size() * 2, limit + 1));
    ssize_t n = read(fd, out.bytes.data() + have, std::min<size_t>(out.bytes.size() - have, 1 << 20));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(ErrorCode::kIo, "error reading '" + path + "': " + std::strerror(errno));
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  out.bytes.resize(have);
  struct stat after;
  auto same = [](const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
           a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
           a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
  };
  // The identity describes these bytes only if nothing changed the file while it was read.
  if (S_ISREG(before.st_mode) && fstat(fd, &after) == 0 && same(before, after) &&
      static_cast<uint64_t>(before.st_size) == have) {
    std::error_code ec;
    auto abs = std::filesystem::absolute(path, ec);
    if (!ec) {
      auto ns = [](const struct timespec& t) {
        return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
      };
      ModuleFileIdentity id;
      id.path = abs.string();
      id.device = static_cast<uint64_t>(after.st_dev);
      id.inode = static_cast<uint64_t>(after.st_ino);
      id.size = static_cast<uint64_t>(after.st_size);
      id.mtime_ns = ns(after.st_mtim);
      id.ctime_ns = ns(after.st_ctim);
      out.file = std::move(id);
    }
  }
  return out;
}

}  // namespace

Result<ModuleFile> read_module_file(const std::string& path, uint64_t max_bytes) {
  // A text module (.wat) is read as text, at most wat::kMaxTextBytes of it, and given to the
  // engines as the binary it describes (wat_text.h).
  const bool text = wat::is_text_path(path);
  if (text) max_bytes = std::min<uint64_t>(max_bytes, wat::kMaxTextBytes);
  auto read = read_module_bytes(path, max_bytes);
  if (!read && text && read.error().code == ErrorCode::kModuleUnsupported) {
    return make_error(ErrorCode::kModuleUnsupported,
                      read.error().message + " as text; convert it with wabt's wat2wasm and "
                                             "run the .wasm");
  }
  if (!read) return tl::unexpected(std::move(read.error()));
  ModuleFile& file = *read;
  // Binary bytes in a .wat file are a module all the same.
  static constexpr uint8_t kMagic[4] = {0, 'a', 's', 'm'};
  if (!text || (file.bytes.size() >= 4 && std::equal(kMagic, kMagic + 4, file.bytes.begin()))) {
    return std::move(file);  // not a copy: a copy faults in every page of the buffer again
  }
  ModuleFile out;
  const std::string_view chars(reinterpret_cast<const char*>(file.bytes.data()),
                               file.bytes.size());
  WASMCAP_TRY_ASSIGN(out.bytes, wat::text_to_binary(path, chars));
  // out.file stays empty: the file's identity describes the text, not these bytes.
  return out;
}

namespace {
// start + timeout_ms, clamped: a huge timeout must mean "far future", not overflow into the past.
std::chrono::steady_clock::time_point run_deadline(std::chrono::steady_clock::time_point start,
                                                   uint64_t timeout_ms) {
  if (timeout_ms == 0) return std::chrono::steady_clock::time_point::max();
  constexpr uint64_t kMaxTimeoutMs = 1000ull * 60 * 60 * 24 * 365 * 100;  // a century
  return start + std::chrono::milliseconds(std::min(timeout_ms, kMaxTimeoutMs));
}
}  // namespace

Result<std::vector<std::string>> preflight_checks(const policy::Plan& plan) {
  std::vector<std::string> done;
  {
    std::ifstream in(plan.module_path, std::ios::binary);
    if (!in) {
      return make_error(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                        "cannot read '" + plan.module_path + "': " + std::strerror(errno));
    }
    done.push_back("module readable: " + plan.module_path);
  }
  if (plan.audit.file) {
    const std::string& f = *plan.audit.file;
    int fd = ::open(f.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd >= 0) {
      ::close(fd);
    } else if (errno == ENOENT) {
      std::string dir = f.substr(0, f.rfind('/'));
      if (dir.empty()) dir = "/";
      if (::access(dir.c_str(), W_OK | X_OK) != 0) {
        return make_error(ErrorCode::kIo, "audit file " + f + ": cannot be created in " + dir + ": " +
                                              std::strerror(errno) + " (check audit.file in the host config)");
      }
    } else {
      return make_error(ErrorCode::kIo, "audit file " + f + ": " + std::strerror(errno) +
                                            " (check audit.file in the host config)");
    }
    done.push_back("audit file writable: " + f);
  }
  if (plan.https) {
    // Creating the client reads every secret and the CA file, as the run does; it sends nothing.
    https::ClientOptions co;
    co.plugin = plan.plugin;
    co.invocation_id = "preflight";
    auto client = https::Client::create(*plan.https, plan.network, std::move(co));
    WASMCAP_TRY(client);
    done.push_back("https: " + std::to_string(plan.https->secrets.size()) + " secret file(s) readable" +
                   (plan.network.ca_file ? ", CA file readable: " + *plan.network.ca_file : std::string()));
  }
  return done;
}

CapabilitySet host_build_capabilities() {
  return CapabilitySet()
      .add(Capability::kHostApiHttps)
      .add(Capability::kWasiArgs)
      .add(Capability::kWasiEnv)
      .add(Capability::kWasiClocks)
      .add(Capability::kWasiRandom)
      .add(Capability::kWasiStdio)
      .add(Capability::kWasiFs);
}

CapabilitySet required_capabilities(const RunOptions& options) {
  CapabilitySet s = options.host_apis;
  // register_wasi() links stdio, clocks and random into every instance.
  s.add(Capability::kWasiStdio).add(Capability::kWasiClocks).add(Capability::kWasiRandom);
  if (options.wasi.args.size() > 1) s.add(Capability::kWasiArgs);
  if (!options.wasi.env.empty()) s.add(Capability::kWasiEnv);
  if (!options.wasi.preopens.empty()) s.add(Capability::kWasiFs);
  if (options.fuel != 0) s.add(Capability::kLimitFuel);
  if (options.timeout_ms != 0) s.add(Capability::kLimitTimeout);
  if (options.max_memory_bytes / kWasmPageSize < 65536) s.add(Capability::kLimitMemory);
  return s;
}

void pin_clock(WasiConfig& wasi, const ClockSource& pin) {
  if (pin.kind == ClockSource::Kind::kHost || wasi.clock.kind == ClockSource::Kind::kDeny) return;
  wasi.clock = pin;
}

void pin_random(WasiConfig& wasi, const RandomSource& pin) {
  if (pin.kind == RandomSource::Kind::kHost || wasi.random.kind == RandomSource::Kind::kDeny) {
    return;
  }
  wasi.random = pin;
}

Result<RunOptions> run_options_from_plan(std::shared_ptr<const policy::Plan> plan,
                                         std::vector<std::string> argv, bool degrade) {
  if (!plan) return make_error(ErrorCode::kInvalidArgument, "no plan given");
  if (!degrade) {
    WASMCAP_TRY(policy::require_fully_granted(*plan));
  }
  // Arguments are the operator's to give, but only to a plugin that says it takes them; passing
  // them anyway would be a silent ignore of the manifest.
  if (argv.size() > 1 && !plan->args) {
    return make_error(ErrorCode::kGrantDenied,
                      "guest arguments given, but plugin " + plan->plugin +
                          "'s manifest does not request args (\"permissions\": {\"args\": true})");
  }
  RunOptions o;
  o.wasi.args = std::move(argv);
  for (const auto& m : plan->fs) {
    // A workspace grant names no host directory until it is bound: fail closed rather than
    // preopen "" (the caller forgot workspace::bind_plan).
    if (!m.workspace.empty() && !m.denied && m.host.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "fs " + m.guest + ": workspace " + m.workspace +
                            " is not bound to its tree (workspace::bind_plan)");
    }
    Preopen p;
    p.guest_path = m.guest;
    p.host_path = m.host;
    p.read_only = m.access == policy::Access::kReadOnly;
    p.denied = m.denied;
    o.wasi.preopens.push_back(std::move(p));
  }
  o.wasi.env = plan->env;
  // Unrequested or denied clocks and random answer ENOTCAPABLE (fail closed).
  o.wasi.clock = plan->clock;
  o.wasi.clock_wall = plan->clock_wall;
  o.wasi.clock_monotonic = plan->clock_monotonic;
  o.wasi.random = plan->random;
  if (plan->limits.max_memory_mb) o.max_memory_bytes = *plan->limits.max_memory_mb << 20;
  if (plan->limits.fuel) o.fuel = *plan->limits.fuel;
  if (plan->limits.timeout_ms) o.timeout_ms = *plan->limits.timeout_ms;
  if (plan->limits.max_write_mb) o.wasi.max_write_bytes = *bounds_of(plan->limits).max_write_bytes;
  o.host_apis = policy::requested_host_apis(*plan);
  o.plan = std::move(plan);
  return o;
}

// The one place that decides which host functions a run links (run_module(Engine&) and the AOT
// engine's check before compiling both use it, so the two cannot drift apart). With
// `signatures_only`, no https client is made: the table serves only to compare names and
// signatures and none of its functions is ever called.
static Result<void> register_run_host_functions(const RunOptions& options,
                                                const std::shared_ptr<WasiHost>& wasi,
                                                bool signatures_only, HostFuncTable& table) {
  register_wasi(wasi, table);
  if (options.host_apis.has(Capability::kHostApiHttps)) {
    // Linked whenever the manifest requests https, granted or not: in a degraded run the client
    // refuses each call the plan does not allow, so the plugin sees grant_denied at call time.
    std::shared_ptr<https::Client> client;
    if (!signatures_only) WASMCAP_TRY_ASSIGN(client, https_client_for(options));
    https::register_https_abi(std::move(client), table);
  }
  return {};
}

static std::atomic<uint64_t> g_signature_tables{0};  // runtime_test_hooks::link_signature_tables()

// The names and signatures the run will link against, for the AOT engine's check before it
// compiles (docs/aot.md, "Imports are checked first"), on a WASI host with no files or
// descriptors. nullptr (no early check; instantiate() still links) if it cannot be made.
//
// The table depends on nothing of the run but whether https is linked (its functions are never
// called), so each of the two is built once per process and shared, read-only, by every run
// after it (docs/aot.md, "Cold start": it was rebuilt, WASI host and all, on every run). That
// serves embedders making many runs per process; the CLI makes one. Function-local statics:
// built once even when runs start on many threads.
static std::shared_ptr<const HostFuncTable> link_signatures(bool https) {
  auto build = [](bool with_https) -> std::shared_ptr<const HostFuncTable> {
    g_signature_tables.fetch_add(1, std::memory_order_relaxed);
    WasiConfig none;
    none.stdin_fd = none.stdout_fd = none.stderr_fd = -1;
    auto host = make_wasi_host(std::move(none));
    if (!host) return nullptr;
    RunOptions o;
    if (with_https) o.host_apis.add(Capability::kHostApiHttps);
    auto table = std::make_shared<HostFuncTable>();
    if (!register_run_host_functions(o, *host, true, *table)) return nullptr;
    return table;
  };
  if (https) {
    static const std::shared_ptr<const HostFuncTable> with_https = build(true);
    return with_https;
  }
  static const std::shared_ptr<const HostFuncTable> wasi_only = build(false);
  return wasi_only;
}

namespace {
Result<RunReport> run_on(Engine& engine, std::shared_ptr<const Module> loaded,
                         const ModuleBytes& module, RunOptions options);
// `decoded`: the component's decoding when the caller keeps one (PreparedModule), else null.
Result<RunReport> run_component_on(Engine& engine, const ModuleBytes& component, RunOptions options,
                                   std::shared_ptr<const component::Decoded> decoded = nullptr,
                                   std::shared_ptr<component::LoadedCoreModules> loaded = nullptr);
}  // namespace

// run_module(Engine&) without its records.
static Result<RunReport> run_on_engine(Engine& engine, const ModuleBytes& module, RunOptions options) {
  WASMCAP_TRY(check_load_budget(module.data(), module.size(), options.max_memory_bytes));
  return run_on(engine, nullptr, module, std::move(options));
}

// run_module without its records: the load budget, then the engine the options name, made for
// this run (make_engine: the one table of engines).
static Result<RunReport> run_unrecorded(const ModuleBytes& module, RunOptions options) {
  // The load budget, before any engine (or the AOT probe, or a background compile) sees the
  // module (wasmcap/runtime.h).
  WASMCAP_TRY(check_load_budget(module.data(), module.size(), options.max_memory_bytes));
  // A compile on a cold AOT cache happens on the user's behalf: the run's deadline and interrupt
  // bound it too (docs/aot.md, "Compile bounds").
  if (options.timeout_ms != 0) {
    options.aot.compile_deadline = run_deadline(std::chrono::steady_clock::now(), options.timeout_ms);
  }
  if (options.aot.interrupt == nullptr) options.aot.interrupt = options.interrupt;
  int background_pid = 0;
  EngineConfig config;
  config.aot = options.aot;
  // A component's core modules import its own instances and interfaces, not the P1 table: they
  // are linked (and checked) as the component is instantiated.
  const bool component = is_component_binary(module.data(), module.size());
  if (!component) {
    config.link_check = [https = options.host_apis.has(Capability::kHostApiHttps)] {
      return link_signatures(https);
    };
  }
  config.metered = required_capabilities(options).has(Capability::kLimitFuel);
  config.wait_for_compile = options.wait_for_compile;
  config.notice = options.notice;
  config.on_background_compile = [&background_pid](int pid) { background_pid = pid; };
  std::unique_ptr<Engine> engine;
  WASMCAP_TRY_ASSIGN(engine, make_engine(options.engine, std::move(config)));
  auto report = component ? run_component_on(*engine, module, std::move(options))
                          : run_on(*engine, nullptr, module, std::move(options));
  if (report) report->background_compile_pid = background_pid;
  return report;
}

namespace {

// The run's own records (runtime.h, RunOptions::record_run; docs/audit.md "run_start /
// run_end"): where they go, and what they say of the run.
struct RunRecords {
  std::vector<std::shared_ptr<audit::Sink>> sinks;  // empty: nothing is recorded
  audit::RunInfo info;

  // Writes `line` to every sink; the first failure.
  std::optional<Error> write(const std::string& line) const {
    std::optional<Error> failed;
    for (const auto& k : sinks) {
      if (auto w = k->append(line); !w && !failed) failed = w.error();
    }
    return failed;
  }
};

// The sinks (the plan's audit file, opened now: fail closed; then options.audit_sink) and the
// run_start fields, from the options as the run will use them. `sha256_of_module` gives the
// module's hash when options.module_sha256 has none and a record needs it.
template <class Sha256>
Result<RunRecords> open_run_records(RunOptions& options, const Sha256& sha256_of_module) {
  RunRecords r;
  if (!options.record_run) return r;
  if (options.plan && options.plan->audit.file) {
    std::shared_ptr<audit::Sink> file;
    WASMCAP_TRY_ASSIGN(file, audit::open_configured_sink(options.plan->audit));
    if (file) r.sinks.push_back(std::move(file));
  }
  if (options.audit_sink) r.sinks.push_back(options.audit_sink);
  if (r.sinks.empty()) return r;
  audit::RunInfo& info = r.info;
  info.invocation_id = options.invocation_id;
  info.engine = options.engine;
  if (options.plan) {
    info.plugin = options.plan->plugin;
    info.version = options.plan->version;
    info.module = options.plan->module_path;
  } else if (!options.wasi.args.empty()) {
    info.module = options.wasi.args.front();
  }
  // Hashed only when a record carries it (a cold-start cost otherwise); the run then keys the AOT
  // cache and the validated-module records on this hash instead of hashing the bytes again.
  if (options.module_sha256.empty()) options.module_sha256 = sha256_of_module();
  info.module_sha256 = options.module_sha256;
  const WasiConfig& w = options.wasi;
  for (const auto& p : w.preopens) info.fs.push_back({p.guest_path, p.read_only, p.denied});
  for (const auto& [name, value] : w.env) info.env.push_back(name);
  // A plan's manifest says whether the plugin takes arguments; a run without one takes what it
  // is given.
  info.args = options.plan ? options.plan->args : true;
  if (options.max_memory_bytes / kWasmPageSize < 65536) info.max_memory_mb = options.max_memory_bytes >> 20;
  if (options.timeout_ms != 0) info.timeout_ms = options.timeout_ms;
  if (options.fuel != 0) info.fuel = options.fuel;
  info.max_write_mb = w.write_budget ? w.write_budget->max_bytes() >> 20 : w.max_write_bytes >> 20;
  const bool clocks_on = w.clock.kind != ClockSource::Kind::kDeny;
  info.clock_wall = clocks_on && w.clock_wall;
  info.clock_monotonic = clocks_on && w.clock_monotonic;
  if (info.clock_wall || info.clock_monotonic) info.clock_source = clock_source_string(w.clock);
  if (w.random.kind != RandomSource::Kind::kDeny) info.random_source = random_source_string(w.random);
  return r;
}

// Runs `run` (the run itself, without records) inside the run's records.
template <class Sha256, class Run>
Result<RunReport> run_recorded(RunOptions options, const Sha256& sha256_of_module, Run&& run) {
  // One id ties the run's records and its https events together: the caller's, or a new one.
  WASMCAP_TRY(runtime_detail::settle_invocation_id(options.invocation_id));
  RunRecords records;
  WASMCAP_TRY_ASSIGN(records, open_run_records(options, sha256_of_module));
  // Record or refuse: the run starts only once its run_start record is written whole
  // (docs/audit.md, "When a record cannot be written").
  if (auto e = records.write(audit::run_start_line(records.info, options.plan.get()))) {
    return make_error(ErrorCode::kIo, e->message + "; the run was not started");
  }
  const std::string invocation_id = options.invocation_id, requested_engine = options.engine;
  // The run's write budget, made here (unless the caller shares one) so that its refusals are
  // known whatever way the run ends: run_end records them once.
  if (options.wasi.write_budget == nullptr) {
    options.wasi.write_budget = std::make_shared<WriteBudget>(options.wasi.max_write_bytes,
                                                              options.wasi.max_write_entries);
  }
  const std::shared_ptr<WriteBudget> budget = options.wasi.write_budget;
  const uint64_t refusals_before = budget->refusals();
  const auto start = std::chrono::steady_clock::now();
  auto report = run(std::move(options));
  const bool write_refused = budget->refusals() != refusals_before;
  if (report) report->write_budget_refused = write_refused;
  const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (report) report->invocation_id = invocation_id;
  if (records.sinks.empty()) return report;
  std::optional<Error> error;
  if (!report) error = report.error();
  auto failed = records.write(audit::run_end_line(
      records.info, report ? report->engine : requested_engine,
      report ? std::optional<int>(report->exit_code) : std::nullopt, error, wall,
      report ? report->fuel_consumed : 0, write_refused));
  if (!failed) return report;
  // The run happened and its run_start says so, but its end is not recorded.
  if (report) {
    report->audit_error = std::move(failed);
    return report;
  }
  return make_error(error->code, error->message + " (and its run_end record was not written: " +
                                     failed->message + ")");
}

}  // namespace

// The module's bytes as every engine of the run sees them: with their file and their verified
// hash, when the caller has them.
static Result<RunReport> run_module_bytes(ModuleBytes& module, RunOptions options);

static ModuleBytes& described(ModuleBytes& module, const RunOptions& options) {
  return module.with_file(options.module_file).with_sha256(options.module_sha256);
}

Result<RunReport> run_module(const std::vector<uint8_t>& module_bytes, RunOptions options) {
  ModuleBytes module(module_bytes);
  return run_module_bytes(module, std::move(options));
}

Result<RunReport> run_module(std::shared_ptr<const std::vector<uint8_t>> module_bytes, RunOptions options) {
  if (!module_bytes) return make_error(ErrorCode::kInvalidArgument, "run_module: no module bytes");
  ModuleBytes module(*module_bytes);
  module.with_keeper(module_bytes);
  return run_module_bytes(module, std::move(options));
}

static Result<RunReport> run_module_bytes(ModuleBytes& module, RunOptions options) {
  described(module, options);
  auto hash = [&] { return module.sha256(); };
  return run_recorded(std::move(options), hash, [&](RunOptions o) {
    return run_unrecorded(module, std::move(o));
  });
}

// --- PreparedModule ---------------------------------------------------------------------------

PreparedModule::~PreparedModule() = default;

Result<std::shared_ptr<const PreparedModule>> PreparedModule::prepare(std::vector<uint8_t> bytes,
                                                                      const PrepareOptions& options) {
  return prepare(std::make_shared<const std::vector<uint8_t>>(std::move(bytes)), options);
}

Result<std::shared_ptr<const PreparedModule>> PreparedModule::prepare(
    std::shared_ptr<const std::vector<uint8_t>> bytes, const PrepareOptions& options) {
  if (!bytes) return make_error(ErrorCode::kInvalidArgument, "no module bytes to prepare");
  if (options.engine != "interp" && options.engine != "aot") {
    return make_error(ErrorCode::kInvalidArgument,
                      "engine '" + options.engine + "' does not prepare modules (interp and aot do; auto "
                      "chooses per run)");
  }
  WASMCAP_TRY(check_load_budget(bytes->data(), bytes->size(), options.max_memory_bytes));
  std::shared_ptr<PreparedModule> p(new PreparedModule());
  p->engine_name_ = options.engine;
  p->bytes_ = std::move(bytes);
  // The verified hash when the caller has it; the AOT load's (hashed, or from the record of the
  // unchanged file); else computed when a run's record first needs it (module_sha256()).
  p->source_ = std::make_unique<ModuleBytes>(*p->bytes_);
  p->source_->with_file(options.module_file).with_sha256(options.module_sha256).with_keeper(p->bytes_);
  if (is_component_binary(p->bytes_->data(), p->bytes_->size())) {
    // Decoded and validated now, so a malformed component fails here as a module would; its core
    // modules are loaded as each run instantiates it (run_component_on), on an engine of its own.
    WASMCAP_TRY_ASSIGN(p->decoded_, runtime_detail::decode_component_shared(p->bytes_->data(), p->bytes_->size()));
    p->component_ = true;
    p->component_engines_ = std::make_shared<runtime_detail::PreparedComponentEngines>(options.engine, options.aot);
    return std::shared_ptr<const PreparedModule>(std::move(p));
  }
  EngineConfig config;
  config.aot = options.aot;
  // Linked against the widest table a run can have (WASI and https): a run that did not
  // request https is refused by the import check in run_on before it instantiates.
  config.link_check = [] { return link_signatures(/*https=*/true); };
  WASMCAP_TRY_ASSIGN(p->engine_, make_engine(options.engine, std::move(config)));
  WASMCAP_TRY_ASSIGN(p->module_, p->engine_->load(*p->source_));
  return std::shared_ptr<const PreparedModule>(std::move(p));
}

Result<void> PreparedModule::check_call(const ComponentCall& call) const {
  // A core module: check_component_call's own refusal (nothing is decoded for it).
  if (!decoded_) return check_component_call(bytes_->data(), bytes_->size(), call);
  return runtime_detail::check_call(*decoded_, call);
}

std::vector<ComponentFunction> PreparedModule::component_functions() const {
  if (!decoded_) return {};
  return runtime_detail::functions_of(*decoded_);
}

const ModuleInfo& PreparedModule::info() const {
  static const ModuleInfo kNone;
  return module_ ? module_->info() : kNone;
}

const std::string& PreparedModule::module_sha256() const { return source_->sha256(); }

Result<RunReport> PreparedModule::run(RunOptions options) const {
  options.engine = engine_name_;
  // The module is loaded: only a recorded run needs its hash, computed once for every run.
  options.module_sha256.clear();
  options.module_file.reset();
  auto hash = [this] { return module_sha256(); };
  return run_recorded(std::move(options), hash, [&](RunOptions o) -> Result<RunReport> {
    // The same load budget as run_module's, against this run's memory limit: a run under a
    // small limit refuses a module whose load and instance cost more than its budget.
    WASMCAP_TRY(check_load_budget(bytes_->data(), bytes_->size(), o.max_memory_bytes));
    if (component_) {
      // The prepared engine for this run's metering, shared by concurrent runs as a core
      // module's is, with the core modules earlier runs loaded on it.
      runtime_detail::PreparedComponentEngines::Slot* slot = nullptr;
      WASMCAP_TRY_ASSIGN(slot, component_engines_->get(required_capabilities(o).has(Capability::kLimitFuel)));
      return run_component_on(*slot->engine, *source_, std::move(o), decoded_, slot->loaded);
    }
    return run_on(*engine_, module_, *source_, std::move(o));
  });
}

uint64_t runtime_test_hooks::link_signature_tables() {
  return g_signature_tables.load(std::memory_order_relaxed);
}

Result<RunReport> run_module(Engine& engine, const std::vector<uint8_t>& module_bytes,
                             RunOptions options) {
  options.engine = std::string(engine.name());
  ModuleBytes module(module_bytes);
  described(module, options);
  auto hash = [&] { return module.sha256(); };
  return run_recorded(std::move(options), hash, [&](RunOptions o) {
    return run_on_engine(engine, module, std::move(o));
  });
}

namespace {
// The run's bounds on the guest's code (a core module's or a component's core instances).
ExecLimits exec_limits(const RunOptions& options, std::chrono::steady_clock::time_point deadline) {
  ExecLimits limits;
  limits.max_memory_pages = std::min<uint64_t>(options.max_memory_bytes / kWasmPageSize, 65536);
  limits.memory_pool = options.memory_pool;
  limits.fuel = options.fuel;
  limits.interrupt = options.interrupt;
  if (options.timeout_ms != 0) limits.deadline = deadline;
  return limits;
}

// A WASI 0.2 command component, on the run's grants (the same WasiHost a core module gets: its
// Core serves the 0.2 interfaces), limits and deadline (docs/components.md, "Running a component").
Result<RunReport> run_component_on(Engine& engine, const ModuleBytes& component, RunOptions options,
                                   std::shared_ptr<const component::Decoded> decoded,
                                   std::shared_ptr<component::LoadedCoreModules> loaded) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = run_deadline(start, options.timeout_ms);
  WASMCAP_TRY(policy::check_capabilities(required_capabilities(options), engine,
                                         host_build_capabilities()));
  // host_api.https granted: the component's wasi:http requests go through the same client (one
  // https policy, its bounds and audit) a core module's wasmcap_https calls would.
  wasip2::HttpOptions http;
  if (options.host_apis.has(Capability::kHostApiHttps)) {
    WASMCAP_TRY_ASSIGN(http.client, https_client_for(options));
    if (options.plan && options.plan->https && options.plan->https->bounds.max_request_bytes) {
      http.max_request_bytes = *options.plan->https->bounds.max_request_bytes;
    }
  }
  if (options.entry != "_start") {
    return make_error(ErrorCode::kInvalidArgument,
                      "--invoke calls an export of a core module; a component runs its "
                      "wasi:cli/run export (run it without --invoke), or the export "
                      "`wasmcap call COMPONENT FUNC` names");
  }
  std::shared_ptr<WasiHost> host;
  WASMCAP_TRY_ASSIGN(host, make_wasi_host(std::move(options.wasi)));
  RunReport report;
  WASMCAP_TRY_ASSIGN(report, runtime_detail::run_component(engine, component, host->core(),
                                                           exec_limits(options, deadline),
                                                           options.component_call, std::move(http),
                                                           std::move(decoded), std::move(loaded)));
  report.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return report;
}

Result<RunReport> run_on(Engine& engine, std::shared_ptr<const Module> loaded,
                         const ModuleBytes& module_bytes, RunOptions options) {
  // No silent ignore: a call of a component's export given for a core module is refused.
  if (options.component_call) {
    return make_error(ErrorCode::kInvalidArgument,
                      "not a component: `wasmcap call` calls the exports of a WebAssembly component "
                      "(a core module's exports: wasmcap run --invoke FUNC MODULE ARGS...)");
  }
  auto start = std::chrono::steady_clock::now();
  // One deadline for the whole run, counted from here: loading (an AOT compile on a cold cache)
  // and guest execution share it.
  const auto deadline = run_deadline(start, options.timeout_ms);
  // No silent ignore: a limit or host API the engine or build cannot provide stops the run
  // here, before the module is even loaded.
  WASMCAP_TRY(policy::check_capabilities(required_capabilities(options), engine,
                                         host_build_capabilities()));
  std::shared_ptr<const Module> module = std::move(loaded);
  if (!module) {
    WASMCAP_TRY_ASSIGN(module, engine.load(module_bytes));
  }
  // Loading counts against the deadline: a load that ended past it ends the run here rather
  // than run the module (a big module loaded 1.9 s past a 300 ms deadline and then ran).
  if (options.timeout_ms != 0 && std::chrono::steady_clock::now() >= deadline) {
    return make_error(ErrorCode::kDeadlineExceeded,
                      "wall-clock deadline exceeded while loading the module; raise --timeout-ms");
  }
  if (options.interrupt != nullptr && options.interrupt->load(std::memory_order_relaxed)) {
    return make_error(ErrorCode::kDeadlineExceeded, "execution interrupted by the host");
  }
  // A module reaching for a host API its manifest did not request is refused outright (even
  // under --degrade): the manifest is the plugin's complete statement of what it uses.
  // A run without a plan: the refusal says how the caller's front end grants the API.
  std::string_view no_plan_grant;
  if (options.plan == nullptr) {
    no_plan_grant = options.no_plan_grant.empty()
                        ? "a run without a plan links no host API: enforce a plan whose "
                          "manifest requests it (RunOptions::plan)"
                        : std::string_view(options.no_plan_grant);
  }
  WASMCAP_TRY(policy::check_imports(module->info(), options.host_apis, no_plan_grant));

  const ExecLimits limits = exec_limits(options, deadline);

  std::shared_ptr<WasiHost> host;
  WASMCAP_TRY_ASSIGN(host, make_wasi_host(std::move(options.wasi)));
  HostFuncTable table;
  WASMCAP_TRY(register_run_host_functions(options, host, false, table));

  std::unique_ptr<Instance> instance;
  WASMCAP_TRY_ASSIGN(instance, engine.instantiate(module, table, limits));
  if (options.timeout_ms != 0 && std::chrono::steady_clock::now() >= deadline) {
    return make_error(ErrorCode::kDeadlineExceeded,
                      "wall-clock deadline exceeded while instantiating the module; raise "
                      "--timeout-ms");
  }

  const ModuleInfo& info = module->info();
  if (options.entry != "_start" || info.find_export("_start") == nullptr) {
    if (const ExportDesc* init = info.find_export("_initialize");
        init != nullptr && init->kind == ExternKind::kFunc) {
      CallOutcome r;
      WASMCAP_TRY_ASSIGN(r, instance->call("_initialize", {}));
      if (r.exited) {  // proc_exit during initialisation ends the run
        RunReport report;
        report.engine = std::string(module->engine());
        report.exit_code = r.exit_code;
        report.fuel_consumed = instance->fuel_consumed();
        return report;
      }
    }
  }
  auto outcome = instance->call(options.entry, options.entry_args);
  RunReport report;
  report.engine = std::string(module->engine());
  report.fuel_consumed = instance->fuel_consumed();
  report.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  WASMCAP_TRY(outcome);
  if (outcome->exited) report.exit_code = outcome->exit_code;
  else report.results = std::move(outcome->results);
  return report;
}

}  // namespace

}  // namespace wasmcap
