// Shadow workspaces: `ws apply`, which writes exactly the reviewed change set (bound by its
// digest) into SOURCE, or nothing.
//
// Phase 1 checks every change against SOURCE as it is now, writing nothing: SOURCE must be the
// directory recorded at create (reached with no symlink followed, same device and inode), no
// change may reach into wasmcap's own state directories, apply never creates symlinks or special
// files, and a change whose old entry changed in SOURCE since create is a conflict. A change
// SOURCE already holds counts as applied (idempotence). Then the journal is made durable, and
// phase 2 writes with *at() calls on directories reached from the verified SOURCE descriptor,
// on final names never followed: each file through a temp file checked against the reviewed
// hash and renamed over its target, each mode change on the very inode that was checked, and
// each touched directory fsynced before the snapshot and the journal say the apply is complete.
// The component's design and the threats its checks stop: src/workspace/internal.h.

#include "workspace/internal.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sodium.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

namespace wasmcap::workspace {

using namespace detail;

namespace {

ApplyWriteHook g_apply_hook = nullptr;
void* g_apply_hook_arg = nullptr;

// "" for a top-level path, else its parent directory's relative path.
std::string parent_rel(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash);
}

// Paths named in each list of an apply's stop report: enough to read at a glance, bounded so a
// stopped apply of a 500 000-change set does not print megabytes (`ws diff` marks every one).
constexpr size_t kMaxPathsListed = 50;

// Lists paths for a message: at most `cap`, escaped, then how many more.
std::string path_list(const std::vector<std::string>& paths, size_t cap = kMaxPathsListed) {
  std::string out;
  for (size_t i = 0; i < paths.size() && i < cap; ++i) out += "\n    " + display_path(paths[i]);
  if (paths.size() > cap) {
    out += "\n    ... and " + std::to_string(paths.size() - cap) + " more (`wasmcap ws diff` marks "
           "each one)";
  }
  return out;
}

}  // namespace

void set_apply_write_hook_for_testing(ApplyWriteHook hook, void* arg) {
  g_apply_hook = hook;
  g_apply_hook_arg = arg;
}

Result<ApplyResult> apply(const std::string& home, const std::string& name,
                          const ApplyOptions& opt) {
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium init failed");
  WASMCAP_TRY(validate_name(name));
  WASMCAP_TRY(open_workspaces(home, "ws.apply.sweep", false));
  const std::string dir = workspaces_dir(home) + "/" + name;
  // Tools out of the tree for the whole apply: what is checked, digested and copied cannot
  // change underneath. Not waited for: a running tool is reported. The snapshot is read under
  // the lock, so it is the one the last apply left.
  WS_LET(lock, lock_workspace(dir, name, LockFor::kApply));
  WS_LET(info, open(home, name));
  WS_LET(dirfd, open_root(info.dir));
  WS_LET(journal, read_journal(info.dir, name));
  ApplyResult res;
  res.resumed = journal.has_value();
  auto src_r = open_source(info);
  if (!src_r) {
    if (src_r.error().code != ErrorCode::kWorkspaceConflict) return tl::unexpected(src_r.error());
    res.conflicts.push_back({".", src_r.error().message});
    return res;
  }
  Fd src = std::move(*src_r);
  // wasmcap's own state directories (state_dirs.h), as this environment names them and as
  // create left them out: SOURCE is none of them and inside none, and no change reaches into
  // one (checked for each change below, and again as each directory is opened to write).
  StateDirs state = StateDirs::current(home);
  struct stat src_st;
  if (::fstat(src.get(), &src_st) != 0) return tl::unexpected(io_error("stat " + info.source));
  for (const std::string& rel : info.left_out) {
    // Only those this environment does not name (their message names the real path).
    if (state.refuse_path(src.get(), rel).empty()) state.add_relative(src_st, rel);
  }
  if (auto why = state.contains(src.get()); !why.empty()) {
    res.conflicts.push_back({".", why + "; nothing was written"});
    return res;
  }
  // An interrupted apply's temp files go first: nothing else would remove them.
  if (journal) {
    if (auto r = remove_apply_tmps(src.get(), *journal, "ws.apply.cleanup"); !r) {
      return make_error(r.error().code,
                        r.error().message + ": removing the temp files of the interrupted apply "
                        "failed; nothing more was written into SOURCE: run `wasmcap ws apply " +
                            name + "` again");
    }
  }
  WS_LET(d, diff_info(info, src.get()));
  if (d.digest.empty()) {
    return make_error(ErrorCode::kWorkspaceConflict,
                      "the tree changed while it was being read; nothing was written: run "
                      "`wasmcap ws diff " + name + "` again");
  }
  res.digest = d.digest;
  std::string expect = opt.expect;
  for (char& ch : expect) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  // Finishing an interrupted apply: the tree is frozen (tools are refused while the journal
  // exists), so the change set is the journaled one. If it is not (the tree was written by
  // path, bypassing the lock), this is a new change set, applied only when reviewed anew.
  // An empty change set whose journaled changes are all in SOURCE is an apply stopped after
  // its snapshot was rewritten: only the journal is left to remove.
  const bool resuming = journal && journal->digest == d.digest;
  if (journal && !resuming) {
    bool finished = d.changes.empty();
    for (const Change& c : journal->ops) finished = finished && landed(src.get(), c);
    // Stopped after its snapshot was rewritten: `--expect` with the journaled digest (the
    // command line the operator reran) is the change set that was reviewed and is now in.
    if (finished && expect == journal->digest) expect.clear();
    if (!finished && expect != d.digest) {
      return make_error(ErrorCode::kWorkspaceConflict,
                        "an apply of workspace '" + name + "' was interrupted (change set " +
                            display_path(journal->digest) + ") and the tree no longer matches it (its change "
                            "set is now " + d.digest + "); nothing was written: run `wasmcap ws "
                            "diff " + name + "` (it marks what SOURCE already holds), review it, "
                            "and apply with `--expect` and the digest it prints");
    }
  }
  if (!expect.empty() && expect != d.digest) {
    return make_error(ErrorCode::kWorkspaceConflict,
                      "the change set is not the one reviewed (its digest is now " + d.digest +
                          ", --expect gave " + display_path(opt.expect) +
                          "); nothing was written: run `wasmcap ws diff " + name +
                          "` again, review it, and apply with the digest it prints");
  }
  WS_LET(tree, open_root(info.tree));
  std::map<std::string, const Entry*> snap;
  for (const Entry& e : info.entries) snap[e.path] = &e;
  std::map<std::string, const Change*> by_path;
  for (const Change& c : d.changes) by_path[c.path] = &c;
  // The inode each checked file of SOURCE had when its hash was verified: a mode change acts
  // on that inode and no other.
  std::map<std::string, std::pair<dev_t, ino_t>> verified;
  auto conflict = [&](const std::string& p, std::string why) {
    res.conflicts.push_back({p, std::move(why)});
  };
  std::vector<bool> done(d.changes.size(), false);  // SOURCE holds the change's result

  // Phase 1: check every change against SOURCE as it is now. Nothing is written here.
  for (size_t i = 0; i < d.changes.size(); ++i) {
    const Change& c = d.changes[i];
    if (auto why = state.refuse_path(src.get(), c.path); !why.empty()) {
      conflict(c.path, "it is " + why + ": remove it from the workspace's tree (or discard "
                       "the workspace) and apply again");
      continue;
    }
    bool creates = c.kind == Change::Kind::kAdded || c.kind == Change::Kind::kTypeChanged ||
                   (c.kind == Change::Kind::kModified);
    if (creates && (c.type == Entry::Type::kSymlink || c.type == Entry::Type::kOther)) {
      conflict(c.path, std::string("the workspace has a ") + type_name(c.type) +
                           " here; apply never creates symlinks or special files in SOURCE "
                           "(make it by hand if intended)");
      continue;
    }
    // Already the result (an interrupted apply wrote it, or someone made the same change by
    // hand): applied, not a conflict. So a rerun finishes an apply instead of refusing it.
    if (landed(src.get(), c)) {
      done[i] = true;
      ++res.already;
      continue;
    }
    // Every existing ancestor must be a real directory; missing ones must be additions (or,
    // while finishing an interrupted apply, a path it was turning into a directory).
    auto parts = split_path(c.path);
    std::string anc;
    bool bad = false;
    for (size_t i = 0; i + 1 < parts.size() && !bad; ++i) {
      anc = join(anc, parts[i]);
      Probe pr = probe(src.get(), anc);
      if (!pr.parent_ok) break;  // reported at the deepest ancestor that exists
      if (!pr.exists) {
        auto ch = by_path.find(anc);
        bool retyping = resuming && ch != by_path.end() &&
                        ch->second->kind == Change::Kind::kTypeChanged;
        if (snap.count(anc) != 0 && !retyping) {
          conflict(c.path, "parent '" + anc + "' was removed from SOURCE since creation");
          bad = true;
        }
        break;  // deeper ancestors cannot exist either
      }
      if (!S_ISDIR(pr.st.st_mode)) {
        auto ch = by_path.find(anc);
        bool replaced = ch != by_path.end() && ch->second->kind == Change::Kind::kTypeChanged;
        if (!replaced || snap.count(anc) == 0 || snap[anc]->ino != pr.st.st_ino) {
          conflict(c.path, "parent '" + anc + "' in SOURCE is not a directory (a symlink?)");
          bad = true;
        }
        break;
      }
    }
    if (bad) continue;
    Probe pr = probe(src.get(), c.path);
    if (c.kind == Change::Kind::kAdded) {
      if (pr.exists) conflict(c.path, "created in SOURCE since the workspace was created");
      continue;
    }
    const Entry* old = snap[c.path];
    if (!pr.exists) {
      // Finishing an interrupted apply: it removed the old entry and was stopped before
      // putting the new one in its place.
      if (resuming && c.kind == Change::Kind::kTypeChanged) continue;
      conflict(c.path, "removed from SOURCE since the workspace was created");
      continue;
    }
    Entry cur = entry_from_stat(c.path, pr.st);
    if (cur.type != old->type) {
      conflict(c.path, "its type changed in SOURCE since the workspace was created");
      continue;
    }
    if (cur.type == Entry::Type::kFile) {
      struct stat hst;
      auto h = hash_at(src.get(), c.path, nullptr, &hst);
      if (!h || *h != old->hash || cur.mode != old->mode) {
        conflict(c.path, "changed in SOURCE since the workspace was created");
        continue;
      }
      verified[c.path] = {hst.st_dev, hst.st_ino};
    } else if (cur.type == Entry::Type::kSymlink) {
      std::string leaf;
      auto parent = open_parent(src.get(), c.path, false, &leaf);
      auto t = parent ? read_link(parent->get(), leaf) : Result<std::string>(std::string());
      if (!t || *t != old->target) {
        conflict(c.path, "symlink changed in SOURCE since the workspace was created");
        continue;
      }
    } else if (cur.type == Entry::Type::kDir &&
               (c.kind == Change::Kind::kRemoved || c.kind == Change::Kind::kTypeChanged)) {
      std::string leaf;
      auto parent = open_parent(src.get(), c.path, false, &leaf);
      Fd dfd(parent ? ::openat(parent->get(), leaf.c_str(),
                               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    : -1);
      auto names = dfd.valid() ? list_dir(dfd.get()) : Result<std::vector<std::string>>(
                                                        make_error(ErrorCode::kIo, "open"));
      if (!names) {
        conflict(c.path, "cannot list it in SOURCE");
        continue;
      }
      for (const auto& n : *names) {
        if (snap.count(join(c.path, n)) == 0) {
          conflict(c.path, "SOURCE has a new entry '" + n + "' inside this removed directory");
          break;
        }
      }
    }
  }
  if (!res.conflicts.empty()) return res;

  // The journal: the change set and the temp files this apply may leave in SOURCE, on disk
  // before the first write into SOURCE. Temp names are fixed here (a random token per apply,
  // one name per change) so a kill between a temp file and its rename leaves a file the next
  // apply knows to remove. The previous journal's names are kept too: their removal above was
  // not synced, and a power loss must not bring back a temp file nobody names.
  const bool writes = std::find(done.begin(), done.end(), false) != done.end();
  std::map<std::string, std::string> tmp_of;  // change path -> temp file leaf
  if (writes) {
    Journal j;
    j.digest = d.digest;
    j.started_unix = static_cast<int64_t>(std::time(nullptr));
    j.ops = d.changes;
    const std::string token = random_hex(6);
    for (size_t i = 0; i < d.changes.size(); ++i) {
      const Change& c = d.changes[i];
      if (done[i] || c.kind == Change::Kind::kRemoved || c.type != Entry::Type::kFile) continue;
      std::string leaf = kApplyTmpPrefix + token + "-" + std::to_string(i);
      tmp_of[c.path] = leaf;
      j.tmps.push_back(join(parent_rel(c.path), leaf));
    }
    if (journal) j.tmps.insert(j.tmps.end(), journal->tmps.begin(), journal->tmps.end());
    if (auto w = replace_durably(dirfd.get(), kJournalFile, journal_json(j), "ws.apply.journal");
        !w) {
      return make_error(w.error().code,
                        w.error().message + ": the apply's journal could not be written, so "
                        "nothing was written into SOURCE" +
                            (journal ? " (beyond what the interrupted apply wrote)" : "") +
                            "; fix the cause (for a full disk, free space in " + home +
                            ") and run `wasmcap ws apply " + name + "` again");
    }
  }

  // Phase 2: write. Removals of non-directories, then directories deepest first, then
  // creations and updates in path order (a parent sorts before its children). Every operation
  // is an *at() call on a directory descriptor reached from the verified SOURCE descriptor
  // with O_NOFOLLOW on each component (open_parent), on a final name it never follows:
  // unlinkat, mkdirat, renameat, and fchmod on a descriptor opened O_NOFOLLOW. Each step has a
  // failpoint (ws.apply.*) for the fault-injection tests.
  std::set<std::string> touched;  // directories whose entries changed: fsynced at the end
  auto before_write = [&](const std::string& p) {
    if (g_apply_hook != nullptr) g_apply_hook(p, g_apply_hook_arg);
  };
  auto unlink_at = [&](const std::string& p, bool dir) -> Result<void> {
    before_write(p);
    std::string leaf;
    WS_LET(parent, open_parent(src.get(), p, false, &leaf, &state));
    WS_FAILPOINT(dir ? "ws.apply.rmdir" : "ws.apply.unlink", "remove " + display_path(p));
    if (::unlinkat(parent.get(), leaf.c_str(), dir ? AT_REMOVEDIR : 0) == 0) {
      ++res.removed;
    } else if (errno != ENOENT) {
      return tl::unexpected(io_error("remove " + display_path(p)));
    }
    touched.insert(parent_rel(p));
    return {};
  };
  // A file: temp file in the same directory, filled from the tree and checked against the
  // reviewed content hash, then renamed over the target (atomic per file; a link at the
  // target is replaced, never followed, and an inode shared with another path is not touched).
  auto write_file = [&](const Change& c, int parent, const std::string& leaf) -> Result<void> {
    std::string tleaf;
    WS_LET(tparent, open_parent(tree.get(), c.path, false, &tleaf));
    Fd in(::openat(tparent.get(), tleaf.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!in.valid()) return tl::unexpected(io_error("open workspace copy of " + display_path(c.path)));
    struct stat ist;
    if (::fstat(in.get(), &ist) != 0 || !S_ISREG(ist.st_mode)) {
      return make_error(ErrorCode::kIo, "workspace copy of '" + display_path(c.path) + "' is not a file");
    }
    auto t = tmp_of.find(c.path);
    if (t == tmp_of.end()) return make_error(ErrorCode::kInternal, "no journaled temp name");
    const std::string& tmp = t->second;
    WS_FAILPOINT("ws.apply.tmp_create", "create temp file for " + display_path(c.path));
    Fd out(::openat(parent, tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid()) return tl::unexpected(io_error("create temp file for " + display_path(c.path)));
    std::string why;
    Result<std::string> h = make_error(ErrorCode::kIo, "");
    if (int e = failpoint::hit("ws.apply.tmp_write")) {
      h = make_error(ErrorCode::kIo, std::strerror(e));
    } else if (::ioctl(out.get(), FICLONE, in.get()) == 0) {
      h = hash_fd(out.get(), -1, nullptr, 0);  // what was cloned is what gets renamed
    } else {
      h = hash_fd(in.get(), out.get(), nullptr, 0);  // hashes exactly the bytes it writes
    }
    int e = 0;
    if (!h) {
      why = h.error().message;
    } else if (*h != c.new_hash) {
      why = "its content is not the reviewed one (changed in the tree during apply)";
    } else if (::fchmod(out.get(), c.new_mode & 0777) != 0 ||
               (e = failpoint::hit("ws.apply.tmp_fsync")) != 0 || ::fsync(out.get()) != 0) {
      why = std::strerror(e != 0 ? e : errno);
    } else if ((e = failpoint::hit("ws.apply.rename")) != 0 ||
               ::renameat(parent, tmp.c_str(), parent, leaf.c_str()) != 0) {
      why = std::strerror(e != 0 ? e : errno);
    }
    if (!why.empty()) {
      ::unlinkat(parent, tmp.c_str(), 0);
      return make_error(ErrorCode::kIo, "write " + display_path(c.path) + ": " + why);
    }
    touched.insert(parent_rel(c.path));
    return {};
  };
  // Creations and updates of change c (not removals).
  auto put = [&](const Change& c) -> Result<void> {
    before_write(c.path);
    std::string leaf;
    WS_LET(parent, open_parent(src.get(), c.path, true, &leaf, &state));
    if (c.kind == Change::Kind::kModeChanged) {
      // fchmod on the very inode phase 1 verified, opened without following a link at the
      // leaf (fchmodat(parent, leaf, mode, 0) follows one: a link renamed over the file
      // during apply redirected the chmod to any file the operator owns). The entry is first
      // looked at through an O_PATH descriptor, which opens nothing (no device or FIFO
      // side effects), then reopened for fchmod and checked to be the same inode again.
      auto v = verified.find(c.path);
      auto same = [&](int fd, struct stat* st) {
        return fd >= 0 && ::fstat(fd, st) == 0 && S_ISREG(st->st_mode) && v != verified.end() &&
               st->st_dev == v->second.first && st->st_ino == v->second.second;
      };
      auto replaced = [&] {
        return make_error(ErrorCode::kWorkspaceConflict,
                          "chmod " + display_path(c.path) + ": it was replaced in SOURCE during "
                          "apply (it is no longer the file that was checked); the changes before "
                          "it in path order were written, nothing after it");
      };
      struct stat fst;
      Fd path_fd(::openat(parent.get(), leaf.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!same(path_fd.get(), &fst)) return replaced();
      if (fst.st_nlink > 1) {
        // Hard-linked: a chmod would change every other link too (possibly outside SOURCE).
        // Replace this entry with a copy carrying the new mode instead, as a content change is.
        WASMCAP_TRY(write_file(c, parent.get(), leaf));
        touched.insert(parent_rel(c.path));
      } else {
        Fd f(::openat(parent.get(), leaf.c_str(),
                      O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        if (f.valid()) {
          if (!same(f.get(), &fst)) return replaced();
          WS_FAILPOINT("ws.apply.chmod", "chmod " + display_path(c.path));
          if (::fchmod(f.get(), c.new_mode & 0777) != 0 || ::fsync(f.get()) != 0) {
            return tl::unexpected(io_error("chmod " + display_path(c.path)));
          }
        } else {
          // Not readable by us (e.g. mode 0200): chmod the O_PATH descriptor's inode through
          // its /proc link, which names that inode, not a path that could be swapped.
          std::string proc = "/proc/self/fd/" + std::to_string(path_fd.get());
          if (errno != EACCES) return tl::unexpected(io_error("chmod " + display_path(c.path)));
          WS_FAILPOINT("ws.apply.chmod", "chmod " + display_path(c.path));
          if (false || ::chmod(proc.c_str(), c.new_mode & 0777) != 0) {
            return tl::unexpected(io_error("chmod " + display_path(c.path)));
          }
        }
      }
      ++res.modes_changed;
      return {};
    }
    if (c.type == Entry::Type::kDir) {
      WS_FAILPOINT("ws.apply.mkdir", "mkdir " + display_path(c.path));
      if (::mkdirat(parent.get(), leaf.c_str(), c.new_mode & 0777) != 0 && errno != EEXIST) {
        return tl::unexpected(io_error("mkdir " + display_path(c.path)));
      }
      touched.insert(parent_rel(c.path));
      ++res.dirs_created;
      return {};
    }
    WASMCAP_TRY(write_file(c, parent.get(), leaf));
    ++res.written;
    return {};
  };
  auto write_all = [&]() -> Result<void> {
    for (size_t i = 0; i < d.changes.size(); ++i) {
      const Change& c = d.changes[i];
      bool rm = c.kind == Change::Kind::kRemoved || c.kind == Change::Kind::kTypeChanged;
      if (done[i] || !rm || c.old_type == Entry::Type::kDir) continue;
      WASMCAP_TRY(unlink_at(c.path, false));
      if (c.kind == Change::Kind::kRemoved) done[i] = true;
    }
    for (size_t k = d.changes.size(); k-- > 0;) {
      const Change& c = d.changes[k];
      bool rm = c.kind == Change::Kind::kRemoved || c.kind == Change::Kind::kTypeChanged;
      if (done[k] || !rm || c.old_type != Entry::Type::kDir) continue;
      WASMCAP_TRY(unlink_at(c.path, true));
      if (c.kind == Change::Kind::kRemoved) done[k] = true;
    }
    for (size_t i = 0; i < d.changes.size(); ++i) {
      if (done[i] || d.changes[i].kind == Change::Kind::kRemoved) continue;
      WASMCAP_TRY(put(d.changes[i]));
      done[i] = true;
    }
    // Durability as git and SQLite mean it: each renamed file was fsynced before its rename,
    // and each directory whose entries changed is fsynced now, before the snapshot and the
    // journal say the apply is complete.
    for (const std::string& rel : touched) {
      Fd dfd;
      if (rel.empty()) {
        dfd = Fd(::dup(src.get()));
      } else {
        std::string leaf;
        auto par = open_parent(src.get(), rel, false, &leaf);
        if (!par) continue;  // removed later in this apply: its parent is synced instead
        dfd = Fd(::openat(par->get(), leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      }
      if (!dfd.valid()) continue;
      WASMCAP_TRY(sync_fd(dfd.get(), "ws.apply.fsync_dir",
                          "directory '" + display_path(rel.empty() ? "." : rel) + "' of SOURCE"));
    }
    return {};
  };
  if (auto w = write_all(); !w) {
    // Say exactly what landed: each change SOURCE holds now, and the rest.
    std::vector<std::string> in, out;
    for (size_t i = 0; i < d.changes.size(); ++i) {
      (done[i] ? in : out).push_back(d.changes[i].path);
    }
    return make_error(
        w.error().code,
        w.error().message + "\n  apply stopped: " + std::to_string(in.size()) + " of " +
            std::to_string(d.changes.size()) + " change(s) are in SOURCE now:" + path_list(in) +
            "\n  not applied yet:" + path_list(out) +
            "\n  Each file in SOURCE is whole (old or new). Fix the cause (for a full disk, free "
            "space) and run `wasmcap ws apply " + name + "` again: it finishes the rest. Tools "
            "are kept out of the workspace until then.");
  }
  // The applied paths are now the new baseline: refresh their snapshot entries from SOURCE so
  // the workspace stays usable (a second apply has nothing to do; later edits diff against it).
  std::map<std::string, Entry> next;
  for (const Entry& e : info.entries) next[e.path] = e;
  for (const Change& c : d.changes) {
    next.erase(c.path);
    if (c.kind == Change::Kind::kRemoved) continue;
    Probe pr = probe(src.get(), c.path);
    if (!pr.exists) continue;
    Entry e = entry_from_stat(c.path, pr.st);
    if (e.type == Entry::Type::kFile) {
      auto h = hash_at(src.get(), c.path, nullptr);
      if (h) e.hash = *h;
    }
    next[c.path] = std::move(e);
  }
  info.entries.clear();
  for (auto& [p, e] : next) info.entries.push_back(std::move(e));
  if (auto w = replace_durably(dirfd.get(), "snapshot.json", snapshot_json(info), "ws.apply.snapshot");
      !w) {
    return make_error(w.error().code,
                      w.error().message + ": every change is in SOURCE, but the workspace's "
                      "snapshot was not updated; run `wasmcap ws apply " + name + "` again to "
                      "finish (it writes nothing more into SOURCE)");
  }
  // Last, the journal goes: the apply is complete.
  if (journal || writes) {
    auto removed = [&]() -> Result<void> {
      WS_FAILPOINT("ws.apply.journal_remove", "remove the journal");
      if (::unlinkat(dirfd.get(), kJournalFile, 0) != 0 && errno != ENOENT) {
        return tl::unexpected(io_error("remove the journal"));
      }
      return {};
    };
    if (auto f = removed(); !f) {
      return make_error(f.error().code,
                        f.error().message + ": every change is in SOURCE and the snapshot is "
                        "updated; run `wasmcap ws apply " + name + "` again to finish");
    }
    if (auto f = sync_fd(dirfd.get(), "ws.apply.journal_remove.fsync_dir",
                         "the workspace directory");
        !f) {
      return make_error(f.error().code,
                        f.error().message + ": the apply is complete (every change is in SOURCE "
                        "and the snapshot is updated); only the removal of its journal may not "
                        "survive a power loss, and if the journal comes back, the next `wasmcap "
                        "ws apply " + name + "` removes it. Nothing is left to do");
    }
  }
  return res;
}
}  // namespace wasmcap::workspace
