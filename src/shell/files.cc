// The shell's own changes to files and its searches for them (docs/shell.md "Commands"):
// `chmod` (WASI preview 1 has no call that changes a mode, so no tool can: the shell does it,
// through the same confinement resolver as a redirection), and the PATH search that finds a
// script beneath a preopen for a command name, for `.` and for `command -v` / `type` / `hash`,
// with bash's table of names already found (`hash`, cleared by `hash -r` or a new PATH), and
// `which` (debianutils' over that search and the shell's own programs).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "shell/commands.h"
#include "shell/state.h"

namespace wasmcap::shell {

namespace {

// The mask a symbolic mode without `ugoa` applies through (the umask chmod(1) honours; the
// shell has no umask builtin, so it is the usual 022).
constexpr mode_t kUmask = 022;

// Applies a chmod(1) mode (octal, or symbolic clauses `[ugoa]*([-+=][rwxX]*)+` separated by
// commas) to `mode` (the file's current mode; `dir` for X). False when the text is not a mode,
// or asks for the set-user-ID, set-group-ID or sticky bit (*special set).
bool apply_mode(std::string_view text, mode_t mode, bool dir, mode_t* out, bool* special) {
  *special = false;
  if (text.empty()) return false;
  if (text[0] >= '0' && text[0] <= '7') {
    if (text.size() > 4) return false;
    mode_t m = 0;
    for (char c : text) {
      if (c < '0' || c > '7') return false;
      m = m * 8 + static_cast<mode_t>(c - '0');
    }
    if ((m & 07000) != 0) *special = true;
    *out = m;
    return !*special;
  }
  mode_t cur = mode & 0777;
  size_t i = 0;
  while (i <= text.size()) {
    mode_t who = 0;
    for (; i < text.size() && std::strchr("ugoa", text[i]) != nullptr; ++i) {
      who |= text[i] == 'u' ? 0700 : text[i] == 'g' ? 0070 : text[i] == 'o' ? 0007 : 0777;
    }
    bool masked = who == 0;
    if (masked) who = 0777 & ~kUmask;
    if (i >= text.size() || std::strchr("+-=", text[i]) == nullptr) return false;
    while (i < text.size() && std::strchr("+-=", text[i]) != nullptr) {
      char op = text[i++];
      mode_t bits = 0;
      for (; i < text.size() && text[i] != ',' && std::strchr("+-=", text[i]) == nullptr; ++i) {
        char c = text[i];
        if (c == 'r') {
          bits |= 0444;
        } else if (c == 'w') {
          bits |= 0222;
        } else if (c == 'x') {
          bits |= 0111;
        } else if (c == 'X') {
          if (dir || (cur & 0111) != 0) bits |= 0111;
        } else if (c == 's' || c == 't') {
          *special = true;
          return false;
        } else {
          return false;
        }
      }
      bits &= who;
      if (op == '+') {
        cur |= bits;
      } else if (op == '-') {
        cur &= ~bits;
      } else {
        cur = (cur & ~(masked ? 0777 : who)) | bits;
      }
    }
    if (i == text.size()) break;
    if (text[i] != ',') return false;
    ++i;
  }
  *out = cur;
  return true;
}

// chmod MODE FILE...: each FILE resolved beneath its preopen as a redirection's target (a
// symlink followed while it stays inside). Refused: a `:ro` preopen, anything but a regular
// file or a directory, a regular file with more than one link (a hard link may be the same
// file outside the granted directories), and the set-user-ID, set-group-ID and sticky bits.
int b_chmod(Ctx& ctx, State& st, const std::vector<std::string_view>& a, const Io& io,
            std::atomic<uint64_t>* err_b) {
  auto say = [&](const std::string& m) {
    emit(ctx, io.err(), "wasmcap sh: chmod: " + m + "\n", err_b);
    return 1;
  };
  size_t i = 0;
  if (i < a.size() && a[i] == "--") ++i;
  if (a.size() < i + 2) return say("usage: chmod MODE FILE... (no options)");
  std::string_view text = a[i++];
  mode_t probe = 0;
  bool special = false;
  if (!apply_mode(text, 0, false, &probe, &special)) {
    if (special) {
      return say(shown(text) + ": the set-user-ID, set-group-ID and sticky bits are not "
                 "granted to scripts");
    }
    return say(text[0] == '-' && text.size() > 1 && std::strchr("rwxX", text[1]) == nullptr
                   ? shown(text) + ": invalid option (chmod takes no options here)"
                   : "invalid mode: '" + shown(text) + "'");
  }
  int status = 0;
  for (; i < a.size(); ++i) {
    std::string_view path = a[i];
    auto f = resolve_guest(ctx, st.cwd, path, true);
    if (!f) {
      status = say(f.error().message);
      continue;
    }
    if (f->preopen->read_only) {
      status = say(shown(path) + ": read-only directory");
      continue;
    }
    // An O_PATH descriptor opens nothing (no FIFO or device side effect) and names this very
    // inode: the chmod goes through its /proc link, never through a name a race could swap.
    Fd fd(::openat(f->rp.dir.get(), f->rp.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat sb {};
    if (!fd.valid() || ::fstat(fd.get(), &sb) != 0) {
      status = say(shown(path) + ": " + std::strerror(errno));
      continue;
    }
    if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)) {
      status = say(shown(path) + ": not a regular file or directory");
      continue;
    }
    if (S_ISREG(sb.st_mode) && sb.st_nlink > 1) {
      status = say(shown(path) + ": has other hard links (one may be outside the granted "
                   "directories); copy it and change the copy");
      continue;
    }
    mode_t m = 0;
    (void)apply_mode(text, sb.st_mode, S_ISDIR(sb.st_mode), &m, &special);
    std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
    if (::chmod(proc.c_str(), m) != 0) status = say(shown(path) + ": " + std::strerror(errno));
  }
  return status;
}

// which [-a] NAME...: debianutils' which (Debian 12), over what this shell runs. A name with
// '/' is printed when it is an executable regular file beneath the preopens. Otherwise a program
// the shell provides — a bundle's command, `sh`/`bash`, a builtin that is also a program
// (`echo`) — is printed as its bare name, as `command -v` prints it (a bundle's module has no
// path in the sandbox; the name is what runs it: `$(which python3) x.py` works), then, with -a
// (or when no program has the name), each executable `DIR/NAME` on PATH, as debianutils prints
// it. Status 0 when every name was found, 1 when one was not (or none was given), 2 for a bad
// option, with debianutils' usage line on stdout.
int b_which(Ctx& ctx, State& st, const std::vector<std::string_view>& a, const Io& io,
            std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  bool all = false;
  size_t i = 0;
  for (; i < a.size(); ++i) {
    std::string_view w = a[i];
    if (w == "--") {
      ++i;
      break;
    }
    if (w.size() < 2 || w[0] != '-') break;
    for (char c : w.substr(1)) {
      if (c != 'a') {
        emit(ctx, io.err(), "Illegal option -" + shown(std::string_view(&c, 1)) + "\n", err_b);
        emit(ctx, io.out(), "Usage: which [-a] args\n", out_b);
        return 2;
      }
    }
    all = true;
  }
  if (i == a.size()) return 1;
  std::string out;
  int status = 0;
  for (; i < a.size(); ++i) {
    std::string_view name = a[i];
    bool found = false;
    if (name.find('/') != std::string_view::npos) {
      auto s = stat_guest(ctx, st.cwd, name);
      found = (s && S_ISREG(s->st_mode) && (s->st_mode & 0111) != 0) ||
              installed_command(ctx, st.cwd, name);
      if (found) out += shown(name) + "\n";
    } else {
      // A program first (what runs: DIR/NAME for PATH's first command directory, else its bare
      // name), then PATH's executables; a program is in every command directory (the virtual
      // root's), so `which -a ls` prints /usr/bin/ls and /bin/ls, as on Debian.
      std::vector<std::string> paths;
      if (!name.empty() && is_program(ctx, name)) {
        auto at = program_on_path(ctx, st, name);
        paths.push_back(at ? *at : std::string(name));
      }
      if (paths.empty() || all) {
        std::vector<std::string> more;
        if (all) {
          search_path(ctx, st, name, true, &more);
        } else if (auto p = search_path(ctx, st, name, true)) {
          more.push_back(std::move(*p));
        }
        for (auto& p : more) {
          if (std::find(paths.begin(), paths.end(), p) == paths.end()) paths.push_back(p);
        }
      }
      for (const auto& p : paths) out += shown(p) + "\n";
      found = !paths.empty();
    }
    if (!found) status = 1;
  }
  return emit(ctx, io.out(), out, out_b) ? status : 1;
}

// Calls `visit` with each directory PATH names, in order (an empty entry as ""), until it
// returns true. No PATH: no directory.
template <typename F>
void each_path_dir(Ctx& ctx, const State& st, F visit) {
  std::string tmp;
  auto path = param_value(st, "PATH", &tmp);
  if (!path) return;
  std::string_view p = *path;
  for (size_t i = 0; i <= p.size();) {
    ctx.budget->check();  // a PATH of a million ':' still ends at the deadline
    size_t j = p.find(':', i);
    if (j == std::string_view::npos) j = p.size();
    if (visit(p.substr(i, j - i))) return;
    i = j + 1;
  }
}

}  // namespace

std::optional<std::string> search_path(Ctx& ctx, const State& st, std::string_view name,
                                       bool executable, std::vector<std::string>* all) {
  if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
  std::optional<std::string> first;
  each_path_dir(ctx, st, [&](std::string_view dir) {
    std::string cand = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + std::string(name);
    auto s = stat_guest(ctx, st.cwd, cand);
    if (!s || !S_ISREG(s->st_mode) || (executable && (s->st_mode & 0111) == 0)) return false;
    if (all == nullptr) {
      first = std::move(cand);
      return true;
    }
    ctx.budget->check_words(all->size() + 1);
    all->push_back(std::move(cand));
    return false;
  });
  if (all != nullptr && !all->empty()) return all->front();
  return first;
}

std::optional<std::string> program_on_path(Ctx& ctx, const State& st, std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos || !is_program(ctx, name)) {
    return std::nullopt;
  }
  std::optional<std::string> found;
  each_path_dir(ctx, st, [&](std::string_view dir) {
    if (dir.empty() || !is_command_dir(ctx, st.cwd, dir)) return false;
    found = std::string(dir);
    if (found->back() != '/') found->push_back('/');
    found->append(name);
    return true;
  });
  return found;
}

std::optional<std::string> find_path_command(Ctx& ctx, State& st, std::string_view name) {
  auto it = st.hashed.find(name);
  if (it != st.hashed.end()) return std::string(view(it->second.path));
  auto found = search_path(ctx, st, name, true);
  if (found) st.hashed.insert_or_assign(ctx.str(name), State::Hashed{ctx.str(*found), 0});
  return found;
}

void hash_hit(Ctx& ctx, State& st, std::string_view name) {
  if (name.find('/') != std::string_view::npos) return;  // run by path: no search, no entry
  auto it = st.hashed.find(name);
  if (it == st.hashed.end()) {
    auto at = program_on_path(ctx, st, name);
    if (!at) return;
    it = st.hashed.insert_or_assign(ctx.str(name), State::Hashed{ctx.str(*at), 0}).first;
  }
  ++it->second.hits;
}

void hash_program(Ctx& ctx, State& st, std::string_view name) {
  if (st.hashed.find(name) != st.hashed.end()) return;
  if (auto at = program_on_path(ctx, st, name)) {
    st.hashed.insert_or_assign(ctx.str(name), State::Hashed{ctx.str(*at), 0});
  }
}

bool is_file_builtin(std::string_view n) { return n == "chmod" || n == "which"; }

int run_file_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                     std::atomic<uint64_t>* out_b, std::atomic<uint64_t>* err_b) {
  std::vector<std::string_view> a;
  for (size_t k = 1; k < argv.size(); ++k) a.push_back(view(argv[k]));
  if (view(argv[0]) == "which") return b_which(ctx, st, a, io, out_b, err_b);
  return b_chmod(ctx, st, a, io, err_b);
}

}  // namespace wasmcap::shell
