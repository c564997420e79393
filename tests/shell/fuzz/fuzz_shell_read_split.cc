// libFuzzer target: read's record reading and IFS splitting, and word splitting
// (src/shell/read_split.h). Input: one flags byte (raw, exact, the delimiter's choice, a count),
// then IFS, a NUL, the input line (whose bytes are split into segments at 0x01 for
// split_word). Beyond "no crash, no sanitizer report, no hang":
// - the record never holds more than max_bytes; every byte it holds came from the input;
// - read_assign gives exactly as many values as names, each no longer than the record;
// - read_fields and split_text give fields whose bytes add up to at most the input's;
// - split_word's pieces lie inside their segments, in order.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "shell/read_split.h"

using namespace wasmcap;
using namespace wasmcap::shell;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
size_t total(const std::vector<std::string>& v) {
  size_t n = 0;
  for (const auto& s : v) n += s.size();
  return n;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t nul = rest.find('\0');
  std::string_view ifs_text = rest.substr(0, nul);
  std::string_view line = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  Ifs ifs((flags & 0x80) ? std::nullopt : std::optional<std::string_view>(ifs_text));

  ReadRecord::Options o;
  o.raw = flags & 1;
  o.exact = flags & 2;
  o.delim = (flags & 4) ? ':' : '\n';
  o.nchars = (flags >> 3) & 7;
  o.max_bytes = 256;
  ReadRecord rec(o);
  for (char c : line) {
    auto st = rec.feed(c);
    if (!st) {
      check(st.error().code == ErrorCode::kMemoryLimit);
      break;
    }
    if (*st == ReadRecord::State::kDone) break;
  }
  check(rec.text().size() <= o.max_bytes && rec.text().size() <= line.size());
  check(rec.literal().size() == rec.text().size());
  for (size_t names = 1; names <= 4; ++names) {
    auto values = read_assign(rec, ifs, names);
    check(values.size() == names);
    for (const auto& v : values) check(v.size() <= rec.text().size());
  }
  check(total(read_fields(rec, ifs)) <= rec.text().size());
  check(total(split_text(line, ifs)) <= line.size());

  std::vector<SplitSegment> segs;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == '\x01') {
      segs.push_back({line.substr(start, i - start), (segs.size() % 2) == 0});
      start = i + 1;
    }
  }
  size_t last_seg = 0, last_end = 0;
  for (const SplitField& f : split_word(segs, ifs)) {
    for (const FieldPiece& p : f) {
      check(p.segment < segs.size() && p.begin <= p.end && p.end <= segs[p.segment].text.size());
      check(p.segment > last_seg || (p.segment == last_seg && p.begin >= last_end));
      last_seg = p.segment;
      last_end = p.end;
    }
  }
  return 0;
}
