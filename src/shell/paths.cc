// Guest paths for the shell's own file accesses (redirections, cd, test, globbing): made
// absolute and normalized, matched to a preopen, then resolved beneath it by the confinement
// primitive every tool's path_open uses (docs/shell.md "Redirections are confined").
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "shell/commands.h"
#include "shell/state.h"
#include "wasi/description.h"

namespace wasmcap::shell {

namespace {



struct Located {
  const Preopen* preopen = nullptr;
  std::vector<std::string> rel;  // components beneath the preopen
  std::string guest;             // normalized guest path
  // Above the preopens: the virtual root's name (virtual_root.h), when the session has one.
  std::optional<wasi::VirtualTree::Found> virt;
};

std::vector<std::string> components(std::string_view p) {
  auto views = platform::path_components(p);
  return std::vector<std::string>(views.begin(), views.end());
}

// Lexical part: the guest path made absolute and normalized, and where the session's virtual
// root puts it (virtual_root.h: the preopen with the longest guest prefix, or a name above the
// preopens; none at all: `preopen` is null and `virt` empty). The physical part (symlinks,
// types) is the platform resolver's, with the WASI host's rules (resolve_guest). `..` at the
// guest root stays there (POSIX: `/..` is `/`).
// With `physical`, a `..` is not applied to the path as written: it stays in `rel` for the
// resolver, which takes it after the symlinks before it (cd -P); the preopen is then matched
// on the components before the first `..`, and `guest` is the path as written up to it.
Result<Located> locate(const Ctx& ctx, const std::string& cwd, std::string_view path,
                       bool physical = false) {
  if (path.size() > kMaxPathBytes) {
    return make_error(ErrorCode::kInvalidArgument, shown(path) + ": File name too long");
  }
  std::string abs = !path.empty() && path[0] == '/' ? std::string(path)
                                                    : cwd + "/" + std::string(path);
  std::vector<std::string> norm;
  size_t lead = std::string::npos;  // with `physical`: components before the first `..`
  // Above the preopens and at a preopen's top, `..` is the virtual root's, which is lexical
  // (no symlinks there): only one inside a preopen is left to the resolver.
  auto inside_preopen = [&ctx](const std::vector<std::string>& prefix) {
    if (ctx.tree == nullptr) return true;
    std::string p(1, '/');
    for (const auto& c : prefix) (p.size() > 1 ? p.append("/") : p).append(c);
    auto v = ctx.tree->lookup(ctx.tree->root(), p);
    return v.kind == wasi::VirtualTree::Found::Kind::kMount && v.rest != ".";
  };
  for (auto& c : components(abs)) {
    if (c == ".") continue;
    if (c == ".." && physical && (lead != std::string::npos || inside_preopen(norm))) {
      if (lead == std::string::npos) lead = norm.size();
    } else if (c == "..") {
      if (!norm.empty()) norm.pop_back();
      continue;
    }
    norm.push_back(std::move(c));
  }
  if (lead == std::string::npos) lead = norm.size();
  Located best;
  std::string guest(1, '/');  // (not `= "/"`: GCC 12 -O3 reports a bogus -Wrestrict there)
  for (size_t k = 0; k < lead; ++k) {
    if (k != 0) guest.push_back('/');
    guest.append(norm[k]);
  }
  size_t best_len = 0;
  if (ctx.tree != nullptr) {
    // The one tree the tools' WASI hosts walk too: a mount is preopen `mount` (or, past the
    // preopens, the tools' /dev: neither a preopen nor a virtual name here).
    auto v = ctx.tree->lookup(ctx.tree->root(), guest);
    if (v.kind != wasi::VirtualTree::Found::Kind::kMount) {
      best.virt = std::move(v);
    } else if (static_cast<size_t>(v.node->mount) < ctx.o.preopens.size()) {
      best.preopen = &ctx.o.preopens[static_cast<size_t>(v.node->mount)];
      best_len = lead - (v.rest == "." ? 0 : components(v.rest).size());
    } else if (v.rest == "." || v.rest == "./") {
      // The tools' /dev itself: a directory to stat, as theirs (its devices: is_guest_device).
      best.virt = wasi::VirtualTree::Found{wasi::VirtualTree::Found::Kind::kDir, v.node, 0, {},
                                           false};
    }
  } else {
    for (const Preopen& p : ctx.o.preopens) {
      if (p.denied) continue;
      auto pc = components(p.guest_path);
      if (pc.size() > lead || (best.preopen != nullptr && pc.size() < best_len)) continue;
      if (!std::equal(pc.begin(), pc.end(), norm.begin())) continue;
      best.preopen = &p;
      best_len = pc.size();
    }
  }
  best.guest = std::move(guest);
  if (best.preopen == nullptr) return best;  // outside the preopens (the caller says so)
  best.rel.assign(norm.begin() + static_cast<long>(best_len), norm.end());
  return best;
}

// The message for a name above the preopens that is not what the caller needs (a file or a
// directory it may open or change): as a user's in a directory of root's.
Error virtual_error(std::string_view path, const wasi::VirtualTree::Found& v) {
  using K = wasi::VirtualTree::Found::Kind;
  if (v.kind == K::kMissing) {
    return Error(ErrorCode::kNotFound, shown(path) + ": No such file or directory");
  }
  if (v.kind == K::kNotDir) return Error(ErrorCode::kNotFound, shown(path) + ": Not a directory");
  return Error(ErrorCode::kGrantDenied, shown(path) + ": Permission denied");
}

// What a platform-layer errno (src/platform/beneath.h) means, for the shell's messages.
std::string errno_text(int e) {
  switch (e) {
    case EXDEV: return "outside the granted directories (a symlink on the path leads out)";
    case ENOTSUP:
      return "not a regular file or directory (FIFOs, sockets and devices are never opened)";
    default: return std::strerror(e);
  }
}

}  // namespace


// The shell's one resolution of a guest path (redirections, cd, test, globbing): the lexical
// part above, then the confinement primitive (src/platform/beneath.h) from the preopen's
// directory with the rules a tool opening the same path gets from the WASI host (src/wasi/
// path.h): symlinks are followed only while they stay beneath the preopen (absolute or climbing
// targets are refused), at most platform::kMaxSymlinkHops.
Result<Found> resolve_guest(const Ctx& ctx, const std::string& cwd, std::string_view path,
                            bool follow_final, bool physical) {
  Located loc;
  WASMCAP_TRY_ASSIGN(loc, locate(ctx, cwd, path, physical));
  if (loc.virt) return tl::unexpected(virtual_error(path, *loc.virt));
  if (loc.preopen == nullptr) {
    return make_error(ErrorCode::kGrantDenied, shown(path) + ": outside the granted directories");
  }
  Found f;
  f.preopen = loc.preopen;
  f.guest = loc.guest;
  f.root = Fd(::open(loc.preopen->host_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!f.root.valid()) {
    return make_error(ErrorCode::kIo, f.guest + ": " + std::strerror(errno));
  }
  std::string rel;
  for (const auto& c : loc.rel) {  // (push_back/append: GCC 12 -O3 reports a bogus -Wrestrict
    if (!rel.empty()) rel.push_back('/');  // on `rel += "/" + c` here)
    rel.append(c);
  }
  if (rel.empty()) rel.push_back('.');
  if (platform::has_trailing_slash(path)) rel.push_back('/');
  platform::BeneathOptions beneath;
  beneath.symlinks = platform::Symlinks::kFollowBeneath;
  beneath.follow_final = follow_final;
  if (int e = platform::resolve_beneath(f.root.get(), rel, beneath, &f.rp)) {
    return make_error(e == EXDEV ? ErrorCode::kGrantDenied : ErrorCode::kIo,
                      shown(path) + ": " + errno_text(e));
  }
  return f;
}

// A directory for cd and pwd: the normalized guest path if `path` names a directory, logical
// (`..` removes the component before it, symlinks stay as named) or, with `physical`, as the
// resolver found it (symlinks resolved, `..` taken after them: the path the kernel gives the
// directory beneath its preopen). The guest root "/" is a directory too when no preopen is "/":
// with no host directory behind it, the shell and its tools can stand there (a tool's
// wasi-libc starts in "/"), and what resolves from it is the preopens' paths (`cd /`, then
// `cd tmp` or `ls /tmp`). Its other components above the preopens are not: a tool cannot
// enter them.
Result<std::string> guest_directory(const Ctx& ctx, const std::string& cwd, std::string_view path,
                                    bool physical) {
  std::string base = cwd;
  if (physical && (path.empty() || path[0] != '/')) {
    // Relative to the physical working directory (bash -P: chdir from where the process is).
    WASMCAP_TRY_ASSIGN(base, guest_directory(ctx, "/", cwd, true));
  }
  Located loc;
  WASMCAP_TRY_ASSIGN(loc, locate(ctx, base, path));
  // A directory above the preopens (the virtual root's, which has no symlinks: logical and
  // physical are one path); "/" even without a tree.
  if (loc.virt && loc.virt->kind == wasi::VirtualTree::Found::Kind::kDir) {
    // (not the tools' /dev: no tool could start there)
    if (loc.virt->node->mount < 0) return loc.guest;
    return make_error(ErrorCode::kGrantDenied, shown(path) + ": Permission denied");
  }
  if (!loc.virt && loc.preopen == nullptr && loc.guest == "/") return loc.guest;
  if (loc.virt && loc.virt->kind == wasi::VirtualTree::Found::Kind::kCommand) {
    return make_error(ErrorCode::kNotFound, shown(path) + ": Not a directory");
  }
  Found f;
  WASMCAP_TRY_ASSIGN(f, resolve_guest(ctx, base, path, true, physical));
  Fd dir(::openat(f.rp.dir.get(), f.rp.name.c_str(),
                  O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) {
    return make_error(ErrorCode::kNotFound, shown(path) + ": " +
                                                (errno == ENOTDIR || errno == ELOOP
                                                     ? "Not a directory"
                                                     : std::strerror(errno)));
  }
  if (!physical) return f.guest;
  std::string rel;
  if (int e = platform::path_beneath(f.root.get(), dir.get(), &rel)) {
    return make_error(ErrorCode::kGrantDenied, shown(path) + ": " + errno_text(e));
  }
  std::string guest = f.preopen->guest_path;
  while (guest.size() > 1 && guest.back() == '/') guest.pop_back();
  if (!rel.empty()) {
    if (guest != "/") guest.push_back('/');
    guest.append(rel);
  }
  return guest;
}

// Opens a file for a redirection beneath its preopen: the resolver, then the same type-checked,
// non-blocking open as WASI path_open (platform::open_file_or_dir). Threat: a FIFO, socket or
// device in the tree (`echo x > fifo` blocked past the deadline; a device was written).
Result<Fd> open_redirect(const Ctx& ctx, const std::string& cwd, std::string_view path, int flags) {
  if (auto v = virtual_entry(ctx, cwd, path)) {  // (`> /x`, `< /bin`: bash's words as a user)
    if (v->kind == wasi::VirtualTree::Found::Kind::kDir) {
      return make_error(ErrorCode::kInvalidArgument, shown(path) + ": Is a directory");
    }
    if (v->kind == wasi::VirtualTree::Found::Kind::kMissing && v->last && (flags & O_CREAT)) {
      return make_error(ErrorCode::kGrantDenied, shown(path) + ": Permission denied");
    }
  }
  Found f;
  WASMCAP_TRY_ASSIGN(f, resolve_guest(ctx, cwd, path));
  bool writes = (flags & (O_WRONLY | O_RDWR)) != 0;
  if (writes && f.preopen->read_only) {
    return make_error(ErrorCode::kGrantDenied, shown(path) + ": read-only directory");
  }
  if (f.rp.name == "." || f.rp.trailing_slash) {
    return make_error(ErrorCode::kInvalidArgument, shown(path) + ": Is a directory");
  }
  // The session's write budget: a file the redirection creates is one entry (as a WASI
  // create is; an existing file is free). Threat: `for ...; do : > f$i; done` filling inodes.
  bool charged = false;
  if ((flags & O_CREAT) != 0 && ctx.o.write_budget != nullptr) {
    struct stat before {};
    if (::fstatat(f.rp.dir.get(), f.rp.name.c_str(), &before, AT_SYMLINK_NOFOLLOW) != 0 &&
        errno == ENOENT) {
      if (!ctx.o.write_budget->take_entry()) {
        return make_error(ErrorCode::kIo, shown(path) + ": " + errno_text(ENOSPC) +
                                              " (the session's write budget, --max-write-mb)");
      }
      charged = true;
    }
  }
  Fd fd;
  struct stat st {};
  if (int e = platform::open_file_or_dir(f.rp, flags, 0644, false, &fd, &st)) {
    if (charged) ctx.o.write_budget->release_entry();
    return make_error(ErrorCode::kIo, shown(path) + ": " + errno_text(e));
  }
  if (S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::kInvalidArgument, shown(path) + ": Is a directory");
  }
  return fd;
}

// The virtual /dev every tool of the session has (tool.cc: WasiConfig::dev_files; its devices
// are the WASI host's, wasi::device_named): `/dev/NAME`, however written (`/dev//null`,
// `/tmp/../dev/zero`), when NAME is one of its devices or streams.
std::optional<int> shell_dev_fd(const Io& io, std::string_view path) {
  if (path.size() < 8 || path.substr(0, 8) != "/dev/fd/") return std::nullopt;
  int n = 0;
  const char* end = path.data() + path.size();
  auto [at, ec] = std::from_chars(path.data() + 8, end, n);
  if (path.size() > 10 || ec != std::errc() || at != end || n < 0 || n >= kMaxFds) return kClosed;
  return io.fd[n];
}

bool is_guest_device(const Ctx& ctx, const std::string& cwd, std::string_view path) {
  auto loc = locate(ctx, cwd, path);
  if (!loc || loc->guest.size() <= wasi::kDevPath.size() + 1 ||
      loc->guest.compare(0, wasi::kDevPath.size() + 1, std::string(wasi::kDevPath) + "/") != 0 ||
      platform::has_trailing_slash(path)) {
    return false;
  }
  std::string_view name = std::string_view(loc->guest).substr(wasi::kDevPath.size() + 1);
  return wasi::device_named(name) != wasi::Device::kNone || name == "stdin" ||
         name == "stdout" || name == "stderr";
}

std::shared_ptr<const wasi::VirtualTree> make_virtual_root(const Options& o) {
  // Every program the shell runs by name (is_program): the bundles' commands, the builtins
  // that are programs, the shell itself.
  std::vector<std::string> names;
  for (const auto& [name, tool] : o.commands) names.push_back(name);
  for (const char* n : {"echo", "printf", "true", "false", "test", "[", "pwd", "expr", "which",
                        "timeout", "xargs", "sh", "bash"}) {
    if (is_program_builtin(n) || is_nested_shell_name(n)) names.emplace_back(n);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  // Mount i is preopen i (a denied one has no place: its index keeps an empty name); the
  // tools' /dev after them, so that nothing virtual is made there.
  std::vector<std::string_view> mounts;
  for (const Preopen& p : o.preopens) {
    mounts.emplace_back(p.denied ? std::string_view() : std::string_view(p.guest_path));
  }
  mounts.push_back(wasi::kDevPath);
  return std::make_shared<const wasi::VirtualTree>(
      mounts, std::make_shared<const std::vector<std::string>>(std::move(names)));
}

std::optional<wasi::VirtualTree::Found> virtual_entry(const Ctx& ctx, const std::string& cwd,
                                                      std::string_view path) {
  auto loc = locate(ctx, cwd, path);
  if (!loc) return std::nullopt;
  return std::move(loc->virt);
}

bool is_command_dir(const Ctx& ctx, const std::string& cwd, std::string_view dir) {
  auto v = virtual_entry(ctx, cwd, dir);
  return v && v->kind == wasi::VirtualTree::Found::Kind::kDir && v->node->commands;
}

std::optional<std::string> installed_command(const Ctx& ctx, const std::string& cwd,
                                             std::string_view path) {
  if (path.find('/') == std::string_view::npos) return std::nullopt;
  auto v = virtual_entry(ctx, cwd, path);
  if (!v || v->kind != wasi::VirtualTree::Found::Kind::kCommand) return std::nullopt;
  return ctx.tree->commands()[v->command];
}

// What the shell's stat shows of a virtual name (virtual_root.h): directories root's 0755,
// commands root's 0711 (they run, nobody reads them: a tool's open is EACCES), dates 0.
std::optional<struct stat> stat_virtual(const Ctx& ctx, const wasi::VirtualTree::Found& v) {
  using K = wasi::VirtualTree::Found::Kind;
  struct stat st {};
  if (v.kind == K::kDir) {
    st.st_mode = S_IFDIR | 0755;
    st.st_nlink = 2 + v.node->children.size();
    st.st_ino = v.node->ino;
  } else if (v.kind == K::kCommand) {
    st.st_mode = S_IFREG | 0711;
    st.st_nlink = 1;
    st.st_ino = ctx.tree->command_ino(v.command);
  } else {
    return std::nullopt;
  }
  return st;
}

// stat of a guest path beneath its preopen (for test -e/-f/-d, cd, globbing), through the
// resolver: a final symlink is followed while it stays inside. A /dev device is a character
// device (read and write for all, as Linux's), nothing more of it is shown.
std::optional<struct stat> stat_guest(const Ctx& ctx, const std::string& cwd, std::string_view p) {
  if (is_guest_device(ctx, cwd, p)) {
    struct stat st {};
    st.st_mode = S_IFCHR | 0666;
    st.st_nlink = 1;
    return st;
  }
  auto f = resolve_guest(ctx, cwd, p);
  if (!f) {
    auto v = virtual_entry(ctx, cwd, p);
    return v ? stat_virtual(ctx, *v) : std::nullopt;
  }
  struct stat st {};
  if (::fstatat(f->rp.dir.get(), f->rp.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return std::nullopt;
  }
  return st;
}
}  // namespace wasmcap::shell
