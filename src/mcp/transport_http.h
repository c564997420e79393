// Internal: the Streamable HTTP transport. Public entry: mcp::serve_http. The HTTP server itself
// (cpp-httplib, and with it OpenSSL) lives in a module loaded on first use (httpd_abi.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/httpd_abi.h"
#include "wasmcap/error.h"

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

// The HTTP server module (docs/mcp.md, "The HTTP transport module"). Its only location:
// http_module_path_for(real path of this executable) = <exe dir>/WASMCAP_MCP_HTTP_MODULE_REL.
std::string http_module_path_for(const std::string& exe);
Result<std::string> http_module_path();
// Opens `path` (absolute), checks it (regular file; owned by root or this user; not writable by
// group or others) and loads it. capability_unavailable with the path and the reason otherwise.
Result<const wasmcap_httpd_api*> load_http_module_at(const std::string& path);
// load_http_module_at(http_module_path()), once per process (the result is remembered).
Result<const wasmcap_httpd_api*> load_http_module();

}  // namespace wasmcap::mcp
