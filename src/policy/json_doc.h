// Internal: strict JSON reading for policy documents. Parses with nlohmann-json (duplicate keys
// and excessive nesting rejected), and offers typed accessors whose errors carry the document's
// file name and the JSON path of the offending value.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/json.h"
#include "wasmcap/error.h"

namespace wasmcap::policy {

using Json = nlohmann::json;

// (WASMCAP_TRY and WASMCAP_TRY_ASSIGN: wasmcap/error.h.)

// Escaping of untrusted text and JSON paths for messages: the decoder's (src/common/json.h).
using json::index_path;
using json::member_path;
using json::quote;

// One document being read: its file name (for messages) and the error code of its kind.
class Doc {
 public:
  Doc(std::string_view file, ErrorCode code) : file_(file), code_(code) {}

  // "FILE: PATH: message" as this document's error code.
  Error error(const std::string& path, const std::string& message) const;
  tl::unexpected<Error> fail(const std::string& path, const std::string& message) const {
    return tl::unexpected<Error>(error(path, message));
  }

  // Parses `text` (size-capped, duplicate keys and deep nesting refused).
  Result<Json> parse(std::string_view text) const;

  // Requires an object whose keys are all in `allowed`; `what` names the allowed keys' kind in
  // the message ("key", "permission kind").
  Result<void> object(const Json& v, const std::string& path,
                      std::initializer_list<std::string_view> allowed,
                      std::string_view what = "key") const;
  // Requires an object used as a map (its keys are names the caller checks).
  Result<void> map(const Json& v, const std::string& path) const;
  Result<std::string> string(const Json& v, const std::string& path) const;
  Result<bool> boolean(const Json& v, const std::string& path) const;
  // A non-negative integer in [min, max] (floats, negatives and booleans are refused).
  Result<uint64_t> uint(const Json& v, const std::string& path, uint64_t min, uint64_t max) const;
  Result<void> array(const Json& v, const std::string& path) const;

  // Required member: error "missing required key" at the member's path.
  Result<const Json*> required(const Json& obj, const std::string& path,
                               std::string_view key) const;

 private:
  std::string file_;
  ErrorCode code_;
};

// Reads a policy document, at most kMaxDocumentBytes + 1 bytes of it (so an oversized file is
// reported by Doc::parse without being read whole). not_found / io_error name the path.
Result<std::string> read_document(const std::string& path);

// The member `key` of object `obj`, or nullptr.
const Json* member(const Json& obj, std::string_view key);

// "string", "number", ... for messages.
std::string_view type_name(const Json& v);

}  // namespace wasmcap::policy
