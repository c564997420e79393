#include "policy/json_doc.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "wasmcap/policy.h"

namespace wasmcap::policy {

Result<std::string> read_document(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return make_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      "cannot read '" + path + "': " + std::strerror(err));
  }
  std::string text(kMaxDocumentBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return make_error(ErrorCode::kIo, "error reading '" + path + "'");
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

const Json* member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

std::string_view type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    default: return "value";
  }
}

Error Doc::error(const std::string& path, const std::string& message) const {
  return Error(code_, file_ + ": " + path + ": " + message);
}

Result<Json> Doc::parse(std::string_view text) const {
  // The one bounded decoder (src/common/json.h): size, nesting and duplicate keys refused.
  auto doc = json::parse(text, json::Limits{kMaxDocumentBytes, kMaxNestingDepth, true});
  if (!doc) return fail(doc.error().path, doc.error().message);
  return std::move(*doc);
}

Result<void> Doc::object(const Json& v, const std::string& path,
                         std::initializer_list<std::string_view> allowed,
                         std::string_view what) const {
  if (!v.is_object()) {
    return fail(path, "must be an object, got " + std::string(type_name(v)));
  }
  for (const auto& [k, _] : v.items()) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return fail(member_path(path, k),
                  "unknown " + std::string(what) + " (allowed: " + list + ")");
    }
  }
  return {};
}

Result<void> Doc::map(const Json& v, const std::string& path) const {
  if (!v.is_object()) {
    return fail(path, "must be an object, got " + std::string(type_name(v)));
  }
  return {};
}

Result<std::string> Doc::string(const Json& v, const std::string& path) const {
  if (!v.is_string()) return fail(path, "must be a string, got " + std::string(type_name(v)));
  return v.get<std::string>();
}

Result<bool> Doc::boolean(const Json& v, const std::string& path) const {
  if (!v.is_boolean()) return fail(path, "must be a boolean, got " + std::string(type_name(v)));
  return v.get<bool>();
}

Result<uint64_t> Doc::uint(const Json& v, const std::string& path, uint64_t min,
                           uint64_t max) const {
  std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    return fail(path, "must be " + range + ", got a negative number");
  }
  if (!v.is_number_unsigned()) {
    return fail(path, "must be " + range + ", got " + std::string(type_name(v)));
  }
  uint64_t n = v.get<uint64_t>();
  if (n < min || n > max) return fail(path, "must be " + range + ", got " + std::to_string(n));
  return n;
}

Result<void> Doc::array(const Json& v, const std::string& path) const {
  if (!v.is_array()) return fail(path, "must be an array, got " + std::string(type_name(v)));
  return {};
}

Result<const Json*> Doc::required(const Json& obj, const std::string& path,
                                  std::string_view key) const {
  const Json* m = member(obj, key);
  if (m == nullptr) return fail(member_path(path, key), "missing required key");
  return m;
}

}  // namespace wasmcap::policy
