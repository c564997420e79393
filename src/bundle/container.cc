// The bundle container. A deliberately small format of our own rather than tar/zip (via
// libarchive): it has one entry type (regular file), no metadata (owners, modes, times, links)
// to interpret or ignore, and every length is bounded before anything is read, so the whole
// parser fits on one screen and can be checked by its tests. Layout (little-endian):
//   "WASMCAPB" u32 version=1 u32 entry_count
//   entry_count × { u8 type  u16 name_len  name  u64 data_len  data }
// and nothing after the last entry.
#include <algorithm>
#include <cstring>
#include <set>

#include "wasmcap/bundle.h"

#include "common/escape.h"

namespace wasmcap::bundle {

namespace {

constexpr char kMagic[8] = {'W', 'A', 'S', 'M', 'C', 'A', 'P', 'B'};
constexpr uint32_t kVersion = 1;

tl::unexpected<Error> invalid(std::string message) {
  return make_error(ErrorCode::kBundleInvalid, std::move(message));
}

void put_le(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A bounded reader: every read states its size and fails instead of running past the end.
class Cursor {
 public:
  explicit Cursor(const std::vector<uint8_t>& b) : b_(b) {}
  size_t remaining() const { return b_.size() - pos_; }
  bool le(int bytes, uint64_t* out) {
    if (remaining() < static_cast<size_t>(bytes)) return false;
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{b_[pos_ + static_cast<size_t>(i)]} << (8 * i);
    pos_ += static_cast<size_t>(bytes);
    *out = v;
    return true;
  }
  const uint8_t* take(size_t n) {
    if (remaining() < n) return nullptr;
    const uint8_t* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }

 private:
  const std::vector<uint8_t>& b_;
  size_t pos_ = 0;
};

// Printable form of an untrusted name for messages. (Before the one escaper, bytes outside
// printable ASCII were shown as \x and their decimal value: ESC read "\x27", an apostrophe.)
std::string shown(std::string_view s) {
  std::string out = "'";  // appended: GCC 12's false -Wrestrict on `"'" + std::string`
  out += text::escape_ascii(s, 80, "'\\");
  out += '\'';
  return out;
}

// Entry names become paths when a bundle is installed: only plain relative paths of portable
// characters, so no name can be absolute, climb out ('..'), alias another ('a//b', './a') or
// carry separators and controls a filesystem would interpret ('\\', NUL).
std::optional<std::string> name_problem(std::string_view name) {
  if (name.empty()) return "empty entry name";
  if (name.size() > kMaxEntryNameBytes) return "entry name longer than 255 bytes";
  if (name.front() == '/') return "absolute entry name " + shown(name);
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/';
    if (!ok) return "entry name " + shown(name) + " has a character outside [A-Za-z0-9._-/]";
  }
  size_t start = 0;
  while (true) {
    size_t end = name.find('/', start);
    std::string_view seg = name.substr(start, end == std::string_view::npos ? end : end - start);
    if (seg == "..") return "path traversal in entry name " + shown(name);
    if (seg.empty() || seg == ".") return "non-normal entry name " + shown(name);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return std::nullopt;
}

uint64_t size_limit(std::string_view name) {
  if (name == kManifestEntry) return kMaxManifestBytes;
  if (name == kSignatureEntry) return kSignatureEntryBytes;
  return kMaxModuleBytes;
}

}  // namespace

std::optional<std::string> entry_name_problem(std::string_view name) { return name_problem(name); }

std::vector<uint8_t> encode(const std::vector<Entry>& entries) {
  std::vector<uint8_t> out(kMagic, kMagic + sizeof kMagic);
  put_le(out, kVersion, 4);
  put_le(out, entries.size(), 4);
  for (const auto& e : entries) {
    out.push_back(e.type);
    put_le(out, e.name.size(), 2);
    out.insert(out.end(), e.name.begin(), e.name.end());
    put_le(out, e.data.size(), 8);
    out.insert(out.end(), e.data.begin(), e.data.end());
  }
  return out;
}

Result<std::vector<Entry>> decode(const std::vector<uint8_t>& bytes) {
  if (bytes.size() > kMaxBundleBytes) return invalid("bundle larger than 256 MiB");
  Cursor c(bytes);
  const uint8_t* magic = c.take(sizeof kMagic);
  if (magic == nullptr || std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
    return invalid("not a wasmcap bundle (bad magic)");
  }
  uint64_t version = 0, count = 0;
  if (!c.le(4, &version) || !c.le(4, &count)) return invalid("truncated bundle header");
  if (version != kVersion) return invalid("unsupported bundle version " + std::to_string(version));
  // Checked before the loop, so a hostile count costs nothing.
  if (count > kMaxEntries) return invalid("too many entries (" + std::to_string(count) + " > 64)");
  std::vector<Entry> entries;
  std::set<std::string> seen;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t type = 0, name_len = 0, data_len = 0;
    if (!c.le(1, &type) || !c.le(2, &name_len)) return invalid("truncated bundle (entry header)");
    if (type != kEntryFile) {
      return invalid("entry " + std::to_string(i) + " has type " + std::to_string(type) +
                     ": only regular files are allowed (no links or directories)");
    }
    const uint8_t* name_bytes = c.take(name_len);
    if (name_bytes == nullptr) return invalid("truncated bundle (entry name)");
    std::string name(reinterpret_cast<const char*>(name_bytes), name_len);
    if (auto problem = name_problem(name)) return invalid(*problem);
    if (!seen.insert(name).second) return invalid("duplicate entry " + shown(name));
    if (!c.le(8, &data_len)) return invalid("truncated bundle (entry size)");
    // The declared size is checked against the entry's limit before the bytes are looked at.
    if (data_len > size_limit(name)) {
      return invalid("entry " + shown(name) + " is too large (" + std::to_string(data_len) +
                     " bytes, limit " + std::to_string(size_limit(name)) + ")");
    }
    const uint8_t* data = c.take(data_len);
    if (data == nullptr) return invalid("truncated bundle (entry " + shown(name) + " data)");
    entries.push_back(Entry{std::move(name), std::vector<uint8_t>(data, data + data_len), kEntryFile});
  }
  if (c.remaining() != 0) return invalid("trailing bytes after the last entry");
  return entries;
}

}  // namespace wasmcap::bundle
