// Address classification for the https host API: which destinations count as public.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/policy.h"

namespace wasmcap::https {

// The class of a non-public address ("loopback", "private (RFC 1918)", "link-local", ...), or
// nullopt when the address is public. IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d),
// NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses are judged by the IPv4 address they embed;
// every IPv6 address outside 2000::/3 (global unicast) is non-public.
std::optional<std::string> classify_address(const policy::IpAddress& a);

// True when `a` lies in `cidr` (same family only).
bool cidr_contains(const policy::Cidr& cidr, const policy::IpAddress& a);

// Host text as it appears in a URL, read as an IPv4 address in any of the numeric forms
// inet_aton(3) and browsers accept: dotted decimal, short forms ("127.1"), a single number
// ("2130706433"), hex ("0x7f000001") and octal ("0177.0.0.1") parts. nullopt when it is not one.
std::optional<policy::IpAddress> parse_ipv4_alias(std::string_view host);

// True when the host text is made only of digits, dots and hex/octal notation (0x..) and so
// could be taken for an IPv4 address by some resolver ("999.1.1.1", "1.2.3.4.5"): such hosts are
// refused rather than sent to DNS.
bool looks_numeric(std::string_view host);

}  // namespace wasmcap::https
