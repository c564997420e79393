// Keys, pack and verify. The order of verify() is the point of this file: nothing from the
// bundle is interpreted beyond the container and strict JSON syntax until the signature over the
// manifest's canonical form has verified under a trusted key, and no module is returned before
// its hash matched the signed manifest.
#include "wasmcap/bundle.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "bundle/jcs.h"
#include "engine/cache_files.h"
#include "policy/json_doc.h"

namespace wasmcap::bundle {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kPublicPrefix = "wasmcap-ed25519-public-v1:";
constexpr std::string_view kSecretPrefix = "wasmcap-ed25519-secret-v1:";
// Key files are one short line; anything longer is not a key file.
constexpr size_t kMaxKeyFileBytes = 4096;

tl::unexpected<Error> invalid(std::string message) {
  return make_error(ErrorCode::kBundleInvalid, std::move(message));
}

Result<void> init_sodium() {
  if (sodium_init() < 0) return make_error(ErrorCode::kInternal, "libsodium failed to initialize");
  return {};
}

std::string to_hex(const uint8_t* data, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.pop_back();
  return out;
}

// Exactly `n` bytes of lowercase hex.
bool from_hex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != n * 2) return false;
  if (!std::all_of(hex.begin(), hex.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
    return false;
  }
  size_t got = 0;
  return sodium_hex2bin(out, n, hex.data(), hex.size(), nullptr, &got, nullptr) == 0 && got == n;
}

std::string_view key_line(std::string_view text, std::string_view prefix, bool* ok) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  *ok = text.substr(0, prefix.size()) == prefix;
  return text.substr(std::min(prefix.size(), text.size()));
}

}  // namespace

namespace {

FileStamp stamp_from(const struct stat& st) {
  FileStamp s;
  s.device = static_cast<uint64_t>(st.st_dev);
  s.inode = static_cast<uint64_t>(st.st_ino);
  s.size = static_cast<uint64_t>(st.st_size);
  s.mode = static_cast<uint32_t>(st.st_mode);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  return s;
}

}  // namespace

std::optional<FileStamp> stamp_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  return stamp_from(st);
}

Result<std::vector<uint8_t>> read_file_bounded(const std::string& path, uint64_t limit,
                                               ErrorCode too_large, bool no_follow) {
  return read_file_bounded(path, limit, too_large, no_follow, nullptr);
}

Result<std::vector<uint8_t>> read_file_bounded(const std::string& path, uint64_t limit,
                                               ErrorCode too_large, bool no_follow,
                                               FileStamp* stamp, bool* steady) {
  if (steady != nullptr) *steady = false;
  // O_NONBLOCK: opening a FIFO must not hang; it is refused as not a regular file below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | (no_follow ? O_NOFOLLOW : 0));
  if (fd < 0) {
    int err = errno;
    return make_error(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                      path + ": " + std::strerror(err) +
                          (err == ELOOP && no_follow ? " (a symbolic link; refused)" : ""));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(ErrorCode::kIo, path + ": not a regular file");
  }
  if (stamp != nullptr) *stamp = stamp_from(st);
  if (static_cast<uint64_t>(st.st_size) > limit) {
    ::close(fd);
    return make_error(too_large, path + ": larger than " + std::to_string(limit) + " bytes");
  }
  // Read straight into the vector: the size stat gave and one byte more, so that a file read
  // whole meets its end without growing the vector (which would copy it); one that grew while
  // being read grows it in steps of 64 KiB. The limit holds for the bytes actually read too.
  std::vector<uint8_t> data(static_cast<size_t>(st.st_size) + 1);
  size_t got = 0;
  while (true) {
    if (got == data.size()) {
      if (data.size() > limit) {
        ::close(fd);
        return make_error(too_large, path + ": larger than " + std::to_string(limit) + " bytes");
      }
      data.resize(got + 65536);
    }
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_error(ErrorCode::kIo, path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  struct stat after {};
  if (steady != nullptr && ::fstat(fd, &after) == 0) *steady = stamp_from(after) == stamp_from(st);
  ::close(fd);
  data.resize(got);
  if (got > limit) return make_error(too_large, path + ": larger than " + std::to_string(limit) + " bytes");
  return data;
}

namespace {

Result<std::vector<uint8_t>> read_bounded(const std::string& path, uint64_t limit,
                                          ErrorCode too_large) {
  return read_file_bounded(path, limit, too_large, false);
}

Result<void> write_new_file(const std::string& path, std::string_view text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return make_error(ErrorCode::kIo, path + ": " + std::strerror(errno) +
                                          (errno == EEXIST ? " (refusing to overwrite a key)" : ""));
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok) return make_error(ErrorCode::kIo, path + ": write failed");
  return {};
}

}  // namespace

// --- Keys -----------------------------------------------------------------------------------------

std::string PublicKey::id() const {
  uint8_t h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, bytes.data(), bytes.size());
  return to_hex(h, 8);
}

PublicKey SecretKey::public_key() const {
  PublicKey pk;
  crypto_sign_ed25519_sk_to_pk(pk.bytes.data(), bytes.data());
  return pk;
}

SecretKey::~SecretKey() { sodium_memzero(bytes.data(), bytes.size()); }

std::string public_key_text(const PublicKey& key) {
  return std::string(kPublicPrefix) + to_hex(key.bytes.data(), key.bytes.size()) + "\n";
}

Result<PublicKey> parse_public_key(std::string_view text) {
  bool ok = false;
  std::string_view hex = key_line(text, kPublicPrefix, &ok);
  PublicKey key;
  if (!ok || !from_hex(hex, key.bytes.data(), key.bytes.size())) {
    return invalid("not a wasmcap public key (expected one line 'wasmcap-ed25519-public-v1:<64 hex>')");
  }
  return key;
}

Result<SecretKey> parse_secret_key(std::string_view text) {
  WASMCAP_TRY(init_sodium());
  bool ok = false;
  std::string_view hex = key_line(text, kSecretPrefix, &ok);
  SecretKey key;
  if (!ok || !from_hex(hex, key.bytes.data(), key.bytes.size())) {
    return invalid("not a wasmcap secret key (expected one line 'wasmcap-ed25519-secret-v1:<128 hex>')");
  }
  // The stored public half must be the one the seed derives: a corrupted key file would
  // otherwise sign with one key while naming another as the signer.
  std::array<uint8_t, kPublicKeyBytes> derived{};
  std::array<uint8_t, kSecretKeyBytes> scratch{};
  crypto_sign_seed_keypair(derived.data(), scratch.data(), key.bytes.data());
  sodium_memzero(scratch.data(), scratch.size());
  if (sodium_memcmp(derived.data(), key.bytes.data() + 32, kPublicKeyBytes) != 0) {
    return invalid("secret key is corrupt (its public half does not match its seed)");
  }
  return key;
}

Result<PublicKey> load_public_key(const std::string& path) {
  std::vector<uint8_t> data;
  WASMCAP_TRY_ASSIGN(data, read_bounded(path, kMaxKeyFileBytes, ErrorCode::kBundleInvalid));
  auto key = parse_public_key(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  if (!key) return make_error(key.error().code, path + ": " + key.error().message);
  return key;
}

Result<SecretKey> load_secret_key(const std::string& path) {
  std::vector<uint8_t> data;
  WASMCAP_TRY_ASSIGN(data, read_bounded(path, kMaxKeyFileBytes, ErrorCode::kBundleInvalid));
  auto key = parse_secret_key(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
  sodium_memzero(data.data(), data.size());
  if (!key) return make_error(key.error().code, path + ": " + key.error().message);
  return key;
}

Result<PublicKey> keygen(const std::string& dir, const std::string& name) {
  WASMCAP_TRY(init_sodium());
  if (name.empty() || entry_name_problem(name) || name.find('/') != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument, "key name must be [A-Za-z0-9._-]+");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::kIo, dir + ": " + ec.message());
  PublicKey pk;
  SecretKey sk;
  crypto_sign_keypair(pk.bytes.data(), sk.bytes.data());
  std::string secret_text =
      std::string(kSecretPrefix) + to_hex(sk.bytes.data(), sk.bytes.size()) + "\n";
  std::string base = (std::filesystem::path(dir) / name).string();
  auto r = write_new_file(base + ".key", secret_text, 0600);
  sodium_memzero(secret_text.data(), secret_text.size());
  WASMCAP_TRY(r);
  WASMCAP_TRY(write_new_file(base + ".pub", public_key_text(pk), 0644));
  return pk;
}

// --- Pack -----------------------------------------------------------------------------------------

// The engine's hash (engine/cache_files.h): libcrypto's, with the CPU's SHA extensions, for a
// module of a MiB or more (a 2.9 MB toolbox module is hashed at every run of one of its
// commands: 10 ms with libsodium's portable C, ~3 ms with libcrypto's), libsodium's below.
std::string sha256_hex(const std::vector<uint8_t>& data) {
  return cache::sha256_hex(data.data(), data.size());
}

std::array<uint8_t, kSignatureBytes> sign(std::string_view message, const SecretKey& key) {
  std::array<uint8_t, kSignatureBytes> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const uint8_t*>(message.data()),
                       message.size(), key.bytes.data());
  return sig;
}

Result<std::vector<uint8_t>> pack(const std::string& manifest_path, const SecretKey& key) {
  WASMCAP_TRY(init_sodium());
  std::string text;
  WASMCAP_TRY_ASSIGN(text, policy::read_document(manifest_path));
  policy::Manifest manifest;
  WASMCAP_TRY_ASSIGN(manifest, policy::parse_manifest(text, manifest_path));
  policy::Doc doc(manifest_path, ErrorCode::kManifestInvalid);
  Json json;
  WASMCAP_TRY_ASSIGN(json, doc.parse(text));

  std::map<std::string, std::vector<uint8_t>> modules;  // sorted: deterministic output
  std::vector<std::string> names{manifest.module};
  for (const auto& [name, hash] : manifest.module_sha256) names.push_back(name);
  std::filesystem::path dir = std::filesystem::path(manifest_path).parent_path();
  for (const auto& name : names) {
    if (modules.count(name) != 0) continue;
    if (auto problem = entry_name_problem(name)) {
      return invalid("module " + name + ": " + *problem);
    }
    if (name == kManifestEntry || name == kSignatureEntry) {
      return invalid("module name " + name + " is reserved for the bundle itself");
    }
    std::vector<uint8_t> data;
    WASMCAP_TRY_ASSIGN(data, read_bounded((dir / name).string(), kMaxModuleBytes,
                                          ErrorCode::kBundleInvalid));
    modules.emplace(name, std::move(data));
  }
  if (manifest.data) {
    // Every regular file under the data tree, in path order; links and special files are refused
    // (the tree is packed as it is, never as something a link points to).
    std::filesystem::path root = dir / manifest.data->path;
    std::error_code ec;
    auto st = std::filesystem::symlink_status(root, ec);
    if (ec || !std::filesystem::is_directory(st)) {
      return invalid("data tree " + manifest.data->path + ": not a directory");
    }
    std::vector<std::string> files;
    std::filesystem::recursive_directory_iterator it(root, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      auto s = it->symlink_status(ec);
      if (ec) break;
      std::string rel = std::filesystem::relative(it->path(), root, ec).generic_string();
      if (ec) break;
      if (std::filesystem::is_directory(s)) continue;
      if (!std::filesystem::is_regular_file(s)) {
        return invalid("data tree " + manifest.data->path + ": " + rel +
                       " is not a regular file (links and special files cannot be packed)");
      }
      files.push_back(manifest.data->path + "/" + rel);
      if (files.size() + modules.size() + 2 > kMaxEntries) {
        return invalid("data tree " + manifest.data->path + ": more files than a bundle holds (" +
                       std::to_string(kMaxEntries) + " entries in all)");
      }
    }
    if (ec) return invalid("data tree " + manifest.data->path + ": " + ec.message());
    if (files.empty()) return invalid("data tree " + manifest.data->path + " holds no file");
    std::sort(files.begin(), files.end());
    for (const auto& name : files) {
      if (auto problem = entry_name_problem(name)) return invalid("data file " + name + ": " + *problem);
      std::vector<uint8_t> data;
      WASMCAP_TRY_ASSIGN(data, read_bounded((dir / name).string(), kMaxModuleBytes,
                                            ErrorCode::kBundleInvalid));
      modules[name] = std::move(data);
    }
  }
  Json hashes = Json::object();
  for (const auto& [name, data] : modules) hashes[name] = Json{{"sha256", sha256_hex(data)}};
  json["modules"] = hashes;

  std::string canonical;
  auto jcs = canonicalize(json);
  if (!jcs) return make_error(ErrorCode::kManifestInvalid, manifest_path + ": " + jcs.error().message);
  canonical = std::move(*jcs);
  // What is signed must be what verify() will accept.
  WASMCAP_TRY(policy::parse_manifest(canonical, manifest_path));

  auto sig = sign(canonical, key);
  PublicKey signer = key.public_key();
  std::vector<Entry> entries;
  entries.push_back(Entry{std::string(kManifestEntry),
                          std::vector<uint8_t>(canonical.begin(), canonical.end()), kEntryFile});
  Entry sig_entry{std::string(kSignatureEntry), {}, kEntryFile};
  sig_entry.data.insert(sig_entry.data.end(), signer.bytes.begin(), signer.bytes.end());
  sig_entry.data.insert(sig_entry.data.end(), sig.begin(), sig.end());
  entries.push_back(std::move(sig_entry));
  uint64_t total = canonical.size();
  for (auto& [name, data] : modules) {
    total += data.size();
    entries.push_back(Entry{name, std::move(data), kEntryFile});
  }
  if (total > kMaxBundleBytes - 4096) return invalid("bundle would be larger than 256 MiB");
  if (entries.size() > kMaxEntries) return invalid("too many modules for one bundle");
  return encode(entries);
}

Result<void> pack_to_file(const std::string& manifest_path, const SecretKey& key,
                          const std::string& out_path) {
  std::vector<uint8_t> bytes;
  WASMCAP_TRY_ASSIGN(bytes, pack(manifest_path, key));
  // Written beside the target and renamed, so a failed pack never leaves a partial bundle.
  std::string tmp = out_path + ".tmp";
  ::unlink(tmp.c_str());
  WASMCAP_TRY(write_new_file(tmp, std::string_view(reinterpret_cast<const char*>(bytes.data()),
                                                   bytes.size()),
                             0644));
  if (::rename(tmp.c_str(), out_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return make_error(ErrorCode::kIo, out_path + ": " + std::strerror(err));
  }
  return {};
}

// --- Verify ---------------------------------------------------------------------------------------

bool TrustStore::is_revoked(const PublicKey& key) const {
  if (std::any_of(revoked.begin(), revoked.end(),
                  [&](const PublicKey& k) { return k.bytes == key.bytes; })) {
    return true;
  }
  if (revoked_ids.empty()) return false;
  std::string id = key.id();
  return std::find(revoked_ids.begin(), revoked_ids.end(), id) != revoked_ids.end();
}

bool TrustStore::is_trusted(const PublicKey& key) const {
  return !is_revoked(key) && std::any_of(trusted.begin(), trusted.end(), [&](const PublicKey& k) {
    return k.bytes == key.bytes;
  });
}

Result<SignedManifest> verify_signed_manifest(std::string_view manifest_bytes,
                                              const std::vector<uint8_t>& signature_entry,
                                              const VerifyOptions& options) {
  WASMCAP_TRY(init_sodium());
  if (signature_entry.size() != kSignatureEntryBytes) {
    return invalid("manifest.sig must be exactly 96 bytes (public key + signature)");
  }
  if (manifest_bytes.size() > kMaxManifestBytes) return invalid("manifest.json is too large");
  SignedManifest out;
  std::copy_n(signature_entry.begin(), kPublicKeyBytes, out.signer.bytes.begin());
  // Revocation first and always: no flag makes a revoked key acceptable.
  if (options.trust.is_revoked(out.signer)) {
    return make_error(ErrorCode::kBundleRevoked,
                      "bundle is signed by key " + out.signer.id() +
                          ", which is revoked; it is refused whatever the flags (ask the "
                          "publisher for a bundle signed by a current key)");
  }
  out.trusted = options.trust.is_trusted(out.signer);
  if (!out.trusted && !options.allow_untrusted) {
    return make_error(
        ErrorCode::kBundleUntrusted,
        "bundle is signed by key " + out.signer.id() + ", which is not a trusted key" +
            (options.trust.trusted.empty() ? " (no trusted keys given; use --trust)" : ""));
  }
  // The signature covers the raw stored bytes and is checked before any JSON is parsed: a parser
  // bug can only ever be reached by bytes a trusted signer produced.
  if (crypto_sign_verify_detached(signature_entry.data() + kPublicKeyBytes,
                                  reinterpret_cast<const uint8_t*>(manifest_bytes.data()),
                                  manifest_bytes.size(), out.signer.bytes.data()) != 0) {
    return invalid("signature does not match the manifest (the bundle was modified after signing)");
  }
  // Strict syntax (duplicate keys refused), then the bytes must be exactly their canonical form:
  // one signed manifest has one spelling, and what is interpreted is exactly what was signed
  // (e.g. 1e6 and 1000000 canonicalize alike but differ in type).
  policy::Doc doc("bundle manifest.json", ErrorCode::kBundleInvalid);
  Json json;
  WASMCAP_TRY_ASSIGN(json, doc.parse(manifest_bytes));
  auto canonical = canonicalize(json);
  if (!canonical) return invalid("manifest.json: " + canonical.error().message);
  if (*canonical != manifest_bytes) {
    return invalid("manifest.json is not in RFC 8785 canonical form (bundles store the exact "
                   "signed canonical bytes; re-pack with wasmcap bundle pack)");
  }
  out.manifest_jcs = std::move(*canonical);
  WASMCAP_TRY_ASSIGN(out.manifest, policy::parse_manifest(out.manifest_jcs, "bundle manifest.json"));
  bool listed = std::any_of(out.manifest.module_sha256.begin(), out.manifest.module_sha256.end(),
                            [&](const auto& m) { return m.first == out.manifest.module; });
  if (!listed) {
    return invalid("the manifest's module " + out.manifest.module + " has no sha256 in modules");
  }
  for (const auto& [name, hash] : out.manifest.module_sha256) {
    if (name == kManifestEntry || name == kSignatureEntry) {
      return invalid("module name " + name + " is reserved for the bundle itself");
    }
    if (auto problem = entry_name_problem(name)) return invalid("module " + name + ": " + *problem);
  }
  if (out.manifest.data) {
    // The data tree is the listed files under its path; an empty tree would mount nothing.
    std::string prefix = out.manifest.data->path + "/";
    bool any = std::any_of(out.manifest.module_sha256.begin(), out.manifest.module_sha256.end(),
                           [&](const auto& m) { return m.first.compare(0, prefix.size(), prefix) == 0; });
    if (!any) return invalid("the data tree " + out.manifest.data->path + " lists no file in modules");
  }
  return out;
}

Result<VerifiedBundle> verify(const std::vector<uint8_t>& bytes, const VerifyOptions& options) {
  WASMCAP_TRY(init_sodium());
  std::vector<Entry> entries;
  WASMCAP_TRY_ASSIGN(entries, decode(bytes));
  const Entry* manifest_entry = nullptr;
  const Entry* sig_entry = nullptr;
  for (const auto& e : entries) {
    if (e.name == kManifestEntry) manifest_entry = &e;
    if (e.name == kSignatureEntry) sig_entry = &e;
  }
  if (manifest_entry == nullptr) return invalid("bundle has no manifest.json");
  if (sig_entry == nullptr) return invalid("bundle has no manifest.sig (unsigned)");

  SignedManifest signed_manifest;
  WASMCAP_TRY_ASSIGN(
      signed_manifest,
      verify_signed_manifest(std::string_view(reinterpret_cast<const char*>(manifest_entry->data.data()),
                                              manifest_entry->data.size()),
                             sig_entry->data, options));
  VerifiedBundle out;
  out.manifest = std::move(signed_manifest.manifest);
  out.manifest_jcs = std::move(signed_manifest.manifest_jcs);
  out.signer = signed_manifest.signer;
  out.trusted = signed_manifest.trusted;
  out.signature_entry = sig_entry->data;

  const auto& hashes = out.manifest.module_sha256;
  auto hash_of = [&](std::string_view name) -> const std::string* {
    for (const auto& [n, h] : hashes) {
      if (n == name) return &h;
    }
    return nullptr;
  };
  for (const auto& e : entries) {
    if (e.name == kManifestEntry || e.name == kSignatureEntry) continue;
    const std::string* want = hash_of(e.name);
    if (want == nullptr) return invalid("entry " + e.name + " is not listed in the manifest's modules");
    if (sha256_hex(e.data) != *want) return invalid("module " + e.name + ": sha256 mismatch");
  }
  for (const auto& [name, hash] : hashes) {
    auto it = std::find_if(entries.begin(), entries.end(),
                           [&](const Entry& e) { return e.name == name; });
    if (it == entries.end()) return invalid("module " + name + " is listed but missing from the bundle");
  }
  for (auto& e : entries) {
    if (e.name == kManifestEntry || e.name == kSignatureEntry) continue;
    out.modules.emplace_back(std::move(e.name), std::move(e.data));
  }
  std::sort(out.modules.begin(), out.modules.end());
  return out;
}

Result<VerifiedBundle> verify(const std::vector<uint8_t>& bytes,
                              const std::vector<PublicKey>& trusted) {
  VerifyOptions options;
  options.trust.trusted = trusted;
  return verify(bytes, options);
}

Result<VerifiedBundle> verify_file(const std::string& path, const VerifyOptions& options) {
  std::vector<uint8_t> bytes;
  WASMCAP_TRY_ASSIGN(bytes, read_bounded(path, kMaxBundleBytes, ErrorCode::kBundleInvalid));
  return verify(bytes, options);
}

Result<VerifiedBundle> verify_file(const std::string& path, const std::vector<PublicKey>& trusted) {
  VerifyOptions options;
  options.trust.trusted = trusted;
  return verify_file(path, options);
}

}  // namespace wasmcap::bundle
