#include "policy/syntax.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "policy/json_doc.h"

namespace wasmcap::policy {

namespace {

// RFC 1035/1123 bounds: a label is at most 63 bytes, a name at most 253 (without the root dot).
constexpr size_t kMaxLabel = 63;
constexpr size_t kMaxHostName = 253;
// Paths longer than this are never needed in policy and would only bloat messages and matching.
constexpr size_t kMaxPathBytes = 4096;
constexpr size_t kMaxPrefixBytes = 1024;
constexpr size_t kMaxEnvValueBytes = 32 << 10;

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_lower(c) || is_upper(c) || is_digit(c); }

template <class Pred>
bool all_of(std::string_view s, Pred p) {
  return std::all_of(s.begin(), s.end(), p);
}

// Splits on '/', keeping empty segments.
std::vector<std::string_view> segments(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find('/', start);
    out.push_back(s.substr(start, p == std::string_view::npos ? p : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

Problem check_label(std::string_view label) {
  if (label.empty()) return "empty label (consecutive or leading dots)";
  if (label.size() > kMaxLabel) return "label longer than 63 characters";
  if (!all_of(label, [](char c) { return is_lower(c) || is_digit(c) || c == '-'; })) {
    return "invalid character (a host is letters, digits, '-' and '.'; no scheme, port or path)";
  }
  if (label.front() == '-' || label.back() == '-') return "label starts or ends with '-'";
  return std::nullopt;
}

// Validates a lowercase host name without wildcard.
Problem check_host_name(std::string_view h) {
  if (h.size() > kMaxHostName) return "longer than 253 characters";
  size_t start = 0;
  while (true) {
    size_t p = h.find('.', start);
    auto label = h.substr(start, p == std::string_view::npos ? p : p - start);
    if (Problem pr = check_label(label)) return pr;
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return std::nullopt;
}

Problem check_semver_identifiers(std::string_view s, bool numeric_no_leading_zero) {
  size_t start = 0;
  while (true) {
    size_t p = s.find('.', start);
    auto id = s.substr(start, p == std::string_view::npos ? p : p - start);
    if (id.empty()) return "empty pre-release or build identifier";
    if (!all_of(id, [](char c) { return is_alnum(c) || c == '-'; })) {
      return "identifiers may contain only [0-9A-Za-z-]";
    }
    if (numeric_no_leading_zero && all_of(id, is_digit) && id.size() > 1 && id[0] == '0') {
      return "numeric pre-release identifier with a leading zero";
    }
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return std::nullopt;
}

}  // namespace

Problem check_plugin_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(is_lower(s[0]) || is_digit(s[0])) ||
      !all_of(s, [](char c) { return is_lower(c) || is_digit(c) || c == '.' || c == '_' || c == '-'; })) {
    return "must be 1-64 characters of [a-z0-9._-], starting with a letter or digit";
  }
  return std::nullopt;
}

Problem check_user_name(std::string_view s) {
  if (s.empty() || s.size() > 32 || !(is_lower(s[0]) || s[0] == '_') ||
      !all_of(s, [](char c) { return is_lower(c) || is_digit(c) || c == '_' || c == '-'; })) {
    return "must be 1-32 characters of [a-z0-9_-], starting with a letter or _";
  }
  return std::nullopt;
}

Problem check_command_word(std::string_view s) {
  // Threat: a name that is a path ('/'), an option ('-x' as argv[0] or in `command -v` output),
  // a hidden or relative path ('.', '..'), or control bytes and quotes that would need escaping
  // in every message and in `type`/`command -v` output a script may parse.
  if (s.empty() || s.size() > 64 || !(is_alnum(s[0]) || s[0] == '_') ||
      !all_of(s, [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '+' || c == '-'; })) {
    return "must be 1-64 characters of [A-Za-z0-9._+-], starting with a letter, digit or '_'";
  }
  return std::nullopt;
}

const std::vector<std::string_view>& reserved_command_names() {
  // Reserved words (never looked up as commands), POSIX special builtins (found before any
  // command), the builtins whose answers say where a name comes from (a bundle providing
  // `type` could lie about every other name), and the nested shell's names.
  static const std::vector<std::string_view> kReserved = [] {
    std::vector<std::string_view> v = {
        "bash", "break", "builtin", "case", "command", "continue", "coproc", "do", "done",
        "elif", "else", "esac", "eval", "exec", "exit", "export", "fi", "for", "function",
        "hash", "if", "in", "readonly", "return", "select", "set", "sh", "shift", "then",
        "time", "times", "trap", "type", "unset", "until", "while"};
    std::sort(v.begin(), v.end());
    return v;
  }();
  return kReserved;
}

Problem check_command_name(std::string_view s) {
  if (auto p = check_command_word(s)) return p;
  const auto& r = reserved_command_names();
  if (std::binary_search(r.begin(), r.end(), s)) {
    return "is a word the shell keeps for itself (a reserved word, a special builtin, the "
           "resolution builtins or the nested shell): " + std::string(s);
  }
  return std::nullopt;
}

Problem check_secret_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(is_alnum(s[0]) || s[0] == '_') ||
      !all_of(s, [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; })) {
    return "must be 1-64 characters of [A-Za-z0-9._-], starting with a letter, digit or '_'";
  }
  return std::nullopt;
}

Problem check_env_name(std::string_view s) {
  if (s.empty() || s.size() > 256 || is_digit(s[0]) ||
      !all_of(s, [](char c) { return is_alnum(c) || c == '_'; })) {
    return "must be an environment variable name: [A-Za-z_][A-Za-z0-9_]*, at most 256 bytes";
  }
  return std::nullopt;
}

Problem check_env_value(std::string_view s) {
  // A NUL would silently truncate the value the guest sees.
  if (s.find('\0') != std::string_view::npos) return "must not contain NUL";
  if (s.size() > kMaxEnvValueBytes) return "longer than 32 KiB";
  return std::nullopt;
}

Problem check_semver(std::string_view s) {
  const char* bad = "must be a semantic version MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]";
  if (s.empty() || s.size() > 128) return std::string(bad);
  std::string_view core = s, pre, build;
  if (size_t p = core.find('+'); p != std::string_view::npos) {
    build = core.substr(p + 1);
    core = core.substr(0, p);
    if (Problem pr = check_semver_identifiers(build, false)) return std::string(bad) + ": " + *pr;
  }
  if (size_t p = core.find('-'); p != std::string_view::npos) {
    pre = core.substr(p + 1);
    core = core.substr(0, p);
    if (Problem pr = check_semver_identifiers(pre, true)) return std::string(bad) + ": " + *pr;
  }
  int parts = 0;
  size_t start = 0;
  while (true) {
    size_t p = core.find('.', start);
    auto num = core.substr(start, p == std::string_view::npos ? p : p - start);
    if (num.empty() || !all_of(num, is_digit) || (num.size() > 1 && num[0] == '0') ||
        num.size() > 18) {
      return std::string(bad);
    }
    ++parts;
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  if (parts != 3) return std::string(bad);
  return std::nullopt;
}

Problem check_guest_path(std::string_view s) {
  if (s.empty() || s[0] != '/') return "must be an absolute guest path (starting with '/')";
  if (s.size() > kMaxPathBytes) return "longer than 4096 bytes";
  if (s.find('\0') != std::string_view::npos) return "must not contain NUL";
  if (s == "/") return std::nullopt;
  auto segs = segments(s.substr(1));
  for (auto seg : segs) {
    // Guest paths are compared exactly between manifest and config, so only one spelling of
    // each path is accepted.
    if (seg.empty()) return "must be normalized: no empty segments or trailing '/'";
    if (seg == "." || seg == "..") return "must be normalized: no '.' or '..' segments";
  }
  return std::nullopt;
}

Problem check_host_path(std::string_view s) {
  // Relative host paths would depend on wasmcap's working directory: refused.
  if (s.empty() || s[0] != '/') return "must be an absolute path";
  if (s.size() > kMaxPathBytes) return "longer than 4096 bytes";
  if (s.find('\0') != std::string_view::npos) return "must not contain NUL";
  return std::nullopt;
}

Problem check_workspace_name(std::string_view s) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (s.empty() || s.size() > 64 || !alnum(s[0]) || s.find("..") != std::string_view::npos) {
    return "must be a workspace name: 1-64 of [A-Za-z0-9._-], starting with a letter or digit, "
           "no '..'";
  }
  for (char c : s) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') {
      return "must be a workspace name: 1-64 of [A-Za-z0-9._-], starting with a letter or digit, "
             "no '..'";
    }
  }
  return std::nullopt;
}

Problem check_module_path(std::string_view s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > kMaxPathBytes) return "longer than 4096 bytes";
  if (s.find('\0') != std::string_view::npos) return "must not contain NUL";
  if (s[0] == '/') return "must be a path relative to the manifest's directory";
  for (auto seg : segments(s)) {
    if (seg == "..") return "must stay inside the manifest's directory (no '..')";
  }
  return std::nullopt;
}

Problem check_path_prefix(std::string_view s) {
  if (s.empty() || s[0] != '/') return "must start with '/'";
  if (s.size() > kMaxPrefixBytes) return "longer than 1024 bytes";
  // RFC 3986 path characters without '%': a prefix is compared with the request's path as
  // bytes, so percent-encoded spellings (and '?', '#') would make two spellings of one path.
  auto ok = [](char c) {
    return is_alnum(c) || std::string_view("-._~!$&'()*+,;=:@/").find(c) != std::string_view::npos;
  };
  if (!all_of(s, ok)) {
    return "invalid character (allowed: letters, digits and -._~!$&'()*+,;=:@/; no '%', '?', '#')";
  }
  auto segs = segments(s.substr(1));
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i] == "." || segs[i] == "..") return "must not contain '.' or '..' segments";
    if (segs[i].empty() && i + 1 != segs.size()) return "must not contain '//'";
  }
  return std::nullopt;
}

const std::vector<std::string>& known_methods() {
  // CONNECT (tunnels) and TRACE (reflects headers, incl. credentials) are never granted.
  static const std::vector<std::string> kMethods = {"GET",   "HEAD",   "POST",   "PUT",
                                                    "PATCH", "DELETE", "OPTIONS"};
  return kMethods;
}

size_t method_rank(std::string_view m) {
  const auto& k = known_methods();
  return static_cast<size_t>(std::find(k.begin(), k.end(), m) - k.begin());
}

Result<std::string> normalize_method(std::string_view s) {
  std::string up(s);
  for (char& c : up) {
    if (is_lower(c)) c = static_cast<char>(c - 'a' + 'A');
  }
  if (method_rank(up) == known_methods().size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "unknown HTTP method " + quote(s) +
                          " (allowed: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)");
  }
  return up;
}

Result<std::string> normalize_host(std::string_view host, bool allow_wildcard) {
  auto bad = [](std::string m) { return make_error(ErrorCode::kInvalidArgument, std::move(m)); };
  if (host.empty()) return bad("must not be empty");
  std::string h;
  h.reserve(host.size());
  for (char c : host) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return bad(quote(host) + " is not ASCII (write internationalized names in punycode)");
    }
    h += is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
  }
  // "api.github.com." and "api.github.com" are the same host.
  if (h.size() > 1 && h.back() == '.') h.pop_back();
  if (h == "*") {
    if (!allow_wildcard) return bad("'*' is not allowed here");
    return h;
  }
  std::string_view name = h;
  if (name.size() >= 2 && name.substr(0, 2) == "*.") {
    if (!allow_wildcard) return bad(quote(host) + ": wildcards are not allowed here");
    name.remove_prefix(2);
  }
  if (name.find('*') != std::string_view::npos) {
    return bad(quote(host) +
               ": '*' is allowed only as the whole leftmost label ('*.example.com') or alone");
  }
  if (Problem p = check_host_name(name)) return bad(quote(host) + ": " + *p);
  return h;
}

std::optional<IpAddress> parse_ip(std::string_view s) {
  if (s.empty() || s.size() > 45) return std::nullopt;
  std::string str(s);
  IpAddress a;
  if (inet_pton(AF_INET, str.c_str(), a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, str.c_str(), a.bytes.data()) == 1) {
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

Result<Cidr> parse_cidr(std::string_view s) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument, quote(s) + " is not a CIDR range: " + why);
  };
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return bad("expected ADDRESS/PREFIX_LENGTH");
  auto addr = parse_ip(s.substr(0, slash));
  if (!addr) return bad("invalid address");
  auto len_text = s.substr(slash + 1);
  unsigned len = 0;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  unsigned max = addr->v6 ? 128 : 32;
  if (len_text.empty() || ec != std::errc() || end != len_text.data() + len_text.size() ||
      len > max || (len_text.size() > 1 && len_text[0] == '0')) {
    return bad("prefix length must be 0-" + std::to_string(max));
  }
  // Host bits set usually means a typo (10.0.0.1/8 for 10.0.0.0/8): refuse rather than guess.
  for (unsigned bit = len; bit < max; ++bit) {
    if (addr->bytes[bit / 8] & (0x80u >> (bit % 8))) return bad("host bits are set");
  }
  Cidr c;
  c.address = *addr;
  c.prefix_len = static_cast<uint8_t>(len);
  return c;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::string Cidr::to_string() const {
  return address.to_string() + "/" + std::to_string(prefix_len);
}

}  // namespace wasmcap::policy
