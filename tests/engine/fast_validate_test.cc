// The fast engine's validation (src/engine/fast/validate.cc): the parallel path's bounds, that
// its passes share the bodies out, and that its verdict and first error are the sequential
// pass's and wabt's interp reader's on modules built to make the passes disagree (errors in
// several ranges, a tie inside one body's local declarations, end-of-module ref.func checks,
// errors after the code section). The whole spec suite goes through both paths in
// engine/validate_equiv; these are the shapes that suite does not reach on purpose.
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "engine/aot/translate.h"
#include "engine/aot_bounds.h"
#include "engine/fast/validate.h"
#include "validate/compare.h"

namespace wasmcap::fast {
namespace {

using Bytes = std::vector<uint8_t>;

void leb(Bytes& o, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    o.push_back(static_cast<uint8_t>(b | (v ? 0x80 : 0)));
  } while (v);
}
void section(Bytes& m, uint8_t id, const Bytes& c) {
  m.push_back(id);
  leb(m, c.size());
  m.insert(m.end(), c.begin(), c.end());
}

// The code section of `bodies` (each: local declarations and code, without the size prefix).
void code_section(Bytes& m, const std::vector<Bytes>& bodies) {
  Bytes code;
  leb(code, bodies.size());
  for (const Bytes& b : bodies) {
    leb(code, b.size());
    code.insert(code.end(), b.begin(), b.end());
  }
  section(m, 10, code);
}

// A module of functions (param i32 i32), one memory, the given bodies (each: locals declarations
// and code, without the size prefix) and one active data segment at `data_offset` (an
// i32.const, or an i64.const when `bad_data`: a type error after the code section).
Bytes module(const std::vector<Bytes>& bodies, bool bad_data = false) {
  Bytes m = {0, 'a', 's', 'm', 1, 0, 0, 0};
  section(m, 1, {1, 0x60, 2, 0x7f, 0x7f, 0});
  Bytes funcs;
  leb(funcs, bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) funcs.push_back(0);
  section(m, 3, funcs);
  section(m, 5, {1, 0, 1});
  code_section(m, bodies);
  if (bad_data) {
    section(m, 11, {1, 0, 0x42, 0, 0x0b, 2, 'h', 'i'});
  } else {
    section(m, 11, {1, 0, 0x41, 0, 0x0b, 2, 'h', 'i'});
  }
  return m;
}

// Valid: `n` times (local.get 0; drop).
Bytes good(int n = 1) {
  Bytes b;
  b.reserve(2 + 3 * static_cast<size_t>(n));
  b.push_back(0);
  for (int i = 0; i < n; ++i) {
    b.push_back(0x20);
    b.push_back(0);
    b.push_back(0x1a);
  }
  b.push_back(0x0b);
  return b;
}
// Invalid: leaves an i32 the function does not return.
Bytes leaves_i32() { return {0, 0x41, 0, 0x0b}; }
// Invalid twice in its local declarations: the first declaration overflows the local count
// with the two parameters (the validator's error), the second has no valid type (the reader's).
// A pass that skips this body (and so the validator's calls) stops at the second.
Bytes bad_locals() { return {2, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0x7f, 1, 0x40, 0x0b}; }
// ref.func of `f`, which no elem segment or export declares: an end-of-module error.
Bytes ref_func(uint8_t f) { return {0, 0xd2, f, 0x1a, 0x0b}; }

void expect_as_wabt(const Bytes& m, const char* what) {
  for (unsigned threads : {1u, 2u, 3u, 4u}) {
    fast_test::ValidatorVerdicts v = fast_test::compare_validators(m.data(), m.size(), threads, 0);
    EXPECT_EQ(v.reference, v.ours) << what << ", " << threads << " threads";
  }
}

std::vector<Bytes> goods(size_t n) { return std::vector<Bytes>(n, good()); }

TEST(FastValidate, ParallelVerdictIsTheSequentialOne) {
  ASSERT_GE(parallel_plan(module(goods(8)).data(), module(goods(8)).size(), 2, 0).threads, 2u);
  expect_as_wabt(module(goods(8)), "valid");
  {
    std::vector<Bytes> b = goods(8);
    b[6] = leaves_i32();
    expect_as_wabt(module(b), "error in the last range only");
    b[1] = leaves_i32();
    expect_as_wabt(module(b), "errors in the first and last ranges");
  }
  {
    std::vector<Bytes> b = goods(8);
    b[6] = bad_locals();
    Bytes m = module(b);
    expect_as_wabt(m, "a body whose validator and reader errors differ");
    fast_test::ValidatorVerdicts v = fast_test::compare_validators(m.data(), m.size(), 1, 0);
    EXPECT_NE(v.reference.find("local count"), std::string::npos) << v.reference;
  }
  {
    std::vector<Bytes> b = goods(8);
    b[2] = ref_func(1);
    b[6] = ref_func(5);
    Bytes m = module(b);
    expect_as_wabt(m, "undeclared ref.func in two ranges (end-of-module checks)");
    fast_test::ValidatorVerdicts v = fast_test::compare_validators(m.data(), m.size(), 1, 0);
    EXPECT_NE(v.reference.find("function 1 is not declared"), std::string::npos) << v.reference;
  }
  {
    std::vector<Bytes> b = goods(8);
    expect_as_wabt(module(b, /*bad_data=*/true), "an error after the code section");
    b[7] = leaves_i32();
    expect_as_wabt(module(b, true), "an error in the last body and after the code section");
    b[7] = good();
    b[5] = ref_func(0);
    expect_as_wabt(module(b, true), "an error after the code section and an undeclared ref.func");
  }
}

TEST(FastValidate, ParallelPassesSkipOtherRanges) {
  // 64 bodies of 50 instructions: each of two passes reads about half of them.
  Bytes m = module(std::vector<Bytes>(64, good(25)));
  wabt::ReadBinaryOptions options = load_options();
  std::vector<uint64_t> one, two;
  wabt::Errors errors;
  FeatureScan scan;
  ASSERT_TRUE(wabt::Succeeded(validate_module(m.data(), m.size(), options, &errors, &scan, 1, 0, &one)));
  ASSERT_TRUE(wabt::Succeeded(validate_module(m.data(), m.size(), options, &errors, &scan, 2, 0, &two)));
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_GT(one[0], 64u * 50);
  for (uint64_t n : two) EXPECT_LT(n, one[0] * 6 / 10) << "a pass read more than its range";
  EXPECT_GE(two[0] + two[1], one[0]);
}

TEST(FastValidate, CopiedOptionsFallBackToOnePass) {
  // A wabt whose reader copied its options would read the bodies a pass asks it to skip.
  std::vector<Bytes> b = goods(8);
  validate_test_hooks::copied_options = true;
  expect_as_wabt(module(b), "valid, skip requests lost");
  b[5] = leaves_i32();
  expect_as_wabt(module(b), "invalid, skip requests lost");
  Bytes m = module(goods(8));
  std::vector<uint64_t> passes;
  wabt::Errors errors;
  FeatureScan scan;
  EXPECT_TRUE(wabt::Succeeded(
      validate_module(m.data(), m.size(), load_options(), &errors, &scan, 2, 0, &passes)));
  EXPECT_EQ(passes.size(), 1u) << "fell back to one pass";
  validate_test_hooks::copied_options = false;
}

// A body that goes on after the `end` closing the function's own label (`end end`, `block end
// end end`, `end nop end`) is malformed: the spec and wabt's IR reader refuse it; wabt 1.0.32's
// interp reader accepts it (and its backend runs it as ending at the first `end`). The fast
// validator refuses it, on the sequential and the parallel path, with its own message; the
// comparison with wabt counts that as agreement only because wabt's IR reader refuses it too.
TEST(FastValidate, BodyAfterTheEndOfTheFunctionIsMalformed) {
  const std::vector<Bytes> bodies = {
      {0, 0x0b, 0x0b},
      {0, 0x02, 0x40, 0x0b, 0x0b, 0x0b},
      {0, 0x0b, 0x01, 0x0b},
  };
  for (size_t i = 0; i < bodies.size(); ++i) {
    // Alone, and as the fourth of four bodies (the parallel path puts it in a later range).
    for (const Bytes& m : {module({bodies[i]}), module({good(), good(), good(), bodies[i]})}) {
      for (unsigned threads : {1u, 2u, 4u}) {
        wabt::Errors errors;
        FeatureScan scan;
        wabt::Result r = validate_module(m.data(), m.size(), load_options(), &errors, &scan,
                                         threads, 0);
        ASSERT_TRUE(wabt::Failed(r)) << "body " << i << ", " << threads << " threads";
        ASSERT_FALSE(errors.empty());
        EXPECT_EQ(errors.front().message, kInstructionAfterFunctionEnd) << "body " << i;
        fast_test::ValidatorVerdicts v = fast_test::compare_validators(m.data(), m.size(), threads, 0);
        EXPECT_TRUE(v.departure) << "body " << i;
        EXPECT_EQ(v.reference, v.ours) << "body " << i;
      }
    }
  }
  // The same nesting closed properly is valid, and no departure.
  Bytes ok = module({{0, 0x02, 0x40, 0x0b, 0x0b}});
  fast_test::ValidatorVerdicts v = fast_test::compare_validators(ok.data(), ok.size(), 1, 0);
  EXPECT_EQ(v.ours, "accepts");
  EXPECT_FALSE(v.departure);
}

TEST(FastValidate, ParallelPlanIsBounded) {
  Bytes many = module(goods(100));
  ParallelPlan p = parallel_plan(many.data(), many.size(), 16, 0);
  EXPECT_EQ(p.threads, 4u) << "at most 4 threads";
  ASSERT_EQ(p.first_body.size(), 5u);
  EXPECT_EQ(p.first_body.front(), 0u);
  EXPECT_EQ(p.first_body.back(), 100u);
  for (size_t t = 0; t + 1 < p.first_body.size(); ++t) {
    EXPECT_LT(p.first_body[t], p.first_body[t + 1]) << "an empty range";
  }
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_LE(parallel_plan(many.data(), many.size(), 0, 0).threads, std::min(hw, 4u))
      << "the engine's default: the hardware's threads";
  EXPECT_EQ(parallel_plan(many.data(), many.size(), 1, 0).threads, 1u);
  // Below the threshold (the default, 1 MiB of code): one pass.
  EXPECT_EQ(parallel_plan(many.data(), many.size(), 4).threads, 1u);
  // Two bodies per thread at least.
  Bytes five = module(goods(5));
  EXPECT_EQ(parallel_plan(five.data(), five.size(), 4, 0).threads, 2u);
  Bytes three = module(goods(3));
  EXPECT_EQ(parallel_plan(three.data(), three.size(), 4, 0).threads, 1u);
  // No empty range: a last body of most of the bytes leaves no range for a second pass.
  std::vector<Bytes> lopsided = goods(7);
  lopsided.push_back(good(1000));
  Bytes l = module(lopsided);
  EXPECT_EQ(parallel_plan(l.data(), l.size(), 4, 0).threads, 1u);
  expect_as_wabt(l, "one huge last body");
  std::vector<Bytes> growing;
  for (int i = 1; i <= 40; ++i) growing.push_back(good(i * i));
  Bytes g = module(growing);
  ParallelPlan gp = parallel_plan(g.data(), g.size(), 4, 0);
  ASSERT_GE(gp.threads, 2u);
  ASSERT_EQ(gp.first_body.size(), gp.threads + 1);
  for (size_t t = 0; t + 1 < gp.first_body.size(); ++t) {
    EXPECT_LT(gp.first_body[t], gp.first_body[t + 1]) << "an empty range";
  }
  expect_as_wabt(g, "bodies of growing sizes");
  // Bodies that do not tile the code section: one pass (which reports it).
  Bytes broken = module(goods(8));
  broken[broken.size() - 16] = 0x7f;  // the last body's size (before the 10-byte data section)
  EXPECT_EQ(parallel_plan(broken.data(), broken.size(), 4, 0).threads, 1u);
  expect_as_wabt(broken, "a body size past the section");
}

}  // namespace
}  // namespace wasmcap::fast

namespace wasmcap::fast {
namespace {

// --- The AOT translator's bounds, noted by the validating pass ---------------------------------

// `imports` imported functions and `bodies.size()` defined ones, all of type 0 (() -> ()); type
// 1 (unused) has `params` i32 parameters and `results` i32 results.
Bytes bounds_module(uint32_t imports, uint32_t params, uint32_t results,
                    const std::vector<Bytes>& bodies) {
  Bytes m = {0, 'a', 's', 'm', 1, 0, 0, 0};
  Bytes types = {2, 0x60, 0, 0, 0x60};
  leb(types, params);
  types.resize(types.size() + params, 0x7f);
  leb(types, results);
  types.resize(types.size() + results, 0x7f);
  section(m, 1, types);
  if (imports > 0) {
    Bytes im;
    leb(im, imports);
    for (uint32_t i = 0; i < imports; ++i) {
      for (int b : {1, int{'m'}, 1, int{'f'}, 0, 0}) im.push_back(static_cast<uint8_t>(b));
    }
    section(m, 2, im);
  }
  Bytes funcs;
  leb(funcs, bodies.size());
  funcs.resize(funcs.size() + bodies.size(), 0);
  section(m, 3, funcs);
  code_section(m, bodies);
  return m;
}
Bytes empty_body() { return {0, 0x0b}; }
Bytes nested_body(uint32_t depth) {
  Bytes b = {0};
  for (uint32_t i = 0; i < depth; ++i) {
    b.push_back(0x02);
    b.push_back(0x40);
  }
  b.resize(b.size() + depth + 1, 0x0b);
  return b;
}
Bytes locals_body(uint32_t n) {
  Bytes b = {1};
  leb(b, n);
  b.push_back(0x7f);
  b.push_back(0x0b);
  return b;
}
Bytes br_table_body(uint32_t targets) {
  Bytes b = {0, 0x02, 0x40, 0x41, 0, 0x0e};
  leb(b, targets);
  b.resize(b.size() + targets + 1, 0);
  b.push_back(0x0b);
  b.push_back(0x0b);
  return b;
}
Bytes sized_body(uint64_t size) {  // nops
  Bytes b = {0};
  b.resize(size - 1, 0x01);
  b.push_back(0x0b);
  return b;
}

// The validating pass's verdict on the bounds (FeatureScan::beyond_aot_bounds) is exactly
// aot::check_bounds' on valid modules at and just beyond every bound, in one pass and in four
// parallel ones (declared locals are summed over the passes): the AOT engine skips its own bounds
// pass when the validating pass says they hold (docs/aot.md, "Cold start"), so a "within" here
// for a module beyond a bound would let it reach the translator's other checks only.
TEST(FastValidate, AotBoundsAreTheTranslatorsCheck) {
  struct Shape {
    const char* label;
    Bytes bytes;
    bool beyond;
  };
  const std::vector<Bytes> one_empty = {empty_body()};
  std::vector<Shape> shapes;
  for (uint32_t d : {0u, 1u}) {
    const bool beyond = d == 1;
    shapes.push_back({"nesting", bounds_module(0, 0, 0, {nested_body(aot::kMaxNestingDepth + d)}), beyond});
    shapes.push_back({"locals", bounds_module(0, 0, 0, {locals_body(aot::kMaxFunctionLocals + d), empty_body()}), beyond});
    shapes.push_back({"total locals",
                      bounds_module(0, 0, 0, std::vector<Bytes>(aot::kMaxTotalLocals / aot::kMaxFunctionLocals + d,
                                                                locals_body(aot::kMaxFunctionLocals))),
                      beyond});
    shapes.push_back({"br_table", bounds_module(0, 0, 0, {br_table_body(aot::kMaxBrTableTargets + d)}), beyond});
    shapes.push_back({"params", bounds_module(0, aot::kMaxFunctionParams + d, 0, one_empty), beyond});
    shapes.push_back({"results", bounds_module(0, 0, aot::kMaxFunctionResults + d, one_empty), beyond});
    shapes.push_back({"body size", bounds_module(0, 0, 0, {sized_body(aot::kMaxFunctionBodySize + d), empty_body()}), beyond});
    // Imported functions count (one import, the rest defined).
    shapes.push_back({"functions",
                      bounds_module(1, 0, 0, std::vector<Bytes>(aot::kMaxFunctions - 1 + d, empty_body())),
                      beyond});
  }
  for (const Shape& s : shapes) {
    const std::string what = std::string(s.label) + (s.beyond ? " beyond" : " at the bound");
    ASSERT_EQ(aot::check_bounds(s.bytes.data(), s.bytes.size()).has_value(), !s.beyond) << what;
    for (unsigned threads : {1u, 4u}) {
      wabt::Errors errors;
      FeatureScan scan;
      wabt::Result r = validate_module(s.bytes.data(), s.bytes.size(), load_options(), &errors,
                                       &scan, threads, /*threshold=*/0);
      ASSERT_TRUE(wabt::Succeeded(r)) << what << ": " << (errors.empty() ? "" : errors.front().message);
      EXPECT_EQ(scan.beyond_aot_bounds, s.beyond) << what << ", " << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace wasmcap::fast
