// Signed bundles: keys, pack → verify round trip, and one test per verification rule, each
// asserting the exact error (code and the rule's message), so removing a rule fails a test.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bundle/jcs.h"
#include "test_support.h"
#include "wasmcap/bundle.h"

namespace wasmcap::bundle {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::read_text;
using testing::run_cli;
using testing::TempDir;
using testing::write_text;

const std::string kModule = std::string("\0asm\1\0\0\0", 8) + "plugin body";
const std::string kHelper = std::string("\0asm\1\0\0\0", 8) + "helper";

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    auto a = keygen((dir_ / "keys").string(), "a");
    auto b = keygen((dir_ / "keys").string(), "b");
    ASSERT_TRUE(a && b);
    key_a_ = *load_secret_key((dir_ / "keys/a.key").string());
    pub_a_ = *a;
    pub_b_ = *b;
    key_b_ = *load_secret_key((dir_ / "keys/b.key").string());
    fs::create_directories(dir_ / "p/lib");
    write_text(dir_ / "p/plugin.wasm", kModule);
    write_text(dir_ / "p/lib/helper.wasm", kHelper);
    write_text(dir_ / "p/manifest.json", R"({
      "name": "demo", "version": "1.0.0", "module": "plugin.wasm",
      "description": "d\u00e9mo",
      "modules": { "lib/helper.wasm": { "sha256": "0000000000000000000000000000000000000000000000000000000000000000" } },
      "permissions": { "env": ["LANG"], "args": true },
      "limits": { "fuel": 1000000 }
    })");
  }

  std::vector<uint8_t> packed() {
    auto r = pack((dir_ / "p/manifest.json").string(), key_a_);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return r ? *r : std::vector<uint8_t>{};
  }
  std::vector<Entry> entries() {
    auto e = decode(packed());
    EXPECT_TRUE(e.has_value());
    return e ? *e : std::vector<Entry>{};
  }
  static Entry* find(std::vector<Entry>& es, std::string_view name) {
    for (auto& e : es) {
      if (e.name == name) return &e;
    }
    ADD_FAILURE() << "no entry " << name;
    static Entry none;
    return &none;
  }
  static Json manifest_of(std::vector<Entry>& es) {
    const auto& d = find(es, kManifestEntry)->data;
    return Json::parse(std::string(d.begin(), d.end()));
  }
  // Replaces the manifest with the canonical form of `text` and signs it properly with `key`: for
  // rules that must hold even when the signer is trusted.
  static void resign(std::vector<Entry>& es, const std::string& text, const SecretKey& key) {
    auto canonical = canonicalize(Json::parse(text));
    ASSERT_TRUE(canonical.has_value());
    resign_raw(es, *canonical, key);
  }
  // Stores exactly `raw` as the manifest and signs exactly those bytes.
  static void resign_raw(std::vector<Entry>& es, const std::string& raw, const SecretKey& key) {
    find(es, kManifestEntry)->data = bytes_of(raw);
    auto sig = sign(raw, key);
    PublicKey pk = key.public_key();
    auto& d = find(es, kSignatureEntry)->data;
    d.assign(pk.bytes.begin(), pk.bytes.end());
    d.insert(d.end(), sig.begin(), sig.end());
  }
  void expect_error(const std::vector<uint8_t>& b, ErrorCode code, const std::string& needle) {
    auto r = verify(b, {pub_a_});
    ASSERT_FALSE(r.has_value()) << "accepted; expected " << needle;
    EXPECT_EQ(r.error().code, code) << r.error().to_string();
    EXPECT_NE(r.error().message.find(needle), std::string::npos)
        << "want '" << needle << "' in: " << r.error().message;
  }

  TempDir tmp_;
  fs::path dir_;
  SecretKey key_a_, key_b_;
  PublicKey pub_a_, pub_b_;
};

// --- Round trip ---------------------------------------------------------------------------------

TEST_F(BundleTest, PackThenVerifyRoundTrips) {
  auto b = verify(packed(), {pub_b_, pub_a_});
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  EXPECT_EQ(b->manifest.name, "demo");
  EXPECT_EQ(b->manifest.module, "plugin.wasm");
  EXPECT_EQ(b->signer.bytes, pub_a_.bytes);
  ASSERT_EQ(b->modules.size(), 2u);
  EXPECT_EQ(b->modules[0].first, "lib/helper.wasm");
  EXPECT_EQ(b->modules[0].second, bytes_of(kHelper));
  EXPECT_EQ(b->modules[1].first, "plugin.wasm");
  EXPECT_EQ(b->modules[1].second, bytes_of(kModule));
  // pack wrote the real hashes (the placeholder was replaced).
  ASSERT_EQ(b->manifest.module_sha256.size(), 2u);
  EXPECT_EQ(b->manifest.module_sha256[0].second, sha256_hex(bytes_of(kHelper)));
  EXPECT_EQ(b->manifest.module_sha256[1].second, sha256_hex(bytes_of(kModule)));
  // The stored manifest is the canonical form, and that is what was signed.
  EXPECT_EQ(b->manifest_jcs.find(' '), std::string::npos);
  EXPECT_EQ(b->manifest_jcs.rfind("{\"description\":", 0), 0u);
}

TEST_F(BundleTest, PackIsDeterministic) { EXPECT_EQ(packed(), packed()); }

TEST_F(BundleTest, KnownSha256) {
  EXPECT_EQ(sha256_hex(bytes_of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(BundleTest, FileRoundTrip) {
  std::string out = (dir_ / "demo.wcb").string();
  ASSERT_TRUE(pack_to_file((dir_ / "p/manifest.json").string(), key_a_, out));
  auto b = verify_file(out, {pub_a_});
  ASSERT_TRUE(b.has_value()) << b.error().to_string();
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

// --- Tampering: the signature ------------------------------------------------------------------

TEST_F(BundleTest, ByteFlippedInModuleIsRefused) {
  auto es = entries();
  find(es, "plugin.wasm")->data.back() ^= 1;
  expect_error(encode(es), ErrorCode::kBundleInvalid, "module plugin.wasm: sha256 mismatch");
}

TEST_F(BundleTest, ByteFlippedInManifestIsRefused) {
  auto es = entries();
  auto& d = find(es, kManifestEntry)->data;
  std::string text(d.begin(), d.end());
  size_t pos = text.find("1.0.0");
  ASSERT_NE(pos, std::string::npos);
  d[pos + 4] = '1';  // version 1.0.1: still a valid manifest, no longer the signed one
  expect_error(encode(es), ErrorCode::kBundleInvalid, "signature does not match");
}

TEST_F(BundleTest, ByteFlippedInSignatureIsRefused) {
  auto es = entries();
  find(es, kSignatureEntry)->data.back() ^= 0x80;
  expect_error(encode(es), ErrorCode::kBundleInvalid, "signature does not match");
}

TEST_F(BundleTest, SignerKeySwappedForAnotherTrustedKeyIsRefused) {
  auto es = entries();
  auto& d = find(es, kSignatureEntry)->data;
  std::copy(pub_b_.bytes.begin(), pub_b_.bytes.end(), d.begin());
  auto r = verify(encode(es), {pub_a_, pub_b_});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBundleInvalid);
  EXPECT_NE(r.error().message.find("signature does not match"), std::string::npos);
}

TEST_F(BundleTest, UnknownKeyIsUntrusted) {
  auto r = verify(packed(), {pub_b_});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBundleUntrusted);
  EXPECT_NE(r.error().message.find(pub_a_.id() + ", which is not a trusted key"), std::string::npos)
      << r.error().message;
}

TEST_F(BundleTest, NoTrustedKeysIsUntrusted) {
  auto r = verify(packed(), std::vector<PublicKey>{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBundleUntrusted);
  EXPECT_NE(r.error().message.find("no trusted keys given"), std::string::npos);
}

TEST_F(BundleTest, WrongKeySignatureUnderClaimedTrustedKeyIsRefused) {
  // Signed by b but claiming to be a: the claim is trusted, the signature is not a's.
  auto es = entries();
  auto& m = find(es, kManifestEntry)->data;
  std::string text(m.begin(), m.end());
  auto sig = sign(text, key_b_);
  auto& d = find(es, kSignatureEntry)->data;
  std::copy(sig.begin(), sig.end(), d.begin() + kPublicKeyBytes);
  expect_error(encode(es), ErrorCode::kBundleInvalid, "signature does not match");
}

TEST_F(BundleTest, MissingSignatureIsRefused) {
  auto es = entries();
  es.erase(std::remove_if(es.begin(), es.end(), [](const Entry& e) { return e.name == kSignatureEntry; }),
           es.end());
  expect_error(encode(es), ErrorCode::kBundleInvalid, "no manifest.sig");
}

TEST_F(BundleTest, MissingManifestIsRefused) {
  auto es = entries();
  es.erase(std::remove_if(es.begin(), es.end(), [](const Entry& e) { return e.name == kManifestEntry; }),
           es.end());
  expect_error(encode(es), ErrorCode::kBundleInvalid, "no manifest.json");
}

TEST_F(BundleTest, SignatureEntryOfWrongLengthIsRefused) {
  auto es = entries();
  find(es, kSignatureEntry)->data.pop_back();
  expect_error(encode(es), ErrorCode::kBundleInvalid, "exactly 96 bytes");
}

TEST_F(BundleTest, OversizedSignatureEntryIsRefused) {
  auto es = entries();
  find(es, kSignatureEntry)->data.push_back(0);
  expect_error(encode(es), ErrorCode::kBundleInvalid, "entry 'manifest.sig' is too large");
}

// --- Canonical form ----------------------------------------------------------------------------

// Another spelling of the same manifest: keys reversed, whitespace, an escaped character.
std::string respelled(const Json& m) {
  std::string text = "{\n";
  std::vector<std::string> keys;
  for (auto it = m.begin(); it != m.end(); ++it) keys.push_back(it.key());
  std::reverse(keys.begin(), keys.end());
  for (size_t i = 0; i < keys.size(); ++i) {
    text += "  \"" + keys[i] + "\" :  " + m[keys[i]].dump(2) + (i + 1 < keys.size() ? ",\n" : "\n");
  }
  text += "}\n";
  size_t pos = text.find("demo\"");
  if (pos != std::string::npos) text.replace(pos, 4, "\\u0064emo");  // "demo" with an escape
  return text;
}

TEST_F(BundleTest, RespelledManifestFailsTheSignature) {
  // The signature covers the stored bytes, checked before any JSON is parsed: a re-spelling of
  // the same JSON is a modification.
  auto es = entries();
  std::string text = respelled(manifest_of(es));
  ASSERT_EQ(Json::parse(text), manifest_of(es));  // the same JSON value
  find(es, kManifestEntry)->data = bytes_of(text);
  expect_error(encode(es), ErrorCode::kBundleInvalid, "signature does not match");
}

TEST_F(BundleTest, SignedNonCanonicalManifestIsRefused) {
  // Even validly signed, a manifest must be stored in its one canonical spelling.
  auto es = entries();
  resign_raw(es, respelled(manifest_of(es)), key_a_);
  expect_error(encode(es), ErrorCode::kBundleInvalid, "not in RFC 8785 canonical form");
  es = entries();
  auto& d = find(es, kManifestEntry)->data;
  resign_raw(es, std::string(d.begin(), d.end()) + "\n", key_a_);  // one trailing newline
  expect_error(encode(es), ErrorCode::kBundleInvalid, "not in RFC 8785 canonical form");
}

TEST_F(BundleTest, SignatureIsCheckedBeforeJsonIsParsed) {
  // Bytes that are not JSON at all, not validly signed: the signature error, not a parse error.
  auto es = entries();
  find(es, kManifestEntry)->data = bytes_of("{\"name\":");
  expect_error(encode(es), ErrorCode::kBundleInvalid, "signature does not match");
}

TEST_F(BundleTest, ReorderedManifestWithChangedValueFails) {
  auto es = entries();
  Json m = manifest_of(es);
  m["permissions"]["args"] = false;
  find(es, kManifestEntry)->data = bytes_of(m.dump(4));
  expect_error(encode(es), ErrorCode::kBundleInvalid, "signature does not match");
}

TEST_F(BundleTest, DuplicateKeyInManifestIsRefused) {
  // With duplicates, which value "the" manifest holds depends on the parser: refused even when
  // validly signed.
  auto es = entries();
  auto& d = find(es, kManifestEntry)->data;
  std::string text(d.begin(), d.end());
  text.insert(1, "\"name\":\"evil\",");
  resign_raw(es, text, key_a_);
  expect_error(encode(es), ErrorCode::kBundleInvalid, "duplicate");
}

TEST_F(BundleTest, ManifestJcsCannotRepresentIsRefused) {
  auto es = entries();
  auto& d = find(es, kManifestEntry)->data;
  std::string text(d.begin(), d.end());
  size_t pos = text.find("1000000");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 7, "9007199254740993");
  resign_raw(es, text, key_a_);
  expect_error(encode(es), ErrorCode::kBundleInvalid, "manifest.json: canonical JSON");
}

TEST_F(BundleTest, RevokedKeyIsRefusedEvenWhenTrustedOrUntrustedAllowed) {
  VerifyOptions o;
  o.trust.trusted = {pub_a_};
  o.trust.revoked = {pub_a_};
  o.allow_untrusted = true;
  auto r = verify(packed(), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBundleRevoked);
  EXPECT_NE(r.error().message.find(pub_a_.id() + ", which is revoked"), std::string::npos);
  // By key id, too.
  VerifyOptions by_id;
  by_id.trust.trusted = {pub_a_};
  by_id.trust.revoked_ids = {pub_a_.id()};
  r = verify(packed(), by_id);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBundleRevoked);
  // Another key's revocation changes nothing.
  by_id.trust.revoked_ids = {pub_b_.id()};
  EXPECT_TRUE(verify(packed(), by_id).has_value());
}

TEST_F(BundleTest, AllowUntrustedStillNeedsAValidSignature) {
  VerifyOptions o;
  o.allow_untrusted = true;  // no trusted keys at all
  auto ok = verify(packed(), o);
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_FALSE(ok->trusted);
  auto es = entries();
  find(es, kSignatureEntry)->data.back() ^= 1;
  auto bad = verify(encode(es), o);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kBundleInvalid);
  o.trust.trusted = {pub_a_};
  auto trusted = verify(packed(), o);
  ASSERT_TRUE(trusted.has_value());
  EXPECT_TRUE(trusted->trusted);
}

// --- Module list ---------------------------------------------------------------------------------

TEST_F(BundleTest, ModuleHashMissingFromManifestIsRefused) {
  auto es = entries();
  Json m = manifest_of(es);
  m["modules"].erase("plugin.wasm");
  resign(es, m.dump(), key_a_);
  expect_error(encode(es), ErrorCode::kBundleInvalid,
               "the manifest's module plugin.wasm has no sha256 in modules");
}

TEST_F(BundleTest, ManifestWithoutModulesIsRefused) {
  auto es = entries();
  Json m = manifest_of(es);
  m.erase("modules");
  resign(es, m.dump(), key_a_);
  expect_error(encode(es), ErrorCode::kBundleInvalid, "has no sha256 in modules");
}

TEST_F(BundleTest, ExtraModuleNotInManifestIsRefused) {
  auto es = entries();
  es.push_back(Entry{"extra.wasm", bytes_of(kModule), kEntryFile});
  expect_error(encode(es), ErrorCode::kBundleInvalid,
               "entry extra.wasm is not listed in the manifest's modules");
}

TEST_F(BundleTest, ListedModuleMissingFromBundleIsRefused) {
  auto es = entries();
  es.erase(std::remove_if(es.begin(), es.end(),
                          [](const Entry& e) { return e.name == "lib/helper.wasm"; }),
           es.end());
  expect_error(encode(es), ErrorCode::kBundleInvalid,
               "module lib/helper.wasm is listed but missing from the bundle");
}

TEST_F(BundleTest, SignedHashThatDoesNotMatchIsRefused) {
  auto es = entries();
  Json m = manifest_of(es);
  m["modules"]["plugin.wasm"]["sha256"] = sha256_hex(bytes_of("something else"));
  resign(es, m.dump(), key_a_);
  expect_error(encode(es), ErrorCode::kBundleInvalid, "module plugin.wasm: sha256 mismatch");
}

TEST_F(BundleTest, ReservedNameListedAsModuleIsRefused) {
  auto es = entries();
  Json m = manifest_of(es);
  m["modules"]["manifest.sig"]["sha256"] = sha256_hex(bytes_of("x"));
  resign(es, m.dump(), key_a_);
  expect_error(encode(es), ErrorCode::kBundleInvalid, "reserved");
}

TEST_F(BundleTest, SignedButInvalidManifestIsManifestInvalid) {
  auto es = entries();
  Json m = manifest_of(es);
  m["permissions"]["network"] = true;  // unknown permission kind
  resign(es, m.dump(), key_a_);
  expect_error(encode(es), ErrorCode::kManifestInvalid, "network");
}

// --- Container ------------------------------------------------------------------------------------

TEST_F(BundleTest, TruncatedBundleIsRefusedAtEveryLength) {
  auto b = packed();
  for (size_t len = 0; len < b.size(); ++len) {
    std::vector<uint8_t> cut(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(len));
    auto r = verify(cut, {pub_a_});
    ASSERT_FALSE(r.has_value()) << "accepted a bundle cut to " << len << " bytes";
    EXPECT_EQ(r.error().code, ErrorCode::kBundleInvalid);
  }
  b.pop_back();
  expect_error(b, ErrorCode::kBundleInvalid, "truncated bundle");
}

TEST_F(BundleTest, TrailingBytesAreRefused) {
  auto b = packed();
  b.push_back(0);
  expect_error(b, ErrorCode::kBundleInvalid, "trailing bytes");
}

TEST_F(BundleTest, BadMagicIsRefused) {
  auto b = packed();
  b[0] = 'X';
  expect_error(b, ErrorCode::kBundleInvalid, "bad magic");
}

TEST_F(BundleTest, UnknownVersionIsRefused) {
  auto b = packed();
  b[8] = 2;
  expect_error(b, ErrorCode::kBundleInvalid, "unsupported bundle version 2");
}

TEST_F(BundleTest, PathTraversalEntryIsRefused) {
  for (const char* name : {"../x", "a/../x", "lib/..", ".."}) {
    auto es = entries();
    es.push_back(Entry{name, bytes_of("x"), kEntryFile});
    expect_error(encode(es), ErrorCode::kBundleInvalid, "path traversal");
  }
}

TEST_F(BundleTest, AbsoluteEntryNameIsRefused) {
  auto es = entries();
  es.push_back(Entry{"/etc/passwd", bytes_of("x"), kEntryFile});
  expect_error(encode(es), ErrorCode::kBundleInvalid, "absolute entry name");
}

TEST_F(BundleTest, NonNormalEntryNamesAreRefused) {
  for (const char* name : {"./x", "a//b", "a/", "a/./b"}) {
    auto es = entries();
    es.push_back(Entry{name, bytes_of("x"), kEntryFile});
    expect_error(encode(es), ErrorCode::kBundleInvalid, "non-normal entry name");
  }
  for (std::string name : {std::string("a\\..\\x"), std::string("a\0b", 3), std::string("a b"),
                           std::string("caf\xc3\xa9")}) {
    auto es = entries();
    es.push_back(Entry{name, bytes_of("x"), kEntryFile});
    expect_error(encode(es), ErrorCode::kBundleInvalid, "character outside");
  }
  // The name is shown escaped, byte for byte: ESC as \x1b, never as its decimal value (before
  // the one escaper, "\x27": an apostrophe), and the quote character too.
  for (std::string name : {std::string("a\x1b[2Jb"), std::string("it's")}) {
    auto es = entries();
    es.push_back(Entry{name, bytes_of("x"), kEntryFile});
    expect_error(encode(es), ErrorCode::kBundleInvalid,
                 name[1] == '\x1b' ? "entry name 'a\\x1b[2Jb' has" : "entry name 'it\\x27s' has");
  }
  auto es = entries();
  es.push_back(Entry{"", bytes_of("x"), kEntryFile});
  expect_error(encode(es), ErrorCode::kBundleInvalid, "empty entry name");
  es = entries();
  es.push_back(Entry{std::string(256, 'a'), bytes_of("x"), kEntryFile});
  expect_error(encode(es), ErrorCode::kBundleInvalid, "longer than 255");
}

TEST_F(BundleTest, LinkOrDirectoryEntryIsRefused) {
  for (uint8_t type : {0, 2, 5, 255}) {
    auto es = entries();
    find(es, "plugin.wasm")->type = type;
    expect_error(encode(es), ErrorCode::kBundleInvalid, "only regular files are allowed");
  }
}

TEST_F(BundleTest, DuplicateEntryIsRefused) {
  auto es = entries();
  es.push_back(*find(es, "plugin.wasm"));
  expect_error(encode(es), ErrorCode::kBundleInvalid, "duplicate entry 'plugin.wasm'");
}

TEST_F(BundleTest, TooManyEntriesAreRefused) {
  auto es = entries();
  while (es.size() <= kMaxEntries) {
    // Built with append: GCC 12 warns falsely (-Wrestrict) on "m" + std::to_string(...).
    std::string name = std::to_string(es.size());
    name.append(".wasm");
    es.push_back(Entry{name, bytes_of("x"), kEntryFile});
  }
  expect_error(encode(es), ErrorCode::kBundleInvalid, "too many entries");
}

// An entry header declaring `size` bytes with no data behind it: the size limit must refuse it
// before the (missing) data is looked at.
std::vector<uint8_t> with_declared_size(std::vector<uint8_t> prefix_entries, const std::string& name,
                                        uint64_t size) {
  auto& out = prefix_entries;
  out[12] = static_cast<uint8_t>(out[12] + 1);  // one more entry (count < 255 here)
  out.push_back(kEntryFile);
  out.push_back(static_cast<uint8_t>(name.size()));
  out.push_back(0);
  out.insert(out.end(), name.begin(), name.end());
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(size >> (8 * i)));
  return out;
}

TEST_F(BundleTest, OversizedEntriesAreRefused) {
  auto base = packed();
  expect_error(with_declared_size(base, "big.wasm", kMaxModuleBytes + 1), ErrorCode::kBundleInvalid,
               "entry 'big.wasm' is too large");
  expect_error(with_declared_size(base, "huge.wasm", ~uint64_t{0}), ErrorCode::kBundleInvalid,
               "is too large");
  // Just at the limit is only truncated (the limit is the boundary, not smaller).
  expect_error(with_declared_size(base, "big.wasm", kMaxModuleBytes), ErrorCode::kBundleInvalid,
               "truncated bundle");
  auto es = entries();
  es.erase(std::remove_if(es.begin(), es.end(), [](const Entry& e) { return e.name == kManifestEntry; }),
           es.end());
  expect_error(with_declared_size(encode(es), std::string(kManifestEntry), kMaxManifestBytes + 1),
               ErrorCode::kBundleInvalid, "entry 'manifest.json' is too large");
}

TEST_F(BundleTest, OversizedBundleFileIsRefusedUnread) {
  std::string path = (dir_ / "huge.wcb").string();
  write_text(path, "");
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(kMaxBundleBytes + 1)), 0);  // sparse
  auto r = verify_file(path, {pub_a_});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBundleInvalid);
  EXPECT_NE(r.error().message.find("larger than"), std::string::npos);
  std::vector<uint8_t> big(kMaxBundleBytes + 1);
  expect_error(big, ErrorCode::kBundleInvalid, "bundle larger than 256 MiB");
}

// --- Pack input ---------------------------------------------------------------------------------

TEST_F(BundleTest, PackRefusesModuleNamesThatCannotBeEntries) {
  write_text(dir_ / "p/bad.json",
             R"({"name":"demo","version":"1.0.0","module":"plugin.wasm","modules":{"a b.wasm":{"sha256":")" +
                 std::string(64, '0') + R"("}}})");
  auto r = pack((dir_ / "p/bad.json").string(), key_a_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBundleInvalid);
  EXPECT_NE(r.error().message.find("character outside"), std::string::npos);
}

TEST_F(BundleTest, PackRefusesIntegersJcsCannotCarry) {
  write_text(dir_ / "p/big.json",
             R"({"name":"demo","version":"1.0.0","module":"plugin.wasm","limits":{"fuel":9007199254740993}})");
  auto r = pack((dir_ / "p/big.json").string(), key_a_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kManifestInvalid);
  EXPECT_NE(r.error().message.find("2^53"), std::string::npos);
}

TEST_F(BundleTest, PackMissingModuleIsNotFound) {
  write_text(dir_ / "p/missing.json", R"({"name":"demo","version":"1.0.0","module":"nope.wasm"})");
  auto r = pack((dir_ / "p/missing.json").string(), key_a_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST_F(BundleTest, PackRefusesReservedModuleNames) {
  write_text(dir_ / "p/manifest.sig", "x");
  write_text(dir_ / "p/reserved.json",
             R"({"name":"demo","version":"1.0.0","module":"manifest.sig"})");
  auto r = pack((dir_ / "p/reserved.json").string(), key_a_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBundleInvalid);
  EXPECT_NE(r.error().message.find("reserved"), std::string::npos);
}

TEST_F(BundleTest, PackRefusesOversizedModuleUnread) {
  std::string path = (dir_ / "p/plugin.wasm").string();
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(kMaxModuleBytes + 1)), 0);  // sparse
  auto r = pack((dir_ / "p/manifest.json").string(), key_a_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBundleInvalid);
  EXPECT_NE(r.error().message.find("larger than"), std::string::npos);
}

// --- Manifest "modules" field ----------------------------------------------------------------------

TEST(ManifestModules, ParsedAndChecked) {
  const std::string h(64, 'a');
  auto ok = policy::parse_manifest(
      R"({"name":"x","version":"1.0.0","module":"m.wasm","modules":{"m.wasm":{"sha256":")" + h + R"("}}})",
      "m.json");
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  ASSERT_EQ(ok->module_sha256.size(), 1u);
  EXPECT_EQ(ok->module_sha256[0].first, "m.wasm");
  EXPECT_EQ(ok->module_sha256[0].second, h);
  struct Bad {
    std::string modules;
    const char* needle;
  };
  const Bad bad[] = {
      {R"({"m.wasm":{"sha256":")" + std::string(64, 'A') + R"("}})", "64 lowercase hex"},
      {R"({"m.wasm":{"sha256":")" + std::string(63, 'a') + R"("}})", "64 lowercase hex"},
      {R"({"m.wasm":{"sha256":")" + h + R"(","size":1}})", "size"},
      {R"({"m.wasm":{}})", "missing required key"},
      {R"({"/abs.wasm":{"sha256":")" + h + R"("}})", "relative"},
      {R"({"../up.wasm":{"sha256":")" + h + R"("}})", ".."},
      {R"(["m.wasm"])", "must be an object"},
  };
  for (const auto& b : bad) {
    auto r = policy::parse_manifest(
        R"({"name":"x","version":"1.0.0","module":"m.wasm","modules":)" + b.modules + "}", "m.json");
    ASSERT_FALSE(r.has_value()) << b.modules;
    EXPECT_EQ(r.error().code, ErrorCode::kManifestInvalid);
    EXPECT_NE(r.error().message.find(b.needle), std::string::npos) << r.error().message;
  }
}

TEST_F(BundleTest, FifoIsRefusedWithoutBlocking) {
  std::string path = (dir_ / "fifo.pub").string();
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto r = load_public_key(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos);
}

// --- Keys -------------------------------------------------------------------------------------------

TEST_F(BundleTest, KeyFilesHaveDocumentedFormAndModes) {
  std::string pub = read_text(dir_ / "keys/a.pub");
  EXPECT_EQ(pub, public_key_text(pub_a_));
  EXPECT_EQ(pub.rfind("wasmcap-ed25519-public-v1:", 0), 0u);
  EXPECT_EQ(pub.size(), 26u + 64u + 1u);
  std::string sec = read_text(dir_ / "keys/a.key");
  EXPECT_EQ(sec.rfind("wasmcap-ed25519-secret-v1:", 0), 0u);
  EXPECT_EQ(sec.size(), 26u + 128u + 1u);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "keys/a.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(key_a_.public_key().bytes, pub_a_.bytes);
}

TEST_F(BundleTest, KeygenNeverOverwrites) {
  auto r = keygen((dir_ / "keys").string(), "a");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_NE(r.error().message.find("refusing to overwrite"), std::string::npos);
}

TEST_F(BundleTest, KeygenRefusesNamesThatAreNotPlainFileNames) {
  for (const char* name : {"", "../x", "a/b", "/abs", "a b"}) {
    auto r = keygen((dir_ / "keys").string(), name);
    ASSERT_FALSE(r.has_value()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << name;
  }
  EXPECT_FALSE(fs::exists(dir_ / "x.key"));
}

TEST_F(BundleTest, OversizedKeyFileIsRefused) {
  std::string path = (dir_ / "big.pub").string();
  write_text(path, public_key_text(pub_a_) + std::string(5000, '\n'));
  auto r = load_public_key(path);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBundleInvalid);
  EXPECT_NE(r.error().message.find("larger than 4096"), std::string::npos);
}

TEST_F(BundleTest, MalformedKeysAreRefused) {
  std::string pub = public_key_text(pub_a_);
  for (std::string text : {std::string(""), pub.substr(0, pub.size() - 2), pub + "x",
                           "wasmcap-ed25519-secret-v1:" + pub.substr(26), pub.substr(0, 30) + "G" + pub.substr(31)}) {
    auto r = parse_public_key(text);
    EXPECT_FALSE(r.has_value()) << text;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kBundleInvalid);
    }
  }
  EXPECT_TRUE(parse_public_key(pub).has_value());
  EXPECT_TRUE(parse_public_key(pub.substr(0, pub.size() - 1)).has_value());
}

TEST_F(BundleTest, CorruptSecretKeyIsRefused) {
  std::string sec = read_text(dir_ / "keys/a.key");
  ASSERT_TRUE(parse_secret_key(sec).has_value());
  std::string bad = sec;
  bad[26 + 70] = bad[26 + 70] == '0' ? '1' : '0';  // in the public half
  auto r = parse_secret_key(bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kBundleInvalid);
  EXPECT_NE(r.error().message.find("corrupt"), std::string::npos);
}

// --- CLI ----------------------------------------------------------------------------------------------

TEST_F(BundleTest, CliKeygenPackVerify) {
  std::string keys = (dir_ / "clikeys").string();
  auto g = run_cli({"bundle", "keygen", "--out", keys, "--name", "op"});
  ASSERT_EQ(g.exit_code, 0) << testing::describe(g);
  std::string out = (dir_ / "demo.wcb").string();
  auto p = run_cli({"bundle", "pack", "--manifest", (dir_ / "p/manifest.json").string(), "--key",
                    keys + "/op.key", "--out", out});
  ASSERT_EQ(p.exit_code, 0) << testing::describe(p);
  auto v = run_cli({"bundle", "verify", out, "--trust", (dir_ / "keys/a.pub").string(), "--trust",
                    keys + "/op.pub"});
  EXPECT_EQ(v.exit_code, 0) << testing::describe(v);
  EXPECT_NE(v.out.find("ok: demo 1.0.0"), std::string::npos) << v.out;
  auto u = run_cli({"bundle", "verify", out, "--trust", (dir_ / "keys/a.pub").string()});
  EXPECT_EQ(u.exit_code, 77) << testing::describe(u);
  EXPECT_NE(u.err.find("bundle_untrusted"), std::string::npos);
  auto n = run_cli({"bundle", "verify", out});
  EXPECT_EQ(n.exit_code, 77) << testing::describe(n);
  std::string data = read_text(out);
  data.back() ^= 1;
  write_text(out, data);
  auto t = run_cli({"bundle", "verify", out, "--trust", keys + "/op.pub"});
  EXPECT_EQ(t.exit_code, 65) << testing::describe(t);
  EXPECT_NE(t.err.find("bundle_invalid"), std::string::npos);
}

}  // namespace
}  // namespace wasmcap::bundle
