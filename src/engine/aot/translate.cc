// Module -> C for the AOT tier.
//
// Why in-process (libwabt's C writer) rather than the `wasm2c` tool: wasmcap already links
// libwabt, the instrumentation (interrupt checks) must be applied to wabt IR *before* the C
// writer runs, and no extra executable has to be found, trusted or version-matched at run time.
//
// This file drives the steps; translate_internal.h lists the files that do them.
//
// Built as C++17: wabt headers (NOTES-toolchain.md).
#include "engine/aot/translate.h"
#include "engine/aot/loop_version.h"
#include "engine/aot/translate_internal.h"
#include "engine/fast/validate.h"
#include "engine/wabt_shared.h"

#include <pthread.h>

#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wabt/apply-names.h"
#include "wabt/binary-reader-ir.h"
#include "wabt/binary-reader.h"
#include "wabt/cast.h"
#include "wabt/config.h"
#include "wabt/feature.h"
#include "wabt/generate-names.h"
#include "wabt/ir.h"
#include "wabt/validator.h"

namespace wasmcap::aot {

std::string_view wabt_version() { return WABT_VERSION_STRING; }

namespace {

using namespace detail;

Result<TranslatedModule> translate_checked(const uint8_t* bytes, size_t size,
                                           bool interruptible, uint32_t unit_functions,
                                           bool poll) {
  wabt::Errors errors;
  wabt::Features features = all_features();
  wabt::ReadBinaryOptions options(features, nullptr, /*read_debug_names=*/false,
                                  /*stop_on_first_error=*/true,
                                  /*fail_on_custom_section_error=*/false);
  {
    // Validation comes first, with the reader the fast engine loads with (validate.h: the
    // same feature set as all_features(), the interpreters' verdicts). The engines call
    // translate() only with bytes they validated, but wabt 1.0.32's IR reader aborts the host
    // on some invalid bytes (an assertion in its expression lists, found by fuzz_aot_translate)
    // and its C writer assumes a valid module: no unvalidated byte reaches either, whoever the
    // caller. Costs ~15 ns per instruction, small next to the C compile.
    wabt::Errors verrors;
    fast::FeatureScan scan;
    if (wabt::Failed(fast::validate_module(bytes, size, options, &verrors, &scan,
                                           /*max_threads=*/0))) {
      return make_error(ErrorCode::kModuleMalformed,
                        "invalid module" + (verrors.empty()
                                                ? std::string()
                                                : ": " + quote_name(verrors.front().message)));
    }
  }
  {
    // wasm2c 1.0.32 has no SIMD support and aborts the process (WABT_UNREACHABLE) on v128
    // values: a module must never reach the C writer with them. Reading it again with SIMD
    // disabled is the complete check (every v128 type and opcode is refused by the reader);
    // the IR read below tells an invalid module from one that uses SIMD.
    // Not quite complete: wabt 1.0.32's reader accepts some 0xfd-prefixed (SIMD) opcodes with
    // SIMD disabled (v128.load8x8_s and friends, found by the spec suite on aot: simd_align
    // aborted the host), so every opcode is looked at as well.
    wabt::Features no_simd = features;
    no_simd.disable_simd();
    wabt::ReadBinaryOptions strict(no_simd, nullptr, false, true, false);
    struct SimdProbe : QuietReader {
      bool simd = false;
      wabt::Result OnOpcode(wabt::Opcode op) override {
        if (op.GetPrefix() == 0xfd) simd = true;
        return wabt::Result::Ok;
      }
    } nop;
    if (wabt::Failed(wabt::ReadBinary(bytes, size, &nop, strict)) || nop.simd) {
      wabt::Module probe;
      wabt::Errors probe_errors;
      if (wabt::Succeeded(
              wabt::ReadBinaryIr("module.wasm", bytes, size, options, &probe_errors, &probe))) {
        return make_error(ErrorCode::kModuleUnsupported,
                          "the module uses SIMD (v128), which the AOT engine's translator (wabt " +
                              std::string(wabt_version()) + ") does not support; run with "
                              "--engine interp");
      }
    }
  }
  wabt::Module m;
  if (wabt::Failed(wabt::ReadBinaryIr("module.wasm", bytes, size, options, &errors, &m))) {
    return make_error(ErrorCode::kModuleMalformed,
                      "invalid module" + (errors.empty() ? std::string()
                                                         : ": " + quote_name(errors.front().message)));
  }
  bool extern_imports = false;  // memories or globals from another instance
  for (const wabt::Import* imp : m.imports) {
    if (imp->kind() != wabt::ExternalKind::Func) {
      // Memories and i32/i64/f32/f64 globals are shared between aot instances (the exporter's
      // storage, through a pointer in the instance); anything else is refused before it gets
      // here (extern_import_refusal: load() compiles no such module).
      if (auto why = extern_import_refusal(*imp); !why.empty()) {
        return make_error(ErrorCode::kLinkError, why);
      }
      extern_imports = true;
      continue;
    }
    auto* fi = wabt::cast<wabt::FuncImport>(imp);
    if (!scalar_sig(fi->func.decl.sig)) {
      return make_error(ErrorCode::kModuleUnsupported,
                        "import " + quote_name(imp->module_name + "." + imp->field_name) +
                            " has a signature the AOT engine cannot bind (only i32/i64/f32/f64 "
                            "values); run with --engine interp");
    }
  }
  if (uses_exceptions(bytes, size, options) || !m.tags.empty()) {
    return make_error(ErrorCode::kModuleUnsupported,
                      "the module uses exception handling, which the AOT engine does not "
                      "run; run with --engine interp");
  }
  // Validated with the module's own names (duplicate exports are an error), before they go.
  wabt::ValidateOptions vopts(features);
  if (wabt::Failed(wabt::ValidateModule(&m, &errors, vopts))) {
    return make_error(ErrorCode::kModuleMalformed,
                      "invalid module" + (errors.empty() ? std::string()
                                                         : ": " + quote_name(errors.front().message)));
  }
  replace_names(m);

  // Interrupt flag: a new mutable i32 global (appended, so no existing index moves) exported
  // under a reserved name only the glue uses (module exports are all e<N> now).
  auto gfield = std::make_unique<wabt::GlobalModuleField>();
  gfield->global.type = wabt::Type::I32;
  gfield->global.mutable_ = true;
  gfield->global.init_expr.push_back(std::make_unique<wabt::ConstExpr>(wabt::Const::I32(0)));
  const wabt::Index flag = static_cast<wabt::Index>(m.globals.size());
  m.AppendField(std::move(gfield));
  // With asynchronous preemption (kAsyncPreemption) guest code never reads the flag: the
  // runtime's signal handler does (docs/aot.md, "Deadlines"). Polling is for hosts without it.
  if (interruptible && poll) {
    const std::vector<bool> check_entry = entries_to_check(m);
    for (wabt::Index i = m.num_func_imports; i < m.funcs.size(); ++i) {
      wabt::Func* f = m.funcs[i];
      instrument_list(f->exprs, flag);
      if (check_entry[i]) prepend_check(f->exprs, flag);
    }
  }
  const size_t num_user_exports = m.exports.size();
  add_export(m, "wasmcap_interrupt", wabt::ExternalKind::Global, flag);
  // Host functions see memory 0 (the interpreter's rule: export "memory", else the first memory;
  // without multi-memory they are the same memory).
  const bool has_memory = !m.memories.empty();
  if (has_memory) add_export(m, "wasmcap_memory", wabt::ExternalKind::Memory, 0);

  errors.clear();
  if (wabt::Failed(wabt::ValidateModule(&m, &errors, vopts))) {
    return make_error(ErrorCode::kInternal,
                      "the AOT translator's instrumentation made the module invalid" +
                          (errors.empty() ? std::string()
                                          : ": " + quote_name(errors.front().message)));
  }
  if (wabt::Failed(wabt::GenerateNames(&m)) || wabt::Failed(wabt::ApplyNames(&m))) {
    return make_error(ErrorCode::kModuleUnsupported, "cannot name the module's items for C");
  }
  if (!all_names_plain(m)) return unexpected_output("a name not generated by wasmcap");
  // Loops versioned for their iterations that certainly stay in bounds (loop_version.h). Not
  // where the runtime polls for deadlines: a versioned copy has no check in it.
  std::vector<VersionedLoop> versioned;
  if (!(interruptible && poll)) versioned = plan_versioned_loops(m);
  TranslatedModule out;
  out.functions = static_cast<uint32_t>(m.funcs.size() - m.num_func_imports);
  // Not split when memories or globals are imported: the chunk writes see function imports
  // only (an imported memory or global would be written as one of the chunk's own).
  bool split = unit_functions > 0 && out.functions > unit_functions && !extern_imports;
  if (split) split = !uses_segment_ops(m);
  if (split) {
    WASMCAP_TRY(write_split(m, unit_functions, out));
  } else {
    std::pair<std::string, std::string> w;
    WASMCAP_TRY_ASSIGN(w, write_c(m));
    out.module_c = std::move(w.first);
    out.module_h = std::move(w.second);
  }

  Translation t;
  t.m = &m;
  t.num_user_exports = num_user_exports;
  t.has_memory = has_memory;
  t.extern_imports = extern_imports;
  t.interruptible = interruptible;
  t.poll = poll;
  t.versioned = std::move(versioned);
  // --- Patches of the C output (each must match, or we refuse) -------------------------------
  // Only a module that imports or exports a table can ever hold another instance's function in
  // one of its tables (a host function passes no references): the others keep wasm2c's
  // call_indirect as it was (translate_patch.cc, patch 1b).
  bool shared_tables = m.num_table_imports > 0;
  for (const wabt::Export* e : m.exports) {
    shared_tables = shared_tables || e->kind == wabt::ExternalKind::Table;
  }
  WASMCAP_TRY(patch_prelude(out.module_c, shared_tables));
  // Accessors of the reserved exports, from the header, in export order.
  WASMCAP_TRY(read_declarations(out.module_h, t));
  WASMCAP_TRY(patch_guest_code(t, out));
  // --- Glue ------------------------------------------------------------------------------------
  WASMCAP_TRY_ASSIGN(out.glue_c, write_glue(t, out));
  if (!out.units.empty()) WASMCAP_TRY(share_prelude(out));
  data_as_strings(out.module_c);
  data_loads_as_loops(out.module_c);
  // Defence in depth: what goes to the compiler is ASCII text wasmcap and wabt wrote.
  bool ascii = plain_text(out.module_c) && plain_text(out.module_h) && plain_text(out.glue_c) &&
               plain_text(out.common_h);
  for (const CodeUnit& u : out.units) ascii = ascii && plain_text(u.c);
  if (!ascii) return unexpected_output("bytes that are not printable ASCII");
  return out;
}

// The translator runs on a thread of its own with a stack sized for the deepest nesting the
// bounds allow: wabt's C writer recurses per nesting level, and the caller's stack (an
// embedder's thread) may be small. Its virtual size costs nothing until it is touched.
constexpr size_t kTranslatorStack = size_t{64} << 20;

struct Job {
  const uint8_t* bytes;
  size_t size;
  bool interruptible;
  uint32_t unit_functions;
  bool poll;
  std::optional<Result<TranslatedModule>> out;
};

void* run_job(void* p) {
  auto* job = static_cast<Job*>(p);
  try {
    job->out = translate_checked(job->bytes, job->size, job->interruptible, job->unit_functions,
                                 job->poll);
  } catch (const std::bad_alloc&) {
    job->out = make_error(ErrorCode::kModuleUnsupported,
                          "the AOT translator ran out of memory on this module; run with "
                          "--engine interp");
  } catch (const std::exception& e) {
    job->out = make_error(ErrorCode::kModuleUnsupported,
                          std::string("the AOT translator failed on this module (") + e.what() +
                              "); run with --engine interp");
  }
  return nullptr;
}

}  // namespace

Result<TranslatedModule> translate(const uint8_t* bytes, size_t size, bool interruptible,
                                   uint32_t unit_functions, bool poll) {
  // Bounds first, on the bytes: nothing of the module is built before they hold.
  WASMCAP_TRY(check_bounds(bytes, size));
  Job job{bytes, size, interruptible, unit_functions, poll, std::nullopt};
  pthread_attr_t attr;
  pthread_t thread;
  if (pthread_attr_init(&attr) != 0) return make_error(ErrorCode::kInternal, "pthread_attr_init");
  int rc = pthread_attr_setstacksize(&attr, kTranslatorStack);
  if (rc == 0) rc = pthread_create(&thread, &attr, run_job, &job);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    return make_error(ErrorCode::kModuleUnsupported,
                      "cannot start the AOT translator's thread (" +
                          std::string(std::strerror(rc)) + "); run with --engine interp");
  }
  pthread_join(thread, nullptr);
  return std::move(*job.out);
}

}  // namespace wasmcap::aot
