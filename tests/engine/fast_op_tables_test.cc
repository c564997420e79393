// The fast translator's op tables (src/engine/fast/translate.cc) are built at compile time from
// the ops' names. This test derives the same mappings the way the translator used to at run
// time (string maps over the names) and checks every entry, so a table cannot drift from the
// names: a new op, a renamed op or a change to a suffix's filter shows up here.
// C++17: includes wabt's headers (NOTES-toolchain.md).
#include <gtest/gtest.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "engine/fast/translate.h"

namespace wasmcap::fast {
namespace {

constexpr size_t kOps = static_cast<size_t>(Op::kCount);

std::unordered_map<std::string, Op> ops_by_name() {
  std::unordered_map<std::string, Op> by_name;
  for (size_t i = 0; i < kOps; ++i) by_name[op_name(static_cast<Op>(i))] = static_cast<Op>(i);
  return by_name;
}

// Every op -> the op named like it plus `suffix`, where `applies` (null: always).
std::vector<Op> by_suffix(const char* suffix, bool (*applies)(const std::string&)) {
  auto by_name = ops_by_name();
  std::vector<Op> t(kOps, Op::kCount);
  for (size_t i = 0; i < kOps; ++i) {
    std::string n = op_name(static_cast<Op>(i));
    if (applies != nullptr && !applies(n)) continue;
    auto it = by_name.find(n + suffix);
    if (it != by_name.end()) t[i] = it->second;
  }
  return t;
}

TEST(FastOpTables, OpNamesAreUniqueAndComplete) {
  EXPECT_EQ(ops_by_name().size(), kOps);
  EXPECT_EQ(op_name(Op::kCount), nullptr);
}

TEST(FastOpTables, OpcodeTableMatchesNames) {
  auto by_name = ops_by_name();
  size_t mapped = 0;
  for (size_t e = 0; e <= static_cast<size_t>(wabt::Opcode::Invalid); ++e) {
    wabt::Opcode opcode(static_cast<wabt::Opcode::Enum>(e));
    Op want = Op::kCount;
    if (e < static_cast<size_t>(wabt::Opcode::Invalid)) {
      std::string n = opcode.GetName();
      for (char& c : n) {
        if (c == '.') c = '_';
      }
      auto it = by_name.find(n);
      if (it != by_name.end()) want = it->second;
    }
    EXPECT_EQ(op_for(opcode), want) << "wabt opcode " << e;
    if (want != Op::kCount) ++mapped;
  }
  // Spot checks that the comparison above compares something.
  EXPECT_EQ(op_for(wabt::Opcode::I32Add), Op::i32_add);
  EXPECT_EQ(op_for(wabt::Opcode::F64Load), Op::f64_load);
  EXPECT_EQ(op_for(wabt::Opcode::I8X16Add), Op::i8x16_add);
  EXPECT_EQ(op_for(wabt::Opcode::Invalid), Op::kCount);
  EXPECT_GT(mapped, 300u);
}

TEST(FastOpTables, SuffixTablesMatchNames) {
  struct Case {
    const char* suffix;
    bool (*applies)(const std::string&);
    Op (*table)(Op);
  };
  const Case cases[] = {
      {"_f",
       [](const std::string& n) {
         if (n != "br_if" && n != "br_unless" && n.rfind("br_i32_", 0) != 0) return false;
         return !(n.size() > 2 && n.compare(n.size() - 2, 2, "_f") == 0);
       },
       fuel_variant},
      {"_p", nullptr, packed_variant},
      {"_ak", nullptr, ak_variant},
      {"_c",
       [](const std::string& n) {
         return n.find("_load") != std::string::npos || n.find("_store") != std::string::npos;
       },
       c_variant},
  };
  for (const Case& c : cases) {
    std::vector<Op> want = by_suffix(c.suffix, c.applies);
    size_t mapped = 0;
    for (size_t i = 0; i < kOps; ++i) {
      EXPECT_EQ(c.table(static_cast<Op>(i)), want[i])
          << "suffix " << c.suffix << ", op " << op_name(static_cast<Op>(i));
      if (want[i] != Op::kCount) ++mapped;
    }
    EXPECT_GT(mapped, 0u) << c.suffix;
  }
  EXPECT_EQ(fuel_variant(Op::br_if), Op::br_if_f);
  EXPECT_EQ(c_variant(Op::i32_load), Op::i32_load_c);
  EXPECT_EQ(ak_variant(Op::i32_load), Op::i32_load_ak);
}

}  // namespace
}  // namespace wasmcap::fast
