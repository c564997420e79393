// Strict URL parsing for the https host API (libcurl's URL API + libidn2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wasmcap/error.h"
#include "wasmcap/policy.h"

namespace wasmcap::https {

struct ParsedUrl {
  std::string host;                         // canonical: lowercase ASCII (punycode), no trailing
                                            // dot; an IP literal in its standard text form
  std::optional<policy::IpAddress> literal; // set when the host is an IP address (any notation)
  uint16_t port = 443;
  std::string path;   // starts with '/', dot segments removed, as sent on the wire
  std::string query;  // without '?'; empty when none
  bool has_query = false;

  // "https://host[:port]/path[?query]" with the canonical host: the URL libcurl is given.
  std::string url() const;
  // host as it appears in a URL authority ("[::1]" for IPv6).
  std::string authority_host() const;
};

// Parses `url` (absolute). Refuses: anything but https, userinfo, IPv6 zone ids, port 0, hosts
// that are not valid DNS names after IDNA (UTS #46 non-transitional) mapping, numeric-looking
// hosts that are not a valid IPv4 address, and paths with encoded '/', '\', NUL or dot segments
// (which servers may decode into a different path than the one the grant matched). The error
// message says which rule refused it.
tl::expected<ParsedUrl, std::string> parse_url(std::string_view url);

// Resolves `location` (a redirect's Location value) against `base` and parses the result.
tl::expected<ParsedUrl, std::string> resolve_redirect(const ParsedUrl& base, std::string_view location);

// Segment-aware prefix match: "/v1" covers "/v1" and "/v1/..." but not "/v1x"; "/v1/" covers
// "/v1/..." (and "/" covers everything).
bool path_has_prefix(std::string_view path, std::string_view prefix);

}  // namespace wasmcap::https
