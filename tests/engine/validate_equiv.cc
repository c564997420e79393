// The fast engine's validating reader (src/engine/fast/validate.cc) against wabt's interp reader
// (wabt::interp::ReadBinaryInterp, what the wabt oracle, tests/support/wabt_engine, and formerly
// the fast engine validate with): every module given, and seeded mutants of each, must get the same
// verdict and, when refused, the same first error (message and byte offset). Both read with the
// fast engine's options (load_options(): WebAssembly 2.0 plus exceptions).
//
// Usage: validate_equiv [--mutants N] [--seed S] [--threads T] PATH...   (PATH: a .wasm file or
// a directory, searched recursively for .wasm files). --threads T: validate_module's thread
// count, with its size threshold at 0 (every module of at least 2T bodies goes through the
// parallel path; default 1, sequential). Prints a summary; on the first disagreement prints the
// module (path, mutant number, size), both verdicts and errors, writes the bytes to
// validate_equiv-mismatch.wasm in the working directory, and exits 1. Exit 2: usage / no input.
//
// --describe: instead, the AOT engine's module descriptions (src/engine/describe.h) against the
// wabt oracle's load(): describe_module() and describe_via_fast() (--engine auto's, from the
// fast engine's load) must give the same verdict, error code and message, or the same
// ModuleInfo (every field), on every module and mutant.
//
// Driven by validate_equiv.py over the core spec suite converted by wast2json (ctest
// engine/validate_equiv; tests/engine/CMakeLists.txt).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "validate/compare.h"
#include "validate/describe_compare.h"

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

namespace {

// xorshift64*: deterministic across platforms (mutants are named by seed and number).
struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
};

// Opcodes and immediates worth dropping into a module: control, branches, memory, prefixes.
const uint8_t kInteresting[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x18, 0x19, 0x1a,
                                0x1b, 0x1c, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x28,
                                0x36, 0x3f, 0x40, 0x41, 0x42, 0x6a, 0x7f, 0x7e, 0x7b, 0x70,
                                0x6f, 0x80, 0xfc, 0xfd, 0xff};

Bytes mutate(const Bytes& in, Rng& rng) {
  Bytes b = in;
  int edits = 1 + static_cast<int>(rng.below(3));
  for (int e = 0; e < edits && b.size() > 8; ++e) {
    // Past the 8-byte preamble: a bad magic or version tells nothing about the validator.
    size_t at = 8 + rng.below(b.size() - 8);
    switch (rng.below(5)) {
      case 0: b[at] = static_cast<uint8_t>(rng.next()); break;
      case 1: b[at] = kInteresting[rng.below(sizeof kInteresting)]; break;
      case 2: b.erase(b.begin() + static_cast<ptrdiff_t>(at)); break;
      case 3:
        b.insert(b.begin() + static_cast<ptrdiff_t>(at),
                 kInteresting[rng.below(sizeof kInteresting)]);
        break;
      default: b[at] ^= static_cast<uint8_t>(1u << rng.below(8)); break;
    }
  }
  return b;
}

void collect(const fs::path& p, std::vector<fs::path>* out) {
  if (fs::is_directory(p)) {
    for (const auto& e : fs::recursive_directory_iterator(p)) {
      if (e.is_regular_file() && e.path().extension() == ".wasm") out->push_back(e.path());
    }
  } else {
    out->push_back(p);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int mutants = 0;
  uint64_t seed = 1;
  unsigned threads = 1;
  bool describe = false;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--mutants" && i + 1 < argc) {
      mutants = std::atoi(argv[++i]);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--describe") {
      describe = true;
    } else if (a == "--threads" && i + 1 < argc) {
      threads = static_cast<unsigned>(std::atoi(argv[++i]));
    } else {
      collect(a, &files);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: validate_equiv [--mutants N] [--seed S] PATH...\n");
    return 2;
  }
  std::sort(files.begin(), files.end());
  size_t modules = 0, accepted = 0, refused = 0, mutant_count = 0, mutants_accepted = 0;
  size_t parallel = 0;  // of all, validated by more than one thread
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // One stream of mutants per file, from the seed and the file's name (not its directory).
    uint64_t h = seed * 0x9e3779b97f4a7c15ull + 1;
    for (char c : f.filename().string()) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    Rng rng{h | 1};
    for (int m = -1; m < mutants; ++m) {
      Bytes b = m < 0 ? bytes : mutate(bytes, rng);
      if (describe) {
        wasmcap::fast_test::DescribeVerdicts d =
            wasmcap::fast_test::compare_descriptions(b.data(), b.size());
        if (m < 0) {
          ++modules;
          (d.reference_ok ? accepted : refused) += 1;
        } else {
          ++mutant_count;
          if (d.reference_ok) ++mutants_accepted;
        }
        if (!d.same()) {
          std::printf("MISMATCH %s%s (%zu bytes)\n  wabt oracle load:    %s\n  describe_module:    %s\n"
                      "  describe_via_fast:  %s\n",
                      f.string().c_str(), m < 0 ? "" : (" mutant " + std::to_string(m)).c_str(),
                      b.size(), d.reference.c_str(), d.own.c_str(), d.via_fast.c_str());
          std::ofstream("validate_equiv-mismatch.wasm", std::ios::binary)
              .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
          return 1;
        }
        continue;
      }
      wasmcap::fast_test::ValidatorVerdicts v =
          wasmcap::fast_test::compare_validators(b.data(), b.size(), threads);
      if (wasmcap::fast_test::parallel_threads(b.data(), b.size(), threads) > 1) ++parallel;
      if (m < 0) {
        ++modules;
        (v.reference_ok ? accepted : refused) += 1;
      } else {
        ++mutant_count;
        if (v.reference_ok) ++mutants_accepted;
      }
      if (!v.same()) {
        std::printf("MISMATCH %s%s (%zu bytes)\n  wabt interp reader: %s\n  validate_module:   %s\n",
                    f.string().c_str(),
                    m < 0 ? "" : (" mutant " + std::to_string(m)).c_str(), b.size(),
                    v.reference.c_str(), v.ours.c_str());
        std::ofstream("validate_equiv-mismatch.wasm", std::ios::binary)
            .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
        return 1;
      }
    }
  }
  if (describe) {
    std::printf("validate_equiv --describe: %zu modules (%zu accepted, %zu refused), %zu mutants "
                "(%zu accepted): the same description or error from the wabt oracle's load, "
                "describe_module and describe_via_fast on every one\n",
                modules, accepted, refused, mutant_count, mutants_accepted);
    return 0;
  }
  std::printf("validate_equiv (--threads %u): %zu modules (%zu accepted, %zu refused), %zu "
              "mutants (%zu accepted), %zu of them validated by several threads: same verdict "
              "and first error on every one\n",
              threads, modules, accepted, refused, mutant_count, mutants_accepted, parallel);
  return 0;
}
