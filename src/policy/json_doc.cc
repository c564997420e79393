#include "policy/json_doc.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <vector>

#include "wasmcap/policy.h"

namespace wasmcap::policy {

namespace {

// Longest untrusted snippet echoed in a message.
constexpr size_t kMaxQuoted = 80;

bool is_plain_key(std::string_view k) {
  if (k.empty() || k.size() > kMaxQuoted) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

// Tracks where the parser is, so a duplicate key can be reported with its JSON path, and
// stops caring once nesting goes beyond kMaxNestingDepth (reported after the parse).
class KeyTracker {
 public:
  bool on_event(Json::parse_event_t event, const Json& parsed) {
    using E = Json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        element_start();
        frames_.push_back(Frame{event == E::object_start, {}, {}, 0});
        if (frames_.size() > kMaxNestingDepth && !too_deep_) too_deep_ = path();
        break;
      case E::key: {
        Frame& f = frames_.back();
        const auto& k = parsed.get_ref<const std::string&>();
        f.position = member_path("", k);
        if (!f.keys.insert(k).second && !duplicate_) duplicate_ = path();
        break;
      }
      case E::value:
        element_start();
        break;
      case E::object_end:
      case E::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
    }
    return true;
  }
  const std::optional<std::string>& duplicate() const { return duplicate_; }
  const std::optional<std::string>& too_deep() const { return too_deep_; }

 private:
  struct Frame {
    bool is_object;
    std::set<std::string> keys;
    std::string position;  // ".key" / "[i]" of the current child, relative to this frame
    size_t next_index;
  };
  void element_start() {
    if (!frames_.empty() && !frames_.back().is_object) {
      Frame& f = frames_.back();
      f.position = index_path("", f.next_index++);
    }
  }
  std::string path() const {
    std::string p = "$";
    for (const auto& f : frames_) p += f.position;
    return p;
  }
  std::vector<Frame> frames_;
  std::optional<std::string> duplicate_;
  std::optional<std::string> too_deep_;
};

// Line and column (1-based) of byte offset `pos` in `text`.
std::pair<size_t, size_t> line_col(std::string_view text, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

// Printable ASCII of `s` (others escaped as \xNN), at most `max` input bytes.
std::string printable(std::string_view s, size_t max, bool escape_quotes) {
  std::string out;
  size_t n = 0;
  for (unsigned char c : s) {
    if (n++ == max) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && !(escape_quotes && (c == '\'' || c == '\\'))) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// nlohmann's parse_error text is "[json.exception.parse_error.101] parse error at line 1,
// column 2: syntax error while parsing value - invalid literal; last read: '...'; expected
// ...". Keep the reason without the "last read" part, which would echo document bytes.
std::string parse_reason(const std::string& what) {
  std::string r = what;
  if (size_t p = r.find(": "); p != std::string::npos) r = r.substr(p + 2);
  if (size_t p = r.find("; last read: "); p != std::string::npos) {
    size_t next = r.find("; expected ", p + 1);
    r = r.substr(0, p) + (next == std::string::npos ? "" : r.substr(next));
  }
  return printable(r, 200, false);
}

}  // namespace

std::string quote(std::string_view s) {
  // Appended piecewise: g++ 12 -O3 warns (-Wrestrict, a false positive) on "'" + string.
  std::string q = "'";
  q += printable(s, kMaxQuoted, true);
  q += '\'';
  return q;
}

std::string member_path(const std::string& path, std::string_view key) {
  if (is_plain_key(key)) return path + "." + std::string(key);
  std::string q = quote(key);
  // JSON-path style bracket notation with double quotes.
  q.front() = '"';
  q.back() = '"';
  return path + "[" + q + "]";
}

std::string index_path(const std::string& path, size_t index) {
  // Appended piecewise: g++ 12 -O3 warns (-Wrestrict, a false positive) on "[" + string.
  std::string p = path;
  p += '[';
  p += std::to_string(index);
  p += ']';
  return p;
}

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
  if (text.size() > kMaxDocumentBytes) {
    return fail("$", "document is " + std::to_string(text.size()) + " bytes; the limit is " +
                         std::to_string(kMaxDocumentBytes));
  }
  KeyTracker tracker;
  Json doc;
  try {
    doc = Json::parse(
        text.begin(), text.end(),
        [&tracker](int, Json::parse_event_t event, Json& parsed) {
          return tracker.on_event(event, parsed);
        },
        /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const Json::parse_error& e) {
    auto [line, col] = line_col(text, e.byte > 0 ? e.byte - 1 : 0);
    return fail("$", "malformed JSON at line " + std::to_string(line) + ", column " +
                         std::to_string(col) + ": " + parse_reason(e.what()));
  } catch (const Json::exception& e) {
    return fail("$", "malformed JSON: " + parse_reason(e.what()));
  }
  // A duplicate key is refused rather than resolved: which of two grants wins must never
  // depend on a parser's choice.
  if (tracker.duplicate()) return fail(*tracker.duplicate(), "duplicate key");
  if (tracker.too_deep()) {
    return fail(*tracker.too_deep(),
                "nested deeper than " + std::to_string(kMaxNestingDepth) + " levels");
  }
  return doc;
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
