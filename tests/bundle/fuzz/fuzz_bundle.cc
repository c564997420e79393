// libFuzzer target: the bundle reader (container decode + verify) on arbitrary bytes. Beyond "no
// crash, no sanitizer report":
// - every error has a bundle/manifest code, and decode → encode → decode is the identity;
// - the input is also re-signed with the fuzzer's trusted key (when it decodes and has both
//   reserved entries), so the checks after the signature (strict JSON, canonical bytes, manifest
//   rules, module hashes) are reached too; whatever verifies then has a canonical manifest and
//   modules matching its signed hashes;
// - the same re-signed input under a revoked key never verifies, even with untrusted allowed.
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "bundle/jcs.h"
#include "wasmcap/bundle.h"

using namespace wasmcap;
using namespace wasmcap::bundle;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

struct Keys {
  PublicKey pk;
  SecretKey sk;
  Keys() {
    check(sodium_init() >= 0);
    uint8_t seed[32];
    for (int i = 0; i < 32; ++i) seed[i] = static_cast<uint8_t>(i * 7 + 1);
    crypto_sign_seed_keypair(pk.bytes.data(), sk.bytes.data(), seed);
  }
};

bool is_bundle_error(ErrorCode c) {
  return c == ErrorCode::kBundleInvalid || c == ErrorCode::kBundleUntrusted ||
         c == ErrorCode::kManifestInvalid;
}

void check_verified(const VerifiedBundle& b, const std::vector<Entry>& entries) {
  // The stored manifest is exactly its canonical form.
  const Entry* m = nullptr;
  for (const auto& e : entries) {
    if (e.name == kManifestEntry) m = &e;
  }
  check(m != nullptr);
  check(std::string(m->data.begin(), m->data.end()) == b.manifest_jcs);
  auto again = canonicalize(nlohmann::json::parse(b.manifest_jcs));
  check(again.has_value() && *again == b.manifest_jcs);
  // Every returned module matches its signed hash, and the manifest's module is among them.
  bool main_module = false;
  for (const auto& [name, data] : b.modules) {
    check(!entry_name_problem(name).has_value());
    bool listed = false;
    for (const auto& [n, h] : b.manifest.module_sha256) {
      if (n == name) {
        listed = true;
        check(h == sha256_hex(data));
      }
    }
    check(listed);
    if (name == b.manifest.module) main_module = true;
  }
  check(main_module);
  check(b.modules.size() == b.manifest.module_sha256.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Keys keys;
  std::vector<uint8_t> bytes(data, data + size);

  auto raw = verify(bytes, std::vector<PublicKey>{keys.pk});
  if (!raw) check(is_bundle_error(raw.error().code));

  auto entries = decode(bytes);
  if (!entries) {
    check(entries.error().code == ErrorCode::kBundleInvalid);
    check(!raw.has_value());
    return 0;
  }
  check(encode(*entries) == bytes);  // a decoded container re-encodes to the same bytes
  if (raw) check_verified(*raw, *entries);

  // Re-sign the manifest entry as it is with the trusted key.
  auto m = std::find_if(entries->begin(), entries->end(),
                        [](const Entry& e) { return e.name == kManifestEntry; });
  auto s = std::find_if(entries->begin(), entries->end(),
                        [](const Entry& e) { return e.name == kSignatureEntry; });
  if (m == entries->end() || s == entries->end()) return 0;
  auto sig = sign(std::string_view(reinterpret_cast<const char*>(m->data.data()), m->data.size()),
                  keys.sk);
  s->data.assign(keys.pk.bytes.begin(), keys.pk.bytes.end());
  s->data.insert(s->data.end(), sig.begin(), sig.end());
  std::vector<uint8_t> resigned = encode(*entries);

  VerifyOptions trusted;
  trusted.trust.trusted = {keys.pk};
  auto v = verify(resigned, trusted);
  if (v) {
    check(v->trusted);
    check_verified(*v, *entries);
  } else {
    // The signer is trusted and the signature valid: only content rules can refuse it.
    check(v.error().code == ErrorCode::kBundleInvalid || v.error().code == ErrorCode::kManifestInvalid);
    // Compared with the whole message, not a substring: other errors may quote manifest text,
    // and a manifest may contain these very words (a fuzzer-found false alarm).
    check(v.error().message !=
          "signature does not match the manifest (the bundle was modified after signing)");
  }

  VerifyOptions revoked = trusted;
  revoked.trust.revoked_ids = {keys.pk.id()};
  revoked.allow_untrusted = true;
  auto r = verify(resigned, revoked);
  check(!r.has_value() && r.error().code == ErrorCode::kBundleRevoked);
  return 0;
}
