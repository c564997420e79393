// The command table from the installed bundles' manifests, and the builtins that report it.
#include "shell/commands.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "common/escape.h"

namespace wasmcap::shell {

namespace {

// Names in messages and reports: a name typed in a script may hold any byte; printable ASCII is
// kept, the rest is \xNN, bounded (as exec.cc's messages).
std::string shown(std::string_view s) { return text::escape_ascii(s, 256, "\\"); }

bool is_keyword(std::string_view n) {
  static constexpr std::array<std::string_view, 22> kWords = {
      "!",    "[[",   "]]",   "{",     "}",     "case",     "coproc", "do",
      "done", "elif", "else", "esac",  "fi",    "for",      "function", "if",
      "in",   "select", "then", "time", "until", "while"};
  return std::find(kWords.begin(), kWords.end(), n) != kWords.end();
}

// The rank of `bundle` in the precedence: its index in `order`, else after all of them.
size_t rank(const std::vector<std::string>& order, const std::string& bundle) {
  auto it = std::find(order.begin(), order.end(), bundle);
  return it == order.end() ? order.size() : static_cast<size_t>(it - order.begin());
}

// "bundle@version" (GCC 12 warns falsely on `"@" + std::string` here: -Wrestrict).
std::string source_of(const Tool& t) {
  std::string s = shown(t.bundle);
  if (!t.version.empty()) {
    s.push_back('@');
    s.append(shown(t.version));
  }
  return s;
}

// A path found on PATH as bash shows it: a relative one starts with "./".
std::string path_shown(const std::string& p) {
  return p.rfind('/', 0) == 0 || p.rfind("./", 0) == 0 ? p : "./" + p;
}

std::string describe(const Resolver& r, std::string_view name, NameKind k) {
  std::string n = shown(name);
  switch (k) {
    case NameKind::kKeyword: return n + " is a shell keyword\n";
    case NameKind::kFunction: return n + " is a function\n";
    case NameKind::kBuiltin: return n + " is a shell builtin\n";
    case NameKind::kNestedShell:
      return n + " is the shell itself (a nested wasmcap sh in the same sandbox)\n";
    case NameKind::kTool: {
      const Tool& t = r.commands->at(std::string(name));
      return n + " is " + shown(t.tool) + " from bundle " + source_of(t) + "\n";
    }
    case NameKind::kPathFile: {  // bash: "hashed" once a command found it
      bool hashed = std::any_of(r.hashed.begin(), r.hashed.end(),
                                [&](const auto& h) { return h.name == name; });
      std::string p = shown(*r.find_on_path(name));
      return n + (hashed ? " is hashed (" + shown(path_shown(p)) + ")\n" : " is " + p + "\n");
    }
    case NameKind::kNotFound: break;
  }
  return {};
}

int command_v(const Resolver& r, const std::vector<std::string_view>& names, bool verbose,
              std::string* out, std::string* err) {
  int status = 0;
  for (auto name : names) {
    NameKind k = resolve_name(r, name);
    if (k == NameKind::kNotFound) {
      // sh prints nothing for -v; -V says why.
      if (verbose) *err += "wasmcap sh: command: " + shown(name) + ": not found\n";
      status = 1;
    } else if (verbose) {
      *out += describe(r, name, k);
    } else if (k == NameKind::kPathFile) {
      *out += shown(path_shown(*r.find_on_path(name))) + "\n";  // a script on PATH: its path
    } else if (auto at = (k == NameKind::kTool || k == NameKind::kNestedShell) && r.program_path
                             ? r.program_path(name)
                             : std::nullopt) {
      *out += shown(*at) + "\n";  // /usr/bin/ls, as bash on Debian prints it
    } else {
      *out += shown(name) + "\n";  // no paths: a command is its name (there is no PATH)
    }
  }
  return status;
}

// The word `type -t` prints for a kind (bash's: a tool, the nested shell and a script on PATH
// are what it calls a "file", a command that is not part of the shell).
const char* kind_word(NameKind k) {
  switch (k) {
    case NameKind::kKeyword: return "keyword";
    case NameKind::kFunction: return "function";
    case NameKind::kBuiltin: return "builtin";
    case NameKind::kNestedShell:
    case NameKind::kTool:
    case NameKind::kPathFile: return "file";
    case NameKind::kNotFound: break;
  }
  return "";
}

// type [-t] [--] NAME...: how each name resolves (-t: one word, and nothing for a name not
// found, as bash). Its other options (-a -f -p -P) are refused by name.
int type_builtin(const Resolver& r, std::vector<std::string_view> names, std::string* out,
                 std::string* err) {
  bool terse = false;
  while (!names.empty() && names[0].size() > 1 && names[0][0] == '-') {
    std::string_view o = names[0];
    names.erase(names.begin());
    if (o == "--") break;
    if (o.find_first_not_of('t', 1) != std::string_view::npos) {
      *err += "wasmcap sh: type: " + shown(o) + ": invalid option (only -t)\n";
      return 2;
    }
    terse = true;
  }
  int status = 0;
  for (auto name : names) {
    NameKind k = resolve_name(r, name);
    if (k == NameKind::kNotFound) {
      if (!terse) *err += "wasmcap sh: type: " + shown(name) + ": not found\n";
      status = 1;
    } else if (terse) {
      *out += std::string(kind_word(k)) + "\n";
    } else {
      *out += describe(r, name, k);
    }
  }
  return status;
}

// `hash`, as bash's: without names, the table of commands run by a PATH search (a tool counts
// with PATH's first command directory as its path), `hits<TAB>command` then each hit count and
// path (by name); -r (alone) empties it; with names, whether each is a command, a tool's path
// entering the table with no hits.
int hash_builtin(const Resolver& r, std::vector<std::string_view> names, std::string* out,
                 std::string* err) {
  if (!names.empty() && names[0] == "-r") {  // forget what PATH searches found
    if (names.size() > 1) {  // (bash ignores the names, POSIX shells such as mksh refuse them)
      *err += "wasmcap sh: hash: -r takes no names\n";
      return 1;
    }
    names.erase(names.begin());
    if (r.forget_hashed) r.forget_hashed();
  } else if (names.empty()) {
    if (r.hashed.empty()) {
      *out += "hash: hash table empty\n";  // bash's words, on stdout
      return 0;
    }
    *out += "hits\tcommand\n";
    char hits[32];
    for (const auto& h : r.hashed) {
      std::snprintf(hits, sizeof hits, "%4llu\t", static_cast<unsigned long long>(h.hits));
      *out += hits + shown(h.path) + "\n";
    }
    return 0;
  }
  int status = 0;
  for (auto name : names) {
    if (!name.empty() && name[0] == '-') {
      *err += "wasmcap sh: hash: " + shown(name) + ": invalid option (only -r)\n";
      return 2;
    }
    NameKind k = resolve_name(r, name);
    if (k == NameKind::kNotFound) {
      *err += "wasmcap sh: hash: " + shown(name) + ": not found\n";
      status = 1;
    } else if ((k == NameKind::kTool || k == NameKind::kNestedShell) && r.hash_program) {
      r.hash_program(name);
    }
  }
  return status;
}

}  // namespace

CommandTable build_command_table(std::vector<BundleOffer> offers,
                                 const std::vector<std::string>& order) {
  std::stable_sort(offers.begin(), offers.end(), [&](const BundleOffer& a, const BundleOffer& b) {
    size_t ra = rank(order, a.tool.bundle), rb = rank(order, b.tool.bundle);
    return ra != rb ? ra < rb : a.tool.bundle < b.tool.bundle;
  });
  CommandTable t;
  // Three passes: every command of the bundles shell.bundle_order names (in its order), then the
  // others' commands by bundle name, then the others' fallbacks: a fallback yields to any other
  // bundle's declaration unless the operator named its bundle.
  enum class Pass { kNamed, kPlain, kFallback };
  for (Pass pass : {Pass::kNamed, Pass::kPlain, Pass::kFallback}) {
    for (const auto& o : offers) {
      bool named = rank(order, o.tool.bundle) < order.size();
      if ((pass == Pass::kNamed) != named) continue;
      for (const auto& c : o.commands) {
        if (pass != Pass::kNamed && c.fallback != (pass == Pass::kFallback)) continue;
        auto it = t.commands.find(c.name);
        if (it != t.commands.end()) {
          t.shadowed.push_back({c.name, o.tool.bundle, it->second.bundle});
          continue;
        }
        Tool tool = o.tool;
        tool.tool = c.argv0;
        t.commands.emplace(c.name, std::move(tool));
      }
    }
  }
  return t;
}

bool is_nested_shell_name(std::string_view name) { return name == "sh" || name == "bash"; }

NameKind resolve_name(const Resolver& r, std::string_view name) {
  if (is_keyword(name)) return NameKind::kKeyword;
  if (r.is_function && r.is_function(name)) return NameKind::kFunction;
  if (r.is_builtin && r.is_builtin(name)) return NameKind::kBuiltin;
  if (is_nested_shell_name(name)) return NameKind::kNestedShell;
  if (r.commands != nullptr && r.commands->count(std::string(name)) != 0) return NameKind::kTool;
  if (r.find_on_path && r.find_on_path(name)) return NameKind::kPathFile;
  return NameKind::kNotFound;
}

bool command_runs(const std::vector<std::string_view>& argv, size_t* skip) {
  size_t i = 1;
  // -p (a default PATH) changes nothing here: there is no PATH.
  while (i < argv.size() && argv[i] == "-p") ++i;
  if (i < argv.size() && argv[i] == "--") ++i;
  if (i >= argv.size()) return false;
  if (argv[i] == "-v" || argv[i] == "-V") return false;
  *skip = i;
  return true;
}

int resolution_builtin(const Resolver& r, const std::vector<std::string_view>& argv,
                       std::string* out, std::string* err) {
  std::string_view which = argv.empty() ? std::string_view() : argv[0];
  std::vector<std::string_view> rest(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
  if (which == "type") return type_builtin(r, rest, out, err);
  if (which == "hash") return hash_builtin(r, rest, out, err);
  // command: only the reporting forms reach here (command_runs is false).
  while (!rest.empty() && rest[0] == "-p") rest.erase(rest.begin());
  if (rest.empty()) return 0;
  bool verbose = rest[0] == "-V";
  if (rest[0] != "-v" && !verbose) {
    *err += "wasmcap sh: command: " + shown(rest[0]) + ": invalid option\n";
    return 2;
  }
  rest.erase(rest.begin());
  if (!rest.empty() && rest[0] == "--") rest.erase(rest.begin());
  return command_v(r, rest, verbose, out, err);
}

}  // namespace wasmcap::shell
