// Shadow workspaces: `ws create` (the walk of SOURCE that copies it into the workspace's tree,
// with reflinks where the file system has them, and records its snapshot) and the sweep of what
// killed creates and discards left in HOME/workspaces.
//
// The walk never follows a symlink (recorded as a symlink, never followed, so the copy cannot be
// redirected outside the tree it works on), bounds a tree's entries, depth and logical size
// (apparent file sizes: a sparse file costs its size to hash and copy), never enters the
// workspaces folder itself, and leaves wasmcap's own state directories (state_dirs.h) out of the
// copy, so a tool neither reads them nor gets a copy that apply would carry back. The copy is
// made in a hidden directory held locked (flock) until it is synced and renamed into place: a
// listed workspace is whole, never one whose files read as emptied after a power loss.
// The component's design and the threats its checks stop: src/workspace/internal.h.

#include "workspace/internal.h"
#include "workspace/ignore.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>

namespace wasmcap::workspace {

using namespace detail;

namespace {

constexpr size_t kMaxEntries = 500000;  // entries in one tree (bounds snapshot size)
constexpr int kMaxDepth = 128;          // directory depth (bounds open descriptors)

std::string mib(uint64_t b) { return std::to_string(b >> 20) + " MiB"; }

}  // namespace

namespace detail {

// Adds the rules of dirfd's own .gitignore (a regular file, never through a symlink; read up to
// one byte over the bound, which add_file then refuses).
Result<void> read_gitignore(int dirfd, const std::string& prefix, WalkState& ws) {
  const std::string name = join(prefix, ".gitignore");
  Fd f(::openat(dirfd, ".gitignore", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!f.valid()) {
    if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) return {};
    return tl::unexpected(io_error("open " + name));
  }
  struct stat st;
  if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  std::string text;
  char buf[65536];
  while (text.size() <= Ignore::kMaxFileBytes) {
    ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(io_error("read " + name));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return ws.ignore->add_file(prefix, text, name);
}

// Walks dirfd (relative path `prefix`), appending entries, hashing files and (when copying)
// mirroring the tree into dst.
Result<void> walk(int dirfd, int dst, const std::string& prefix, int depth, WalkState& ws) {
  if (depth > kMaxDepth) {
    return make_error(ErrorCode::kInvalidArgument,
                      "'" + prefix + "': directory depth over " + std::to_string(kMaxDepth));
  }
  std::vector<std::string> names;
  WASMCAP_TRY_ASSIGN(names, list_dir(dirfd));
  if (ws.ignore != nullptr && ws.read_gitignore) WASMCAP_TRY(read_gitignore(dirfd, prefix, ws));
  for (const std::string& n : names) {
    std::string path = join(prefix, n);
    struct stat st;
    if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return tl::unexpected(io_error("stat " + path));
    }
    // Left out by a .gitignore or --exclude rule: not copied, not recorded, not entered.
    if (ws.ignore != nullptr && ws.ignore->ignored(path, S_ISDIR(st.st_mode))) {
      ++(S_ISDIR(st.st_mode) ? ws.ignored_dirs : ws.ignored_files);
      continue;
    }
    if (ws.out->size() >= kMaxEntries) {
      return make_error(ErrorCode::kInvalidArgument,
                        "tree has more than " + std::to_string(kMaxEntries) + " entries");
    }
    // A test can stop create at any entry of the copy (kill, or a full disk).
    if (dst >= 0) WS_FAILPOINT("ws.create.copy", "copy " + display_path(path));
    Entry e = entry_from_stat(path, st);
    switch (e.type) {
      case Entry::Type::kOther:
        if (ws.skipped != nullptr) ws.skipped->push_back(path);
        continue;  // fifos, sockets, devices: never opened, never copied
      case Entry::Type::kSymlink: {
        WASMCAP_TRY_ASSIGN(e.target, read_link(dirfd, n));
        if (dst >= 0 && ::symlinkat(e.target.c_str(), dst, n.c_str()) != 0) {
          return tl::unexpected(io_error("symlink " + path));
        }
        ws.out->push_back(std::move(e));
        break;
      }
      case Entry::Type::kFile: {
        // Counted before anything is read: the apparent size, which is what hashing and a
        // copy cost, not the blocks allocated (a sparse file has almost none).
        ws.total_bytes += e.size;
        if (ws.total_bytes > ws.max_bytes) {
          return make_error(
              ErrorCode::kInvalidArgument,
              "the tree's logical size (apparent file sizes) passes its bound of " +
                  mib(ws.max_bytes) + " at '" + display_path(path) + "' (" +
                  std::to_string(e.size) + " bytes): remove or truncate large (possibly "
                  "sparse) files in the tree, or create the workspace with a larger "
                  "--max-size-mb");
        }
        Fd in(::openat(dirfd, n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
        if (!in.valid()) return tl::unexpected(io_error("open " + path));
        struct stat st2;
        if (::fstat(in.get(), &st2) != 0 || st2.st_ino != st.st_ino || !S_ISREG(st2.st_mode)) {
          return make_error(ErrorCode::kIo, "'" + path + "' changed while being read; retry");
        }
        Fd out;
        bool cloned = false;
        if (dst >= 0) {
          out = Fd(::openat(dst, n.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            0600));
          if (!out.valid()) return tl::unexpected(io_error("create copy of " + path));
          cloned = ::ioctl(out.get(), FICLONE, in.get()) == 0;
          (cloned ? ws.any_reflink : ws.any_copy) = true;
          ++(cloned ? ws.reflinked : ws.copied);
        }
        WASMCAP_TRY_ASSIGN(e.hash,
                           hash_fd(in.get(), (dst >= 0 && !cloned) ? out.get() : -1, nullptr, 0));
        if (dst >= 0) {
          ::fchmod(out.get(), e.mode & 0777);
          struct timespec ts[2] = {st.st_atim, st.st_mtim};
          ::futimens(out.get(), ts);
        }
        ws.out->push_back(std::move(e));
        break;
      }
      case Entry::Type::kDir: {
        if (ws.have_stop && st.st_dev == ws.stop_dev && st.st_ino == ws.stop_ino) {
          return make_error(ErrorCode::kInvalidArgument,
                            "'" + path + "' is the workspaces folder itself; a workspace cannot "
                            "contain its own store (move WASMCAP_HOME out of the tree)");
        }
        Fd sub(::openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub.valid()) return tl::unexpected(io_error("open directory " + path));
        // wasmcap's own state (the cache, WASMCAP_HOME, ...; state_dirs.h), compared as the
        // directory is opened: never copied, so a tool neither reads it nor gets a copy that
        // apply would carry back. Nothing is recorded either, so diff shows nothing for it.
        struct stat sst;
        if (::fstat(sub.get(), &sst) != 0) return tl::unexpected(io_error("stat " + path));
        if (ws.state != nullptr && !ws.state->state_dir(sst).empty()) {
          if (ws.left_out != nullptr) ws.left_out->push_back(path);
          continue;
        }
        Fd dsub;
        if (dst >= 0) {
          if (::mkdirat(dst, n.c_str(), 0700) != 0) return tl::unexpected(io_error("mkdir " + path));
          dsub = Fd(::openat(dst, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          if (!dsub.valid()) return tl::unexpected(io_error("open copy of " + path));
        }
        ws.out->push_back(e);
        auto r = walk(sub.get(), dsub.get(), path, depth + 1, ws);
        if (!r) return r;
        // Keep the owner's rwx so tools can work and discard can remove; the snapshot keeps
        // the real mode (directory modes are not compared, docs/workspace.md).
        if (dst >= 0) ::fchmod(dsub.get(), (e.mode & 0777) | 0700);
        break;
      }
    }
  }
  return {};
}

// Deletes everything beneath dirfd, a directory of ours (a workspace being discarded, a
// create's partial copy), restoring the owner's rwx on directories a tool made read-only and
// never following a symlink. Failpoint `fp` before each unlink, so a test can stop a deletion
// halfway.
Result<void> remove_contents(int dirfd, std::string_view fp) {
  WS_LET(names, list_dir(dirfd));
  for (const std::string& n : names) {
    struct stat st;
    if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return tl::unexpected(io_error("stat " + n));
    }
    const bool dir = S_ISDIR(st.st_mode);
    if (dir) {
      if ((st.st_mode & 0700) != 0700) {
        // Through an O_PATH descriptor's /proc link: the inode just checked, not a name a link
        // could be swapped onto.
        Fd p(::openat(dirfd, n.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        std::string proc = "/proc/self/fd/" + std::to_string(p.get());
        if (!p.valid() || ::chmod(proc.c_str(), 0700) != 0) {
          return tl::unexpected(io_error("make " + n + " writable"));
        }
      }
      Fd sub(::openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) return tl::unexpected(io_error("open " + n));
      WASMCAP_TRY(remove_contents(sub.get(), fp));
    }
    WS_FAILPOINT(fp, "remove " + n);
    if (::unlinkat(dirfd, n.c_str(), dir ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
      return tl::unexpected(io_error("remove " + n));
    }
  }
  return {};
}

}  // namespace detail

namespace {

// Finishes what killed creates and discards left in HOME/workspaces: hidden directories
// ".tmp-NAME-*" (a partial copy of SOURCE, never usable) and ".discard-NAME-*" (a workspace
// whose name is already gone). Their owner holds a flock on the directory itself for as long
// as it works on it, so one whose lock can be taken has no owner left and is deleted, and one
// in use is left alone (as the AOT cache sweeps its tmp-* directories). Run by every `ws`
// command. Failures are not reported: what is left is swept the next time.
void sweep(int wsfd, std::string_view fp) {
  auto names = list_dir(wsfd);
  if (!names) return;
  bool synced = false;
  for (const std::string& n : *names) {
    if (!starts_with(n, kCreatePrefix) && !starts_with(n, kDiscardPrefix)) continue;
    Fd d(::openat(wsfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d.valid() || ::flock(d.get(), LOCK_EX | LOCK_NB) != 0) continue;
    struct stat held, now;
    if (::fstat(d.get(), &held) != 0 ||
        ::fstatat(wsfd, n.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 || held.st_ino != now.st_ino) {
      continue;  // renamed into place (a create that finished) since we listed it
    }
    // A discard whose sync failed may have a rename that is not on disk yet: sync it before
    // deleting anything, so a power loss cannot bring the workspace back with files missing.
    if (!synced && ::fsync(wsfd) != 0) return;
    synced = true;
    if (remove_contents(d.get(), fp)) ::unlinkat(wsfd, n.c_str(), AT_REMOVEDIR);
  }
}

}  // namespace

namespace detail {

// Opens HOME/workspaces and sweeps it, for a `ws` command; fp names the command's sweep
// failpoint. With `make`, a missing folder is made; without, it is an invalid descriptor.
Result<Fd> open_workspaces(const std::string& home, std::string_view fp, bool make) {
  std::string wsdir = workspaces_dir(home);
  if (make && ::mkdir(wsdir.c_str(), 0700) != 0 && errno != EEXIST) {
    return tl::unexpected(io_error("mkdir " + wsdir));
  }
  Fd fd(::open(wsdir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() && !make && errno == ENOENT) return Fd();
  if (!fd.valid()) return tl::unexpected(io_error("open " + wsdir));
  sweep(fd.get(), fp);
  return fd;
}

}  // namespace detail

Result<Info> create(const std::string& home, const std::string& source, const std::string& name,
                    uint64_t max_bytes) {
  CreateOptions o;
  o.max_bytes = max_bytes;
  o.gitignore = false;
  return create(home, source, name, o);
}

Result<Info> create(const std::string& home, const std::string& source, const std::string& name_in,
                    const CreateOptions& options) {
  const uint64_t max_bytes = options.max_bytes;
  Ignore ignore;
  for (const std::string& p : options.exclude) WASMCAP_TRY(ignore.add_exclude(p));
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium init failed");
  std::string name = name_in;
  if (name.empty()) {
    unsigned char r[4];
    randombytes_buf(r, sizeof r);
    name = "ws-" + hex(r, sizeof r);
  }
  WASMCAP_TRY(validate_name(name));
  std::error_code ec;
  // Symlinks in --from are resolved here, once, as the operator named them: the path recorded
  // is link-free, so apply can reopen it with O_NOFOLLOW on every component and treat any link
  // found there later as tampering.
  std::string src = std::filesystem::canonical(source, ec).string();
  auto root = ec ? Result<Fd>(make_error(ErrorCode::kNotFound, "")) : open_root(src);
  struct stat rst;
  if (!root || ::fstat(root->get(), &rst) != 0 || !S_ISDIR(rst.st_mode)) {
    return make_error(ErrorCode::kNotFound, "--from '" + source + "': not a directory we can open");
  }
  // Only what wasmcap creates is made private (0700): an existing WASMCAP_HOME keeps the mode
  // its owner gave it (it used to be chmodded to 0700 here).
  std::string wsdir = workspaces_dir(home);
  if (!std::filesystem::exists(std::filesystem::symlink_status(home, ec))) {
    std::filesystem::create_directories(home, ec);  // with any missing parents, as mkdir -p
    if (!ec) ::chmod(home.c_str(), 0700);
  }
  WS_LET(wsfd, open_workspaces(home, "ws.create.sweep"));
  // After HOME and its workspaces folder exist, so they are identified too.
  const StateDirs state = StateDirs::current(home);
  if (auto why = state.contains(root->get()); !why.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--from '" + display_path(source) + "': " + why + "; choose another "
                      "directory");
  }
  std::string final_dir = wsdir + "/" + name;
  auto exists = [&] {
    return make_error(ErrorCode::kWorkspaceConflict,
                      "workspace '" + name + "' exists; pick another --name or `wasmcap ws discard " +
                          name + "`");
  };
  if (std::filesystem::exists(std::filesystem::symlink_status(final_dir, ec))) return exists();
  // The copy is made in a hidden directory that stays flock()ed until it is renamed into
  // place: a create that is killed leaves one nobody holds, which the next `ws` command sweeps
  // (sweep). Locked right after mkdir and checked to still be there, so a sweep that ran in
  // between (it removes what it could lock) cannot pull the directory from under the copy.
  std::string tmp_name;
  Fd tmpfd;
  // Fresh names to try: one loses only to a sweep that ran between its mkdir and its lock.
  constexpr int kTempDirAttempts = 3;
  for (int attempt = 0; attempt < kTempDirAttempts && !tmpfd.valid(); ++attempt) {
    WS_FAILPOINT("ws.create.mkdir", "mkdir " + wsdir + "/" + kCreatePrefix + name);
    tmp_name = kCreatePrefix + name + "-" + random_hex(6);
    if (::mkdirat(wsfd.get(), tmp_name.c_str(), 0700) != 0) {
      return tl::unexpected(io_error("mkdir " + wsdir + "/" + tmp_name));
    }
    Fd d(::openat(wsfd.get(), tmp_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat held, now;
    if (d.valid() && ::flock(d.get(), LOCK_EX | LOCK_NB) == 0 && ::fstat(d.get(), &held) == 0 &&
        ::fstatat(wsfd.get(), tmp_name.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 &&
        held.st_ino == now.st_ino) {
      tmpfd = std::move(d);
    }
  }
  if (!tmpfd.valid()) {
    return make_error(ErrorCode::kIo, "could not make and lock a temporary directory in " + wsdir +
                                          "; retry");
  }
  Info info;
  info.name = name;
  info.source = src;
  info.source_dev = static_cast<uint64_t>(rst.st_dev);
  info.source_ino = static_cast<uint64_t>(rst.st_ino);
  info.has_source_id = true;
  info.max_bytes = max_bytes == 0 ? kDefaultMaxLogicalBytes : max_bytes;
  info.created_unix = static_cast<int64_t>(std::time(nullptr));
  WalkState ws;
  ws.max_bytes = info.max_bytes;
  ws.out = &info.entries;
  ws.skipped = &info.skipped;
  ws.state = &state;
  ws.left_out = &info.left_out;
  ws.ignore = &ignore;
  ws.read_gitignore = options.gitignore;
  struct stat wst;
  if (::fstat(wsfd.get(), &wst) == 0) {
    ws.have_stop = true;
    ws.stop_dev = wst.st_dev;
    ws.stop_ino = wst.st_ino;
  }
  // A failed create removes its copy (still holding the lock); if that fails too, or the
  // process is killed, the sweep of a later command does.
  auto fail = [&](Error e) -> Result<Info> {
    if (remove_contents(tmpfd.get(), "ws.create.cleanup")) {
      ::unlinkat(wsfd.get(), tmp_name.c_str(), AT_REMOVEDIR);
    }
    return tl::unexpected(std::move(e));
  };
  if (ws.have_stop && rst.st_dev == wst.st_dev && rst.st_ino == wst.st_ino) {
    return fail(Error(ErrorCode::kInvalidArgument, "--from is the workspaces folder itself"));
  }
  if (int e = failpoint::hit("ws.create.mkdir_tree"); e != 0 ||
      ::mkdirat(tmpfd.get(), "tree", 0700) != 0) {
    if (e != 0) errno = e;
    return fail(io_error("mkdir " + wsdir + "/" + tmp_name + "/tree"));
  }
  auto dst = Fd(::openat(tmpfd.get(), "tree", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dst.valid()) return fail(io_error("open " + wsdir + "/" + tmp_name + "/tree"));
  auto r = walk(root->get(), dst.get(), "", 0, ws);
  if (!r) return fail(r.error());
  info.ignore = ignore.file_rules();
  info.exclude = ignore.exclude_patterns();
  info.ignored_files = ws.ignored_files;
  info.ignored_dirs = ws.ignored_dirs;
  info.reflinked_files = ws.reflinked;
  info.copied_files = ws.copied;
  info.copy_method = ws.any_reflink ? (ws.any_copy ? "reflink+copy" : "reflink")
                                    : (ws.any_copy ? "copy" : "none");
  if (auto w = write_whole(tmpfd.get(), "snapshot.json", snapshot_json(info),
                           "ws.create.snapshot", false);
      !w) {
    return fail(w.error());
  }
  // The copy and its snapshot reach the disk before the workspace gets its name: after a power
  // loss a listed workspace is whole, never one whose files read as emptied (which diff would
  // show as changes and apply would write into SOURCE). One syncfs instead of an fsync per file.
  if (int e = failpoint::hit("ws.create.sync"); e != 0 || ::syncfs(tmpfd.get()) != 0) {
    if (e != 0) errno = e;
    return fail(io_error("sync the copy in " + wsdir + "/" + tmp_name));
  }
  if (int e = failpoint::hit("ws.create.rename");
      e != 0 || rename_noreplace(wsfd.get(), tmp_name, name) != 0) {
    if (e != 0) errno = e;
    if (errno == EEXIST || errno == ENOTEMPTY) return fail(exists().value());
    return fail(io_error("rename " + wsdir + "/" + tmp_name + " to " + name));
  }
  info.dir = final_dir;
  info.tree = final_dir + "/tree";
  if (auto sy = sync_fd(wsfd.get(), "ws.create.fsync_dir", wsdir); !sy) {
    return make_error(ErrorCode::kIo,
                      sy.error().message + ": workspace '" + name + "' was created, but its name "
                      "may not survive a power loss; if it is missing afterwards, create it again");
  }
  return info;
}
}  // namespace wasmcap::workspace
