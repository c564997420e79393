// Command lines of nested shells and `#!` lines. Both are script-controlled text: every
// refusal names what it refuses, shown escaped and bounded (the message reaches a terminal).
#include "shell/nested.h"

#include "common/escape.h"

namespace wasmcap::shell {

namespace {

// A word of the command line is shown up to 64 bytes; the shell's own name (argv[0]) up to 32,
// so that a refusal naming both stays under 600 bytes (tests/shell/fuzz/fuzz_shell_nested.cc).
std::string shown(std::string_view s) { return text::escape_ascii(s, 64, "\\"); }
std::string shown_name(std::string_view s) { return text::escape_ascii(s, 32, "\\"); }

tl::unexpected<Error> refuse(const std::string& m) {
  return tl::unexpected(Error(ErrorCode::kInvalidArgument, m));
}

bool blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

Result<NestedInvocation> parse_nested_argv(const std::vector<std::string_view>& argv,
                                           const std::function<bool(std::string_view)>& settable) {
  NestedInvocation inv;
  std::string_view name = argv.empty() ? std::string_view("sh") : argv[0];
  size_t i = 1;
  bool dash_c = false;
  auto unsupported = [&](std::string_view a) {
    return refuse(shown_name(name) + ": " + shown(a) +
                  (settable ? ": option not supported (only -c, -s, -i, -l, --login, --norc, --noprofile, --rcfile and the options of set)"
                            : ": option not supported (only -c, -s, -i, -l, --login, --norc, --noprofile and --rcfile)"));
  };
  for (; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    if (a == "--" || a == "-") {  // end of options ("-" as in sh: also ends them)
      ++i;
      break;
    }
    if (a.size() < 2 || (a[0] != '-' && a[0] != '+')) break;
    // bash's startup-file options (`bash -lc CMD`, `bash --noprofile --norc -c CMD`, as agent
    // harnesses start it): accepted, and nothing changes: a nested shell reads no startup file
    // (no profile, no rc file; docs/shell.md "Nested shells").
    if (a == "--login" || a == "--norc" || a == "--noprofile") continue;
    if (a == "--rcfile" || a == "--init-file") {
      if (i + 1 >= argv.size()) return refuse(shown_name(name) + ": " + shown(a) + ": option requires an argument");
      ++i;
      continue;
    }
    bool on = a[0] == '-';
    if (a.substr(1) == "o") {  // -o NAME / +o NAME
      if (i + 1 >= argv.size()) return refuse(shown_name(name) + ": " + shown(a) + ": option requires an argument");
      std::string_view opt = argv[++i];
      if (!settable || !settable(opt)) return unsupported(std::string(a) + " " + std::string(opt));
      inv.options.emplace_back(std::string(opt), on);
      continue;
    }
    for (size_t k = 1; k < a.size(); ++k) {
      if (on && a[k] == 'c') {
        dash_c = true;
      } else if (on && a[k] == 'i') {
        inv.interactive = true;
      } else if (on && a[k] == 's') {
        // read the script from stdin: the default without operands
      } else if (on && a[k] == 'l') {
        // a login shell (--login): no profile is read here either
      } else if (settable && a[k] != 'o' && settable(a.substr(k, 1))) {
        inv.options.emplace_back(std::string(1, a[k]), on);
      } else {
        return unsupported(a);
      }
    }
  }
  if (dash_c) {
    if (i >= argv.size()) return refuse(shown_name(name) + ": -c: option requires an argument");
    inv.source = NestedInvocation::Source::kString;
    inv.text = std::string(argv[i++]);
    inv.arg0 = i < argv.size() ? std::string(argv[i++]) : std::string(name);
  } else if (i < argv.size()) {
    inv.source = NestedInvocation::Source::kFile;
    inv.text = std::string(argv[i++]);
    inv.arg0 = inv.text;
  } else {
    inv.source = NestedInvocation::Source::kStdin;
    inv.arg0 = std::string(name);
  }
  for (; i < argv.size(); ++i) inv.args.emplace_back(argv[i]);
  return inv;
}

Result<Shebang> parse_shebang(std::string_view head) {
  Shebang s;
  if (head.size() < 2 || head[0] != '#' || head[1] != '!') return s;
  size_t nl = head.find('\n');
  if (nl == std::string_view::npos) {
    if (head.size() > kMaxShebangBytes) {
      return refuse("the #! line is longer than " + std::to_string(kMaxShebangBytes) + " bytes");
    }
    nl = head.size();  // a file that is only a #! line
  }
  if (nl > kMaxShebangBytes) {
    return refuse("the #! line is longer than " + std::to_string(kMaxShebangBytes) + " bytes");
  }
  std::string_view line = head.substr(2, nl - 2);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t p = 0;
  while (p < line.size() && blank(line[p])) ++p;
  size_t e = p;
  while (e < line.size() && !blank(line[e])) ++e;
  std::string_view path = line.substr(p, e - p);
  while (e < line.size() && blank(line[e])) ++e;
  std::string_view rest = line.substr(e);
  while (!rest.empty() && blank(rest.back())) rest.remove_suffix(1);
  if (path.empty() || path[0] != '/') {
    return refuse("the #! line names no absolute interpreter path: " + shown(path));
  }
  std::string_view base = path.substr(path.rfind('/') + 1);
  if (base.empty()) return refuse("the #! line's interpreter is a directory: " + shown(path));
  if (base == "env") {
    // `#!/usr/bin/env NAME`: the name is looked up as a command (there is no PATH to search).
    // As on Linux, everything after the interpreter path is one argument: here, NAME alone.
    if (rest.empty()) return refuse("#!/usr/bin/env names no interpreter");
    if (rest[0] == '-' || rest.find_first_of(" \t") != std::string_view::npos) {
      return refuse("#!/usr/bin/env with options or several words is not supported: " +
                    shown(rest));
    }
    if (rest.find('/') != std::string_view::npos) {  // a path: there is no PATH to search
      return refuse("#!/usr/bin/env takes a command name, not a path: " + shown(rest));
    }
    s.interpreter = std::string(rest);
    return s;
  }
  s.interpreter = std::string(base);
  s.arg = std::string(rest);
  return s;
}

}  // namespace wasmcap::shell
