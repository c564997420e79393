// Internal: the Streamable HTTP transport (cpp-httplib). Public entry: mcp::serve_http.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wasmcap::mcp {

// DNS-rebinding defence: true when `origin` (an Origin header value) names a loopback host
// ("http://localhost:8080", "http://127.0.0.1", "http://[::1]:3000") or is one of `allowed`
// exactly. Exposed for tests.
bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed);

// True when a Host header value names a loopback host (with or without port) or one of `allowed`.
bool host_allowed(std::string_view host, const std::vector<std::string>& allowed);

// `Mcp-Name` / `Mcp-Param-*` header values of the 2026-07-28 revision: "=?base64?B64?=" carries
// Base64 (RFC 4648, padded) of the value; any other text is the value itself. nullopt for
// malformed Base64 (bad length, alphabet, or data after padding). Exposed for tests.
std::optional<std::string> decode_header_value(const std::string& v);

}  // namespace wasmcap::mcp
