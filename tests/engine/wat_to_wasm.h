// WebAssembly text to binary for the engine tests that write their modules as .wat (through
// wabt's library: parse, validate, write). C++17 only (wabt's headers): included by the C++17
// test executables of this directory. A module that does not parse or validate is a test
// failure (ADD_FAILURE, with wabt's messages) and gives no bytes.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wabt/binary-writer.h"
#include "wabt/feature.h"
#include "wabt/ir.h"
#include "wabt/stream.h"
#include "wabt/validator.h"
#include "wabt/wast-lexer.h"
#include "wabt/wast-parser.h"

namespace wasmcap::wat {

// `exceptions`: also the legacy exception-handling proposal (try/catch/throw). `name` names the
// module in failure messages.
inline std::vector<uint8_t> wat_to_wasm(const std::string& text, bool exceptions = false,
                                        const std::string& name = "test.wat") {
  wabt::Features features;
  if (exceptions) features.enable_exceptions();
  wabt::Errors errors;
  auto lexer = wabt::WastLexer::CreateBufferLexer(name, text.data(), text.size(), &errors);
  wabt::WastParseOptions parse_options(features);
  std::unique_ptr<wabt::Module> module;
  wabt::Result r = wabt::ParseWatModule(lexer.get(), &module, &errors, &parse_options);
  if (wabt::Succeeded(r)) r = wabt::ValidateModule(module.get(), &errors, wabt::ValidateOptions(features));
  if (wabt::Failed(r)) {
    std::string msg;
    for (const auto& e : errors) msg += e.message + "; ";
    ADD_FAILURE() << name << ": " << msg;
    return {};
  }
  wabt::MemoryStream stream;
  wabt::WriteBinaryOptions wopts;
  wopts.features = features;
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, module.get(), wopts))) {
    ADD_FAILURE() << name << ": cannot write binary";
    return {};
  }
  return stream.output_buffer().data;
}

}  // namespace wasmcap::wat
