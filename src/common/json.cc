// The bounded JSON decoder (json.h).
#include "common/json.h"

#include "common/escape.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

namespace wasmcap::json {

namespace {

// Longest untrusted snippet echoed in a message.
constexpr size_t kMaxQuoted = 80;
// Longest JSON path shown by ParseError::to_string (the head and tail are kept).
constexpr size_t kMaxShownPath = 160;

bool is_plain_key(std::string_view k) {
  if (k.empty() || k.size() > kMaxQuoted) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

// Printable ASCII of `s` (others escaped as \xNN), at most `max` input bytes.
std::string printable(std::string_view s, size_t max, bool escape_quotes) {
  return text::escape_ascii(s, max, escape_quotes ? "'\\" : "");
}

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

// Builds the value from SAX events, like nlohmann's own DOM builder, and refuses (stops the
// parse) at the first container nested deeper than the bound or the first repeated key. The
// stack of open containers is a vector, so nothing here recurses per level either.
class Builder final : public nlohmann::json_sax<Json> {
 public:
  Builder(Json& root, const Limits& limits) : root_(root), limits_(limits) {}

  bool null() override { return put(Json(nullptr)) != nullptr; }
  bool boolean(bool v) override { return put(Json(v)) != nullptr; }
  bool number_integer(number_integer_t v) override { return put(Json(v)) != nullptr; }
  bool number_unsigned(number_unsigned_t v) override { return put(Json(v)) != nullptr; }
  bool number_float(number_float_t v, const string_t&) override { return put(Json(v)) != nullptr; }
  bool string(string_t& v) override { return put(Json(std::move(v))) != nullptr; }
  bool binary(binary_t&) override { return false; }  // never produced from JSON text
  bool start_object(std::size_t) override { return open(Json::value_t::object); }
  bool start_array(std::size_t) override { return open(Json::value_t::array); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    Frame& f = frames_.back();
    if (limits_.unique_keys && f.node->contains(k)) {
      // A duplicate key is refused rather than resolved: which of two values wins must never
      // depend on a parser's choice.
      f.key = std::move(k);
      fail(ParseError::Kind::kDuplicateKey, path(false), "duplicate key");
      return false;
    }
    f.key = std::move(k);
    slot_ = &(*f.node)[f.key];
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const Json::exception& ex) override {
    position_ = position;
    syntax_ = parse_reason(ex.what());
    return false;
  }

  const std::optional<ParseError>& refused() const { return refused_; }
  const std::optional<std::string>& syntax() const { return syntax_; }
  size_t position() const { return position_; }

 private:
  struct Frame {
    Json* node;
    std::string key;  // objects: the member being read
  };

  // Places a value where the parser is: the root, the next array element, or the member whose
  // key was just read. Returns where it went.
  Json* put(Json v) {
    if (frames_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Json& top = *frames_.back().node;
    if (top.is_array()) {
      top.get_ref<Json::array_t&>().push_back(std::move(v));
      return &top.get_ref<Json::array_t&>().back();
    }
    *slot_ = std::move(v);
    return slot_;
  }

  bool open(Json::value_t type) {
    if (frames_.size() >= limits_.max_depth) {
      fail(ParseError::Kind::kTooDeep, path(true),
           "nested deeper than " + std::to_string(limits_.max_depth) + " levels");
      return false;
    }
    // A pointer to an element stays valid while it is open: its parent container is not
    // changed until it closes (the same invariant as nlohmann's own builder).
    frames_.push_back(Frame{put(Json(type)), {}});
    return true;
  }

  bool close() {
    frames_.pop_back();
    return true;
  }

  // The JSON path of the value being added (`adding`: the next element of the innermost
  // array) or of the current member.
  std::string path(bool adding) const {
    std::string p = "$";
    for (size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      bool last = i + 1 == frames_.size();
      if (f.node->is_array()) {
        size_t n = f.node->size();
        p = index_path(p, (last && adding) ? n : (n > 0 ? n - 1 : 0));
      } else {
        p = member_path(p, f.key);
      }
    }
    return p;
  }

  void fail(ParseError::Kind kind, std::string path, std::string message) {
    refused_ = ParseError{kind, std::move(path), std::move(message)};
  }

  Json& root_;
  const Limits& limits_;
  std::vector<Frame> frames_;
  Json* slot_ = nullptr;
  std::optional<ParseError> refused_;
  std::optional<std::string> syntax_;
  size_t position_ = 0;
};

}  // namespace

std::string ParseError::to_string() const {
  std::string p = path;
  if (p.size() > kMaxShownPath) {
    p = p.substr(0, kMaxShownPath / 2) + "..." + p.substr(p.size() - kMaxShownPath / 2);
  }
  return p + ": " + message;
}

tl::expected<Json, ParseError> parse(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_bytes) {
    return tl::unexpected(ParseError{ParseError::Kind::kTooLarge, "$",
                                     "document is " + std::to_string(text.size()) +
                                         " bytes; the limit is " +
                                         std::to_string(limits.max_bytes)});
  }
  Json root;
  Builder builder(root, limits);
  bool ok = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &builder, nlohmann::json::input_format_t::json,
                         /*strict=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception& e) {
    // The SAX interface reports errors through parse_error; this is only a safety net (an
    // allocation failure is not caught: it is not a property of the document).
    return tl::unexpected(ParseError{ParseError::Kind::kSyntax, "$",
                                     "malformed JSON: " + parse_reason(e.what())});
  }
  if (builder.refused()) return tl::unexpected(*builder.refused());
  if (!ok || builder.syntax()) {
    size_t pos = builder.position();
    auto [line, col] = line_col(text, pos > 0 ? pos - 1 : 0);
    return tl::unexpected(ParseError{
        ParseError::Kind::kSyntax, "$",
        "malformed JSON at line " + std::to_string(line) + ", column " + std::to_string(col) +
            (builder.syntax() ? ": " + *builder.syntax() : std::string())});
  }
  return root;
}

Result<Json> parse(std::string_view text, const Limits& limits, ErrorCode code,
                   std::string_view what) {
  auto r = parse(text, limits);
  if (!r) return make_error(code, std::string(what) + ": " + r.error().to_string());
  return std::move(*r);
}

std::string dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

size_t depth(const Json& value) {
  size_t max = 0;
  std::vector<std::pair<const Json*, size_t>> stack{{&value, 0}};
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    max = std::max(max, d + 1);
    for (const Json& child : *v) stack.emplace_back(&child, d + 1);
  }
  return max;
}

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

}  // namespace wasmcap::json
