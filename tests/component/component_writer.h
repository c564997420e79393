// A tiny writer of component binaries for the tests (Binary.md encodings), so that the decoder's
// tests need no external tool: sections, LEB128s, names, and one small valid component that
// exercises every section kind a WASI command uses (component_test.cc, fuzz seeds).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wasmcap::component::testing {

struct W {
  std::vector<uint8_t> b;

  W& byte(uint8_t v) {
    b.push_back(v);
    return *this;
  }
  // (Element by element: GCC 12's -O3 warns, wrongly, about inserts of possibly empty ranges.)
  W& bytes(std::initializer_list<uint8_t> v) {
    for (uint8_t x : v) b.push_back(x);
    return *this;
  }
  W& u32(uint32_t v) {
    do {
      uint8_t x = v & 0x7f;
      v >>= 7;
      b.push_back(v ? (x | 0x80) : x);
    } while (v);
    return *this;
  }
  // A type index where a value type may stand: signed LEB128 (s33), as the value type codes are
  // its negative values (0x7f = bool); 64 and above take two bytes.
  W& valtype_index(uint32_t v) {
    int64_t x = v;
    while (true) {
      uint8_t byte = x & 0x7f;
      x >>= 7;
      if ((x == 0 && !(byte & 0x40)) || (x == -1 && (byte & 0x40))) {
        b.push_back(byte);
        return *this;
      }
      b.push_back(byte | 0x80);
    }
  }
  W& str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    for (char c : s) b.push_back(static_cast<uint8_t>(c));
    return *this;
  }
  W& name(std::string_view s) {  // an import/export name: 0x00 + string
    byte(0x00);
    return str(s);
  }
  W& raw(const W& w) { return raw(w.b); }
  W& raw(const std::vector<uint8_t>& v) {
    for (uint8_t x : v) b.push_back(x);
    return *this;
  }
  W& section(uint8_t id, const W& content) {
    byte(id);
    u32(static_cast<uint32_t>(content.b.size()));
    return raw(content);
  }
};

inline W preamble() { return W().bytes({0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00}); }

// A vector section of n entries given as one W.
inline W vec(uint32_t n, const W& entries) { return W().u32(n).raw(entries); }

// A core module: imports "host" "get" (func () -> i32), exports "run" (func () -> ()) and
// "memory".
inline std::vector<uint8_t> core_module() {
  W m;
  m.bytes({0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00});
  m.section(1, W().u32(2).bytes({0x60, 0x00, 0x01, 0x7f}).bytes({0x60, 0x00, 0x00}));  // types
  m.section(2, W().u32(1).str("host").str("get").bytes({0x00, 0x00}));                 // import
  m.section(3, W().u32(1).u32(1));                                                     // funcs
  m.section(5, W().u32(1).bytes({0x00, 0x01}));                                        // memory
  m.section(7, W().u32(2).str("run").bytes({0x00, 0x01}).str("memory").bytes({0x02, 0x00}));
  m.section(10, W().u32(1).u32(5).bytes({0x00, 0x10, 0x00, 0x1a, 0x0b}));  // call 0; drop; end
  return m.b;
}

// A small valid component, in the shape `jco new` gives a WASI command:
//   type 0: (instance (export "output-stream" (type (sub resource)))
//                     (type (own 0)) (type (func (result 1)))
//                     (export "get-stdout" (func (type 2))))
//   import "wasi:cli/stdout@0.2.0" (instance (type 0))            instance 0
//   alias export instance 0 "get-stdout" (func)                  func 0
//   canon lower func 0                                           core func 0
//   core instance 0: inline exports ("get" core func 0)
//   core module 0 (core_module())
//   core instance 1: instantiate module 0 with ("host" core instance 0)
//   alias core export core instance 1 "run" (core func)          core func 1
//   type 1: (func)
//   canon lift core func 1 (type 1)                              func 1
//   type 2: (instance (export "run" (func (type 0))))  [with its own func type 0]
//   instance 1: inline exports ("run" func 1)
//   export "wasi:cli/run@0.2.0" (instance 1)
inline std::vector<uint8_t> small_component() {
  W c = preamble();
  W it;  // the instance type
  it.byte(0x42).u32(4);
  it.byte(0x04).name("output-stream").bytes({0x03, 0x01});
  it.byte(0x01).bytes({0x69, 0x00});
  it.byte(0x01).bytes({0x40, 0x00, 0x00, 0x01});
  it.byte(0x04).name("get-stdout").bytes({0x01, 0x02});
  c.section(7, vec(1, it));
  c.section(10, vec(1, W().name("wasi:cli/stdout@0.2.0").bytes({0x05, 0x00})));
  c.section(6, vec(1, W().bytes({0x01, 0x00, 0x00}).str("get-stdout")));
  c.section(8, vec(1, W().bytes({0x01, 0x00, 0x00, 0x00})));
  c.section(2, vec(1, W().byte(0x01).u32(1).str("get").bytes({0x00, 0x00})));
  c.section(1, W().raw(core_module()));
  c.section(2, vec(1, W().bytes({0x00, 0x00}).u32(1).str("host").bytes({0x12, 0x00})));
  c.section(6, vec(1, W().bytes({0x00, 0x00, 0x01, 0x01}).str("run")));
  c.section(7, vec(1, W().bytes({0x40, 0x00, 0x01, 0x00})));
  c.section(8, vec(1, W().bytes({0x00, 0x00, 0x01, 0x00, 0x01})));
  W run_type;
  run_type.byte(0x42).u32(2).byte(0x01).bytes({0x40, 0x00, 0x01, 0x00});
  run_type.byte(0x04).name("run").bytes({0x01, 0x00});
  c.section(7, vec(1, run_type));
  c.section(5, vec(1, W().byte(0x01).u32(1).name("run").bytes({0x01, 0x01})));
  c.section(11, vec(1, W().name("wasi:cli/run@0.2.0").bytes({0x05, 0x01, 0x01, 0x05, 0x02})));
  return c.b;
}

}  // namespace wasmcap::component::testing
