// Shadow workspaces: `ws diff`, the change set of a workspace's tree against its snapshot, its
// digest (BLAKE2b-256 over every field apply acts on, which `ws apply --expect` binds the
// review to), and its rendering as text or JSON. A change whose texts changed while being read
// gets no digest (what would be shown is not what the digest covers); SOURCE's old texts are
// read beneath the verified SOURCE descriptor, and the tools' bytes are escaped for the
// terminal unless asked for raw. The line diff itself is diff.cc.
// The component's design and the threats its checks stop: src/workspace/internal.h.

#include "workspace/internal.h"
#include "workspace/ignore.h"

#include "common/escape.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

namespace wasmcap::workspace {

using namespace detail;

namespace {

bool is_binary(const std::string& s) { return s.find('\0') != std::string::npos; }

// The change set's digest: BLAKE2b-256 over every field apply acts on, each length-prefixed
// (so no two change sets serialise alike), in path order, under a versioned domain tag.
std::string change_set_digest(const std::vector<Change>& changes) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  auto field = [&](const std::string& v) {
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(uint64_t{v.size()} >> (8 * i));
    crypto_generichash_update(&st, len, sizeof len);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(v.data()), v.size());
  };
  field("wasmcap workspace change set v1");
  for (const Change& c : changes) {
    field(kind_name(c.kind));
    field(c.path);
    field(type_name(c.type));
    field(type_name(c.old_type));
    field(std::to_string(c.old_mode & 07777));
    field(std::to_string(c.new_mode & 07777));
    field(c.old_hash);
    field(c.new_hash);
    field(c.old_target);
    field(c.new_target);
  }
  unsigned char h[32];
  crypto_generichash_final(&st, h, sizeof h);
  return hex(h, sizeof h);
}

}  // namespace

namespace detail {

// The diff of info's tree against its snapshot; src_fd (or -1) is SOURCE, for the old texts.
Result<DiffResult> diff_info(const Info& info, int src_fd) {
  WS_LET(tree, open_root(info.tree));
  std::vector<Entry> now;
  WalkState ws;
  ws.out = &now;
  ws.max_bytes = info.max_bytes;
  // What create left out stays out: its recorded rules, not the tree's .gitignore files now.
  Ignore ignore;
  WASMCAP_TRY(ignore_of(info, ignore));
  if (!ignore.empty()) ws.ignore = &ignore;
  WASMCAP_TRY(walk(tree.get(), -1, "", 0, ws));
  std::map<std::string, const Entry*> before, after;
  for (const Entry& e : info.entries) before[e.path] = &e;
  for (const Entry& e : now) after[e.path] = &e;
  DiffResult d;
  bool stable = true;  // the texts read for display are the contents that were hashed
  auto text_diff = [&](Change& c, const std::string& old_hash) {
    std::string oldc, newc;
    if (!old_hash.empty()) {
      if (src_fd < 0) {
        c.unified = "# " + display_path(c.path) + ": SOURCE cannot be opened safely; no diff "
                    "(see `wasmcap ws apply` for why)\n";
        return;
      }
      auto h = hash_at(src_fd, c.path, &oldc);
      if (h && *h != old_hash && *h == c.new_hash) {
        c.unified = "# " + display_path(c.path) + ": SOURCE already has the new content (written "
                    "by an interrupted `ws apply`, or by hand); apply counts it as applied\n";
        return;
      }
      if (!h || *h != old_hash) {
        c.unified = "# " + display_path(c.path) + ": SOURCE changed since the workspace was created; "
                    "no diff, and apply will refuse this file\n";
        return;
      }
    }
    auto h2 = hash_at(tree.get(), c.path, &newc);
    if (!h2 || *h2 != c.new_hash) {
      // A tool changed it between the walk and now: what we would show is not what the
      // digest covers. No digest this time; the operator runs diff again.
      stable = false;
      c.unified = "# " + display_path(c.path) + ": changed while being diffed; run `ws diff` again\n";
      return;
    }
    c.binary = is_binary(oldc) || is_binary(newc);
    if (c.binary) return;
    if (oldc.size() > kMaxDiffBytes || newc.size() > kMaxDiffBytes) {
      c.unified = "# " + display_path(c.path) + ": text over " + std::to_string(kMaxDiffBytes) +
                  " bytes, no line diff\n";
      return;
    }
    c.unified = unified_diff(display_path(c.path), oldc, newc);
  };
  for (const auto& [path, b] : before) {
    auto it = after.find(path);
    if (it == after.end()) {
      Change c;
      c.kind = Change::Kind::kRemoved;
      c.path = path;
      c.type = c.old_type = b->type;
      c.old_mode = b->mode;
      c.old_hash = b->hash;
      c.old_target = b->target;
      d.changes.push_back(std::move(c));
      continue;
    }
    const Entry* a = it->second;
    Change c;
    c.path = path;
    c.type = a->type;
    c.old_type = b->type;
    c.old_mode = b->mode;
    c.new_mode = a->mode;
    c.old_hash = b->hash;
    c.new_hash = a->hash;
    c.old_target = b->target;
    c.new_target = a->target;
    if (a->type != b->type) {
      c.kind = Change::Kind::kTypeChanged;
      c.content_changed = true;
      d.changes.push_back(std::move(c));
      continue;
    }
    if (a->type == Entry::Type::kFile) {
      c.content_changed = a->hash != b->hash;
      bool mode = (a->mode & 0777) != (b->mode & 0777);
      if (!c.content_changed && !mode) continue;
      c.kind = c.content_changed ? Change::Kind::kModified : Change::Kind::kModeChanged;
      if (c.content_changed) text_diff(c, b->hash);
      d.changes.push_back(std::move(c));
    } else if (a->type == Entry::Type::kSymlink && a->target != b->target) {
      c.kind = Change::Kind::kModified;
      c.content_changed = true;
      d.changes.push_back(std::move(c));
    }
  }
  for (const auto& [path, a] : after) {
    if (before.count(path) != 0) continue;
    Change c;
    c.kind = Change::Kind::kAdded;
    c.path = path;
    c.type = c.old_type = a->type;
    c.new_mode = a->mode;
    c.new_hash = a->hash;
    c.new_target = a->target;
    c.content_changed = true;
    if (a->type == Entry::Type::kFile) text_diff(c, "");
    d.changes.push_back(std::move(c));
  }
  std::sort(d.changes.begin(), d.changes.end(),
            [](const Change& x, const Change& y) { return x.path < y.path; });
  if (stable) d.digest = change_set_digest(d.changes);
  return d;
}

}  // namespace detail

Result<DiffResult> diff(const std::string& home, const std::string& name) {
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium init failed");
  WASMCAP_TRY(validate_name(name));
  WASMCAP_TRY(open_workspaces(home, "ws.diff.sweep", false));
  WS_LET(info, open(home, name));
  // For the old texts; may be gone or replaced. Reading only: a snapshot without SOURCE's
  // identity (an older version's) still shows its diff, apply refuses it.
  auto src = info.has_source_id ? open_source(info) : open_root(info.source);
  WS_LET(d, diff_info(info, src ? src->get() : -1));
  // While an apply is unfinished, each change says whether SOURCE already holds it.
  auto journal = read_journal(info.dir, name);
  if (journal && *journal && src) {
    for (Change& c : d.changes) c.in_source = landed(src->get(), c);
  }
  return d;
}

std::string escape_for_terminal(const std::string& s) {
  return text::escape_for_terminal(s, text::ControlStyle::kCaret);
}

std::string render_diff_text(const DiffResult& d, bool raw) {
  std::string out;
  for (const Change& c : d.changes) {
    std::string line = std::string(kind_name(c.kind)) + " " + type_name(c.type) + " " + display_path(c.path);
    if (c.kind == Change::Kind::kModeChanged || (c.kind == Change::Kind::kModified &&
                                                 (c.old_mode & 0777) != (c.new_mode & 0777))) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " (mode %03o -> %03o)", c.old_mode & 0777, c.new_mode & 0777);
      line += buf;
    }
    if (c.kind == Change::Kind::kTypeChanged) {
      line += std::string(" (was ") + type_name(c.old_type) + ")";
    }
    if (c.binary) line += " (binary)";
    if (c.in_source) line += " (already in SOURCE)";
    out += line + "\n";
  }
  // Content is the tools' bytes: escaped for the terminal unless the caller asked for them raw.
  // Headers and notes are built from display_path() already, which escaping leaves unchanged.
  for (const Change& c : d.changes) out += raw ? c.unified : escape_for_terminal(c.unified);
  out += d.digest.empty() ? std::string("digest: none (the tree changed while it was read; run "
                                        "`ws diff` again)\n")
                          : "digest: " + d.digest + "\n";
  return out;
}

std::string render_diff_json(const DiffResult& d) {
  nlohmann::json arr = nlohmann::json::array();
  for (const Change& c : d.changes) {
    nlohmann::json o = {{"kind", kind_name(c.kind)}, {"path", c.path}, {"type", type_name(c.type)},
                        {"binary", c.binary}};
    if (c.kind == Change::Kind::kTypeChanged) o["old_type"] = type_name(c.old_type);
    if (c.kind != Change::Kind::kAdded) o["old_mode"] = c.old_mode & 07777;
    if (c.kind != Change::Kind::kRemoved) o["new_mode"] = c.new_mode & 07777;
    if (!c.unified.empty()) o["diff"] = c.unified;
    if (c.in_source) o["in_source"] = true;
    arr.push_back(std::move(o));
  }
  return nlohmann::json({{"changes", arr}, {"digest", d.digest}})
             .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}
}  // namespace wasmcap::workspace
