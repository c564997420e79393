// libFuzzer target: the Canonical ABI's lifting (src/component/canon.cc) of guest memory and flat
// core values, the host's decoder of what a running component hands it. The input chooses a list
// of value types (strings, lists of records, variants, results, flags, a 300-case enum, a tuple
// spilled to memory), a string encoding, the flat values and the guest memory's bytes. Beyond "no
// crash, no sanitizer report, no abort" under -malloc_limit_mb (nothing allocated before its size
// is checked against memory and the host's bound):
// - an error is a trap (trap_host or trap_memory_out_of_bounds) whose message names the rule;
// - every value lifted is well-formed for its type (check_val: kinds, ranges, UTF-8, cases);
// - the host bytes charged stay within max_lift_bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../component_writer.h"
#include "component/runtime.h"

using namespace wasmcap;
using namespace wasmcap::component;
using wasmcap::component::testing::W;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Guest memory over a buffer: the only part of an instance lifting uses.
class FakeInstance : public wasmcap::Instance {
 public:
  explicit FakeInstance(std::vector<uint8_t>* mem) : mem_(mem) {}
  GuestMemory memory() override { return GuestMemory(mem_->data(), mem_->size()); }
  uint64_t fuel_consumed() const override { return 0; }

 protected:
  const ModuleInfo& module_info() const override { return info_; }
  const ExecLimits& exec_limits() const override { return limits_; }
  Result<RunEnd> run_export(size_t, const uint64_t*, uint64_t*) override { return RunEnd{}; }

 private:
  std::vector<uint8_t>* mem_;
  ModuleInfo info_;
  ExecLimits limits_;
};


// The types, in a component's type section (Binary.md encodings).
std::vector<uint8_t> types_component() {
  W t;
  uint32_t n = 0;
  auto add = [&](const W& def) { t.raw(def); ++n; };
  add(W().bytes({0x70, 0x7b}));                                                    // 0 list<u16>
  add(W().bytes({0x6b, 0x74}));                                                    // 1 option<char>
  add(W().byte(0x72).u32(3).str("a").byte(0x73).str("b").byte(0).str("c").byte(1));  // 2 record
  add(W().bytes({0x70, 0x02}));                                                    // 3 list<2>
  add(W().byte(0x71).u32(4).str("x").bytes({1, 0x77, 0}).str("y").bytes({1, 0x76, 0})
          .str("z").bytes({1, 0x73, 0}).str("w").bytes({0, 0}));                   // 4 variant
  add(W().bytes({0x70, 0x04}));                                                    // 5 list<4>
  add(W().byte(0x6f).u32(2).bytes({0x7d, 0x78}));                                  // 6 tuple<u8, s64>
  add(W().bytes({0x6a, 1, 0x05, 1, 0x06}));                                        // 7 result<5, 6>
  W flags = W().byte(0x6e).u32(10);
  for (int i = 0; i < 10; ++i) flags.str(std::string(1, static_cast<char>('a' + i)));
  add(flags);                                                                      // 8 flags
  W en = W().byte(0x6d).u32(300);
  for (int i = 0; i < 300; ++i) en.str("e" + std::to_string(i));
  add(en);                                                                         // 9 enum (2-byte)
  add(W().bytes({0x70, 0x73}));                                                    // 10 list<string>
  W tup = W().byte(0x6f).u32(9);
  for (int i = 0; i < 9; ++i) tup.byte(0x73);
  add(tup);                                                                        // 11 9 strings
  W c = wasmcap::component::testing::preamble();
  c.section(7, W().u32(n).raw(t));
  return c.b;
}

struct Fixture {
  Shared sh;
  std::unique_ptr<InstanceState> st;
  Fixture() {
    std::vector<uint8_t> bytes = types_component();
    auto d = decode(bytes.data(), bytes.size());
    check(d.has_value());
    sh.decoded = std::make_shared<const wasmcap::component::Decoded>(std::move(*d));
    sh.options.max_lift_bytes = 1 << 20;
    st = std::make_unique<InstanceState>(100);
    st->shared = &sh;
  }
};

component::ValType vt(uint32_t id) { return component::ValType{false, Prim::kBool, id}; }
component::ValType prim(Prim p) { return component::ValType{true, p, kNone}; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fx;
  if (size < 2) return 0;
  const std::vector<std::vector<component::ValType>> sets = {
      {vt(3)}, {vt(7)}, {vt(10), vt(8), vt(9)}, {vt(11)}, {prim(Prim::kString), vt(5), vt(1)},
      {prim(Prim::kChar), prim(Prim::kF64), vt(4)}};
  const auto& types = sets[data[0] % sets.size()];
  CanonOptions opts;
  opts.encoding = static_cast<StringEncoding>(data[1] % 3);
  const bool small_pointers = (data[1] & 0x80) != 0;
  data += 2, size -= 2;

  std::vector<wasmcap::ValType> flat = flatten(*fx.sh.decoded, types, kMaxFlatParams);
  if (flat.size() > kMaxFlatParams) flat = {wasmcap::ValType::kI32};
  std::vector<Value> values;
  for (wasmcap::ValType t : flat) {
    uint64_t raw = 0;
    const size_t n = t == wasmcap::ValType::kI64 || t == wasmcap::ValType::kF64 ? 8 : 4;
    if (size >= n) {
      std::memcpy(&raw, data, n);
      data += n, size -= n;
    }
    Value v;
    if (t == wasmcap::ValType::kI64) v = Value::I64(raw);
    else if (t == wasmcap::ValType::kF64) { double f; std::memcpy(&f, &raw, 8); v = Value::F64(f); }
    else if (t == wasmcap::ValType::kF32) { float f; uint32_t b = static_cast<uint32_t>(raw); std::memcpy(&f, &b, 4); v = Value::F32(f); }
    else v = Value::I32(static_cast<uint32_t>(small_pointers ? raw % (size + 1) : raw));
    values.push_back(v);
  }
  std::vector<uint8_t> memory(data, data + size);
  CoreInst mem;
  mem.instance = std::make_unique<FakeInstance>(&memory);
  CallScope scope;
  Cx cx{fx.st.get(), &opts, &mem, nullptr, &scope};
  auto r = lift_values(cx, types, values.data(), values.size(), kMaxFlatParams);
  check(cx.host_bytes <= fx.sh.options.max_lift_bytes);
  if (!r) {
    check(r.error().code == ErrorCode::kTrapHost || r.error().code == ErrorCode::kTrapMemoryOutOfBounds);
    check(r.error().message.rfind("component: canonical ABI: ", 0) == 0);
    return 0;
  }
  check(r->size() == types.size());
  for (size_t i = 0; i < types.size(); ++i) check(check_val(*fx.sh.decoded, (*r)[i], types[i], "lifted").has_value());
  return 0;
}
