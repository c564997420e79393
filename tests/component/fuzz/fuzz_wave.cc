// libFuzzer target: component values from WAVE text (src/component/wave.h), what `wasmcap call
// COMPONENT 'f(...)'` parses. The first input byte picks one of the fixed WIT types
// (value_fixture.h) or a function's parameters; the rest is the text, parsed under small bounds.
// Beyond "no crash, no sanitizer report, no abort" under -malloc_limit_mb:
// - a refusal is invalid_argument naming a byte offset;
// - an accepted value is well-formed for its type (check_val);
// - it prints as WAVE, and that text parses to the same value (print and parse agree).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "component/runtime.h"
#include "component/wave.h"
#include "value_fixture.h"

using namespace wasmcap::component;
using wasmcap::component::fuzzing::Fixture;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool names_offset(const wasmcap::Error& e) {
  return e.code == wasmcap::ErrorCode::kInvalidArgument && e.message.find(" at byte ") != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture fx;
  if (size < 1) return 0;
  JsonValOptions o;
  o.max_nodes = 20000;
  o.max_bytes = 1 << 16;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t pick = data[0] % (fx.types.size() + 1);
  if (pick == fx.types.size()) {
    auto args = wave_to_args(fx.d, fx.func, text, o);
    if (!args) {
      check(names_offset(args.error()));
      return 0;
    }
    check(args->size() == fx.func.fields.size());
    std::string again;
    for (size_t i = 0; i < args->size(); ++i) {
      check(check_val(fx.d, (*args)[i], fx.func.fields[i].type, "arg").has_value());
      auto w = val_to_wave(fx.d, fx.func.fields[i].type, (*args)[i]);
      check(w.has_value());
      again += (i ? ", " : "") + *w;
    }
    auto back = wave_to_args(fx.d, fx.func, again, o);
    check(back.has_value() && *back == *args);
    return 0;
  }
  const ValType t = fx.types[pick];
  auto v = wave_to_val(fx.d, t, text, o);
  if (!v) {
    check(names_offset(v.error()));
    return 0;
  }
  check(check_val(fx.d, *v, t, "value").has_value());
  auto w = val_to_wave(fx.d, t, *v);
  check(w.has_value());
  // The printed form escapes what the input may have written raw: more string bytes, not more.
  JsonValOptions wide = o;
  wide.max_bytes = o.max_bytes * 2;
  auto again = wave_to_val(fx.d, t, *w, wide);
  check(again.has_value() && *again == *v);
  return 0;
}
