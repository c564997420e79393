// libFuzzer target: the AOT translator (module bytes -> C) on arbitrary bytes. Beyond "no crash,
// no sanitizer report, no abort":
// - an error is module_malformed, module_unsupported or link_error, never anything else;
// - the C it writes is printable ASCII and newlines only;
// - the C does not depend on the module's names: the same module with every import, export and
//   custom-section and linking-symbol name rewritten (same lengths, still unique) translates to
//   identical C. So no
//   byte of any name can reach the compiler, whatever the name holds (docs/security-model.md,
//   "AOT translation").
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "engine/aot/translate.h"
#include "wabt/binary-reader-nop.h"
#include "wabt/binary-reader.h"
#include "wabt/feature.h"

using namespace wasmcap;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Where the names are in the input: (offset, length) of every string the binary reader decodes
// outside the name section (which the translator does not read): import module/field, export,
// custom-section, linking-section symbol, segment and comdat, dylink and target-feature names.
class NameFinder : public wabt::BinaryReaderNop {
 public:
  explicit NameFinder(const uint8_t* base) : base_(base) {}
  std::vector<std::pair<size_t, size_t>> names;

  bool OnError(const wabt::Error&) override { return true; }
  wabt::Result OnImport(wabt::Index, wabt::ExternalKind, std::string_view module,
                        std::string_view field) override {
    add(module);
    return add(field);
  }
  wabt::Result OnExport(wabt::Index, wabt::ExternalKind, wabt::Index,
                        std::string_view name) override {
    return add(name);
  }
  wabt::Result BeginCustomSection(wabt::Index, wabt::Offset, std::string_view name) override {
    return add(name);
  }
  wabt::Result OnDataSymbol(wabt::Index, uint32_t, std::string_view name, wabt::Index, uint32_t,
                            uint32_t) override {
    return add(name);
  }
  wabt::Result OnFunctionSymbol(wabt::Index, uint32_t, std::string_view name,
                                wabt::Index) override {
    return add(name);
  }
  wabt::Result OnGlobalSymbol(wabt::Index, uint32_t, std::string_view name,
                              wabt::Index) override {
    return add(name);
  }
  wabt::Result OnTagSymbol(wabt::Index, uint32_t, std::string_view name, wabt::Index) override {
    return add(name);
  }
  wabt::Result OnTableSymbol(wabt::Index, uint32_t, std::string_view name,
                             wabt::Index) override {
    return add(name);
  }
  wabt::Result OnSegmentInfo(wabt::Index, std::string_view name, wabt::Address,
                             uint32_t) override {
    return add(name);
  }
  wabt::Result OnComdatBegin(std::string_view name, uint32_t, wabt::Index) override {
    return add(name);
  }
  wabt::Result OnDylinkImport(std::string_view module, std::string_view name,
                              uint32_t) override {
    add(module);
    return add(name);
  }
  wabt::Result OnDylinkExport(std::string_view name, uint32_t) override { return add(name); }
  wabt::Result OnDylinkNeeded(std::string_view name) override { return add(name); }
  wabt::Result OnFeature(uint8_t, std::string_view name) override { return add(name); }

 private:
  wabt::Result add(std::string_view s) {
    if (!s.empty()) {
      names.emplace_back(static_cast<size_t>(reinterpret_cast<const uint8_t*>(s.data()) - base_),
                         s.size());
    }
    return wabt::Result::Ok;
  }
  const uint8_t* base_;
};

bool plain_text(const std::string& s) {
  for (unsigned char c : s) {
    if (c != '\n' && (c < 0x20 || c > 0x7e)) return false;
  }
  return true;
}

// The k-th name of length `len` among the rewritten ones: lowercase letters, unique per length
// (false when there are too many short names to keep them unique).
bool rewritten_name(size_t len, size_t k, uint8_t* out) {
  for (size_t i = 0; i < len; ++i) {
    out[len - 1 - i] = static_cast<uint8_t>('a' + k % 26);
    k /= 26;
  }
  return k == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = aot::translate(data, size);
  if (!t) {
    check(t.error().code == ErrorCode::kModuleMalformed ||
          t.error().code == ErrorCode::kModuleUnsupported ||
          t.error().code == ErrorCode::kLinkError);
    return 0;
  }
  check(plain_text(t->module_c) && plain_text(t->module_h) && plain_text(t->glue_c));

  wabt::Features features;
  features.EnableAll();
  wabt::ReadBinaryOptions options(features, nullptr, false, true, false);
  NameFinder finder(data);
  if (wabt::Failed(wabt::ReadBinary(data, size, &finder, options))) return 0;
  std::vector<uint8_t> renamed(data, data + size);
  std::map<size_t, size_t> per_length;
  for (const auto& [offset, len] : finder.names) {
    if (offset + len > size) return 0;
    if (!rewritten_name(len, per_length[len]++, renamed.data() + offset)) return 0;
  }
  auto r = aot::translate(renamed.data(), renamed.size());
  if (!r) return 0;  // e.g. a renamed "dylink.0" section is no longer decoded: another module
  check(r->module_c == t->module_c);
  check(r->module_h == t->module_h);
  check(r->glue_c == t->glue_c);

  // The chunked translator (every function a unit of its own): any module gives ASCII C or an
  // error, and the C does not depend on the names either.
  auto tc = aot::translate(data, size, true, 1);
  if (!tc) return 0;
  check(plain_text(tc->module_c) && plain_text(tc->module_h) && plain_text(tc->glue_c) &&
        plain_text(tc->common_h));
  for (const auto& u : tc->units) check(plain_text(u.c));
  auto rc = aot::translate(renamed.data(), renamed.size(), true, 1);
  if (!rc) return 0;
  check(rc->module_c == tc->module_c && rc->module_h == tc->module_h &&
        rc->glue_c == tc->glue_c && rc->common_h == tc->common_h);
  check(rc->units.size() == tc->units.size());
  for (size_t i = 0; i < tc->units.size() && i < rc->units.size(); ++i) {
    check(rc->units[i].c == tc->units[i].c);
  }
  return 0;
}
