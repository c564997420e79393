// Text modules (wat_text.h): bounds first, then wabt's parser, validator and binary writer on a
// thread with a stack sized for the nesting the bound allows.
#include "engine/wat_text.h"

#include <pthread.h>

#include <memory>
#include <string>

#include "common/escape.h"
#include "wabt/binary-writer.h"
#include "wabt/feature.h"
#include "wabt/ir.h"
#include "wabt/stream.h"
#include "wabt/validator.h"
#include "wabt/wast-lexer.h"
#include "wabt/wast-parser.h"

namespace wasmcap::wat {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A token character of the text format (anything but space, parentheses, quote and ;).
bool is_token_char(char c) { return !is_space(c) && c != '(' && c != ')' && c != '"' && c != ';'; }

bool opens_block(std::string_view t) {
  return t == "block" || t == "loop" || t == "if" || t == "try" || t == "try_table";
}

struct Job {
  std::string name;
  std::string_view text;
  Result<std::vector<uint8_t>> out = std::vector<uint8_t>{};
};

std::string location(const std::string& name, const wabt::Location& loc) {
  return name + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.first_column);
}

void convert(Job& job) {
  wabt::Features features;  // wabt's defaults: the features of current toolchains' output
  wabt::Errors errors;
  auto fail = [&](const std::string& what) {
    std::string msg = what;
    if (!errors.empty()) {
      const wabt::Error& e = errors.front();
      msg = location(job.name, e.loc) + ": " + text::escape_ascii(e.message, 300, "");
      if (errors.size() > 1) msg += " (and " + std::to_string(errors.size() - 1) + " more)";
    }
    job.out = make_error(ErrorCode::kModuleMalformed,
                         msg + "; the text format is described at "
                               "https://webassembly.github.io/spec/core/text/");
  };
  auto lexer = wabt::WastLexer::CreateBufferLexer(job.name, job.text.data(), job.text.size(),
                                                  &errors);
  wabt::WastParseOptions parse_options(features);
  std::unique_ptr<wabt::Module> module;
  if (wabt::Failed(wabt::ParseWatModule(lexer.get(), &module, &errors, &parse_options))) {
    return fail(job.name + ": not a module in the text format");
  }
  if (wabt::Failed(
          wabt::ValidateModule(module.get(), &errors, wabt::ValidateOptions(features)))) {
    return fail(job.name + ": the module is not valid");
  }
  wabt::MemoryStream stream;
  wabt::WriteBinaryOptions wopts;
  wopts.features = features;
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, module.get(), wopts))) {
    return fail(job.name + ": cannot write the module's binary form");
  }
  job.out = std::move(stream.output_buffer().data);
}

void* run_job(void* arg) {
  Job& job = *static_cast<Job*>(arg);
  try {
    convert(job);
  } catch (const std::bad_alloc&) {
    job.out = make_error(ErrorCode::kMemoryLimit,
                         job.name + ": the host ran out of memory parsing the text");
  } catch (...) {
    job.out = make_error(ErrorCode::kModuleMalformed, job.name + ": the text could not be parsed");
  }
  return nullptr;
}

}  // namespace

bool is_text_path(std::string_view path) {
  constexpr std::string_view kExt = ".wat";
  return path.size() > kExt.size() && path.substr(path.size() - kExt.size()) == kExt;
}

uint32_t nesting_depth(std::string_view s) {
  uint32_t parens = 0, blocks = 0, deepest = 0;
  bool after_open = false;  // the token after '(' heads a folded form: its parenthesis counts
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const char c = s[i];
    if (is_space(c)) {
      ++i;
    } else if (c == ';' && i + 1 < n && s[i + 1] == ';') {
      while (i < n && s[i] != '\n') ++i;  // line comment
    } else if (c == '(' && i + 1 < n && s[i + 1] == ';') {
      // Block comments nest: (; (; ;) ;)
      uint32_t level = 0;
      while (i < n) {
        if (s[i] == '(' && i + 1 < n && s[i + 1] == ';') {
          ++level;
          i += 2;
        } else if (s[i] == ';' && i + 1 < n && s[i + 1] == ')') {
          i += 2;
          if (--level == 0) break;
        } else {
          ++i;
        }
      }
    } else if (c == '(') {
      ++parens;
      after_open = true;
      ++i;
    } else if (c == ')') {
      if (parens > 0) --parens;
      after_open = false;
      ++i;
    } else if (c == '"') {
      ++i;
      while (i < n && s[i] != '"') i += (s[i] == '\\' && i + 1 < n) ? 2 : 1;
      ++i;
      after_open = false;
    } else {
      const size_t start = i;
      while (i < n && is_token_char(s[i])) ++i;
      if (i == start) ++i;  // a lone ';'
      const std::string_view token = s.substr(start, i - start);
      if (!after_open && opens_block(token)) {
        ++blocks;
      } else if ((token == "end" || token == "delegate") && blocks > 0) {
        --blocks;
      }
      after_open = false;
    }
    if (parens + blocks > deepest) deepest = parens + blocks;
  }
  return deepest;
}

Result<std::vector<uint8_t>> text_to_binary(std::string_view name, std::string_view text) {
  const std::string shown(name);  // the operator's path, as read_module_file names it
  if (text.size() > kMaxTextBytes) {
    return make_error(ErrorCode::kModuleUnsupported,
                      shown + " is larger than " + std::to_string(kMaxTextBytes) +
                          " bytes, the biggest text module wasmcap reads; convert it with "
                          "wabt's wat2wasm and run the .wasm");
  }
  if (uint32_t depth = nesting_depth(text); depth > kMaxNesting) {
    return make_error(ErrorCode::kModuleUnsupported,
                      shown + " nests " + std::to_string(depth) + " levels deep, more than the " +
                          std::to_string(kMaxNesting) +
                          " wasmcap parses in a text module; convert it with wabt's wat2wasm "
                          "and run the .wasm");
  }
  Job job;
  job.name = shown;
  job.text = text;
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) {
    return make_error(ErrorCode::kInternal, "cannot start the text parser's thread");
  }
  pthread_attr_setstacksize(&attr, kParserStackBytes);
  pthread_t thread;
  const int rc = pthread_create(&thread, &attr, run_job, &job);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    return make_error(ErrorCode::kMemoryLimit,
                      "cannot start the text parser's thread (" + std::to_string(rc) + ")");
  }
  pthread_join(thread, nullptr);
  return std::move(job.out);
}

}  // namespace wasmcap::wat
