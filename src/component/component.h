// The component binary format: a decoder and validator (layer 1 of running WASI 0.2 components,
// docs/components.md).
//
// A WebAssembly component (the component model's binary format, design/mvp/Binary.md of
// github.com/WebAssembly/component-model, preamble version 0x0d, layer 1) is decoded here into
// the definitions and index spaces a host needs before it instantiates anything. No C or C++
// library decodes components (wabt 1.0.32 reads core modules only; the reference decoders,
// wasmparser of wasm-tools and the ones jco embeds, are Rust), so this is wasmcap's own.
//
// Every byte is hostile. Every length, count and index is read through one bounded reader
// (reader.h): a count is refused when it exceeds its bound (below) or the bytes left (every
// element takes at least one byte), so no allocation is ever sized by an unchecked count; LEB128s
// are checked for overlong and overflowing encodings; nesting (components in components, component
// and instance types in types) is bounded by kMaxScopeDepth, value-type nesting by
// kMaxValTypeDepth. A malformed component gets an Error (module_malformed, or module_unsupported
// for a valid feature wasmcap does not take yet or a bound of wasmcap's) whose message names what
// is wrong and its byte offset; never a crash.
//
// Core modules inside a component are kept as byte spans of the input (their imports and exports
// are scanned, for linking checks); the engines (src/engine) load and validate them later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wasmcap/error.h"

namespace wasmcap::component {

// ---- Bounds (docs/components.md, "Bounds"). Each is checked where the count or depth is read.
inline constexpr size_t kMaxComponentBytes = size_t{512} << 20;  // whole input
inline constexpr uint32_t kMaxSections = 100000;       // sections, all scopes together
inline constexpr uint32_t kMaxScopeDepth = 32;         // nested components + component/instance types
inline constexpr uint32_t kMaxNameBytes = 65536;       // any name or label
inline constexpr uint32_t kMaxIndexSpace = 100000;     // entries in one index space of one scope
inline constexpr uint32_t kMaxTypes = 200000;          // type definitions, all scopes together
inline constexpr uint32_t kMaxItems = 10000;           // fields, cases, params, args, options
inline constexpr uint32_t kMaxFlags = 32;              // labels of a flags type (the spec's bound)
inline constexpr uint32_t kMaxValTypeDepth = 64;       // value types nested in value types
inline constexpr uint32_t kMaxTypeSize = 1000000;      // nodes of one value type, expanded
inline constexpr uint64_t kMaxElemSize = uint64_t{1} << 28;  // Canonical ABI size (the spec's)
// A value type's Canonical ABI size is at most 16 bytes per node (8 for the widest primitive, a
// string or a list, plus at most 8 of alignment padding), so the node bound implies the spec's
// size bound and no type reaches it.
static_assert(uint64_t{kMaxTypeSize} * 16 < kMaxElemSize);
inline constexpr uint32_t kMaxStartResults = 1000;

// Index spaces. Core sorts first, in core:sort order.
enum class Sort : uint8_t {
  kCoreFunc, kCoreTable, kCoreMemory, kCoreGlobal, kCoreTag, kCoreType, kCoreModule,
  kCoreInstance, kFunc, kValue, kType, kComponent, kInstance,
};
inline constexpr size_t kNumSorts = 13;
const char* sort_name(Sort s);

enum class Prim : uint8_t {
  kBool, kS8, kU8, kS16, kU16, kS32, kU32, kS64, kU64, kF32, kF64, kChar, kString,
};
const char* prim_name(Prim p);

inline constexpr uint32_t kNone = 0xffffffffu;

// A value type: a primitive, or a defined type (an id into Decoded::types).
struct ValType {
  bool is_prim = true;
  Prim prim = Prim::kBool;
  uint32_t type = kNone;
};

enum class TypeKind : uint8_t {
  kRecord, kVariant, kList, kTuple, kFlags, kEnum, kOption, kResult, kOwn, kBorrow,
  kPrimAlias,  // a defvaltype that is a primitive: (type u32)
  kFunc, kComponent, kInstance, kResource,
  kCoreFunc, kCoreModule,
};
bool is_value_kind(TypeKind k);

// A labelled (or, for tuples, unlabelled) value type: record fields, variant cases (has_type
// false for a case without payload), func params, tuple elements, flags/enum labels (no type).
struct Field {
  std::string name;
  bool has_type = false;
  ValType type;
};

// What an import or export is: its sort and the type id of its type (func, component, instance,
// core module, the type itself for a type export, kNone for values and core sorts without one).
struct ExternDesc {
  Sort sort = Sort::kFunc;
  uint32_t type = kNone;
  bool sub_resource = false;  // a `(type (sub resource))` import/export: type is a fresh resource
};

struct Decl {
  std::string name;
  ExternDesc desc;
};

// A core module's or core instance's import/export (kind is a core sort).
struct CoreExtern {
  std::string module;  // imports only
  std::string name;
  Sort sort = Sort::kCoreFunc;
};

// One type definition. All scopes share Decoded::types, so an outer alias or an alias of an
// instance's type export is the same id.
struct TypeDef {
  TypeKind kind = TypeKind::kRecord;
  Prim prim = Prim::kBool;        // kPrimAlias
  std::vector<Field> fields;      // record, variant, tuple, flags, enum; func params
  bool has_a = false, has_b = false;
  ValType a, b;                   // list/option element, result ok (a) and err (b), func result (a)
  uint32_t resource = kNone;      // own/borrow: the resource's type id
  std::vector<Decl> imports;      // component types
  std::vector<Decl> exports;      // component and instance types
  std::vector<CoreExtern> core_imports, core_exports;  // core module types
  std::vector<uint8_t> core_params, core_results;      // core func types (core valtype bytes)
  bool resource_local = false;    // a resource defined by a component (not imported)
  uint32_t resource_dtor = kNone; // its destructor's core func index, if any
  // Value types only, computed when defined (Canonical ABI, CanonicalABI.md):
  uint32_t depth = 0;             // nesting of value types
  uint32_t size_nodes = 0;        // nodes, expanded
  uint32_t flat_count = 0;        // flattened core values (saturating at 1000)
  uint64_t elem_size = 0;         // bytes in linear memory
  uint32_t align = 1;
  bool has_list_or_string = false;
  bool has_borrow = false;
};

// Where an entry of an index space comes from.
enum class Origin : uint8_t {
  kImport, kExport, kAliasExport, kAliasCoreExport, kAliasOuter, kDefinition, kInstantiate,
  kInlineExports, kCanonLift, kCanonLower, kCanonResourceNew, kCanonResourceDrop,
  kCanonResourceRep, kStart,
};

struct SpaceEntry {
  Origin origin = Origin::kDefinition;
  uint32_t def = kNone;   // index into the owning list (imports, aliases, canons, modules, ...)
  uint32_t type = kNone;  // type id (see ExternDesc), or for core instances their exports list
};

struct ByteSpan {
  size_t offset = 0;
  size_t size = 0;
};

struct CoreModule {
  ByteSpan bytes;  // the whole module, preamble included, within the input
  uint32_t type = kNone;  // a kCoreModule TypeDef: its scanned imports and exports
};

struct InstantiateArg {
  std::string name;
  Sort sort = Sort::kCoreInstance;
  uint32_t index = 0;
};

struct CoreInstance {
  bool instantiate = false;    // (instantiate module args) or inline exports
  uint32_t module = kNone;     // core module index
  std::vector<InstantiateArg> args;     // instantiate: sort is always kCoreInstance
  std::vector<InstantiateArg> exports;  // inline exports: name, core sort, index
};

struct Instance {
  bool instantiate = false;
  uint32_t component = kNone;  // component index
  std::vector<InstantiateArg> args;     // name, sort, index
  std::vector<InstantiateArg> exports;  // inline exports
};

enum class AliasKind : uint8_t { kExport, kCoreExport, kOuter };
struct Alias {
  AliasKind kind = AliasKind::kExport;
  Sort sort = Sort::kFunc;
  uint32_t instance = 0;  // export / core export
  std::string name;
  uint32_t outer_count = 0, outer_index = 0;  // outer
};

enum class StringEncoding : uint8_t { kUtf8, kUtf16, kLatin1Utf16 };
struct CanonOptions {
  StringEncoding encoding = StringEncoding::kUtf8;
  uint32_t memory = kNone, realloc = kNone, post_return = kNone;
};

enum class CanonKind : uint8_t { kLift, kLower, kResourceNew, kResourceDrop, kResourceRep };
struct Canon {
  CanonKind kind = CanonKind::kLift;
  uint32_t func = kNone;  // lift: core func index; lower: func index
  uint32_t type = kNone;  // lift: func type id; resource.*: resource type id
  CanonOptions options;
};

struct Import {
  std::string name;
  ExternDesc desc;
};

struct Export {
  std::string name;
  Sort sort = Sort::kFunc;
  uint32_t index = 0;
  ExternDesc desc;  // of the exported item (sort and type id)
};

struct Start {
  uint32_t func = 0;
  std::vector<uint32_t> args;
  uint32_t results = 0;
};

// One definition, in the order of the binary (the order instantiation follows).
enum class DefKind : uint8_t {
  kCoreModule, kCoreInstance, kCoreType, kComponent, kInstance, kAlias, kType, kCanon, kStart,
  kImport, kExport,
};
struct Definition {
  DefKind kind;
  uint32_t index;  // into the list of that kind (kCoreType, kType: the type id)
};

struct Component {
  size_t offset = 0;  // of the preamble within the input
  size_t size = 0;
  std::vector<CoreModule> modules;
  std::vector<Component> components;
  std::vector<CoreInstance> core_instances;
  std::vector<Instance> instances;
  std::vector<Alias> aliases;
  std::vector<Canon> canons;
  std::vector<Import> imports;
  std::vector<Export> exports;
  std::vector<Start> starts;
  std::vector<Definition> order;
  std::vector<SpaceEntry> spaces[kNumSorts];
  uint32_t type = kNone;  // a kComponent TypeDef: this component's imports and exports
  const std::vector<SpaceEntry>& space(Sort s) const { return spaces[static_cast<size_t>(s)]; }
};

struct Decoded {
  std::vector<TypeDef> types;
  Component root;
  uint32_t sections = 0;  // all scopes
};

// True when the 8 bytes at the start are a component's preamble (any version): layer 1.
bool is_component(const uint8_t* bytes, size_t size);

// Decodes and validates a component. The input must outlive nothing: spans are offsets.
Result<Decoded> decode(const uint8_t* bytes, size_t size);

// An exported function's path as ComponentInstance::call names it: "name" for a function the
// component exports, "iface#name" for a function of an instance it exports. `instance` is empty
// for the first form (in_instance false).
struct ExportPath {
  bool in_instance = false;
  std::string_view instance;
  std::string_view func;
};
ExportPath split_export_path(std::string_view name);

// The function type (the id of a kFunc TypeDef in d.types) of the exported function `name`
// (ExportPath's forms), from the component's own type: no instantiation needed, so a caller can
// derive a function's JSON Schema (json_val.h) before anything runs. kNone when the component
// exports no such function.
uint32_t exported_func_type(const Decoded& d, std::string_view name);

// Every function the component exports, by the names exported_func_type takes ("name", and
// "iface#name" for the functions of an instance it exports), sorted; raw (untrusted) bytes.
std::vector<std::string> exported_function_names(const Decoded& d);

// A value type as WIT writes it, structurally ("list<u32>", "result<s32, string>",
// "record { x: s32, y: s32 }": the decoder does not keep a type's exported name). Text is cut
// at about `max_chars` (then "..."): a type of bounded depth can still expand exponentially
// (a tuple of two of the previous tuple, 30 deep, is 2^30 leaves).
std::string wit_type_text(const Decoded& d, ValType t, size_t max_chars = 512);
// A function type as WIT writes it: "(a: u32, b: u32) -> u32", each type through wit_type_text,
// the whole cut at about `max_chars`.
std::string wit_func_text(const Decoded& d, const TypeDef& func, size_t max_chars = 2048);

// A host-facing summary for `plan`/`run`: "imports: wasi:cli/environment@0.2.0 (instance), ...".
// Names go through quote_untrusted/display_untrusted.
std::string describe_imports(const Decoded& d, size_t max_listed = 32);

// Import/export name rules (names.cc), exposed for the tests.
bool valid_label(std::string_view s);
bool valid_extern_name(std::string_view s);
// The canonical form of a name for the strong-uniqueness rule (Explainer.md, "Name Uniqueness").
std::string strongly_unique_key(std::string_view s);

}  // namespace wasmcap::component
