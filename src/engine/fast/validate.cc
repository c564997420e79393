// Validation for the fast engine's load: wabt's binary reader driving wabt's SharedValidator,
// and nothing else.
//
// Why this file exists: wabt 1.0.32 has no validate-only binary reader. Its validating reader
// is the interp reader (wabt::interp::ReadBinaryInterp), which validates through SharedValidator
// as it reads but also compiles wabt's own interpreter code for every function (~10 bytes of
// code per module byte, 75-80% of the load of a big module, all of its peak memory), which the
// fast engine threw away. The IR reader (ReadBinaryIr) builds the IR of every body and its
// validator (ValidateModule) is laxer than the interp reader's (empty constant expressions, for
// one). So this delegate makes exactly the validator calls the interp reader makes, in the same
// order (including the label lookups it makes to compute its branch operands, GetLabel and
// GetCatchCount, which can fail too), keeps the interp reader's own two checks (its label count and
// "Unexpected instruction after end of function"), and builds nothing: the fast engine accepts
// exactly what the wabt oracle (tests/support/wabt_engine) accepts (plus exception handling, which
// wabt reads and validates with the exceptions feature on), with the same first error. In the same
// pass it notes what scan_features() used to find in a second decoding pass: v128 anywhere (the
// wide slot layout) and the first feature the engine does not run yet.
//
// Kept in step with wabt by tests, not by reading: tests/engine/validate_equiv runs every
// module of the core spec suite (assert_invalid and assert_malformed modules included) and
// seeded mutants of them through both readers and requires the same verdict and first error;
// the differential fuzz target does the same on every input.
#include "engine/fast/validate.h"
#include "engine/test_hooks.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/aot_bounds.h"
#include "engine/wabt_shared.h"
#include "wabt/binary-reader-nop.h"
#include "wabt/feature.h"
#include "wabt/opcode.h"
#include "wabt/shared-validator.h"

namespace wasmcap::fast {
namespace {

using wabt::Index;
using wabt::Location;
using wabt::Opcode;
using wabt::Result;
using wabt::Type;
using wabt::Var;

// wabt's CHECK_RESULT, under a name of our own.
#define CHECK(expr)                                   \
  do {                                                \
    if (wabt::Failed(expr)) return wabt::Result::Error; \
  } while (0)

bool is_v128(Type t) { return t == Type::V128; }

wabt::SegmentKind segment_kind(uint8_t flags) {
  if ((flags & wabt::SegDeclared) == wabt::SegDeclared) return wabt::SegmentKind::Declared;
  if ((flags & wabt::SegPassive) == wabt::SegPassive) return wabt::SegmentKind::Passive;
  return wabt::SegmentKind::Active;
}

uint32_t alignment(wabt::Address log2) { return log2 < 32 ? 1u << log2 : ~0u; }

// Per opcode: 0 nothing to note, 1 v128 (the 0xfd prefix), else the unsupported feature's
// index + 2. A table built once: Opcode::GetPrefix() looks the opcode's info up out of line.
const char* const kUnsupported[] = {"threads (atomics)", "tail calls", "function references"};
const std::vector<uint8_t>& opcode_notes() {
  static const std::vector<uint8_t> table = [] {
    std::vector<uint8_t> t(static_cast<size_t>(Opcode::Invalid) + 1, 0);
    for (size_t e = 0; e < static_cast<size_t>(Opcode::Invalid); ++e) {
      Opcode o(static_cast<Opcode::Enum>(e));
      if (o.GetPrefix() == 0xfd) t[e] = 1;
      else if (o.GetPrefix() == 0xfe) t[e] = 2;
      else if (o == Opcode::ReturnCall || o == Opcode::ReturnCallIndirect) t[e] = 3;
      else if (o == Opcode::CallRef) t[e] = 4;
    }
    return t;
  }();
  return table;
}

class ValidatingReader final : public wabt::BinaryReaderNop {
 public:
  ValidatingReader(wabt::Errors* errors, const wabt::Features& features, FeatureScan* scan)
      : errors_(errors), validator_(errors, wabt::ValidateOptions(features)), scan_(scan),
        notes_(opcode_notes()) {}

  bool OnError(const wabt::Error& error) override {
    errors_->push_back(error);
    return true;
  }

  Result EndModule() override {
    at_end_ = true;
    return validator_.EndModule();
  }
  Result EndCodeSection() override {
    after_code_ = true;
    return Result::Ok;
  }

  // Where the reader is, in reading order: the declarations before the first body (0), body
  // number `n` (1, n), what follows the code section (2), the end-of-module checks (3); then
  // `offset`. A failed pass stopped at its key, with its first error's offset (the parallel
  // merge compares passes by it).
  using Key = std::tuple<int, uint64_t, size_t>;
  Key key(size_t offset) const {
    if (at_end_) return {3, 0, offset};
    if (after_code_) return {2, 0, offset};
    if (bodies_ > 0) return {1, bodies_ - 1, offset};
    return {0, 0, offset};
  }
  Key unsupported_key() const { return unsupported_key_; }
  // Instructions read (function bodies and constant expressions).
  uint64_t instructions() const { return instructions_; }
  bool skip_ignored() const { return skip_ignored_; }

  // Parallel validation: validate bodies [first, last) of the code section only, skipping the
  // others through `options` (the options ReadBinary reads with: wabt's reader keeps a
  // reference to them and looks at skip_function_bodies after each body's local declarations).
  void set_range(wabt::ReadBinaryOptions* options, uint64_t first, uint64_t last) {
    options_ = options;
    range_first_ = first;
    range_last_ = last;
  }

  // ---- declarations ----
  Result OnFuncType(Index index, Index param_count, Type* param_types, Index result_count,
                    Type* result_types) override {
    CHECK(validator_.OnFuncType(loc(), param_count, param_types, result_count, result_types,
                                index));
    if (param_count > aot::kMaxFunctionParams || result_count > aot::kMaxFunctionResults) {
      beyond_aot_bounds();
    }
    for (Index i = 0; i < param_count; ++i) note_type(param_types[i]);
    for (Index i = 0; i < result_count; ++i) note_type(result_types[i]);
    return Result::Ok;
  }
  Result OnImportFunc(Index, std::string_view, std::string_view, Index,
                      Index sig_index) override {
    count_functions(1);
    return validator_.OnFunction(loc(), var(sig_index));
  }
  Result OnImportTable(Index, std::string_view, std::string_view, Index, Type elem_type,
                       const wabt::Limits* limits) override {
    return validator_.OnTable(loc(), elem_type, *limits);
  }
  Result OnImportMemory(Index, std::string_view, std::string_view, Index,
                        const wabt::Limits* limits) override {
    CHECK(validator_.OnMemory(loc(), *limits));
    note_memory(*limits);
    return Result::Ok;
  }
  Result OnImportGlobal(Index, std::string_view, std::string_view, Index, Type type,
                        bool mutable_) override {
    CHECK(validator_.OnGlobalImport(loc(), type, mutable_));
    note_type(type);
    return Result::Ok;
  }
  Result OnImportTag(Index, std::string_view, std::string_view, Index,
                     Index sig_index) override {
    scan_->exceptions = true;
    return validator_.OnTag(loc(), var(sig_index));
  }
  Result OnFunctionCount(Index count) override {
    count_functions(count);
    return Result::Ok;
  }
  Result OnFunction(Index, Index sig_index) override {
    return validator_.OnFunction(loc(), var(sig_index));
  }
  Result OnTable(Index, Type elem_type, const wabt::Limits* limits) override {
    return validator_.OnTable(loc(), elem_type, *limits);
  }
  Result OnMemory(Index, const wabt::Limits* limits) override {
    CHECK(validator_.OnMemory(loc(), *limits));
    note_memory(*limits);
    return Result::Ok;
  }
  Result BeginGlobal(Index, Type type, bool mutable_) override {
    CHECK(validator_.OnGlobal(loc(), type, mutable_));
    note_type(type);
    global_type_ = type;
    return Result::Ok;
  }
  Result BeginGlobalInitExpr(Index) override { return begin_init_expr(global_type_); }
  Result EndGlobalInitExpr(Index) override { return end_init_expr(); }
  Result BeginTagSection(wabt::Offset) override {
    scan_->exceptions = true;  // even empty: WebAssembly 2.0 has no tag section
    return Result::Ok;
  }
  Result OnTagType(Index, Index sig_index) override {
    scan_->exceptions = true;
    return validator_.OnTag(loc(), var(sig_index));
  }
  Result OnExport(Index, wabt::ExternalKind kind, Index item_index,
                  std::string_view name) override {
    return validator_.OnExport(loc(), kind, var(item_index), name);
  }
  Result OnStartFunction(Index func_index) override {
    return validator_.OnStart(loc(), var(func_index));
  }
  Result BeginElemSegment(Index, Index table_index, uint8_t flags) override {
    return validator_.OnElemSegment(loc(), var(table_index), segment_kind(flags));
  }
  Result BeginElemSegmentInitExpr(Index) override { return begin_init_expr(Type::I32); }
  Result EndElemSegmentInitExpr(Index) override { return end_init_expr(); }
  Result OnElemSegmentElemType(Index, Type elem_type) override {
    return validator_.OnElemSegmentElemType(loc(), elem_type);
  }
  Result OnElemSegmentElemExpr_RefNull(Index, Type type) override {
    return validator_.OnElemSegmentElemExpr_RefNull(loc(), type);
  }
  Result OnElemSegmentElemExpr_RefFunc(Index, Index func_index) override {
    return validator_.OnElemSegmentElemExpr_RefFunc(loc(), var(func_index));
  }
  Result OnDataCount(Index count) override {
    validator_.OnDataCount(count);
    return Result::Ok;
  }
  Result BeginDataSegment(Index, Index memory_index, uint8_t flags) override {
    return validator_.OnDataSegment(loc(), var(memory_index), segment_kind(flags));
  }
  Result BeginDataSegmentInitExpr(Index) override {
    // The interp reader types the offset by memory 0 (the reader has checked there is one).
    return begin_init_expr(first_memory_64_ ? Type::I64 : Type::I32);
  }
  Result EndDataSegmentInitExpr(Index) override { return end_init_expr(); }

  // ---- function bodies ----
  Result BeginFunctionBody(Index index, wabt::Offset size) override {
    uint64_t ordinal = bodies_++;
    // The AOT bounds as aot::check_bounds counts them (depth and locals per body).
    if (size > aot::kMaxFunctionBodySize) beyond_aot_bounds();
    aot_depth_ = 0;
    aot_body_locals_ = 0;
    if (options_ != nullptr) {
      // Parallel validation: a body outside this pass's range is skipped by the reader after its
      // local declarations (and left alone here); another pass validates it.
      skipping_ = ordinal < range_first_ || ordinal >= range_last_;
      options_->skip_function_bodies = skipping_;
      if (skipping_) return Result::Ok;
    }
    in_code_ = true;
    in_body_ = true;
    body_closed_ = false;
    labels_ = 0;
    CHECK(validator_.BeginFunctionBody(loc(), index));
    ++labels_;  // the function's own label
    return Result::Ok;
  }
  Result EndFunctionBody(Index) override {
    if (skipping_) {
      skipping_ = false;
      in_code_ = false;
      labels_ = 0;
      return Result::Ok;
    }
    CHECK(label(labels_ - 1));  // the interp reader's return drop/keep count
    CHECK(validator_.EndFunctionBody(loc()));
    --labels_;
    in_code_ = false;
    in_body_ = false;
    return Result::Ok;
  }
  Result OnLocalDecl(Index, Index count, Type type) override {
    if (skipping_) return Result::Ok;
    CHECK(validator_.OnLocalDecl(loc(), count, type));
    note_type(type);
    aot_body_locals_ += count;
    scan_->aot_locals += count;  // over all bodies: validate_module compares the sum
    if (aot_body_locals_ > aot::kMaxFunctionLocals) beyond_aot_bounds();
    return Result::Ok;
  }

  Result OnOpcode(Opcode op) override {
    ++instructions_;
    if (skipping_) {
      // The reader reads a body this pass asked it to skip: it did not see the request (a wabt
      // that copies its options). Stop; validate_module falls back to one sequential pass.
      skip_ignored_ = true;
      return Result::Error;
    }
    if (!in_code_ || labels_ == 0) {
      errors_->emplace_back(wabt::ErrorLevel::Error, Location(wabt::kInvalidOffset),
                            "Unexpected instruction after end of function");
      return Result::Error;
    }
    if (in_body_ && body_closed_) {
      // An instruction after the `end` that closed the function's own label: the body is
      // malformed (its final `end` must be its last byte). wabt 1.0.32's interp reader does not
      // pop the function's label on that `end`, so it accepts such a body (`end end`) and runs
      // it as ending at the first `end`, while wabt's IR reader, wasm-validate and the spec
      // refuse it. The one place this validator departs from the interp reader's verdict
      // (docs/fast-interp.md, "Validation"; tests/engine/validate/compare.cc checks that wabt's
      // IR reader refuses every module refused here).
      errors_->emplace_back(wabt::ErrorLevel::Error, loc(), kInstructionAfterFunctionEnd);
      return Result::Error;
    }
    size_t e = static_cast<size_t>(static_cast<Opcode::Enum>(op));
    uint8_t c = e < notes_.size() ? notes_[e] : 0;
    if (c == 1) {
      scan_->simd = true;
    } else if (c >= 2 && scan_->unsupported.empty()) {
      // Noted, not refused here: a module that is also invalid must be refused as invalid, as
      // when the scan ran after validation (the caller checks the verdict first).
      scan_->unsupported = kUnsupported[c - 2];
      unsupported_key_ = key(state->offset);
    }
    return Result::Ok;
  }

  Result OnUnaryExpr(Opcode op) override { return validator_.OnUnary(loc(), op); }
  Result OnBinaryExpr(Opcode op) override { return validator_.OnBinary(loc(), op); }
  Result OnCompareExpr(Opcode op) override { return validator_.OnCompare(loc(), op); }
  Result OnConvertExpr(Opcode op) override { return validator_.OnConvert(loc(), op); }
  Result OnTernaryExpr(Opcode op) override { return validator_.OnTernary(loc(), op); }

  Result OnBlockExpr(Type sig) override {
    enter_aot_block();
    note_type(sig);
    CHECK(validator_.OnBlock(loc(), sig));
    ++labels_;
    return Result::Ok;
  }
  Result OnLoopExpr(Type sig) override {
    enter_aot_block();
    note_type(sig);
    CHECK(validator_.OnLoop(loc(), sig));
    ++labels_;
    return Result::Ok;
  }
  Result OnIfExpr(Type sig) override {
    enter_aot_block();
    note_type(sig);
    CHECK(validator_.OnIf(loc(), sig));
    ++labels_;
    return Result::Ok;
  }
  Result OnTryExpr(Type sig) override {
    enter_aot_block();
    scan_->exceptions = true;
    note_type(sig);
    CHECK(catch_count(labels_ - 1));
    CHECK(validator_.OnTry(loc(), sig));
    ++labels_;
    return Result::Ok;
  }
  Result OnElseExpr() override { return validator_.OnElse(loc()); }
  Result OnEndExpr() override {
    // The end of the function (or constant expression) is the interp reader's business of
    // EndFunctionBody / EndInitExpr, not the validator's OnEnd.
    if (aot_depth_ > 0) --aot_depth_;  // (check_bounds' count: delegate does not pop it)
    if (labels_ == 1) {
      if (in_body_) body_closed_ = true;  // the function's own label: only the final end may follow
      return Result::Ok;
    }
    CHECK(label(0));
    CHECK(validator_.OnEnd(loc()));
    --labels_;
    return Result::Ok;
  }
  Result OnBrExpr(Index depth) override {
    CHECK(label_and_catch_count(depth));
    return validator_.OnBr(loc(), var(depth));
  }
  Result OnBrIfExpr(Index depth) override {
    CHECK(validator_.OnBrIf(loc(), var(depth)));
    return label_and_catch_count(depth);
  }
  Result OnBrTableExpr(Index num_targets, Index* target_depths, Index default_depth) override {
    if (num_targets > aot::kMaxBrTableTargets) beyond_aot_bounds();
    CHECK(validator_.BeginBrTable(loc()));
    for (Index i = 0; i < num_targets; ++i) {
      CHECK(validator_.OnBrTableTarget(loc(), var(target_depths[i])));
      CHECK(label_and_catch_count(target_depths[i]));
    }
    CHECK(validator_.OnBrTableTarget(loc(), var(default_depth)));
    CHECK(label_and_catch_count(default_depth));
    return validator_.EndBrTable(loc());
  }
  Result OnReturnExpr() override {
    CHECK(label_and_catch_count(labels_ - 1));
    return validator_.OnReturn(loc());
  }
  Result OnCallExpr(Index func_index) override {
    return validator_.OnCall(loc(), var(func_index));
  }
  Result OnCallIndirectExpr(Index sig_index, Index table_index) override {
    return validator_.OnCallIndirect(loc(), var(sig_index), var(table_index));
  }
  // The interp reader calls the validator twice for the tail calls (once before and once after
  // computing its operands); so does this one. Unreachable with the fast engine's features
  // (tail calls are off, the reader refuses the opcodes first).
  Result OnReturnCallExpr(Index func_index) override {
    CHECK(validator_.OnReturnCall(loc(), var(func_index)));
    CHECK(catch_count(labels_ - 1));
    return validator_.OnReturnCall(loc(), var(func_index));
  }
  Result OnReturnCallIndirectExpr(Index sig_index, Index table_index) override {
    CHECK(validator_.OnReturnCallIndirect(loc(), var(sig_index), var(table_index)));
    CHECK(catch_count(labels_ - 1));
    return validator_.OnReturnCallIndirect(loc(), var(sig_index), var(table_index));
  }
  Result OnDropExpr() override { return validator_.OnDrop(loc()); }
  Result OnNopExpr() override { return validator_.OnNop(loc()); }
  Result OnUnreachableExpr() override { return validator_.OnUnreachable(loc()); }
  Result OnSelectExpr(Index n, Type* types) override {
    for (Index i = 0; i < n; ++i) note_type(types[i]);
    return validator_.OnSelect(loc(), n, types);
  }
  Result OnI32ConstExpr(uint32_t) override { return validator_.OnConst(loc(), Type::I32); }
  Result OnI64ConstExpr(uint64_t) override { return validator_.OnConst(loc(), Type::I64); }
  Result OnF32ConstExpr(uint32_t) override { return validator_.OnConst(loc(), Type::F32); }
  Result OnF64ConstExpr(uint64_t) override { return validator_.OnConst(loc(), Type::F64); }
  Result OnV128ConstExpr(v128) override { return validator_.OnConst(loc(), Type::V128); }
  Result OnGlobalGetExpr(Index i) override { return validator_.OnGlobalGet(loc(), var(i)); }
  Result OnGlobalSetExpr(Index i) override { return validator_.OnGlobalSet(loc(), var(i)); }
  Result OnLocalGetExpr(Index i) override { return validator_.OnLocalGet(loc(), var(i)); }
  Result OnLocalSetExpr(Index i) override { return validator_.OnLocalSet(loc(), var(i)); }
  Result OnLocalTeeExpr(Index i) override { return validator_.OnLocalTee(loc(), var(i)); }

  Result OnLoadExpr(Opcode op, Index mem, wabt::Address align, wabt::Address) override {
    return validator_.OnLoad(loc(), op, var(mem), alignment(align));
  }
  Result OnStoreExpr(Opcode op, Index mem, wabt::Address align, wabt::Address) override {
    return validator_.OnStore(loc(), op, var(mem), alignment(align));
  }
  Result OnMemoryGrowExpr(Index mem) override { return validator_.OnMemoryGrow(loc(), var(mem)); }
  Result OnMemorySizeExpr(Index mem) override { return validator_.OnMemorySize(loc(), var(mem)); }
  Result OnMemoryCopyExpr(Index src, Index dst) override {
    return validator_.OnMemoryCopy(loc(), var(src), var(dst));
  }
  Result OnMemoryFillExpr(Index mem) override { return validator_.OnMemoryFill(loc(), var(mem)); }
  Result OnMemoryInitExpr(Index segment, Index mem) override {
    return validator_.OnMemoryInit(loc(), var(segment), var(mem));
  }
  Result OnDataDropExpr(Index segment) override {
    return validator_.OnDataDrop(loc(), var(segment));
  }
  Result OnTableGetExpr(Index t) override { return validator_.OnTableGet(loc(), var(t)); }
  Result OnTableSetExpr(Index t) override { return validator_.OnTableSet(loc(), var(t)); }
  Result OnTableGrowExpr(Index t) override { return validator_.OnTableGrow(loc(), var(t)); }
  Result OnTableSizeExpr(Index t) override { return validator_.OnTableSize(loc(), var(t)); }
  Result OnTableFillExpr(Index t) override { return validator_.OnTableFill(loc(), var(t)); }
  Result OnTableCopyExpr(Index dst, Index src) override {
    return validator_.OnTableCopy(loc(), var(dst), var(src));
  }
  Result OnTableInitExpr(Index segment, Index table) override {
    return validator_.OnTableInit(loc(), var(segment), var(table));
  }
  Result OnElemDropExpr(Index segment) override {
    return validator_.OnElemDrop(loc(), var(segment));
  }
  Result OnRefFuncExpr(Index f) override { return validator_.OnRefFunc(loc(), var(f)); }
  Result OnRefNullExpr(Type type) override { return validator_.OnRefNull(loc(), type); }
  Result OnRefIsNullExpr() override { return validator_.OnRefIsNull(loc()); }

  // Exceptions (legacy try/catch/delegate/rethrow/throw).
  // Each notes the feature in the scan (FeatureScan::exceptions), as do tags.
  Result OnThrowExpr(Index tag) override {
    scan_->exceptions = true;
    return validator_.OnThrow(loc(), var(tag));
  }
  Result OnRethrowExpr(Index depth) override {
    scan_->exceptions = true;
    CHECK(validator_.OnRethrow(loc(), var(depth)));
    return catch_count(depth);
  }
  Result OnCatchExpr(Index tag) override {
    scan_->exceptions = true;
    return validator_.OnCatch(loc(), var(tag), false);
  }
  Result OnCatchAllExpr() override {
    scan_->exceptions = true;
    return validator_.OnCatch(loc(), Var(), true);
  }
  Result OnDelegateExpr(Index depth) override {
    scan_->exceptions = true;
    CHECK(validator_.OnDelegate(loc(), var(depth)));
    --labels_;
    return Result::Ok;
  }

  // SIMD.
  Result OnSimdLaneOpExpr(Opcode op, uint64_t lane) override {
    return validator_.OnSimdLaneOp(loc(), op, lane);
  }
  Result OnSimdLoadLaneExpr(Opcode op, Index mem, wabt::Address align, wabt::Address,
                            uint64_t lane) override {
    return validator_.OnSimdLoadLane(loc(), op, var(mem), alignment(align), lane);
  }
  Result OnSimdStoreLaneExpr(Opcode op, Index mem, wabt::Address align, wabt::Address,
                             uint64_t lane) override {
    return validator_.OnSimdStoreLane(loc(), op, var(mem), alignment(align), lane);
  }
  Result OnSimdShuffleOpExpr(Opcode op, v128 lanes) override {
    return validator_.OnSimdShuffleOp(loc(), op, lanes);
  }
  Result OnLoadSplatExpr(Opcode op, Index mem, wabt::Address align, wabt::Address) override {
    return validator_.OnLoadSplat(loc(), op, var(mem), alignment(align));
  }
  Result OnLoadZeroExpr(Opcode op, Index mem, wabt::Address align, wabt::Address) override {
    return validator_.OnLoadZero(loc(), op, var(mem), alignment(align));
  }

  // Atomics (threads): off in the fast engine's features, the reader refuses them first; kept
  // so that the delegate stays the interp reader's equal under any feature set.
  Result OnAtomicLoadExpr(Opcode op, Index mem, wabt::Address align, wabt::Address) override {
    return validator_.OnAtomicLoad(loc(), op, var(mem), alignment(align));
  }
  Result OnAtomicStoreExpr(Opcode op, Index mem, wabt::Address align, wabt::Address) override {
    return validator_.OnAtomicStore(loc(), op, var(mem), alignment(align));
  }
  Result OnAtomicRmwExpr(Opcode op, Index mem, wabt::Address align, wabt::Address) override {
    return validator_.OnAtomicRmw(loc(), op, var(mem), alignment(align));
  }
  Result OnAtomicRmwCmpxchgExpr(Opcode op, Index mem, wabt::Address align,
                                wabt::Address) override {
    return validator_.OnAtomicRmwCmpxchg(loc(), op, var(mem), alignment(align));
  }
  Result OnAtomicWaitExpr(Opcode op, Index mem, wabt::Address align, wabt::Address) override {
    return validator_.OnAtomicWait(loc(), op, var(mem), alignment(align));
  }
  Result OnAtomicNotifyExpr(Opcode op, Index mem, wabt::Address align, wabt::Address) override {
    return validator_.OnAtomicNotify(loc(), op, var(mem), alignment(align));
  }
  Result OnAtomicFenceExpr(uint32_t consistency_model) override {
    return validator_.OnAtomicFence(loc(), consistency_model);
  }

 private:
  Location loc() const {
    Location l;
    l.filename = kFilename;
    l.offset = state->offset;
    return l;
  }
  Var var(Index i) const { return Var(i, loc()); }

  Result label(Index depth) {
    wabt::SharedValidator::Label* l;
    return validator_.GetLabel(depth, &l);
  }
  Result catch_count(Index depth) {
    Index n;
    return validator_.GetCatchCount(depth, &n);
  }
  // The interp reader's GetLabel(depth) then GetCatchCount(depth), as one call: wabt 1.0.32's
  // GetCatchCount fails exactly when GetLabel of the same depth does (it calls it first) and
  // otherwise only counts the catch labels up to `depth`, changing nothing; so right after a
  // GetLabel that succeeded it cannot fail and is not made. That count walks `depth` labels: on
  // deeply nested code (Go's resume-point switches) it was ~9% of validating esbuild.
  // (engine/validate_equiv keeps the verdicts and first errors equal to the interp reader's.)
  Result label_and_catch_count(Index depth) { return label(depth); }

  Result begin_init_expr(Type type) {
    in_body_ = false;
    labels_ = 0;
    in_code_ = true;  // as the interp reader's func_, never reset after a constant expression
    CHECK(validator_.BeginInitExpr(loc(), type));
    ++labels_;
    return Result::Ok;
  }
  Result end_init_expr() {
    CHECK(validator_.EndInitExpr());
    --labels_;
    return Result::Ok;
  }

  // The AOT translator's bounds (engine/aot_bounds.h), counted from the same events as
  // aot::check_bounds counts them (FeatureScan::beyond_aot_bounds).
  void beyond_aot_bounds() { scan_->beyond_aot_bounds = true; }
  void count_functions(uint64_t n) {
    aot_functions_ += n;
    if (aot_functions_ > aot::kMaxFunctions) beyond_aot_bounds();
  }
  void enter_aot_block() {
    if (++aot_depth_ > aot::kMaxNestingDepth) beyond_aot_bounds();
  }

  void note_type(Type t) {
    if (is_v128(t)) scan_->simd = true;
  }
  void note_memory(const wabt::Limits& limits) {
    if (memories_++ == 0) first_memory_64_ = limits.is_64;
  }

  static constexpr const char* kFilename = "module.wasm";
  wabt::Errors* errors_;
  wabt::SharedValidator validator_;
  FeatureScan* scan_;
  const std::vector<uint8_t>& notes_;
  // The interp reader's label stack, as a count: pushed at a body's or constant expression's
  // start and by block/loop/if/try, popped by end (except the last) and delegate.
  Index labels_ = 0;
  bool in_code_ = false;
  // In a function body (not a constant expression), and whether an `end` closed the function's
  // own label already (OnOpcode refuses any instruction after it).
  bool in_body_ = false;
  bool body_closed_ = false;
  Index memories_ = 0;
  bool first_memory_64_ = false;
  Type global_type_ = Type::Void;
  uint64_t bodies_ = 0;  // BeginFunctionBody calls so far
  bool after_code_ = false, at_end_ = false;
  Key unsupported_key_{4, 0, 0};
  wabt::ReadBinaryOptions* options_ = nullptr;
  uint64_t range_first_ = 0, range_last_ = 0;
  bool skipping_ = false, skip_ignored_ = false;
  uint64_t instructions_ = 0;
  uint64_t aot_depth_ = 0, aot_body_locals_ = 0, aot_functions_ = 0;
};
#undef CHECK

}  // namespace

wabt::Features load_features() {
  wabt::Features f = engine_wabt::wasm2_features();
  f.enable_exceptions();
  return f;
}

wabt::ReadBinaryOptions load_options() {
  return wabt::ReadBinaryOptions(load_features(), /*log_stream=*/nullptr,
                                 /*read_debug_names=*/false, /*stop_on_first_error=*/true,
                                 /*fail_on_custom_section_error=*/true);
}

// ---- Parallel validation -------------------------------------------------------------------
//
// Above a size threshold, T threads (T ≤ 4) each read the whole module with a validator of
// their own; each validates the bodies of one range of the code section (contiguous, about
// equal bytes) and has wabt's reader skip the others (ReadBinaryOptions::skip_function_bodies,
// set per body: ValidatingReader::set_range). Each thread validates the declarations and what
// follows the code section too, at the same byte offsets as the sequential pass (no copies).
// Function bodies are validated independently of one another (the validator resets its locals
// and operand stack per body; the only state bodies leave behind is the list of ref.func indices
// checked at the end of the module, in body order), so:
// - the module is valid iff every thread's pass is (each body is validated by one of them, the
//   rest by all);
// - the sequential pass's first error is that of the thread that stopped earliest in reading
//   order (ValidatingReader::Key: the declarations < body n < what follows the code section <
//   the end-of-module checks, then the first error's offset). Where two threads stop at the
//   same key they read the same bytes in the same state and report the same error. For the
//   end-of-module ref.func checks: each thread checks the declarations' and its own bodies'
//   ref.funcs, in order, so the lowest offset names the sequential pass's first undeclared one.
// The verdict and the error are therefore those of the sequential pass whatever the number of
// threads (tests/engine/validate_equiv --threads, on the whole spec suite and its mutants with
// the threshold at 0, and the fast_diff fuzz target check it). Skipping relies on wabt 1.0.32's
// reader keeping a reference to the options it was given: should a later wabt copy them, a pass
// notices (an instruction of a body it skips) and the module is validated in one sequential
// pass instead (FastValidate.CopiedOptionsFallBackToOnePass; and
// FastValidate.ParallelPassesSkipOtherRanges fails, so the lost gain does not go unnoticed).
//
// Bounds: at most min(max_threads, 4) threads (max_threads 0, the engine's: the hardware's),
// only when the code section has at least `threshold` bytes, and with two bodies per thread at
// least (fewer threads for fewer bodies). Memory:
// one validator per thread (its state is per body and per declaration), no copy of the module.

namespace {

bool read_leb32(const uint8_t* b, size_t size, size_t* at, uint32_t* out) {
  uint64_t v = 0;
  for (int i = 0; i < 5; ++i) {
    if (*at >= size) return false;
    uint8_t byte = b[(*at)++];
    v |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (v > 0xffffffffu) return false;
      *out = static_cast<uint32_t>(v);
      return true;
    }
  }
  return false;
}

// The code section: where its bodies start and end and how many there are; false when there is
// none, or two, or the section headers do not tile the module.
struct Code {
  size_t bodies_at = 0, end = 0;
  uint32_t count = 0;
};
bool find_code(const uint8_t* b, size_t size, Code* code) {
  size_t at = 8;
  bool found = false;
  while (at < size) {
    uint8_t id = b[at++];
    uint32_t len;
    if (!read_leb32(b, size, &at, &len) || len > size - at) return false;
    if (id == 10) {
      if (found) return false;
      found = true;
      code->end = at + len;
      size_t p = at;
      if (!read_leb32(b, code->end, &p, &code->count)) return false;
      code->bodies_at = p;
    }
    at += len;
  }
  return found;
}

}  // namespace

namespace validate_test_hooks {
bool copied_options = false;
}
namespace {
std::atomic<uint64_t> g_validations{0};  // engine_test_hooks::module_validations()
}

ParallelPlan parallel_plan(const uint8_t* bytes, size_t size, unsigned max_threads,
                           size_t threshold) {
  ParallelPlan plan;
  // 0: as many as the hardware runs at once; an explicit count (tests) may exceed that.
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  unsigned t = std::min(max_threads == 0 ? hw : max_threads, 4u);
  Code code;
  if (t < 2 || size < 8 || !find_code(bytes, size, &code)) return plan;
  size_t code_bytes = code.end - code.bodies_at;
  if (code_bytes < threshold) return plan;
  t = static_cast<unsigned>(std::min<size_t>(t, code.count / 2));  // two bodies per thread at least
  if (t < 2) return plan;
  // Contiguous, non-empty ranges of about equal bytes, found in one walk over the bodies' size
  // fields (no per-body memory).
  plan.first_body.push_back(0);
  size_t at = code.bodies_at;
  for (uint32_t i = 0; i < code.count; ++i) {
    uint32_t len;
    if (!read_leb32(bytes, code.end, &at, &len) || len > code.end - at) return ParallelPlan{};
    at += len;
    if (plan.first_body.size() < t && i + 1 < code.count &&
        (at - code.bodies_at) * t >= code_bytes * plan.first_body.size()) {
      plan.first_body.push_back(i + 1);
    }
  }
  // The bodies must tile the section exactly (else one pass says what is wrong).
  if (at != code.end) return ParallelPlan{};
  // As many passes as non-empty ranges (a last body of most of the bytes leaves fewer).
  if (plan.first_body.size() < 2) return ParallelPlan{};
  plan.threads = static_cast<unsigned>(plan.first_body.size());
  plan.first_body.push_back(code.count);
  return plan;
}

namespace {

struct Pass {
  wabt::Errors errors;
  FeatureScan scan;
  wabt::Result result = wabt::Result::Ok;
  ValidatingReader::Key key{0, 0, 0}, unsupported_key{4, 0, 0};
  uint64_t validated = 0;
  bool skip_ignored = false;
};

void run_pass(const uint8_t* bytes, size_t size, const wabt::ReadBinaryOptions& options,
              uint64_t first, uint64_t last, Pass* p) {
  wabt::ReadBinaryOptions o = options;  // this pass's own: the reader keeps a reference
  wabt::ReadBinaryOptions copy = options;
  ValidatingReader reader(&p->errors, o.features, &p->scan);
  // (The test hook plays a wabt whose reader copies its options: the requests go elsewhere.)
  reader.set_range(validate_test_hooks::copied_options ? &copy : &o, first, last);
  p->result = wabt::ReadBinary(bytes, size, &reader, o);
  p->key = reader.key(p->errors.empty() ? wabt::kInvalidOffset : p->errors.front().loc.offset);
  p->unsupported_key = reader.unsupported_key();
  p->validated = reader.instructions();
  p->skip_ignored = reader.skip_ignored();
}

}  // namespace

namespace {
wabt::Result validate_passes(const uint8_t* bytes, size_t size,
                             const wabt::ReadBinaryOptions& options, wabt::Errors* errors,
                             FeatureScan* scan, unsigned max_threads, size_t threshold,
                             std::vector<uint64_t>* instructions);
}

wabt::Result validate_module(const uint8_t* bytes, size_t size,
                             const wabt::ReadBinaryOptions& options, wabt::Errors* errors,
                             FeatureScan* scan, unsigned max_threads, size_t threshold,
                             std::vector<uint64_t>* instructions) {
  g_validations.fetch_add(1, std::memory_order_relaxed);
  wabt::Result r =
      validate_passes(bytes, size, options, errors, scan, max_threads, threshold, instructions);
  // The AOT bounds over the whole module: declared locals summed over the passes; bodies a
  // reader skipped were not looked at, so nothing is known of them.
  if (scan->aot_locals > aot::kMaxTotalLocals || options.skip_function_bodies) {
    scan->beyond_aot_bounds = true;
  }
  return r;
}

namespace {
wabt::Result validate_passes(const uint8_t* bytes, size_t size,
                             const wabt::ReadBinaryOptions& options, wabt::Errors* errors,
                             FeatureScan* scan, unsigned max_threads, size_t threshold,
                             std::vector<uint64_t>* instructions) {
  ParallelPlan plan = parallel_plan(bytes, size, max_threads, threshold);
  // The merge needs each pass to stop at its first error; a log stream is not shared.
  if (plan.threads < 2 || !options.stop_on_first_error || options.log_stream != nullptr ||
      options.skip_function_bodies) {
    ValidatingReader reader(errors, options.features, scan);
    wabt::Result r = wabt::ReadBinary(bytes, size, &reader, options);
    if (instructions != nullptr) instructions->assign(1, reader.instructions());
    return r;
  }
  std::vector<Pass> passes(plan.threads);
  auto work = [&](size_t t) {
    run_pass(bytes, size, options, plan.first_body[t], plan.first_body[t + 1], &passes[t]);
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < passes.size(); ++t) {
    try {
      threads.emplace_back(work, t);
    } catch (const std::system_error&) {
      work(t);  // no thread to be had: the same pass here
    }
  }
  work(0);
  for (std::thread& th : threads) th.join();
  for (const Pass& p : passes) {
    if (p.skip_ignored) {
      return validate_passes(bytes, size, options, errors, scan, 1, 0, instructions);
    }
  }
  // The verdict and error of the pass that stopped earliest in reading order.
  const Pass* first_failed = nullptr;
  const Pass* first_unsupported = nullptr;
  if (instructions != nullptr) instructions->clear();
  for (const Pass& p : passes) {
    if (wabt::Failed(p.result) && (first_failed == nullptr || p.key < first_failed->key)) {
      first_failed = &p;
    }
    scan->simd = scan->simd || p.scan.simd;
    scan->exceptions = scan->exceptions || p.scan.exceptions;
    // Each body's events reach one pass; the declarations' reach every pass alike.
    scan->beyond_aot_bounds = scan->beyond_aot_bounds || p.scan.beyond_aot_bounds;
    scan->aot_locals += p.scan.aot_locals;
    if (!p.scan.unsupported.empty() &&
        (first_unsupported == nullptr || p.unsupported_key < first_unsupported->unsupported_key)) {
      first_unsupported = &p;
    }
    if (instructions != nullptr) instructions->push_back(p.validated);
  }
  if (first_unsupported != nullptr) scan->unsupported = first_unsupported->scan.unsupported;
  if (first_failed == nullptr) return wabt::Result::Ok;
  errors->insert(errors->end(), first_failed->errors.begin(), first_failed->errors.end());
  return wabt::Result::Error;
}
}  // namespace

}  // namespace wasmcap::fast

uint64_t wasmcap::engine_test_hooks::module_validations() {
  return wasmcap::fast::g_validations.load(std::memory_order_relaxed);
}
