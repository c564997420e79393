// Helpers of the AOT start-up tests (aot_start_test.cc, aot_cold_start_test.cc): process and
// worker checks, a stand-in compiler held at a gate file, and generated modules.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/aot/aot_cache.h"
#include "engine/aot/aot_link.h"
#include "engine/test_hooks.h"
#include "runtime/test_hooks.h"
#include "test_support.h"
#include "wabt_engine.h"
#include "wasmcap/engine.h"
#include "wasmcap/runtime.h"

namespace wasmcap::aot_start_test {

namespace fs = std::filesystem;
using testing::files_ending;
using testing::files_starting;
using testing::guest_bytes;
using testing::processes_with;
using testing::TempDir;
using testing::wait_until;

inline bool alive(int pid) {  // running, not a zombie waiting to be reaped
  std::string stat = testing::read_text("/proc/" + std::to_string(pid) + "/stat");
  size_t close_paren = stat.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < stat.size() &&
         stat[close_paren + 2] != 'Z' && stat[close_paren + 2] != 'X';
}

// No background compile holds a slot of this cache any more (the worker exited).
inline bool workers_done(const fs::path& cache) {
  for (int i = 0; i < 8; ++i) {
    int fd = open((cache / ("bg-" + std::to_string(i) + ".lock")).c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    bool held = flock(fd, LOCK_EX | LOCK_NB) != 0;
    close(fd);
    if (held) return false;
  }
  return true;
}

// The documented compiler setting (AotOptions::compiler / $WASMCAP_CC) naming a script that
// answers --version like cc, and otherwise waits (at most 60 s) for `gate` to exist, then runs
// the real cc. `fail` makes it exit 1 instead.
inline std::string gated_compiler(const fs::path& dir, const fs::path& gate, bool fail = false) {
  fs::path p = dir / "gatedcc";
  testing::write_text(p, "#!/bin/sh\n"
                         "if [ \"$1\" = --version ]; then exec cc --version; fi\n"
                         "i=0\n"
                         "while [ ! -e '" + gate.string() + "' ]; do\n"
                         "  i=$((i+1)); [ $i -gt 1200 ] && exit 1; sleep 0.05\n"
                         "done\n" +
                         std::string(fail ? "exit 1\n" : "exec cc \"$@\"\n"));
  chmod(p.c_str(), 0755);
  return p.string();
}

inline RunOptions auto_options(const fs::path& cache, const std::string& compiler,
                        std::vector<std::string>* notices) {
  RunOptions o;
  o.engine = "auto";
  o.aot.cache_dir = cache.string();
  o.aot.compiler = compiler;
  o.aot.opt_level = 0;  // behaviour, not speed: the cheapest compile
  o.wasi.args = {"hello"};
  o.notice = [notices](const std::string& line) { notices->push_back(line); };
  return o;
}

inline void put_leb(std::vector<uint8_t>& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<uint8_t>(b | (v != 0 ? 0x80 : 0)));
  } while (v != 0);
}

inline void put_section(std::vector<uint8_t>& out, uint8_t id, const std::vector<uint8_t>& body) {
  out.push_back(id);
  put_leb(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
}

// A valid module of `functions` functions () -> (), each `i32.const 0; drop` x `pairs`; sets
// *code_bytes to the size of its code section.
inline std::vector<uint8_t> generated_module(uint32_t functions, uint32_t pairs,
                                      uint64_t* code_bytes = nullptr) {
  std::vector<uint8_t> m = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  put_section(m, 1, {0x01, 0x60, 0x00, 0x00});
  std::vector<uint8_t> funcs;
  put_leb(funcs, functions);
  for (uint32_t i = 0; i < functions; ++i) funcs.push_back(0x00);
  put_section(m, 3, funcs);
  std::vector<uint8_t> code;
  put_leb(code, functions);
  for (uint32_t i = 0; i < functions; ++i) {
    std::vector<uint8_t> body = {0x00};  // no locals
    for (uint32_t k = 0; k < pairs; ++k) body.insert(body.end(), {0x41, 0x00, 0x1a});
    body.push_back(0x0b);
    put_leb(code, body.size());
    code.insert(code.end(), body.begin(), body.end());
  }
  if (code_bytes != nullptr) *code_bytes = code.size();
  put_section(m, 10, code);
  return m;
}

}  // namespace wasmcap::aot_start_test
