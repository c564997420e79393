// The module description sidecar of an AOT cache entry (docs/aot.md, "Cold start").
//
// A cached run needs the module's imports, exports and memories (ModuleInfo) to link and call
// it. Getting them from the interpreter's loader means decoding and validating the whole module
// again on every run — for a 20 MB module, most of the start-up time. The first load that
// validates the module writes KEY.desc next to the object; later loads of the same bytes (the
// key covers every byte of the module) read it instead.
//
// Format: "wasmcap-aot-desc 1\nkey KEY\nsha256 HASH\n" then the body, whose sha256 is HASH.
// The body is a sequence of unsigned decimal numbers and length-prefixed byte strings
// ("LEN:BYTES"), each followed by one space: names are untrusted bytes and are never parsed as
// anything but a length and that many bytes. Decoding is strict and bounded; anything
// unexpected means "no description" and the module is validated as usual.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "engine/aot/aot_link.h"

namespace wasmcap::aot {
namespace {

constexpr size_t kMaxDescBytes = 64u << 20;
constexpr uint64_t kMaxEntries = 10'000'000;
constexpr uint64_t kMaxSigTypes = 100'000;

std::string sha_hex(std::string_view data) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  static const char* d = "0123456789abcdef";
  std::string s;
  for (unsigned char c : out) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

void put_num(std::string& out, uint64_t n) {
  out += std::to_string(n);
  out += ' ';
}
void put_str(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out.append(s.data(), s.size());
  out += ' ';
}
void put_sig(std::string& out, const FuncSig& sig) {
  put_num(out, sig.params.size());
  for (ValType t : sig.params) put_num(out, static_cast<uint64_t>(t));
  put_num(out, sig.results.size());
  for (ValType t : sig.results) put_num(out, static_cast<uint64_t>(t));
}
void put_mem(std::string& out, const MemoryLimits& m) {
  put_num(out, m.min_pages);
  put_num(out, m.max_pages);
  put_num(out, (m.has_max ? 1u : 0u) | (m.is64 ? 2u : 0u) | (m.shared ? 4u : 0u));
}

struct Reader {
  std::string_view in;
  bool ok = true;
  uint64_t num(uint64_t max) {
    uint64_t n = 0;
    size_t i = 0;
    while (i < in.size() && in[i] >= '0' && in[i] <= '9' && i < 20) {
      n = n * 10 + static_cast<uint64_t>(in[i] - '0');
      ++i;
    }
    if (i == 0 || i >= in.size() || in[i] != ' ' || n > max) {
      ok = false;
      return 0;
    }
    in.remove_prefix(i + 1);
    return n;
  }
  std::string str() {
    size_t i = 0;
    uint64_t n = 0;
    while (i < in.size() && in[i] >= '0' && in[i] <= '9' && i < 12) {
      n = n * 10 + static_cast<uint64_t>(in[i] - '0');
      ++i;
    }
    if (i == 0 || i >= in.size() || in[i] != ':' || n > in.size() - i - 1 ||
        i + 1 + n >= in.size() || in[i + 1 + n] != ' ') {
      ok = false;
      return {};
    }
    std::string s(in.substr(i + 1, n));
    in.remove_prefix(i + 2 + n);
    return s;
  }
  ValType type() {
    return static_cast<ValType>(num(static_cast<uint64_t>(ValType::kExternRef)));
  }
  FuncSig sig() {
    FuncSig s;
    uint64_t np = num(kMaxSigTypes);
    for (uint64_t i = 0; ok && i < np; ++i) s.params.push_back(type());
    uint64_t nr = num(kMaxSigTypes);
    for (uint64_t i = 0; ok && i < nr; ++i) s.results.push_back(type());
    return s;
  }
  MemoryLimits mem() {
    MemoryLimits m;
    m.min_pages = num(UINT64_MAX);
    m.max_pages = num(UINT64_MAX);
    uint64_t f = num(7);
    m.has_max = f & 1;
    m.is64 = f & 2;
    m.shared = f & 4;
    return m;
  }
  ExternKind kind() { return static_cast<ExternKind>(num(static_cast<uint64_t>(ExternKind::kTag))); }
};

std::string header(const std::string& key, const std::string& body_sha) {
  return "wasmcap-aot-desc 1\nkey " + key + "\nsha256 " + body_sha + "\n";
}

std::string desc_path(const std::string& dir, const std::string& key) {
  return dir + "/" + key + ".desc";
}

}  // namespace

std::string encode_module_info(const ModuleInfo& info) {
  std::string out;
  put_num(out, info.size_bytes);
  put_num(out, info.defined_funcs);
  put_num(out, info.imports.size());
  for (const auto& i : info.imports) {
    put_str(out, i.module);
    put_str(out, i.name);
    put_num(out, static_cast<uint64_t>(i.kind));
    put_sig(out, i.sig);
    put_mem(out, i.memory);
  }
  put_num(out, info.exports.size());
  for (const auto& e : info.exports) {
    put_str(out, e.name);
    put_num(out, static_cast<uint64_t>(e.kind));
    put_sig(out, e.sig);
    put_mem(out, e.memory);
  }
  put_num(out, info.memories.size());
  for (const auto& m : info.memories) put_mem(out, m);
  out += "end\n";
  return out;
}

std::optional<ModuleInfo> decode_module_info(std::string_view body) {
  Reader r{body};
  ModuleInfo info;
  info.size_bytes = r.num(UINT64_MAX);
  info.defined_funcs = static_cast<uint32_t>(r.num(UINT32_MAX));
  uint64_t n = r.num(kMaxEntries);
  for (uint64_t i = 0; r.ok && i < n; ++i) {
    ImportDesc d;
    d.module = r.str();
    d.name = r.str();
    d.kind = r.kind();
    d.sig = r.sig();
    d.memory = r.mem();
    info.imports.push_back(std::move(d));
  }
  n = r.num(kMaxEntries);
  for (uint64_t i = 0; r.ok && i < n; ++i) {
    ExportDesc d;
    d.name = r.str();
    d.kind = r.kind();
    d.sig = r.sig();
    d.memory = r.mem();
    info.exports.push_back(std::move(d));
  }
  n = r.num(kMaxEntries);
  for (uint64_t i = 0; r.ok && i < n; ++i) info.memories.push_back(r.mem());
  if (!r.ok || r.in != "end\n") return std::nullopt;
  return info;
}

void store_module_info(const std::string& dir, const std::string& key, const ModuleInfo& info) {
  std::string body = encode_module_info(info);
  std::string data = header(key, sha_hex(body)) + body;
  std::string tmp = desc_path(dir, key) + ".tmp" + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return;
  size_t off = 0;
  bool ok = true;
  while (ok && off < data.size()) {
    ssize_t w = write(fd, data.data() + off, data.size() - off);
    if (w < 0 && errno == EINTR) continue;
    ok = w > 0;
    if (ok) off += static_cast<size_t>(w);
  }
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp.c_str(), desc_path(dir, key).c_str()) != 0) unlink(tmp.c_str());
}

std::optional<ModuleInfo> load_module_info(const std::string& dir, const std::string& key) {
  int fd = open(desc_path(dir, key).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st;
  std::string data;
  // Trusted as the object is: a regular file of ours that nobody else may write.
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
      (st.st_mode & (S_IWGRP | S_IWOTH)) == 0 && static_cast<uint64_t>(st.st_size) <= kMaxDescBytes) {
    data.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < data.size()) {
      ssize_t n = read(fd, data.data() + got, data.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    data.resize(got);
  }
  close(fd);
  const std::string head = "wasmcap-aot-desc 1\nkey " + key + "\nsha256 ";
  if (data.compare(0, head.size(), head) != 0 || data.size() < head.size() + 65) {
    return std::nullopt;
  }
  std::string sha = data.substr(head.size(), 64);
  if (data[head.size() + 64] != '\n') return std::nullopt;
  std::string_view body(data);
  body.remove_prefix(head.size() + 65);
  if (sha_hex(body) != sha) return std::nullopt;
  return decode_module_info(body);
}

}  // namespace wasmcap::aot
