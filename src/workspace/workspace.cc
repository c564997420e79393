// Shadow workspaces (include/wasmcap/workspace.h, docs/workspace.md): opening and listing
// workspaces, workspace names, and the snapshot record (snapshot.json) of a tree, written by
// create and apply and read here under bounds.
// The component's design and the threats its checks stop: src/workspace/internal.h.

#include "workspace/internal.h"

#include "common/escape.h"
#include "common/json.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sodium.h>

namespace wasmcap::workspace {

using namespace detail;

namespace {

const char* kTypeNames[] = {"file", "dir", "symlink", "other"};

}  // namespace

namespace detail {

Entry::Type type_from_name(const std::string& s) {
  for (int i = 0; i < 4; ++i) {
    if (s == kTypeNames[i]) return static_cast<Entry::Type>(i);
  }
  return Entry::Type::kOther;
}

std::string workspaces_dir(const std::string& home) { return home + "/workspaces"; }

std::string snapshot_json(const Info& info) {
  nlohmann::json j;
  j["version"] = 1;
  j["name"] = info.name;
  j["source"] = info.source;
  j["created_unix"] = info.created_unix;
  j["copy_method"] = info.copy_method;
  j["skipped"] = info.skipped;
  j["left_out"] = info.left_out;
  j["max_bytes"] = info.max_bytes;
  if (!info.ignore.empty() || !info.exclude.empty()) {
    nlohmann::json rules = nlohmann::json::array();
    for (const IgnoreRule& r : info.ignore) rules.push_back({{"base", r.base}, {"pattern", r.pattern}});
    j["ignore"] = std::move(rules);
    j["exclude"] = info.exclude;
  }
  if (info.has_source_id) j["source_id"] = {{"dev", info.source_dev}, {"ino", info.source_ino}};
  nlohmann::json arr = nlohmann::json::array();
  for (const Entry& e : info.entries) {
    nlohmann::json o = {{"path", e.path}, {"type", type_name(e.type)}, {"mode", e.mode},
                        {"size", e.size}, {"mtime_ns", e.mtime_ns}, {"ino", e.ino}};
    if (e.type == Entry::Type::kFile) o["hash"] = e.hash;
    if (e.type == Entry::Type::kSymlink) o["target"] = e.target;
    arr.push_back(std::move(o));
  }
  j["entries"] = std::move(arr);
  // Paths in SOURCE need not be UTF-8: replace invalid bytes rather than throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> r(bytes);
  randombytes_buf(r.data(), r.size());
  return hex(r.data(), r.size());
}

}  // namespace detail

std::string display_path(const std::string& p) {
  return text::escape_for_terminal(p, text::ControlStyle::kHex);
}

const char* kind_name(Change::Kind k) {
  switch (k) {
    case Change::Kind::kAdded: return "added";
    case Change::Kind::kRemoved: return "removed";
    case Change::Kind::kModified: return "modified";
    case Change::Kind::kModeChanged: return "mode";
    case Change::Kind::kTypeChanged: return "type";
  }
  return "?";
}

const char* type_name(Entry::Type t) { return kTypeNames[static_cast<int>(t)]; }

Result<void> validate_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) ok = false;
  }
  if (name.find("..") != std::string::npos) ok = false;
  if (!ok) {
    return make_error(ErrorCode::kInvalidArgument,
                      "workspace name must be 1-64 characters [A-Za-z0-9._-], start with a "
                      "letter or digit and contain no '..'");
  }
  return {};
}

Result<Info> open(const std::string& home, const std::string& name) {
  WASMCAP_TRY(validate_name(name));
  std::string dir = workspaces_dir(home) + "/" + name;
  std::ifstream f(dir + "/snapshot.json", std::ios::binary);
  if (!f) {
    return make_error(ErrorCode::kNotFound,
                      "no workspace '" + name + "' (see `wasmcap ws list`)");
  }
  // Read at most one byte over the bound, so an oversized record is refused without being
  // held whole; parsed by the one bounded decoder (src/common/json.h).
  std::string text;
  char buf[1 << 16];
  while (text.size() <= kMaxSnapshotBytes && f.read(buf, sizeof buf).gcount() > 0) {
    text.append(buf, static_cast<size_t>(f.gcount()));
  }
  auto parsed = json::parse(text, json::Limits{kMaxSnapshotBytes, kMaxSnapshotDepth});
  if (!parsed || !parsed->is_object() || parsed->value("version", 0) != 1) {
    return make_error(ErrorCode::kIo,
                      "workspace '" + name + "': snapshot.json unreadable" +
                          (parsed ? std::string() : " (" + parsed.error().to_string() + ")"));
  }
  const nlohmann::json& j = *parsed;
  Info info;
  try {
    info.name = j.at("name").get<std::string>();
    info.source = j.at("source").get<std::string>();
    info.created_unix = j.at("created_unix").get<int64_t>();
    info.copy_method = j.value("copy_method", "");
    info.skipped = j.value("skipped", std::vector<std::string>{});
    info.left_out = j.value("left_out", std::vector<std::string>{});
    // Snapshots written before the bound existed get the default one.
    info.max_bytes = j.value("max_bytes", kDefaultMaxLogicalBytes);
    if (j.contains("ignore")) {
      for (const auto& r : j.at("ignore")) {
        info.ignore.push_back({r.at("base").get<std::string>(), r.at("pattern").get<std::string>()});
      }
    }
    info.exclude = j.value("exclude", std::vector<std::string>{});
    if (j.contains("source_id")) {
      info.source_dev = j.at("source_id").at("dev").get<uint64_t>();
      info.source_ino = j.at("source_id").at("ino").get<uint64_t>();
      info.has_source_id = true;
    }
    for (const auto& o : j.at("entries")) {
      Entry e;
      e.path = o.at("path").get<std::string>();
      e.type = type_from_name(o.at("type").get<std::string>());
      e.mode = o.at("mode").get<uint32_t>();
      e.size = o.at("size").get<uint64_t>();
      e.mtime_ns = o.at("mtime_ns").get<int64_t>();
      e.ino = o.at("ino").get<uint64_t>();
      e.hash = o.value("hash", "");
      e.target = o.value("target", "");
      info.entries.push_back(std::move(e));
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kIo, "workspace '" + name + "': snapshot.json: " + e.what());
  }
  info.dir = dir;
  info.tree = dir + "/tree";
  return info;
}

Result<std::vector<Info>> list(const std::string& home) {
  std::vector<Info> out;
  std::error_code ec;
  std::string wsdir = workspaces_dir(home);
  WS_LET(wsfd, open_workspaces(home, "ws.list.sweep", false));
  if (!wsfd.valid()) return out;
  std::vector<std::string> names;
  for (const auto& d : std::filesystem::directory_iterator(wsdir, ec)) {
    std::string n = d.path().filename().string();
    if (validate_name(n)) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    auto info = open(home, n);
    if (info) out.push_back(std::move(*info));
  }
  return out;
}
}  // namespace wasmcap::workspace
