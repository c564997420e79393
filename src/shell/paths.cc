// Guest paths for the shell's own file accesses (redirections, cd, test, globbing): made
// absolute and normalized, matched to a preopen, then resolved beneath it by the confinement
// primitive every tool's path_open uses (docs/shell.md "Redirections are confined").
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "shell/state.h"

namespace wasmcap::shell {

namespace {



struct Located {
  const Preopen* preopen = nullptr;
  std::vector<std::string> rel;  // components beneath the preopen
  std::string guest;             // normalized guest path
};

std::vector<std::string> components(std::string_view p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    if (j > i) out.emplace_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Lexical part: the guest path made absolute and normalized, and the preopen with the longest
// guest prefix. The physical part (symlinks, types) is the platform resolver's, with the WASI
// host's rules (resolve_guest).
Result<Located> locate(const Ctx& ctx, const std::string& cwd, std::string_view path) {
  if (path.size() > kMaxPathBytes) {
    return make_error(ErrorCode::kInvalidArgument, shown(path) + ": File name too long");
  }
  std::string abs = !path.empty() && path[0] == '/' ? std::string(path)
                                                    : cwd + "/" + std::string(path);
  std::vector<std::string> norm;
  for (auto& c : components(abs)) {
    if (c == ".") continue;
    if (c == "..") {
      if (norm.empty()) {
        return make_error(ErrorCode::kGrantDenied, shown(path) + ": outside the granted directories");
      }
      norm.pop_back();
      continue;
    }
    norm.push_back(std::move(c));
  }
  Located best;
  size_t best_len = 0;
  for (const Preopen& p : ctx.o.preopens) {
    if (p.denied) continue;
    auto pc = components(p.guest_path);
    if (pc.size() > norm.size() || (best.preopen != nullptr && pc.size() < best_len)) continue;
    if (!std::equal(pc.begin(), pc.end(), norm.begin())) continue;
    best.preopen = &p;
    best_len = pc.size();
  }
  if (best.preopen == nullptr) {
    return make_error(ErrorCode::kGrantDenied, shown(path) + ": outside the granted directories");
  }
  best.rel.assign(norm.begin() + static_cast<long>(best_len), norm.end());
  best.guest = "/";
  for (size_t k = 0; k < norm.size(); ++k) best.guest += (k ? "/" : "") + norm[k];
  return best;
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
                            bool follow_final) {
  Located loc;
  WASMCAP_TRY_ASSIGN(loc, locate(ctx, cwd, path));
  Found f;
  f.preopen = loc.preopen;
  f.guest = loc.guest;
  Fd root(::open(loc.preopen->host_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
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
  if (int e = platform::resolve_beneath(root.get(), rel, beneath, &f.rp)) {
    return make_error(e == EXDEV ? ErrorCode::kGrantDenied : ErrorCode::kIo,
                      shown(path) + ": " + errno_text(e));
  }
  return f;
}

// Opens a file for a redirection beneath its preopen: the resolver, then the same type-checked,
// non-blocking open as WASI path_open (platform::open_file_or_dir). Threat: a FIFO, socket or
// device in the tree (`echo x > fifo` blocked past the deadline; a device was written).
Result<Fd> open_redirect(const Ctx& ctx, const std::string& cwd, std::string_view path, int flags) {
  Found f;
  WASMCAP_TRY_ASSIGN(f, resolve_guest(ctx, cwd, path));
  bool writes = (flags & (O_WRONLY | O_RDWR)) != 0;
  if (writes && f.preopen->read_only) {
    return make_error(ErrorCode::kGrantDenied, shown(path) + ": read-only directory");
  }
  if (f.rp.name == "." || f.rp.trailing_slash) {
    return make_error(ErrorCode::kInvalidArgument, shown(path) + ": Is a directory");
  }
  Fd fd;
  struct stat st {};
  if (int e = platform::open_file_or_dir(f.rp, flags, 0644, false, &fd, &st)) {
    return make_error(ErrorCode::kIo, shown(path) + ": " + errno_text(e));
  }
  if (S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::kInvalidArgument, shown(path) + ": Is a directory");
  }
  return fd;
}

// stat of a guest path beneath its preopen (for test -e/-f/-d, cd, globbing), through the
// resolver: a final symlink is followed while it stays inside.
std::optional<struct stat> stat_guest(const Ctx& ctx, const std::string& cwd, std::string_view p) {
  auto f = resolve_guest(ctx, cwd, p);
  if (!f) return std::nullopt;
  struct stat st {};
  if (::fstatat(f->rp.dir.get(), f->rp.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return std::nullopt;
  }
  return st;
}
}  // namespace wasmcap::shell
