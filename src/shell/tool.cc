// Commands that are tools: WASI modules from the resolved command table, run by wasmcap with
// exactly the shell's preopens (docs/shell.md "Commands"), and the audit records of every
// command (docs/shell.md "Audit").
#include <fcntl.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "runtime/prepare_reuse.h"
#include "shell/state.h"
#include "wasmcap/runtime.h"

namespace wasmcap::shell {

std::shared_ptr<ToolModule> ToolModule::verified(std::vector<uint8_t> bytes) {
  auto m = std::make_shared<ToolModule>(Check{});
  m->done_.emplace(std::make_shared<const std::vector<uint8_t>>(std::move(bytes)));
  return m;
}

Result<ToolModule::Bytes> ToolModule::get() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!done_) {
    auto r = check_();
    if (r) {
      done_.emplace(std::make_shared<const std::vector<uint8_t>>(std::move(*r)));
    } else {
      done_.emplace(tl::unexpected<Error>(r.error()));
    }
    check_ = nullptr;  // what it captured (a manifest, paths) is not needed again
  }
  return *done_;
}

std::shared_ptr<const PreparedModule> ToolModule::interp(uint64_t max_memory_bytes,
                                                         const std::string& module_sha256) {
  std::lock_guard<std::mutex> lock(prepare_mu_);  // stages of one bundle wait for one load
  if (!prepare_tried_) {
    prepare_tried_ = true;
    auto bytes = get();
    if (!bytes) return nullptr;
    Reusable r = prepare_for_reuse(*bytes, max_memory_bytes, module_sha256);
    interp_ = std::move(r.module);
    prepare_tried_ = !r.retry;
  }
  return interp_;
}

// The shell_command_start record, written before the command does anything (opens its
// redirections, runs): record or refuse (docs/audit.md). When it fails the command does not run
// and the script stops with the error (exit 74).
bool audit_command_start(Ctx& ctx, const Vec<Str>& argv) {
  if (!ctx.o.audit) return true;
  nlohmann::json args = nlohmann::json::array();
  for (const auto& a : argv) args.push_back(std::string(view(a)));
  nlohmann::json j = {{"time", audit::now_rfc3339()},
                      {"event", "shell_command_start"},
                      {"invocation_id", ctx.o.invocation_id},
                      {"argv", std::move(args)}};
  auto w = ctx.o.audit->append(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (w) return true;
  ctx.set_fatal(Error(ErrorCode::kIo, w.error().message +
                                          "; the command was not run and the script stopped"));
  return false;
}

// The shell_command record after the command. When it fails, the script stops with the error
// (exit 74): the command ran, its start is recorded, its outcome is not.
void audit_command(Ctx& ctx, const Vec<Str>& argv, const std::string& kind, int exit_code,
                   double ms, uint64_t out_b, uint64_t err_b) {
  if (!ctx.o.audit) return;
  nlohmann::json args = nlohmann::json::array();
  for (const auto& a : argv) args.push_back(std::string(view(a)));
  nlohmann::json j = {{"time", audit::now_rfc3339()},
                      {"event", "shell_command"},
                      {"invocation_id", ctx.o.invocation_id},
                      {"argv", std::move(args)},
                      {"kind", kind},
                      {"exit", exit_code},
                      {"duration_ms", ms},
                      {"stdout_bytes", out_b},
                      {"stderr_bytes", err_b}};
  auto w = ctx.o.audit->append(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!w) {
    ctx.set_fatal(Error(ErrorCode::kIo, "the command ran (status " + std::to_string(exit_code) +
                                            ") but " + w.error().message +
                                            "; the script stopped"));
  }
}

// Runs argv[0] as a tool; nullopt (after the message) when no tool has that name.
std::optional<int> run_tool(Ctx& ctx, State& st, const Vec<Str>& argv,
                            const Vec<std::pair<std::string_view, Str>>& assigns, const Io& io,
                            std::atomic<uint64_t>& out_b, std::atomic<uint64_t>& err_b) {
  const int fds[3] = {io.fd[0] == kClosed ? kNull : io.fd[0], io.fd[1], io.fd[2]};
  // (Command names are short: a longer argv[0] is not copied just to be looked up.)
  auto tool = argv[0].size() > kMaxPathBytes ? ctx.o.commands.end()
                                             : ctx.o.commands.find(std::string(view(argv[0])));
  if (tool == ctx.o.commands.end()) {
    emit(ctx, fds[2], "wasmcap sh: " + shown(view(argv[0])) + ": command not found\n", &err_b);
    return std::nullopt;
  }
  // The bundle's module and data tree, checked on the first use of the bundle in the session: a
  // store modified since the command table was built is refused here, before anything of it runs.
  auto module = tool->second.module->get();
  if (!module) {
    emit(ctx, fds[2], "wasmcap sh: " + shown(view(argv[0])) + ": " + module.error().to_string() + "\n",
         &err_b);
    return error_exit_code(module.error().code) & 0xff;
  }
  // The tool's argv and environment are plain strings (RunOptions): charged while they live.
  size_t copied = 0;
  for (const auto& a : argv) copied += a.size() + sizeof(std::string);
  for (const auto& [k, v] : assigns) copied += k.size() + v.size() + 2 * sizeof(std::string);
  Budget::Lease lease(ctx.budget, copied);
  copied = 0;
  std::optional<Budget::Lease> exported_lease;
  // The library's run pipeline (runtime.h RunRequest) with flag grants: the shell's preopens,
  // the command's environment, the clocks and random its bundle requests.
  RunRequest request;
  RunOptions& ro = request.options;
  ro.engine = ctx.o.engine;
  ro.aot = ctx.o.aot;
  ro.aot.progress = false;
  ro.max_memory_bytes = ctx.o.max_memory_bytes;
  ro.memory_pool = ctx.o.memory_pool;  // shared with the session's other running tools
  // A background job's tool stops at its job's `kill` too (set_fatal raises that flag as well).
  ro.interrupt = st.job_kill ? &st.job_kill->interrupt : &ctx.interrupt;
  ro.record_run = false;  // the command's own records (shell_command_start, shell_command) stand for it
  ro.module_sha256 = tool->second.module_sha256;
  if (ctx.deadline != Clock::time_point::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline - Clock::now());
    ro.timeout_ms = left.count() > 1 ? static_cast<uint64_t>(left.count()) : 1;
  }
  for (const auto& a : argv) request.argv.emplace_back(view(a));
  request.argv[0] = tool->second.tool;
  // PWD, exported from the start (as bash does) and kept by cd; `unset PWD` and `env -i` drop it.
  if (st.exported.find(std::string_view("PWD")) != st.exported.end()) {
    ro.wasi.env.emplace_back("PWD", st.cwd);
  }
  // The environment: the exported variables, then the command's NAME=value prefixes.
  for (const auto& [k, unused] : st.exported) {
    bool prefixed = false;
    for (const auto& a : assigns) prefixed = prefixed || a.first == view(k);
    if (view(k) == "PWD") continue;  // the working directory, given above
    auto it = st.vars.find(view(k));
    if (prefixed || it == st.vars.end()) continue;
    copied += k.size() + it->second->size() + 2 * sizeof(std::string);
    ro.wasi.env.emplace_back(std::string(view(k)), std::string(view(*it->second)));
  }
  exported_lease.emplace(ctx.budget, copied);
  for (auto& [k, v] : assigns) ro.wasi.env.emplace_back(std::string(k), std::string(view(v)));
  ro.wasi.preopens = ctx.o.preopens;
  ro.wasi.write_budget = ctx.o.write_budget;  // the session's, shared by all its tools
  // /dev/null, /dev/zero, /dev/urandom, /dev/stdin ... as a tool on Linux finds them (a virtual
  // /dev of the WASI host: no host device is reachable; urandom is the session's --random).
  ro.wasi.dev_files = true;
  // The names above the preopens (docs/shell.md "The file system"): `ls /`, `ls -la ~`'s `..`,
  // `test -x /bin/ls` in a tool as in the shell, with the session's command names.
  ro.wasi.virtual_root = true;
  if (ctx.tree != nullptr) {
    ro.wasi.commands = std::shared_ptr<const std::vector<std::string>>(ctx.tree,
                                                                       &ctx.tree->commands());
  }
  if (tool->second.data) ro.wasi.preopens.push_back(*tool->second.data);
  if (tool->second.https) {
    // Linked so that the module loads; a plan granting no rule refuses every request.
    auto plan = std::make_shared<policy::Plan>();
    plan->plugin = tool->second.bundle;
    plan->version = tool->second.version;
    plan->https.emplace();
    ro.plan = std::move(plan);
    ro.host_apis.add(Capability::kHostApiHttps);
  }
  ro.wasi.stdin_fd = fds[0];
  // Descriptors 3-63 the script has open (`tool 3<<EOF`, `tool 4>out`, `exec 5<f`, `{v}>f`)
  // at the same numbers, as a child of bash inherits them (docs/shell.md "Redirections"):
  // regular files and /dev/null, with the access they were opened with (a here-document's
  // sealed text: read only), pipes to read (a `<(list)`) and pipes to write (a `>(list)`); a
  // pipe opened both ways is not passed (the tool finds that number closed).
  for (int k = 3; k < kMaxFds; ++k) {
    int h = io.fd[k];
    if (h == kClosed) continue;
    WasiConfig::InheritedFd in;
    in.guest_fd = static_cast<uint32_t>(k);
    if (h == kNull) {
      in.read = in.write = true;
    } else {
      struct stat sb {};
      int fl = ::fcntl(h, F_GETFL);
      if (fl < 0 || ::fstat(h, &sb) != 0) continue;
      // A pipe only to read from (a `<(list)`'s, or `3< <(list)`): the tool reads it as stdin;
      // only to write to (a `>(list)`'s): as its stdout, waiting while the list is slow.
      if (S_ISFIFO(sb.st_mode) && (fl & O_ACCMODE) != O_RDWR) {
        in.host_fd = h;
        in.read = (fl & O_ACCMODE) == O_RDONLY;
        in.write = !in.read;
        ro.wasi.inherited_fds.push_back(in);
        continue;
      }
      if (!S_ISREG(sb.st_mode)) continue;
      int seals = ::fcntl(h, F_GET_SEALS);  // -1 (EINVAL) for a file that is not a memfd
      in.host_fd = h;
      in.read = (fl & O_ACCMODE) != O_WRONLY;
      in.write = (fl & O_ACCMODE) != O_RDONLY && (seals < 0 || (seals & F_SEAL_WRITE) == 0);
    }
    ro.wasi.inherited_fds.push_back(in);
  }
  ro.wasi.clock_wall = tool->second.clock_wall;
  ro.wasi.clock_monotonic = tool->second.clock_monotonic;
  if (!tool->second.random) ro.wasi.random.kind = RandomSource::Kind::kDeny;
  request.clock_pin = ctx.o.clock;
  request.random_pin = ctx.o.random;
  auto sink = [&ctx](int fd, std::atomic<uint64_t>* count) {
    return [&ctx, fd, count](const uint8_t* p, size_t n) -> bool {
      return emit(ctx, fd, std::string_view(reinterpret_cast<const char*>(p), n), count);
    };
  };
  ro.wasi.stdout_sink = sink(fds[1], &out_b);
  ro.wasi.stderr_sink = sink(fds[2], &err_b);
  ro.wasi.stdout_sink_fd = fds[1];  // its type is what the tool sees (a terminal, a pipe, ...)
  ro.wasi.stderr_sink_fd = fds[2];
  // A tool whose reader left (`yes | head -1`) ends as SIGPIPE ends it in bash: status 141, no
  // "write error" message (emit leaves write(2)'s EPIPE in errno).
  ro.wasi.exit_on_broken_pipe = true;
  // On the interpreter the session's loaded module (ToolModule::interp); aot maps its cached
  // object once per process already, and auto chooses per run.
  std::shared_ptr<const PreparedModule> prepared;
  if (ro.engine == "interp") {
    prepared = tool->second.module->interp(ro.max_memory_bytes, ro.module_sha256);
  }
  auto report = prepared ? run_request(std::move(request), *prepared)
                         : run_request(std::move(request), **module);
  int code;
  if (report) {
    code = report->exit_code;
  } else if (job_killed(st) && !ctx.stopped()) {
    code = 128 + st.job_kill->signal.load();  // `kill`ed: as a process ended by the signal
  } else {
    if (report.error().code == ErrorCode::kDeadlineExceeded) {
      ctx.set_fatal(Error(ErrorCode::kDeadlineExceeded,
                          "the script ran past its deadline (--timeout-ms)"));
    }
    emit(ctx, fds[2], "wasmcap sh: " + shown(view(argv[0])) + ": " + report.error().to_string() + "\n");
    code = error_exit_code(report.error().code);
  }
  return code & 0xff;
}

}  // namespace wasmcap::shell
