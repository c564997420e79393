// Which addresses a plugin may reach. The rule is an allowlist for IPv6 (global unicast only)
// and a blocklist of every special-purpose IPv4 range in the IANA registry that is not globally
// reachable, plus documentation/benchmark ranges (never a real service; often routed oddly).
#include "https/address.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cctype>
#include <cstring>

namespace wasmcap::https {

namespace {

uint32_t v4_value(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

bool in_v4(uint32_t a, uint32_t net, int len) {
  uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
  return (a & mask) == (net & mask);
}

constexpr uint32_t ip4(int a, int b, int c, int d) {
  return (uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | uint32_t(d);
}

std::optional<std::string> classify_v4(uint32_t a) {
  struct Range {
    uint32_t net;
    int len;
    const char* name;
  };
  static const Range kRanges[] = {
      {ip4(0, 0, 0, 0), 8, "unspecified/this-network (0.0.0.0/8)"},
      {ip4(10, 0, 0, 0), 8, "private (RFC 1918, 10.0.0.0/8)"},
      {ip4(100, 64, 0, 0), 10, "carrier-grade NAT (100.64.0.0/10)"},
      {ip4(127, 0, 0, 0), 8, "loopback (127.0.0.0/8)"},
      {ip4(169, 254, 0, 0), 16, "link-local (169.254.0.0/16)"},
      {ip4(172, 16, 0, 0), 12, "private (RFC 1918, 172.16.0.0/12)"},
      {ip4(192, 0, 0, 0), 24, "IETF protocol assignments (192.0.0.0/24)"},
      {ip4(192, 0, 2, 0), 24, "documentation (192.0.2.0/24)"},
      {ip4(192, 88, 99, 0), 24, "6to4 relay anycast (192.88.99.0/24)"},
      {ip4(192, 168, 0, 0), 16, "private (RFC 1918, 192.168.0.0/16)"},
      {ip4(198, 18, 0, 0), 15, "benchmarking (198.18.0.0/15)"},
      {ip4(198, 51, 100, 0), 24, "documentation (198.51.100.0/24)"},
      {ip4(203, 0, 113, 0), 24, "documentation (203.0.113.0/24)"},
      {ip4(224, 0, 0, 0), 4, "multicast (224.0.0.0/4)"},
      {ip4(255, 255, 255, 255), 32, "broadcast (255.255.255.255)"},
      {ip4(240, 0, 0, 0), 4, "reserved (240.0.0.0/4)"},
  };
  for (const auto& r : kRanges) {
    if (in_v4(a, r.net, r.len)) return std::string(r.name);
  }
  return std::nullopt;
}

bool v6_prefix(const std::array<uint8_t, 16>& b, std::initializer_list<uint8_t> prefix_bytes,
               int len_bits) {
  uint8_t p[16] = {};
  size_t i = 0;
  for (uint8_t x : prefix_bytes) p[i++] = x;
  int full = len_bits / 8;
  if (std::memcmp(b.data(), p, static_cast<size_t>(full)) != 0) return false;
  int rem = len_bits % 8;
  if (rem == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rem));
  return (b[full] & mask) == (p[full] & mask);
}

std::optional<std::string> embedded(const char* what, uint32_t v4) {
  if (auto c = classify_v4(v4)) return std::string(what) + " of " + *c;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> classify_address(const policy::IpAddress& a) {
  if (!a.v6) return classify_v4(v4_value(a.bytes.data()));
  const auto& b = a.bytes;
  static const uint8_t kZero[16] = {};
  if (std::memcmp(b.data(), kZero, 16) == 0) return std::string("unspecified (::)");
  if (std::memcmp(b.data(), kZero, 15) == 0 && b[15] == 1) return std::string("loopback (::1)");
  // ::ffff:a.b.c.d: the same host as a.b.c.d on a dual-stack socket.
  if (std::memcmp(b.data(), kZero, 10) == 0 && b[10] == 0xff && b[11] == 0xff) {
    if (auto c = embedded("IPv4-mapped IPv6", v4_value(&b[12]))) return c;
    return std::nullopt;
  }
  // ::a.b.c.d (deprecated IPv4-compatible): never a legitimate destination today; refuse all.
  if (std::memcmp(b.data(), kZero, 12) == 0) {
    return std::string("IPv4-compatible IPv6 (::/96, deprecated)");
  }
  // NAT64 well-known prefix: the gateway forwards to the embedded IPv4 address.
  if (v6_prefix(b, {0x00, 0x64, 0xff, 0x9b}, 96)) {
    if (auto c = embedded("NAT64", v4_value(&b[12]))) return c;
    return std::nullopt;
  }
  if (v6_prefix(b, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48)) {
    return std::string("local-use NAT64 (64:ff9b:1::/48)");
  }
  // Everything below is judged inside global unicast; outside it nothing is public.
  if (!v6_prefix(b, {0x20}, 3)) {
    if (v6_prefix(b, {0xfc}, 7)) return std::string("unique local (fc00::/7)");
    if (v6_prefix(b, {0xfe, 0x80}, 10)) return std::string("link-local (fe80::/10)");
    if (v6_prefix(b, {0xfe, 0xc0}, 10)) return std::string("site-local (fec0::/10, deprecated)");
    if (v6_prefix(b, {0xff}, 8)) return std::string("multicast (ff00::/8)");
    if (v6_prefix(b, {0x01, 0x00, 0, 0, 0, 0, 0, 0}, 64)) return std::string("discard-only (100::/64)");
    return std::string("reserved IPv6 (outside global unicast 2000::/3)");
  }
  if (v6_prefix(b, {0x20, 0x01, 0x0d, 0xb8}, 32)) return std::string("documentation (2001:db8::/32)");
  if (v6_prefix(b, {0x3f, 0xff}, 20)) return std::string("documentation (3fff::/20)");
  // 2001::/23 holds Teredo (embeds an obfuscated IPv4 address), benchmarking (2001:2::/48),
  // ORCHID and other IETF assignments: none is a plugin's destination.
  if (v6_prefix(b, {0x20, 0x01, 0x00}, 23)) {
    return std::string("IETF protocol assignments incl. Teredo/benchmarking (2001::/23)");
  }
  // 6to4: 2002:AABB:CCDD::/48 tunnels to IPv4 AA.BB.CC.DD.
  if (v6_prefix(b, {0x20, 0x02}, 16)) {
    if (auto c = embedded("6to4", v4_value(&b[2]))) return c;
    return std::nullopt;
  }
  return std::nullopt;
}

bool cidr_contains(const policy::Cidr& cidr, const policy::IpAddress& a) {
  if (cidr.address.v6 != a.v6) return false;
  int bits = cidr.prefix_len;
  int max_bits = a.v6 ? 128 : 32;
  if (bits > max_bits) return false;
  int full = bits / 8;
  if (std::memcmp(cidr.address.bytes.data(), a.bytes.data(), static_cast<size_t>(full)) != 0) {
    return false;
  }
  int rem = bits % 8;
  if (rem == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rem));
  return (cidr.address.bytes[full] & mask) == (a.bytes[full] & mask);
}

std::optional<policy::IpAddress> parse_ipv4_alias(std::string_view host) {
  if (host.empty() || host.size() > 64) return std::nullopt;
  std::string s(host);
  struct in_addr in{};
  // inet_aton accepts exactly the legacy numeric forms resolvers and browsers honour.
  if (inet_aton(s.c_str(), &in) == 0) return std::nullopt;
  policy::IpAddress a;
  std::memcpy(a.bytes.data(), &in.s_addr, 4);
  return a;
}

bool looks_numeric(std::string_view host) {
  if (host.empty()) return false;
  // The last label decides, as in the WHATWG URL standard: a name whose final label is numeric
  // ("1.2.3.4.5", "foo.0x1") is read as an IPv4 address by some parsers and as a name by others.
  std::string_view last = host;
  if (size_t dot = host.rfind('.'); dot != std::string_view::npos) last = host.substr(dot + 1);
  if (last.empty()) return false;
  if (last.size() > 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
    for (char c : last.substr(2)) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  }
  for (char c : last) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace wasmcap::https
