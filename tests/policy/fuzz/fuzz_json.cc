// libFuzzer target: the one JSON decoder (src/common/json.h) on arbitrary bytes, under small
// bounds chosen by the first byte. Beyond "no crash, no sanitizer report": a value that parses
// is never nested deeper than the bound, survives copy and serialisation and reads back equal
// within the same bound; a refusal is of the kind its bound says, with a path starting at "$"
// and a message of printable ASCII only (no document bytes reach a terminal or log).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json.h"

using namespace wasmcap;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool printable(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  json::Limits limits{size_t{1} << 14, size_t{1} + (data[0] & 15), (data[0] & 16) != 0};
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto r = json::parse(text, limits);
  if (!r) {
    const json::ParseError& e = r.error();
    check(e.path.rfind("$", 0) == 0);
    check(!e.message.empty() && printable(e.message) && printable(e.to_string()));
    check(e.kind != json::ParseError::Kind::kTooLarge || text.size() > limits.max_bytes);
    check(e.kind != json::ParseError::Kind::kDuplicateKey || limits.unique_keys);
    return 0;
  }
  check(json::depth(*r) <= limits.max_depth);
  json::Json copy = *r;
  std::string out = json::dump(copy);
  auto again = json::parse(out, json::Limits{out.size(), limits.max_depth, limits.unique_keys});
  check(static_cast<bool>(again));
  // Invalid UTF-8 in strings is replaced on output, so only valid documents compare equal.
  if (out.find("\xef\xbf\xbd") == std::string::npos) check(*again == *r);
  return 0;
}
