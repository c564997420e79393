// Component values as WAVE text (the WebAssembly Value Encoding of the wasm-tools project, the
// notation `wasmtime run --invoke 'f(1, "a")'` takes): `wasmcap call COMPONENT 'f(1, "a")'`
// parses its arguments with wave_to_args and prints the result with val_to_wave
// (docs/components.md, "WAVE"). Written here rather than taken from a library: the reference
// implementation is Rust (wasm-wave), and this one is typed by our decoder's types and Vals.
//
// Parsing walks the WIT type, as json_val.h does: the text is hostile, recursion follows the
// type (bounded by the decoder's kMaxValTypeDepth), every value parsed is counted against
// `max_nodes` and every string byte against `max_bytes` (JsonValOptions' bounds). Errors are
// invalid_argument naming the byte offset in the text and what was expected there.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "component/component.h"
#include "component/json_val.h"
#include "component/val.h"
#include "wasmcap/error.h"

namespace wasmcap::component {

// One value of type `t`, the whole text (surrounding spaces allowed).
Result<Val> wave_to_val(const Decoded& d, ValType t, std::string_view text, const JsonValOptions& o = {});
// `t`'s value as WAVE. Strings and chars keep printable text and escape the rest (controls, a
// lone quote or backslash) as \n \t \r \\ \" \' or \u{hex}, so guest bytes never reach a
// terminal raw; a value that does not have the type is an error.
Result<std::string> val_to_wave(const Decoded& d, ValType t, const Val& v);

// A call written as WAVE: `name(arg, ...)`, the name an export name as `ComponentInstance::call`
// takes it (`add`, `example:calc/ops@1.0.0#add`).
struct WaveCall {
  std::string function;
  std::string args;  // the text between the parentheses
};
// Splits `name(args)`; invalid_argument when the text is not of that form.
Result<WaveCall> split_wave_call(std::string_view text);
// A function's arguments from the text between a call's parentheses: as many values as it has
// parameters, comma separated (a trailing comma allowed). `func` is a kFunc TypeDef.
Result<std::vector<Val>> wave_to_args(const Decoded& d, const TypeDef& func, std::string_view args,
                                      const JsonValOptions& o = {});

}  // namespace wasmcap::component
