// libFuzzer target: the component decoder (src/component/component.h) on arbitrary bytes. Input
// that does not start with "\0asm" gets a component preamble first, so mutations reach the
// sections. Beyond "no crash, no sanitizer report, no abort", under -malloc_limit_mb (no
// allocation sized by an unchecked count):
// - an error is module_malformed or module_unsupported, its message "component: at byte N: ..."
//   with N within the input, printable ASCII only (names are quoted);
// - a decoded component's core module spans lie within the input and start with a core preamble,
//   every index space entry's type id names a type, and decoding again gives the same result.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "component/component.h"

using namespace wasmcap;
using namespace wasmcap::component;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool printable(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

size_t walk(const Decoded& d, const Component& c, size_t size) {
  size_t n = 1;
  for (const CoreModule& m : c.modules) {
    check(m.bytes.offset <= size && m.bytes.size <= size - m.bytes.offset && m.bytes.size >= 8);
    check(m.type < d.types.size() && d.types[m.type].kind == TypeKind::kCoreModule);
  }
  for (const auto& space : c.spaces) {
    for (const SpaceEntry& e : space) check(e.type == kNone || e.type < d.types.size());
  }
  for (const Import& i : c.imports) check(!i.name.empty());
  for (const Component& k : c.components) n += walk(d, k, size);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> input;
  static const uint8_t kPreamble[8] = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
  if (size < 4 || std::memcmp(data, "\0asm", 4) != 0) input.assign(kPreamble, kPreamble + 8);
  input.insert(input.end(), data, data + size);
  auto d = decode(input.data(), input.size());
  if (!d) {
    check(d.error().code == ErrorCode::kModuleMalformed || d.error().code == ErrorCode::kModuleUnsupported);
    const std::string& m = d.error().message;
    check(m.rfind("component: at byte ", 0) == 0 || m.rfind("component: ", 0) == 0);
    if (m.rfind("component: at byte ", 0) == 0) check(std::stoull(m.substr(19)) <= input.size());
    check(printable(m));
    return 0;
  }
  size_t components = walk(*d, d->root, input.size());
  check(printable(describe_imports(*d)));
  auto again = decode(input.data(), input.size());
  check(again.has_value() && again->types.size() == d->types.size() &&
        again->sections == d->sections && walk(*again, again->root, input.size()) == components);
  return 0;
}
