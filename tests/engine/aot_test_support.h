// Helpers shared by the AOT engine's own tests (aot_*_test.cc): the shared test cache, stand-in
// C compilers, generated modules that are slow to compile, and the engines side by side.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "hostile_wasm.h"
#include "test_support.h"
#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"

namespace wasmcap::testing {

// The shared test cache (each guest compiles once per build; aot_test_env.cc points the
// wasmcap CLIs these tests start at it too).
inline std::string shared_cache() { return test_paths::aot_test_cache(); }

inline AotOptions shared_options() {
  AotOptions o;
  o.cache_dir = shared_cache();
  o.opt_level = 1;
  return o;
}

inline Result<std::unique_ptr<Instance>> instantiate(Engine& engine, const std::string& guest,
                                                     const HostFuncTable& host,
                                                     const ExecLimits& limits = {}) {
  auto bytes = guest_bytes(guest);
  auto m = engine.load(bytes.data(), bytes.size());
  if (!m) return tl::unexpected(m.error());
  return engine.instantiate(*m, host, limits);
}

// The temporary directories of compiles (tmp-KEY-XXXXXX) in a cache directory (which must exist).
inline std::vector<std::filesystem::path> tmp_dirs(const std::filesystem::path& cache) {
  return files_starting(cache, "tmp-");
}

// What a run shows on one engine: stdout, the exit status or the error code.
struct Observed {
  std::string out, err_code;
  int exit_code = 0;
};

inline Observed observe(const std::string& engine, const std::string& guest,
                        std::vector<std::string> args, const std::string& invoke = "",
                        int64_t unit_functions = -1) {
  RunOptions o;
  o.engine = engine;
  o.aot = shared_options();
  o.aot.unit_functions = unit_functions;
  o.wasi.args = {guest};
  o.wasi.args.insert(o.wasi.args.end(), args.begin(), args.end());
  o.timeout_ms = 60000;
  o.max_memory_bytes = 64ull << 20;
  if (!invoke.empty()) o.entry = invoke;
  auto c = run_guest(guest_bytes(guest), o);
  Observed r;
  r.out = c.out;
  if (c.report) {
    r.exit_code = c.report->exit_code;
  } else {
    r.err_code = std::string(error_code_name(c.report.error().code));
  }
  return r;
}

// A "C compiler" (the documented WASMCAP_CC / AotOptions::compiler setting) that answers
// --version and otherwise starts a grandchild and blocks, like gcc's driver waiting for cc1.
// The grandchild's command line carries `marker` so the test can find it.
inline std::string slow_compiler(const std::filesystem::path& dir, const std::string& marker) {
  std::filesystem::path p = dir / "slowcc";
  write_text(p, "#!/bin/sh\n"
                "if [ \"$1\" = --version ]; then echo slowcc 1; exit 0; fi\n"
                "sleep " + marker + " &\n"
                "sleep " + marker + "\n"
                "exit 1\n");
  chmod(p.c_str(), 0755);
  return p.string();
}

inline std::string unique_marker() {
  std::random_device rd;
  // A sleep duration nobody else uses: "20.<random>" seconds.
  return "20." + std::to_string(100000 + rd() % 800000);
}

// A stand-in C compiler in `dir`: it answers `--version` as NAME 1 (the toolchain's identity
// probe), runs the shell commands `action` for a compile (its arguments are "$@") and fails it.
inline std::filesystem::path failing_compiler(const std::filesystem::path& dir,
                                              const std::string& name, const std::string& action) {
  std::filesystem::path cc = dir / name;
  write_text(cc, "#!/bin/sh\n"
                 "if [ \"$1\" = --version ]; then echo " + name + " 1; exit 0; fi\n" +
                 action + "exit 1\n");
  chmod(cc.c_str(), 0755);
  return cc;
}

// A module gcc needs many seconds for (one function, 10,000 locals, 200,000 statements, -O2 in
// the test), built here: far past the tests' 1 s compile limit even on an idle machine.
inline std::vector<uint8_t> slow_to_compile_module(uint32_t functions = 1) {
  using hostile::leb;
  const uint32_t n = 10000, m = 200000;
  std::vector<uint8_t> body;
  leb(body, 1);  // one locals entry
  leb(body, n);
  body.push_back(0x7e);  // i64
  for (uint32_t i = 0; i < m; ++i) {
    body.push_back(0x20);  // local.get
    leb(body, i % n);
    body.push_back(0x20);
    leb(body, (i * 7) % n);
    body.push_back(0x7c);  // i64.add
    body.push_back(0x21);  // local.set
    leb(body, (i + 1) % n);
  }
  body.push_back(0x0b);
  std::vector<uint8_t> code;
  leb(code, functions);
  for (uint32_t f = 0; f < functions; ++f) {
    leb(code, static_cast<uint32_t>(body.size()));
    code.insert(code.end(), body.begin(), body.end());
  }
  std::vector<uint8_t> w = hostile::header();
  auto section = [&](uint8_t id, const std::vector<uint8_t>& c) { hostile::section(w, id, c); };
  section(1, {0x01, 0x60, 0x00, 0x00});                                 // type () -> ()
  std::vector<uint8_t> funcs;
  leb(funcs, functions);
  funcs.insert(funcs.end(), functions, 0x00);
  section(3, funcs);                                                    // n functions
  section(7, {0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00});  // export _start
  section(10, code);
  return w;
}

}  // namespace wasmcap::testing
