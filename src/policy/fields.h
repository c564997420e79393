// Internal: readers for the pieces both documents share (https rules, limits, access, checked
// strings), on top of Doc.
#pragma once

#include <string>

#include "policy/json_doc.h"
#include "policy/syntax.h"
#include "wasmcap/policy.h"

namespace wasmcap::policy {

// A string that must pass `check` (a syntax.h checker).
Result<std::string> checked_string(const Doc& d, const Json& v, const std::string& path,
                                   Problem (*check)(std::string_view));

// {"host", "methods", "path_prefix"?}. Wildcard hosts are allowed on both sides: the
// intersection only ever narrows them, and "*" survives only where both sides wrote it.
Result<HttpsRule> read_https_rule(const Doc& d, const Json& v, const std::string& path);

// An array of https rules; empty only when `allow_empty`.
Result<std::vector<HttpsRule>> read_https_rules(const Doc& d, const Json& v,
                                                const std::string& path, bool allow_empty);

// {"max_memory_mb"?, "timeout_ms"?, "fuel"?, "max_write_mb"?}
Result<Limits> read_limits(const Doc& d, const Json& v, const std::string& path);

// "ro" | "rw"
Result<Access> read_access(const Doc& d, const Json& v, const std::string& path);

// A normalized host pattern (wildcards allowed when `allow_wildcard`).
Result<std::string> read_host(const Doc& d, const Json& v, const std::string& path,
                              bool allow_wildcard);

// Longest timeout accepted anywhere: one year, far below where deadline arithmetic overflows.
constexpr uint64_t kMaxTimeoutMs = 365ull * 24 * 3600 * 1000;

}  // namespace wasmcap::policy
