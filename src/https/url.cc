// Strict URL parsing. libcurl's URL API does the RFC 3986 work (and normalizes numeric IPv4
// forms and dot segments); on top of it this file refuses every form whose meaning could differ
// between the grant check and the server: non-https schemes, userinfo, zone ids, ambiguous
// numeric hosts and encoded path separators.
//
// IDNA: libidn2 directly (idn2_lookup_u8, UTS #46 non-transitional), not CURLU_PUNYCODE: curl's
// conversion goes through the process locale and fails for UTF-8 input in the "C" locale that
// embedders commonly run in; idn2_lookup_u8 takes UTF-8 regardless of locale. libidn2 (and its
// libunistring) is loaded on first use, like libcurl (curl_lazy.cc): only a URL with a non-ASCII
// or xn-- host needs it, and every other process is spared mapping it (docs/aot.md, "Cold start").
#include "https/url.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <idn2.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include "common/system_lib.h"
#include "https/address.h"

#ifndef WASMCAP_LIBIDN2_SONAME
#define WASMCAP_LIBIDN2_SONAME "libidn2.so.0"
#endif


namespace {

// libidn2, by the soname this build was configured against; nullptr (and why in `error`) when it
// cannot be loaded: the URL is then refused like an invalid name (fail closed).
struct Idn2 {
  int (*lookup_u8)(const uint8_t*, uint8_t**, int);
  const char* (*strerror)(int);
  void (*free)(void*);
};

const Idn2* idn2(std::string* error) {
  static Idn2 api;
  static const Idn2* loaded = nullptr;
  static std::string why;
  static std::once_flag once;
  std::call_once(once, [] {
    wasmcap::syslib::Library lib(WASMCAP_LIBIDN2_SONAME);
    lib.get(&api.lookup_u8, "idn2_lookup_u8");
    lib.get(&api.strerror, "idn2_strerror");
    lib.get(&api.free, "idn2_free");
    if (lib.ok()) loaded = &api;  // the library stays open for the life of the process
    why = lib.error();
  });
  if (loaded == nullptr && error != nullptr) *error = why;
  return loaded;
}

}  // namespace

namespace wasmcap::https {

namespace {

using Fail = tl::unexpected<std::string>;

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using UrlPtr = std::unique_ptr<CURLU, CurlUrlDeleter>;

// One URL part, or nullopt when absent (any error reading it counts as absent only for parts
// whose absence curl reports with a dedicated code).
std::optional<std::string> get_part(CURLU* u, CURLUPart part, unsigned flags = 0) {
  char* out = nullptr;
  if (curl_url_get(u, part, &out, flags) != CURLUE_OK || out == nullptr) return std::nullopt;
  std::string s(out);
  curl_free(out);
  return s;
}

bool has_control_or_space(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return true;
  }
  return false;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;  // needs two hex digits after '%'
    int hi = hex(s[i + 1]);
    int lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF): an overlong
// "%c0%ae" is a '.' to a lenient decoder.
bool is_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n >= s.size() - i) return false;  // the sequence runs past the end
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// Checks one path. The grant's path prefix is matched against the path as wasmcap sends it; a
// server that reads the path differently could route it elsewhere. Every spelling that servers
// are known to treat as something else than its plain segments is refused, not normalised:
// encoded separators and dot segments, ';' path parameters ("/ok/..;/admin" is "/admin" to some
// servlet containers), empty segments (some servers collapse "//" before removing dot segments),
// segments of only dots and spaces (Windows-style servers strip trailing dots and spaces),
// double encoding, non-UTF-8 escapes (overlong '.') and Unicode look-alikes of '.' and '/'.
std::optional<std::string> check_path(std::string_view path) {
  if (path.empty() || path[0] != '/') return "the path must start with '/'";
  if (path.find('\\') != std::string_view::npos) return "the path contains '\\'";
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg.empty() && end != path.size()) return "the path contains an empty segment (\"//\")";
    auto dec = percent_decode(seg);
    if (!dec) return "the path contains a malformed percent-escape";
    // A server that decodes %2F, %5C or %2E%2E before routing would see a different path than
    // the one the grant's path prefix was matched against.
    if (dec->find('/') != std::string::npos || dec->find('\\') != std::string::npos) {
      return "the path contains an encoded '/' or '\\'";
    }
    if (dec->find('\0') != std::string::npos) return "the path contains an encoded NUL";
    if (*dec == "." || *dec == "..") return "the path contains an encoded dot segment";
    if (dec->find(';') != std::string::npos) {
      return "the path contains ';' (path parameters are refused: servers disagree on them)";
    }
    if (dec->find('%') != std::string::npos) {
      return "the path contains an encoded '%' (double encoding)";
    }
    if (!dec->empty() && dec->find_first_not_of(". ") == std::string::npos) {
      return "the path contains a segment of only dots and spaces";
    }
    if (!is_utf8(*dec)) return "the path contains percent-escapes that are not UTF-8";
    // U+FF0E, U+2024 (dot look-alikes), U+FF0F, U+FF3C (slash look-alikes): NFKC-normalising
    // servers turn them into '.', '/' and '\\'.
    constexpr std::string_view kLookAlikes[] = {"\xEF\xBC\x8E", "\xE2\x80\xA4", "\xEF\xBC\x8F",
                                                "\xEF\xBC\xBC"};
    for (std::string_view alike : kLookAlikes) {
      if (dec->find(alike) != std::string::npos) {
        return "the path contains a Unicode look-alike of '.', '/' or '\\'";
      }
    }
    start = end + 1;
  }
  return std::nullopt;
}

tl::expected<std::string, std::string> canonical_name(std::string host) {
  bool needs_idna = false;
  for (char c : host) {
    if (static_cast<unsigned char>(c) >= 0x80) needs_idna = true;
  }
  std::string lower;
  for (char c : host) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  if (lower.find("xn--") != std::string::npos) needs_idna = true;
  if (needs_idna) {
    std::string why;
    const Idn2* lib = idn2(&why);
    if (lib == nullptr) {
      return Fail("the host is an internationalized domain name, and " + why);
    }
    char* out = nullptr;
    int rc = lib->lookup_u8(reinterpret_cast<const uint8_t*>(host.c_str()),
                            reinterpret_cast<uint8_t**>(&out), IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
    if (rc != IDN2_OK || out == nullptr) {
      return Fail(std::string("the host is not a valid internationalized domain name (") +
                  lib->strerror(rc) + ")");
    }
    lower = out;
    lib->free(out);
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  if (lower.size() > 1 && lower.back() == '.') lower.pop_back();
  return lower;
}

tl::expected<ParsedUrl, std::string> from_handle(CURLU* u) {
  ParsedUrl p;
  auto scheme = get_part(u, CURLUPART_SCHEME);
  if (!scheme) return Fail("the URL has no scheme; only https:// URLs are allowed");
  if (*scheme != "https") {
    return Fail("only https:// URLs are allowed (got " + *scheme + "://)");
  }
  // Credentials in URLs are ambient-looking and leak into logs and Referer: refuse them.
  if (get_part(u, CURLUPART_USER) || get_part(u, CURLUPART_PASSWORD) ||
      get_part(u, CURLUPART_OPTIONS)) {
    return Fail("user information (user:password@) is not allowed in URLs; send credentials as "
                "a header with a secret reference");
  }
  if (get_part(u, CURLUPART_ZONEID)) return Fail("IPv6 zone ids are not allowed in URLs");
  auto host = get_part(u, CURLUPART_HOST);
  if (!host || host->empty()) return Fail("the URL has no host");
  if (host->front() == '[') {
    if (host->size() < 3 || host->back() != ']') return Fail("malformed IPv6 address");
    std::string inner = host->substr(1, host->size() - 2);
    policy::IpAddress a;
    a.v6 = true;
    if (inet_pton(AF_INET6, inner.c_str(), a.bytes.data()) != 1) {
      return Fail("malformed IPv6 address");
    }
    p.literal = a;
    p.host = a.to_string();
  } else {
    auto name = canonical_name(*host);
    if (!name) return Fail(name.error());
    policy::IpAddress a;
    if (inet_pton(AF_INET, name->c_str(), a.bytes.data()) == 1) {
      p.literal = a;
      p.host = a.to_string();
    } else if (auto alias = parse_ipv4_alias(*name)) {
      p.literal = alias;
      p.host = alias->to_string();
    } else if (looks_numeric(*name)) {
      return Fail("the host " + *name + " looks numeric but is not a valid IPv4 address");
    } else {
      auto norm = policy::normalize_host(*name, false);
      if (!norm) return Fail("invalid host: " + norm.error().message);
      p.host = *norm;
    }
  }
  if (auto port = get_part(u, CURLUPART_PORT)) {
    char* end = nullptr;
    unsigned long v = std::strtoul(port->c_str(), &end, 10);
    if (port->empty() || *end != '\0' || v == 0 || v > 65535) {
      return Fail("the port must be between 1 and 65535");
    }
    p.port = static_cast<uint16_t>(v);
  }
  p.path = get_part(u, CURLUPART_PATH).value_or("/");
  if (auto bad = check_path(p.path)) return Fail(*bad);
  if (auto q = get_part(u, CURLUPART_QUERY)) {
    p.has_query = true;
    p.query = *q;
  }
  return p;
}

}  // namespace

std::string ParsedUrl::authority_host() const {
  if (literal && literal->v6) return "[" + host + "]";
  return host;
}

std::string ParsedUrl::url() const {
  std::string s = "https://";
  s += authority_host();
  if (port != 443) {
    s += ':';
    s += std::to_string(port);
  }
  s += path;
  if (has_query) {
    s += '?';
    s += query;
  }
  return s;
}

tl::expected<ParsedUrl, std::string> parse_url(std::string_view url) {
  if (has_control_or_space(url)) return Fail("the URL contains spaces or control characters");
  UrlPtr u(curl_url());
  if (!u) return Fail("out of memory");
  std::string s(url);
  CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, s.c_str(), 0);
  if (rc != CURLUE_OK) {
    return Fail(std::string("not a valid absolute URL (") + curl_url_strerror(rc) + ")");
  }
  return from_handle(u.get());
}

tl::expected<ParsedUrl, std::string> resolve_redirect(const ParsedUrl& base, std::string_view location) {
  if (location.empty()) return Fail("the redirect has an empty Location");
  if (has_control_or_space(location)) {
    return Fail("the redirect Location contains spaces or control characters");
  }
  UrlPtr u(curl_url());
  if (!u) return Fail("out of memory");
  std::string b = base.url();
  if (curl_url_set(u.get(), CURLUPART_URL, b.c_str(), 0) != CURLUE_OK) {
    return Fail("internal: cannot re-parse the current URL");
  }
  std::string loc(location);
  // With a URL already set, curl resolves a relative reference against it (RFC 3986 5.2).
  CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, loc.c_str(), 0);
  if (rc != CURLUE_OK) {
    return Fail(std::string("the redirect Location is not a valid URL (") + curl_url_strerror(rc) + ")");
  }
  return from_handle(u.get());
}

bool path_has_prefix(std::string_view path, std::string_view prefix) {
  if (prefix.empty()) return false;
  if (path.substr(0, prefix.size()) != prefix) return false;
  if (prefix.back() == '/' || path.size() == prefix.size()) return true;
  return path[prefix.size()] == '/';
}

}  // namespace wasmcap::https
