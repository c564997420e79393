// The guest's namespace above its preopens (virtual_root.h).
#include "wasi/virtual_root.h"

#include <algorithm>

#include "platform/beneath.h"

namespace wasmcap::wasi {

namespace {

const std::vector<std::string>& no_commands() {
  static const std::vector<std::string> none;
  return none;
}

}  // namespace

const VirtualNode* VirtualNode::child(std::string_view n) const {
  auto it = std::lower_bound(children.begin(), children.end(), n,
                             [](const auto& c, std::string_view v) { return c->name < v; });
  return it != children.end() && (*it)->name == n ? it->get() : nullptr;
}

VirtualTree::VirtualTree(const std::vector<std::string_view>& mounts,
                         std::shared_ptr<const std::vector<std::string>> commands)
    : root_(std::make_unique<VirtualNode>()), commands_(std::move(commands)) {
  root_->parent = root_.get();
  for (std::string_view dir : kCommandDirs) make_path(dir)->commands = true;
  for (size_t i = 0; i < mounts.size(); ++i) {
    // A relative name, or one with a `.` or `..` component (which a lookup takes lexically),
    // has no place in the tree: only paths written as that name reach it.
    std::string_view m = mounts[i];
    if (m.empty() || m[0] != '/') continue;
    bool plain = true;
    for (std::string_view c : platform::path_components(m)) plain = plain && c != "." && c != "..";
    if (plain) make_path(m)->mount = static_cast<int>(i);
  }
  // Numbered in tree order, from 1 (0 is no inode); the commands after the nodes.
  uint64_t next = 1;
  std::vector<VirtualNode*> todo{root_.get()};
  while (!todo.empty()) {
    VirtualNode* n = todo.back();
    todo.pop_back();
    n->ino = next++;
    for (auto& c : n->children) todo.push_back(c.get());
  }
  command_ino_base_ = next;
}

VirtualNode* VirtualTree::make_path(std::string_view path) {
  VirtualNode* node = root_.get();
  for (std::string_view c : platform::path_components(path)) {
    auto it = std::lower_bound(node->children.begin(), node->children.end(), c,
                               [](const auto& n, std::string_view v) { return n->name < v; });
    if (it == node->children.end() || (*it)->name != c) {
      auto fresh = std::make_unique<VirtualNode>();
      fresh->name = std::string(c);
      fresh->parent = node;
      it = node->children.insert(it, std::move(fresh));
    }
    node = it->get();
  }
  return node;
}

const std::vector<std::string>& VirtualTree::commands() const {
  return commands_ != nullptr ? *commands_ : no_commands();
}

VirtualTree::Found VirtualTree::lookup(const VirtualNode& from, std::string_view path) const {
  Found f;
  const VirtualNode* node = !path.empty() && path[0] == '/' ? root_.get() : &from;
  f.node = node;
  if (path.empty()) {
    f.last = true;  // kMissing: an empty path names nothing (as ENOENT)
    return f;
  }
  const bool slash = path.back() == '/';
  const std::vector<std::string_view> comps = platform::path_components(path);
  size_t i = 0;
  for (;;) {
    while (i < comps.size() && comps[i] == ".") ++i;
    if (node->mount >= 0) {
      // The mount's top: its `..` is the virtual parent; anything else is the preopen's,
      // unless a deeper mount holds it (the longest prefix, along plain names).
      if (i < comps.size() && comps[i] == "..") {
        node = node->parent;
        ++i;
        continue;
      }
      const VirtualNode* deeper = nullptr;
      size_t deeper_i = i;
      const VirtualNode* n = node;
      for (size_t j = i; j < comps.size() && comps[j] != "." && comps[j] != ".."; ++j) {
        n = n->child(comps[j]);
        if (n == nullptr) break;
        if (n->mount >= 0) {
          deeper = n;
          deeper_i = j + 1;
        }
      }
      if (deeper != nullptr) {
        node = deeper;
        i = deeper_i;
        continue;
      }
      f.kind = Found::Kind::kMount;
      f.node = node;
      for (size_t j = i; j < comps.size(); ++j) {
        if (!f.rest.empty()) f.rest.push_back('/');
        f.rest.append(comps[j]);
      }
      if (f.rest.empty()) f.rest.push_back('.');
      if (slash) f.rest.push_back('/');
      return f;
    }
    if (i == comps.size()) {
      f.kind = Found::Kind::kDir;
      f.node = node;
      return f;
    }
    std::string_view c = comps[i];
    if (c == "..") {
      node = node->parent;  // the root's parent is the root (POSIX: `/..` is `/`)
      ++i;
      continue;
    }
    if (const VirtualNode* ch = node->child(c)) {
      node = ch;
      ++i;
      continue;
    }
    f.node = node;
    const auto& cmds = commands();
    auto it = node->commands ? std::lower_bound(cmds.begin(), cmds.end(), c) : cmds.end();
    if (it != cmds.end() && *it == c) {
      bool more = slash;
      for (size_t j = i + 1; j < comps.size(); ++j) more = true;  // `ls/.`, `ls/x`: not a dir
      f.kind = more ? Found::Kind::kNotDir : Found::Kind::kCommand;
      f.command = static_cast<size_t>(it - cmds.begin());
      return f;
    }
    f.kind = Found::Kind::kMissing;
    f.last = i + 1 == comps.size();
    return f;
  }
}

size_t VirtualTree::entry_count(const VirtualNode& dir) const {
  return 2 + dir.children.size() + (dir.commands ? commands().size() : 0);
}

VirtualTree::Entry VirtualTree::entry(const VirtualNode& dir, size_t i) const {
  if (i == 0) return {".", dir.ino, true};
  if (i == 1) return {"..", dir.parent->ino, true};
  i -= 2;
  if (i < dir.children.size()) return {dir.children[i]->name, dir.children[i]->ino, true};
  i -= dir.children.size();
  const std::string& name = commands()[i];
  // A command named as a child (a mount in a command directory) is that child: listed once,
  // here as an entry with no name, which dir_next skips.
  if (dir.child(name) != nullptr) return {std::string_view(), 0, false};
  return {name, command_ino(i), false};
}

std::string VirtualTree::path_of(const VirtualNode& node) {
  if (node.is_root()) return "/";
  std::vector<const VirtualNode*> up;
  for (const VirtualNode* n = &node; !n->is_root(); n = n->parent) up.push_back(n);
  std::string out;
  for (auto it = up.rbegin(); it != up.rend(); ++it) {
    out.push_back('/');
    out.append((*it)->name);
  }
  return out;
}

}  // namespace wasmcap::wasi
