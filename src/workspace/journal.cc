// Shadow workspaces: the journal of an apply (apply-journal.json, see Journal in internal.h)
// and what an interrupted apply left: its temp files in SOURCE (remove_apply_tmps) and which of
// its changes SOURCE already holds (landed, interrupted_apply), so a rerun finishes the rest
// instead of calling its own work a conflict.
//
// A journal is read under the snapshot's bounds and refused unread when larger; its temp file
// paths must be relative, of plain names, with a leaf of ours, so even a damaged journal cannot
// make apply remove anything else; they are removed beneath the verified SOURCE descriptor, as
// regular files only, no link followed.
// The component's design and the threats its checks stop: src/workspace/internal.h.

#include "workspace/internal.h"

#include "common/json.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

namespace wasmcap::workspace {

using namespace detail;

namespace {

Change::Kind kind_from_name(const std::string& s) {
  for (auto k : {Change::Kind::kAdded, Change::Kind::kRemoved, Change::Kind::kModified,
                 Change::Kind::kModeChanged, Change::Kind::kTypeChanged}) {
    if (s == kind_name(k)) return k;
  }
  return Change::Kind::kModified;
}

}  // namespace

namespace detail {

std::string journal_json(const Journal& j) {
  nlohmann::json ops = nlohmann::json::array();
  for (const Change& c : j.ops) {
    ops.push_back({{"kind", kind_name(c.kind)}, {"path", c.path}, {"type", type_name(c.type)},
                   {"old_type", type_name(c.old_type)}, {"new_mode", c.new_mode},
                   {"new_hash", c.new_hash}});
  }
  return nlohmann::json({{"version", 1}, {"digest", j.digest}, {"started_unix", j.started_unix},
                         {"ops", ops}, {"tmps", j.tmps}})
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace detail

namespace {

// A temp file path from a journal: relative, no empty, "." or ".." component, and a leaf of
// ours, so even a damaged journal cannot make apply remove anything else.
bool valid_apply_tmp(const std::string& p) {
  auto parts = split_path(p);
  for (const auto& c : parts) {
    if (c.empty() || c == "." || c == "..") return false;
  }
  return starts_with(parts.back(), kApplyTmpPrefix);
}

}  // namespace

namespace detail {

// The workspace's journal, or nullopt when no apply is unfinished.
Result<std::optional<Journal>> read_journal(const std::string& dir, const std::string& name) {
  Fd f(::open((dir + "/" + kJournalFile).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!f.valid()) {
    if (errno == ENOENT) return std::optional<Journal>();
    return tl::unexpected(io_error("open " + dir + "/" + kJournalFile));
  }
  // The journal holds one operation per change, as the snapshot holds one entry per path:
  // the snapshot's bounds are its bounds. Read at most one byte over, refused unread.
  std::string text;
  char buf[65536];
  for (ssize_t n; text.size() <= kMaxSnapshotBytes && (n = ::read(f.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(io_error("read " + dir + "/" + kJournalFile));
    text.append(buf, static_cast<size_t>(n));
  }
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kIo,
                      "workspace '" + name + "': " + kJournalFile + " (the record of an "
                      "unfinished apply) is unreadable (" + display_path(why) + "); it is only ever replaced "
                      "whole, so it was damaged from outside: check SOURCE by hand against `ws "
                      "diff`, then remove the file");
  };
  auto parsed = json::parse(text, json::Limits{kMaxSnapshotBytes, kMaxSnapshotDepth});
  if (!parsed) return bad(parsed.error().to_string());
  const nlohmann::json& j = *parsed;
  if (!j.is_object() || j.value("version", 0) != 1) return bad("not a journal of this version");
  Journal out;
  try {
    out.digest = j.at("digest").get<std::string>();
    out.started_unix = j.value("started_unix", int64_t{0});
    for (const auto& o : j.at("ops")) {
      Change c;
      c.kind = kind_from_name(o.at("kind").get<std::string>());
      c.path = o.at("path").get<std::string>();
      c.type = type_from_name(o.at("type").get<std::string>());
      c.old_type = type_from_name(o.at("old_type").get<std::string>());
      c.new_mode = o.at("new_mode").get<uint32_t>();
      c.new_hash = o.at("new_hash").get<std::string>();
      out.ops.push_back(std::move(c));
    }
    for (const auto& t : j.at("tmps")) {
      std::string p = t.get<std::string>();
      if (!valid_apply_tmp(p)) return bad("a temp file path that is not one of ours");
      out.tmps.push_back(std::move(p));
    }
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
  return std::optional<Journal>(std::move(out));
}

// Removes the temp files an interrupted apply named in its journal (those it got to create)
// from SOURCE: regular files only, beneath the verified SOURCE descriptor, no link followed.
Result<void> remove_apply_tmps(int src, const Journal& j, std::string_view fp) {
  for (const std::string& t : j.tmps) {
    std::string leaf;
    auto parent = open_parent(src, t, false, &leaf);
    if (!parent) continue;  // its directory is gone, and the temp file with it
    struct stat st;
    if (::fstatat(parent->get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode)) {
      continue;
    }
    WS_FAILPOINT(fp, "remove " + display_path(t));
    if (::unlinkat(parent->get(), leaf.c_str(), 0) != 0 && errno != ENOENT) {
      return tl::unexpected(io_error("remove " + display_path(t)));
    }
  }
  return {};
}

// Whether SOURCE already holds change c's result: for a removal, the entry (or a parent) is
// absent; for a directory, a directory is there; for a file, a regular file with the new
// content hash and permission bits. Apply counts such a change as applied (idempotence: a
// rerun after an interruption finishes the rest instead of calling its own work a conflict).
bool landed(int src, const Change& c) {
  Probe pr = probe(src, c.path);
  if (c.kind == Change::Kind::kRemoved) {
    if (pr.parent_ok) return !pr.exists;
    if (pr.parent_missing) return true;
    // An ancestor is not a directory: a file (a directory above turned into one, as this
    // change set may do) holds no entries, so the removal is done; a symlink is not counted
    // (the parent checks report it).
    auto parts = split_path(c.path);
    std::string anc;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      anc = join(anc, parts[i]);
      Probe a = probe(src, anc);
      if (!a.exists) return a.parent_missing || a.parent_ok;
      if (!S_ISDIR(a.st.st_mode)) return !S_ISLNK(a.st.st_mode);
    }
    return false;
  }
  if (!pr.exists) return false;
  if (c.type == Entry::Type::kDir) return S_ISDIR(pr.st.st_mode);
  if (c.type != Entry::Type::kFile || !S_ISREG(pr.st.st_mode) ||
      (pr.st.st_mode & 0777) != (c.new_mode & 0777)) {
    return false;
  }
  auto h = hash_at(src, c.path, nullptr);
  return h && *h == c.new_hash;
}

}  // namespace detail

Result<std::optional<InterruptedApply>> interrupted_apply(const std::string& home,
                                                          const std::string& name) {
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium init failed");
  WASMCAP_TRY(validate_name(name));
  const std::string dir = workspaces_dir(home) + "/" + name;
  WS_LET(journal, read_journal(dir, name));
  if (!journal) return std::optional<InterruptedApply>();
  InterruptedApply ia;
  ia.digest = journal->digest;
  ia.started_unix = journal->started_unix;
  auto info = open(home, name);
  auto src = info ? open_source(*info) : Result<Fd>(tl::unexpected(info.error()));
  if (!src) {
    ia.problem = src.error().message;
  } else {
    for (const Change& c : journal->ops) {
      (landed(src->get(), c) ? ia.landed : ia.pending).push_back(c.path);
    }
  }
  return std::optional<InterruptedApply>(std::move(ia));
}
}  // namespace wasmcap::workspace
