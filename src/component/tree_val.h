// Component values as typed trees (ComponentValue, wasmcap/runtime.h; the C API's wasmcap_val_t):
// what an embedder calling an export passes and gets back (docs/components.md, "Values as
// trees"). tree_to_args converts a call's arguments into component values (val.h) of the
// function's parameter types, refusing any value that is not exactly of its parameter's kind
// with an error naming its path ("$.b.x[2]: expected u32, got s64"); val_to_tree converts what a
// component returned back, names and all.
//
// An embedder's trees are trusted no more than JSON is, and a component's results are hostile:
// both directions walk the WIT type (recursion bounded by the decoder's kMaxValTypeDepth; a tree
// deeper than its type is the wrong kind at the type's leaf), and count every value and every
// string byte against JsonValOptions' max_nodes and max_bytes before taking the memory.
#pragma once

#include <vector>

#include "component/component.h"
#include "component/json_val.h"
#include "component/val.h"
#include "wasmcap/error.h"
#include "wasmcap/runtime.h"

namespace wasmcap::component {

// A function's arguments, one tree per parameter in order. `func` is a kFunc TypeDef.
Result<std::vector<Val>> tree_to_args(const Decoded& d, const TypeDef& func,
                                      const std::vector<ComponentValue>& args, const JsonValOptions& o = {});
// One value of type `t`.
Result<Val> tree_to_val(const Decoded& d, ValType t, const ComponentValue& v, const JsonValOptions& o = {});
// A value of type `t` as a tree. A value that does not have the type (a wrong kind, a case out of
// range, a string that is not UTF-8) is an error, never mangled.
Result<ComponentValue> val_to_tree(const Decoded& d, ValType t, const Val& v, const JsonValOptions& o = {});

// WIT's name of a kind ("u32", "record"), for messages.
const char* tree_kind_name(ComponentValue::Kind k);

}  // namespace wasmcap::component
