// Reading an audit log back (`wasmcap audit`; docs/audit.md, "Querying"): the records of a JSON
// Lines file that match a filter. The file is untrusted input like any other: each line is
// bounded (kMaxQueryLine) and parsed by the bounded decoder; a line that is not one JSON object
// is counted as malformed and skipped, never fatal.
#pragma once

#include <cstddef>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "wasmcap/error.h"

namespace wasmcap::audit {

// Records are bounded by the writer; a reader still refuses to hold an absurd line.
inline constexpr size_t kMaxQueryLine = size_t{1} << 20;

struct Query {
  std::string plugin, decision, event, invocation_id;  // "" = any
  // Records whose "time" is at or after this RFC 3339 UTC prefix (since_bound); "" = any.
  std::string since;
};

// The `since` bound for a time given as an RFC 3339 UTC prefix (YYYY-MM-DD[THH[:MM[:SS[.mmm]]]]
// [Z]) or as a duration before `now` ("90s", "15m", "2h", "7d"); "" for ""; nullopt when it is
// neither.
std::optional<std::string> since_bound(std::string_view since, std::time_t now);

// A record's event ("https_request" for records of the first format, which had none).
std::string event_of(const nlohmann::json& record);

struct QueryStats {
  size_t matched = 0;
  size_t malformed = 0;  // lines over kMaxQueryLine or not one JSON object
};

// Calls `each` with every record of the file at `path` that matches `q`, in file order.
// not_found / io_error when the file cannot be read.
Result<QueryStats> query_file(const std::string& path, const Query& q,
                              const std::function<void(const nlohmann::json&)>& each);

}  // namespace wasmcap::audit
