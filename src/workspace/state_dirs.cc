// wasmcap's own state directories (state_dirs.h).
#include "workspace/state_dirs.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "platform/beneath.h"
#include "wasmcap/engine.h"
#include "platform/fd.h"
#include "wasmcap/workspace.h"

namespace wasmcap::workspace {

namespace {

using Fd = platform::UniqueFd;

// ".." is climbed at most this often from SOURCE (contains): deeper than any real path, and a
// bound should the file system loop.
constexpr int kMaxClimb = 4096;

std::vector<std::string> components(const std::string& p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) out.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool same(const struct stat& st, dev_t dev, ino_t ino) {
  return st.st_dev == dev && st.st_ino == ino;
}

}  // namespace

void StateDirs::add(const std::string& path_in, const std::string& what) {
  if (path_in.empty()) return;
  std::error_code ec;
  std::string path = std::filesystem::absolute(path_in, ec).string();
  if (ec) return;
  struct stat st;
  // Followed as wasmcap follows it when it uses the directory: its identity is where the data
  // is, whatever the spelling.
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    dirs_.push_back({st.st_dev, st.st_ino, {}, what, path});
    return;
  }
  // Missing (or not a directory yet): the deepest directory above it that exists, and the
  // names apply would have to create below it. The names are taken lexically (".." folded),
  // which is how the engines' create_directories makes a missing cache directory.
  auto names = components(std::filesystem::path(path).lexically_normal().string());
  for (size_t k = names.size(); k-- > 0;) {
    std::string prefix(k == 0 ? 1 : 0, '/');  // "/" itself for k == 0
    for (size_t i = 0; i < k; ++i) {
      prefix.push_back('/');
      prefix += names[i];
    }
    if (::stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      dirs_.push_back({st.st_dev, st.st_ino,
                       std::vector<std::string>(names.begin() + static_cast<long>(k), names.end()),
                       what, path});
      return;
    }
  }
}

StateDirs StateDirs::current(const std::string& home) {
  StateDirs s;
  for (const EngineStateDir& d : engine_state_dirs()) s.add(d.path, d.what);
  s.add(home, "WASMCAP_HOME (installed bundles, trust keys, audit log, workspaces)");
  s.add(home + "/workspaces", "the workspaces folder");
  return s;
}

void StateDirs::add_relative(const struct stat& source, const std::string& rel) {
  auto names = components(rel);
  if (names.empty()) return;
  dirs_.push_back({source.st_dev, source.st_ino, std::move(names),
                   "a directory of SOURCE that `ws create` left out as wasmcap's own state",
                   rel});
}

std::string StateDirs::why(const Dir& d) const {
  return "at or below " + d.what + " '" + display_path(d.path) +
         "', which workspaces never copy and `ws apply` never writes (what a tool put there, "
         "wasmcap would trust outside the sandbox)";
}

std::string StateDirs::state_dir(const struct stat& st) const {
  for (const Dir& d : dirs_) {
    if (d.rest.empty() && same(st, d.dev, d.ino)) return why(d);
  }
  return {};
}

std::string StateDirs::refuse_at(const struct stat& dir, const std::vector<std::string>& names,
                                 size_t i) const {
  for (const Dir& d : dirs_) {
    if (!same(dir, d.dev, d.ino)) continue;
    if (d.rest.empty()) return why(d);
    if (names.size() - i < d.rest.size()) continue;  // an ancestor of it: may be created
    if (std::equal(d.rest.begin(), d.rest.end(), names.begin() + static_cast<long>(i))) {
      return why(d);
    }
  }
  return {};
}

std::string StateDirs::refuse_path(int root, const std::string& rel) const {
  auto names = components(rel);
  if (names.empty()) return {};
  // The platform resolver with every symlink refused; each directory is compared as the walk
  // holds it (on_dir: root first, the final entry's directory last), never by a path.
  std::string why;
  platform::BeneathOptions o;
  o.symlinks = platform::Symlinks::kRefuse;
  o.on_dir = [&](int dirfd, size_t i) -> int {
    struct stat st;
    if (::fstat(dirfd, &st) != 0) {
      why = "cannot check it against wasmcap's state directories";
      return errno;
    }
    why = refuse_at(st, names, i);
    return why.empty() ? 0 : EPERM;
  };
  platform::Resolved r;
  int e = platform::resolve_beneath(root, rel, o, &r);
  if (!why.empty()) return why;
  // Missing, or not a directory (or a link): apply creates the rest (checked by name above) or
  // refuses the change for other reasons.
  if (e != 0) return {};
  // The entry itself: a state directory is neither removed nor re-moded.
  struct stat leaf;
  if (::fstatat(r.dir.get(), r.name.c_str(), &leaf, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISDIR(leaf.st_mode)) {
    return state_dir(leaf);
  }
  return {};
}

std::string StateDirs::contains(int dirfd) const {
  Fd cur(::dup(dirfd));
  struct stat st;
  if (!cur.valid() || ::fstat(cur.get(), &st) != 0) return "cannot check SOURCE's identity";
  for (int n = 0; n < kMaxClimb; ++n) {
    if (auto w = state_dir(st); !w.empty()) return "SOURCE is " + w;
    Fd up(::openat(cur.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
    struct stat ust;
    if (!up.valid() || ::fstat(up.get(), &ust) != 0) return "cannot check SOURCE's ancestors";
    if (same(ust, st.st_dev, st.st_ino)) return {};  // "/": its own parent
    cur = std::move(up);
    st = ust;
  }
  return "cannot check SOURCE's ancestors (deeper than " + std::to_string(kMaxClimb) + ")";
}

}  // namespace wasmcap::workspace
