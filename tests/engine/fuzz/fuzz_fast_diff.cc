// libFuzzer target: the fast interpreter (src/engine/fast) against wabt's interpreter, the tests'
// reference oracle (tests/support/wabt_engine), on modules derived from the fuzzer's bytes
// (docs/fast-interp.md, "Differential fuzzing").
//
// Two ways to get a module:
// - input starting with "\0asm" is a module as it is (the seed corpus holds real ones; most
//   mutants fail validation, which must then fail on both engines alike);
// - anything else drives a small generator of modules that validate by construction: 1-4
//   functions of random signatures over i32/i64/f32/f64, one memory (1 page, max 2), a funcref
//   table with every function, two mutable globals; bodies are type-directed random sequences
//   of numeric, memory, local/global, call/call_indirect and structured control instructions.
//
// On every module both engines load, the fast translator's two front ends (streaming and wabt
// IR) must give the same code for every function.
//
// First, on every input, the fast engine's validating reader (src/engine/fast/validate.cc) and
// wabt's interp reader must agree: same verdict, same first error (message and byte offset).
//
// Both engines run under tight limits (fuel, 2 pages); every exported function is called a few
// times with arguments from the input. Abort on any difference in: loading (wabt accepts
// <=> fast accepts, or refuses as module_unsupported), instantiation, results (bit for bit,
// NaN matches NaN), trap codes, exits, and the final hash of linear memory.
//
// Not compared (documented, not bugs): fuel units differ (wabt counts its own internal
// instructions, fast counts wasm instructions), so a call that exhausts fuel on either engine
// ends the comparison of that instance; the same for wabt's stack exhaustion (its value-stack
// accounting differs). The generator emits no instruction whose result is allowed to differ
// between correct engines: no float stores, reinterprets or copysign (NaN bit patterns are
// nondeterministic in wasm), so only NaN-ness of float results is compared. Exception handling
// is not compared: wabt 1.0.32 does not run it (docs/fast-interp.md, "Exceptions"); such a
// module runs on the fast engine alone (sanitizers, no internal errors).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "validate/compare.h"
#include "wabt_engine.h"
#include "wasmcap/engine.h"

using namespace wasmcap;

// src/engine/fast/translate.h (a C++17 header over wabt's IR; declared here so this target keeps
// its own standard): both of the fast translator's front ends on every defined function.
namespace wasmcap::fast::translate_test_hooks {
std::string compare_front_ends(const Module& module, uint32_t* streamed, uint32_t* funcs, bool gate);
}

namespace {

using Bytes = std::vector<uint8_t>;

[[noreturn]] void mismatch(const std::string& what) {
  std::fprintf(stderr, "fuzz_fast_diff: MISMATCH: %s\n", what.c_str());
  std::abort();
}

// --- the generator ------------------------------------------------------------------------

constexpr uint8_t I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c;
const uint8_t kTypes[] = {I32, I64, F32, F64};

struct Source {
  const uint8_t* p;
  size_t n;
  size_t i = 0;
  bool more() const { return i < n; }
  uint32_t byte() { return i < n ? p[i++] : 0; }
  uint32_t take(uint32_t m) { return m == 0 ? 0 : byte() % m; }
  uint64_t wide() {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = v << 8 | byte();
    return v;
  }
};

void uleb(Bytes& o, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    o.push_back(static_cast<uint8_t>(b | (v ? 0x80 : 0)));
  } while (v);
}
void sleb(Bytes& o, int64_t v) {
  for (;;) {
    uint8_t b = v & 0x7f;
    v >>= 7;
    bool done = (v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40));
    o.push_back(static_cast<uint8_t>(b | (done ? 0 : 0x80)));
    if (done) break;
  }
}
void section(Bytes& m, uint8_t id, const Bytes& c) {
  m.push_back(id);
  uleb(m, c.size());
  m.insert(m.end(), c.begin(), c.end());
}

struct Sig {
  std::vector<uint8_t> params, results;
};

class BodyGen {
 public:
  BodyGen(Source& src, const std::vector<Sig>& sigs, size_t self) : s_(src), sigs_(sigs) {
    const Sig& me = sigs[self];
    locals_ = me.params;
    for (uint8_t t : {I32, I32, I64, F32, F64}) locals_.push_back(t);
    results_ = me.results;
  }

  Bytes run() {
    Bytes out;
    // locals: one group per declared type
    out.push_back(5);
    for (uint8_t t : {I32, I32, I64, F32, F64}) {
      out.push_back(1);
      out.push_back(t);
    }
    int budget = 8 + static_cast<int>(s_.take(120));
    while (budget-- > 0 && s_.more()) step();
    while (!ctl_.empty()) close();
    fix(0, results_);
    b_.push_back(0x0b);
    out.insert(out.end(), b_.begin(), b_.end());
    return out;
  }

 private:
  struct Ctl {
    uint8_t kind;  // 2 block, 3 loop, 4 if
    std::vector<uint8_t> results;
    size_t height;
  };

  size_t base() const { return ctl_.empty() ? 0 : ctl_.back().height; }
  size_t avail() const { return st_.size() - base(); }
  uint8_t top(size_t k = 0) const { return st_[st_.size() - 1 - k]; }
  void pop(size_t n = 1) { st_.resize(st_.size() - n); }
  void op(uint8_t b) { b_.push_back(b); }

  void push_const(uint8_t t) {
    switch (t) {
      case I32: op(0x41); sleb(b_, static_cast<int32_t>(edge32())); break;
      case I64: op(0x42); sleb(b_, static_cast<int64_t>(edge64())); break;
      case F32: {
        op(0x43);
        float f = static_cast<float>(static_cast<int32_t>(s_.take(41)) - 20) / 4;
        if (s_.take(16) == 0) f = s_.take(2) ? INFINITY : NAN;
        uint32_t u;
        std::memcpy(&u, &f, 4);
        for (int k = 0; k < 4; ++k) op(static_cast<uint8_t>(u >> (8 * k)));
        break;
      }
      default: {
        op(0x44);
        double d = static_cast<double>(static_cast<int32_t>(s_.take(41)) - 20) / 4;
        if (s_.take(16) == 0) d = s_.take(2) ? -INFINITY : NAN;
        if (s_.take(16) == 0) d = 4294967296.0 * (s_.take(3) - 1.0);
        uint64_t u;
        std::memcpy(&u, &d, 8);
        for (int k = 0; k < 8; ++k) op(static_cast<uint8_t>(u >> (8 * k)));
        break;
      }
    }
    st_.push_back(t);
  }
  uint32_t edge32() {
    static const uint32_t e[] = {0, 1, 2, 3, 7, 8, 31, 32, 0xff, 0xffff, 0x7fffffff, 0x80000000,
                                 0xffffffff, 65536, 65535, 100};
    return s_.take(2) ? e[s_.take(16)] : static_cast<uint32_t>(s_.wide());
  }
  uint64_t edge64() {
    static const uint64_t e[] = {0, 1, 2, 63, 64, 0xffffffffull, 0x8000000000000000ull,
                                 0x7fffffffffffffffull, ~0ull, 100};
    return s_.take(2) ? e[s_.take(10)] : s_.wide();
  }
  // Pushes a value of type t: a local of that type or a constant.
  void push_value(uint8_t t) {
    if (s_.take(2)) {
      for (size_t i = 0; i < locals_.size(); ++i) {
        size_t l = (i + s_.take(static_cast<uint32_t>(locals_.size()))) % locals_.size();
        if (locals_[l] == t) {
          op(0x20);
          uleb(b_, l);
          st_.push_back(t);
          return;
        }
      }
    }
    push_const(t);
  }
  // Makes the stack above `height` exactly `types`.
  void fix(size_t height, const std::vector<uint8_t>& types) {
    bool ok = st_.size() == height + types.size();
    for (size_t i = 0; ok && i < types.size(); ++i) ok = st_[height + i] == types[i];
    if (ok) return;
    while (st_.size() > height) {
      op(0x1a);
      pop();
    }
    for (uint8_t t : types) push_value(t);
  }
  void close() {
    Ctl c = ctl_.back();
    fix(c.height, c.results);
    if (c.kind == 4 && !c.results.empty()) {
      op(0x05);  // an if with results needs an else
      st_.resize(c.height);
      for (uint8_t t : c.results) push_value(t);
    }
    op(0x0b);
    ctl_.pop_back();
    st_.resize(c.height);
    for (uint8_t t : c.results) st_.push_back(t);
  }
  // After br/return/unreachable: the rest of the block is dead, end it now.
  void end_dead() {
    if (ctl_.empty()) {
      st_.clear();
      // The function body: nothing may follow but its end; mark it by draining the budget.
      dead_ = true;
      return;
    }
    Ctl c = ctl_.back();
    if (c.kind == 4 && !c.results.empty()) {
      op(0x05);
      st_.resize(c.height);
      for (uint8_t t : c.results) push_value(t);
    }
    op(0x0b);
    ctl_.pop_back();
    st_.resize(c.height);
    for (uint8_t t : c.results) st_.push_back(t);
  }
  void memarg(uint32_t max_align) {
    uleb(b_, s_.take(max_align + 1));
    uint32_t r = s_.take(8);
    uleb(b_, r < 5 ? r : r == 5 ? 65535 : r == 6 ? 65536 * 2 - 4 : 0xfffffff0u);
  }
  uint8_t any_type() { return kTypes[s_.take(4)]; }
  std::vector<uint8_t> block_results() {
    uint32_t r = s_.take(6);
    if (r < 2) return {};
    return {kTypes[r - 2]};
  }

  void step() {
    if (dead_) return;
    uint32_t choice = s_.take(40);
    switch (choice) {
      case 0: case 1: push_const(any_type()); return;
      case 2: case 3: push_value(any_type()); return;
      case 4: {  // local.set / local.tee
        if (avail() == 0) return;
        uint8_t t = top();
        size_t start = s_.take(static_cast<uint32_t>(locals_.size()));
        for (size_t l = 0; l < locals_.size(); ++l) {
          size_t li = (start + l) % locals_.size();
          if (locals_[li] != t) continue;
          bool tee = s_.take(2);
          op(tee ? 0x22 : 0x21);
          uleb(b_, li);
          if (!tee) pop();
          return;
        }
        op(0x1a);
        pop();
        return;
      }
      case 5: {  // globals: 0 i32, 1 i64
        uint32_t g = s_.take(2);
        if (s_.take(2) && avail() > 0 && top() == (g ? I64 : I32)) {
          op(0x24);
          uleb(b_, g);
          pop();
        } else {
          op(0x23);
          uleb(b_, g);
          st_.push_back(g ? I64 : I32);
        }
        return;
      }
      case 6: case 7: case 8: case 9: {  // binary
        if (avail() < 2 || top() != top(1)) {
          push_value(avail() ? top() : any_type());
          return;
        }
        uint8_t t = top();
        pop();
        if (t == I32) op(static_cast<uint8_t>(0x6a + s_.take(15)));
        if (t == I64) op(static_cast<uint8_t>(0x7c + s_.take(15)));
        if (t == F32) op(static_cast<uint8_t>(0x92 + s_.take(6)));
        if (t == F64) op(static_cast<uint8_t>(0xa0 + s_.take(6)));
        return;
      }
      case 10: {  // compare
        if (avail() < 2 || top() != top(1)) return;
        uint8_t t = top();
        pop(2);
        if (t == I32) op(static_cast<uint8_t>(0x46 + s_.take(10)));
        if (t == I64) op(static_cast<uint8_t>(0x51 + s_.take(10)));
        if (t == F32) op(static_cast<uint8_t>(0x5b + s_.take(6)));
        if (t == F64) op(static_cast<uint8_t>(0x61 + s_.take(6)));
        st_.push_back(I32);
        return;
      }
      case 11: case 12: {  // unary
        if (avail() == 0) return;
        uint8_t t = top();
        static const uint8_t i32u[] = {0x45, 0x67, 0x68, 0x69, 0xc0, 0xc1};
        static const uint8_t i64u[] = {0x79, 0x7a, 0x7b, 0xc2, 0xc3, 0xc4};
        if (t == I32) op(i32u[s_.take(6)]);
        if (t == I64) {
          if (s_.take(6) == 0) {
            op(0x50);  // i64.eqz
            pop();
            st_.push_back(I32);
            return;
          }
          op(i64u[s_.take(6)]);
        }
        if (t == F32) op(static_cast<uint8_t>(0x8b + s_.take(7)));
        if (t == F64) op(static_cast<uint8_t>(0x99 + s_.take(7)));
        return;
      }
      case 13: case 14: {  // conversions
        if (avail() == 0) return;
        uint8_t t = top();
        struct Cv {
          uint8_t from, to, prefix, code;
        };
        static const Cv cvs[] = {
            {I64, I32, 0, 0xa7}, {F32, I32, 0, 0xa8}, {F32, I32, 0, 0xa9}, {F64, I32, 0, 0xaa},
            {F64, I32, 0, 0xab}, {I32, I64, 0, 0xac}, {I32, I64, 0, 0xad}, {F32, I64, 0, 0xae},
            {F32, I64, 0, 0xaf}, {F64, I64, 0, 0xb0}, {F64, I64, 0, 0xb1}, {I32, F32, 0, 0xb2},
            {I32, F32, 0, 0xb3}, {I64, F32, 0, 0xb4}, {I64, F32, 0, 0xb5}, {F64, F32, 0, 0xb6},
            {I32, F64, 0, 0xb7}, {I32, F64, 0, 0xb8}, {I64, F64, 0, 0xb9}, {I64, F64, 0, 0xba},
            {F32, F64, 0, 0xbb}, {F32, I32, 0xfc, 0}, {F32, I32, 0xfc, 1}, {F64, I32, 0xfc, 2},
            {F64, I32, 0xfc, 3}, {F32, I64, 0xfc, 4}, {F32, I64, 0xfc, 5}, {F64, I64, 0xfc, 6},
            {F64, I64, 0xfc, 7}};
        uint32_t start = s_.take(std::size(cvs));
        for (size_t k = 0; k < std::size(cvs); ++k) {
          const Cv& c = cvs[(start + k) % std::size(cvs)];
          if (c.from != t) continue;
          if (c.prefix) {
            op(c.prefix);
            uleb(b_, c.code);
          } else {
            op(c.code);
          }
          pop();
          st_.push_back(c.to);
          return;
        }
        return;
      }
      case 15: case 16: {  // load
        if (avail() == 0 || top() != I32) {
          push_value(I32);
          return;
        }
        struct Ld {
          uint8_t code, type, align;
        };
        static const Ld lds[] = {{0x28, I32, 2}, {0x29, I64, 3}, {0x2a, F32, 2}, {0x2b, F64, 3},
                                 {0x2c, I32, 0}, {0x2d, I32, 0}, {0x2e, I32, 1}, {0x2f, I32, 1},
                                 {0x30, I64, 0}, {0x31, I64, 0}, {0x32, I64, 1}, {0x33, I64, 1},
                                 {0x34, I64, 2}, {0x35, I64, 2}};
        const Ld& l = lds[s_.take(std::size(lds))];
        op(l.code);
        memarg(l.align);
        pop();
        st_.push_back(l.type);
        return;
      }
      case 17: case 18: {  // store (integers only: float bits of NaNs may differ)
        if (avail() < 2 || top(1) != I32 || (top() != I32 && top() != I64)) {
          if (avail() == 0 || top() != I32) push_value(I32);
          push_value(s_.take(2) ? I32 : I64);
          return;
        }
        if (top() == I32) {
          static const uint8_t c[] = {0x36, 0x3a, 0x3b};
          static const uint8_t a[] = {2, 0, 1};
          uint32_t k = s_.take(3);
          op(c[k]);
          memarg(a[k]);
        } else {
          static const uint8_t c[] = {0x37, 0x3c, 0x3d, 0x3e};
          static const uint8_t a[] = {3, 0, 1, 2};
          uint32_t k = s_.take(4);
          op(c[k]);
          memarg(a[k]);
        }
        pop(2);
        return;
      }
      case 19: {  // memory.size / memory.grow
        if (s_.take(2) && avail() > 0 && top() == I32) {
          op(0x40);
          op(0);
          return;  // i32 -> i32
        }
        op(0x3f);
        op(0);
        st_.push_back(I32);
        return;
      }
      case 20: {  // memory.fill / memory.copy
        if (avail() < 3 || top() != I32 || top(1) != I32 || top(2) != I32) {
          push_value(I32);
          return;
        }
        op(0xfc);
        if (s_.take(2)) {
          uleb(b_, 11);
          op(0);
        } else {
          uleb(b_, 10);
          op(0);
          op(0);
        }
        pop(3);
        return;
      }
      case 21: {  // drop
        if (avail() == 0) return;
        op(0x1a);
        pop();
        return;
      }
      case 22: {  // select
        if (avail() < 3 || top() != I32 || top(1) != top(2)) return;
        op(0x1b);
        pop(2);
        return;
      }
      case 23: case 24: case 25: {  // block / loop / if
        if (ctl_.size() >= 12) return;
        uint8_t kind = static_cast<uint8_t>(2 + s_.take(3));
        if (kind == 4) {
          if (avail() == 0 || top() != I32) {
            push_value(I32);
            return;
          }
          pop();
        }
        std::vector<uint8_t> r = block_results();
        op(kind);
        op(r.empty() ? 0x40 : r[0]);
        ctl_.push_back(Ctl{kind, r, st_.size()});
        return;
      }
      case 26: case 27: case 28: {  // end
        if (!ctl_.empty()) close();
        return;
      }
      case 29: case 30: {  // br_if to a label without values (loop: back edge)
        if (avail() == 0 || top() != I32) {
          push_value(I32);
          return;
        }
        for (size_t d = 0; d < ctl_.size(); ++d) {
          const Ctl& c = ctl_[ctl_.size() - 1 - d];
          if (c.kind == 3 || c.results.empty()) {
            op(0x0d);
            uleb(b_, d);
            pop();
            return;
          }
        }
        return;
      }
      case 31: {  // br to a label without values, then the block ends
        if (ctl_.empty()) return;
        size_t d = s_.take(static_cast<uint32_t>(ctl_.size()));
        const Ctl& c = ctl_[ctl_.size() - 1 - d];
        if (!(c.kind == 3 || c.results.empty())) return;
        op(0x0c);
        uleb(b_, d);
        end_dead();
        return;
      }
      case 32: case 33: case 34: {  // call
        uint32_t f = s_.take(static_cast<uint32_t>(sigs_.size()));
        for (uint8_t t : sigs_[f].params) push_value(t);
        op(0x10);
        uleb(b_, f);
        pop(sigs_[f].params.size());
        for (uint8_t t : sigs_[f].results) st_.push_back(t);
        return;
      }
      case 35: {  // call_indirect (type of function f, maybe a different element: mismatch)
        uint32_t f = s_.take(static_cast<uint32_t>(sigs_.size()));
        for (uint8_t t : sigs_[f].params) push_value(t);
        op(0x41);
        sleb(b_, static_cast<int32_t>(s_.take(static_cast<uint32_t>(sigs_.size()) + 2)));
        op(0x11);
        uleb(b_, f);  // type index f = function f's type
        op(0);
        pop(sigs_[f].params.size());
        for (uint8_t t : sigs_[f].results) st_.push_back(t);
        return;
      }
      case 36: {  // return
        if (s_.take(4)) return;
        // The results on top (values below them are allowed for return).
        for (uint8_t t : results_) push_value(t);
        op(0x0f);
        end_dead();
        return;
      }
      case 37: {  // unreachable, rarely
        if (s_.take(8)) return;
        op(0x00);
        end_dead();
        return;
      }
      default:
        push_value(any_type());
        return;
    }
  }

  Source& s_;
  const std::vector<Sig>& sigs_;
  std::vector<uint8_t> locals_;
  std::vector<uint8_t> results_;
  std::vector<uint8_t> st_;
  std::vector<Ctl> ctl_;
  Bytes b_;
  bool dead_ = false;
};

Bytes generate(Source& s) {
  size_t nfuncs = 1 + s.take(4);
  std::vector<Sig> sigs(nfuncs);
  for (Sig& g : sigs) {
    for (uint32_t k = s.take(4); k > 0; --k) g.params.push_back(kTypes[s.take(4)]);
    for (uint32_t k = s.take(3); k > 0; --k) g.results.push_back(kTypes[s.take(4)]);
  }
  Bytes m = {0, 'a', 's', 'm', 1, 0, 0, 0};
  Bytes types;
  uleb(types, nfuncs);
  for (const Sig& g : sigs) {
    types.push_back(0x60);
    uleb(types, g.params.size());
    types.insert(types.end(), g.params.begin(), g.params.end());
    uleb(types, g.results.size());
    types.insert(types.end(), g.results.begin(), g.results.end());
  }
  section(m, 1, types);
  Bytes funcs;
  uleb(funcs, nfuncs);
  for (size_t i = 0; i < nfuncs; ++i) uleb(funcs, i);
  section(m, 3, funcs);
  Bytes table = {1, 0x70, 0};
  uleb(table, nfuncs);
  section(m, 4, table);
  section(m, 5, {1, 1, 1, 2});  // memory: 1 page, max 2
  section(m, 6, {2, I32, 1, 0x41, 0, 0x0b, I64, 1, 0x42, 0, 0x0b});
  Bytes exports;
  uleb(exports, nfuncs + 1);
  for (size_t i = 0; i < nfuncs; ++i) {
    exports.push_back(2);
    exports.push_back('f');
    exports.push_back(static_cast<uint8_t>('0' + i));
    exports.push_back(0);
    uleb(exports, i);
  }
  exports.insert(exports.end(), {6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0});
  section(m, 7, exports);
  Bytes elems = {1, 0, 0x41, 0, 0x0b};
  uleb(elems, nfuncs);
  for (size_t i = 0; i < nfuncs; ++i) uleb(elems, i);
  section(m, 9, elems);
  Bytes code;
  uleb(code, nfuncs);
  for (size_t i = 0; i < nfuncs; ++i) {
    Bytes body = BodyGen(s, sigs, i).run();
    uleb(code, body.size());
    code.insert(code.end(), body.begin(), body.end());
  }
  section(m, 10, code);
  Bytes data = {1, 0, 0x41, 0, 0x0b, 16};
  for (int k = 0; k < 16; ++k) data.push_back(static_cast<uint8_t>(s.byte()));
  section(m, 11, data);
  return m;
}

// --- running and comparing -----------------------------------------------------------------

HostFuncTable stubs_for(const ModuleInfo& info) {
  HostFuncTable t;
  for (const ImportDesc& i : info.imports) {
    if (i.kind != ExternKind::kFunc) continue;
    FuncSig sig = i.sig;
    t.add(HostFunc{i.module, i.name, sig, [sig](HostContext&, const Value*, Value* results) {
                     for (size_t r = 0; r < sig.results.size(); ++r) {
                       Value v;
                       v.type = sig.results[r];
                       v.i64 = 0;
                       results[r] = v;
                     }
                     return HostCallResult::ok();
                   }});
  }
  return t;
}

bool same_value(const Value& a, const Value& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case ValType::kI32: return a.i32 == b.i32;
    case ValType::kI64: return a.i64 == b.i64;
    case ValType::kF32: {
      if (std::isnan(a.f32) || std::isnan(b.f32)) return std::isnan(a.f32) && std::isnan(b.f32);
      return std::memcmp(&a.f32, &b.f32, 4) == 0;
    }
    case ValType::kF64: {
      if (std::isnan(a.f64) || std::isnan(b.f64)) return std::isnan(a.f64) && std::isnan(b.f64);
      return std::memcmp(&a.f64, &b.f64, 8) == 0;
    }
    default: return true;
  }
}

std::string digest(Instance& inst) {
  GuestMemory m = inst.memory();
  if (!m.valid()) return "none";
  uint64_t h = 1469598103934665603ull;
  const uint8_t* p = m.range(0, m.size());
  for (uint64_t i = 0; i < m.size(); ++i) h = (h ^ p[i]) * 1099511628211ull;
  return std::to_string(m.size()) + ":" + std::to_string(h);
}

Value arg_of(ValType t, Source& s) {
  static const uint64_t kEdges[] = {0, 1, 2, 7, 0xffffffffull, 0x80000000ull, 0x7fffffffull,
                                    ~0ull, 0x8000000000000000ull, 65536};
  uint64_t bits = s.take(2) ? kEdges[s.take(10)] : s.wide();
  switch (t) {
    case ValType::kI32: return Value::I32(static_cast<uint32_t>(bits));
    case ValType::kI64: return Value::I64(bits);
    case ValType::kF32: return Value::F32(static_cast<float>(static_cast<int32_t>(bits % 2001) - 1000) / 8);
    case ValType::kF64: return Value::F64(static_cast<double>(static_cast<int64_t>(bits % 2001) - 1000) / 8);
    default: return Value::I32(0);
  }
}

bool budget_stop(const Error& e) { return e.code == ErrorCode::kFuelExhausted; }

// A module only the fast engine runs (exception handling): no reference to compare with, but it
// still runs under the sanitizers, so the unwinder meets every shape the mutator finds.
void run_alone(const std::shared_ptr<const Module>& m, Engine& fast, Source& args) {
  HostFuncTable host = stubs_for(m->info());
  ExecLimits limits;
  limits.fuel = 300000;
  limits.max_memory_pages = 2;
  auto inst = fast.instantiate(m, host, limits);
  if (!inst) return;
  for (const ExportDesc& e : m->info().exports) {
    if (e.kind != ExternKind::kFunc) continue;
    std::vector<Value> a;
    bool plain = true;
    for (ValType t : e.sig.params) {
      plain &= t == ValType::kI32 || t == ValType::kI64 || t == ValType::kF32 || t == ValType::kF64;
      a.push_back(arg_of(t, args));
    }
    if (!plain) continue;
    auto r = (*inst)->call(e.name, a);
    if (!r && r.error().code == ErrorCode::kInternal) mismatch("fast: " + r.error().to_string());
  }
}

void compare(const Bytes& bytes, Source& args) {
  // The fast engine's validating reader against wabt's interp reader, with the fast engine's
  // features (exceptions on), sequential and with two threads: same verdict, same first error.
  // Mutated modules mostly fail validation, which is the point: every refusal path is compared.
  bool departure = false;
  for (unsigned threads : {1u, 2u}) {
    fast_test::ValidatorVerdicts v = fast_test::compare_validators(bytes.data(), bytes.size(), threads);
    if (!v.same()) {
      mismatch("validation (" + std::to_string(threads) + " thread(s)): wabt's interp reader " +
               v.reference + ", validate_module " + v.ours);
    }
    departure = departure || v.departure;
  }
  // A body that goes on after the end of the function: wabt's interp backend loads and runs it,
  // the fast engine refuses it as malformed (as wabt's IR reader does): nothing to compare.
  if (departure) return;
  auto ref = testing::make_wabt_reference_engine();
  auto fast = make_fast_engine();
  auto rm = ref->load(bytes.data(), bytes.size());
  auto fm = fast->load(bytes.data(), bytes.size());
  if (!rm) {
    // wabt refuses exception handling, which fast runs: not a difference.
    if (rm.error().code == ErrorCode::kModuleUnsupported) {
      if (fm) run_alone(*fm, *fast, args);
      return;
    }
    if (fm) mismatch("wabt rejects (" + rm.error().to_string() + ") but fast loads");
    return;
  }
  if (!fm) {
    if (fm.error().code == ErrorCode::kModuleUnsupported) return;  // e.g. SIMD (not yet)
    mismatch("wabt loads, fast says " + fm.error().to_string());
  }
  // The streaming front end (bodies translated while wabt's reader reads them) against the
  // translation of wabt's IR: the same code word for word on every function it takes.
  {
    uint32_t streamed = 0, funcs = 0;
    std::string d = fast::translate_test_hooks::compare_front_ends(**fm, &streamed, &funcs, true);
    if (!d.empty()) mismatch("front ends: " + d);
  }
  HostFuncTable host = stubs_for((*rm)->info());
  ExecLimits rl, fl;
  rl.fuel = 30000;  // wabt's instructions
  fl.fuel = 300000;  // wasm instructions
  rl.max_memory_pages = fl.max_memory_pages = 2;
  auto ri = ref->instantiate(*rm, host, rl);
  auto fi = fast->instantiate(*fm, host, fl);
  if (!ri || !fi) {
    if ((!ri && budget_stop(ri.error())) || (!fi && budget_stop(fi.error()))) return;
    if (!ri && ri.error().code == ErrorCode::kTrapStackExhausted) return;
    if (ri.has_value() != fi.has_value()) {
      mismatch(std::string("instantiation: wabt ") + (ri ? "ok" : ri.error().to_string()) +
               ", fast " + (fi ? "ok" : fi.error().to_string()));
    }
    if (ri.error().code != fi.error().code) {
      mismatch("instantiation: " + ri.error().to_string() + " vs " + fi.error().to_string());
    }
    return;
  }
  if (digest(**ri) != digest(**fi)) mismatch("memory after instantiation");
  for (int rep = 0; rep < 2; ++rep) {
    for (const ExportDesc& e : (*rm)->info().exports) {
      if (e.kind != ExternKind::kFunc) continue;
      bool plain = true;
      for (ValType t : e.sig.params) {
        plain &= t == ValType::kI32 || t == ValType::kI64 || t == ValType::kF32 || t == ValType::kF64;
      }
      if (!plain) continue;
      std::vector<Value> a;
      for (ValType t : e.sig.params) a.push_back(arg_of(t, args));
      auto rr = (*ri)->call(e.name, a);
      auto fr = (*fi)->call(e.name, a);
      if ((!rr && (budget_stop(rr.error()) || rr.error().code == ErrorCode::kTrapStackExhausted)) ||
          (!fr && budget_stop(fr.error()))) {
        return;  // budgets differ in units: this instance's states may now differ
      }
      std::string call = "call " + quote_untrusted(e.name) + ": ";
      if (rr.has_value() != fr.has_value()) {
        mismatch(call + "wabt " + (rr ? "returns" : rr.error().to_string()) + ", fast " +
                 (fr ? "returns" : fr.error().to_string()));
      }
      if (!rr) {
        if (rr.error().code != fr.error().code) {
          mismatch(call + rr.error().to_string() + " vs " + fr.error().to_string());
        }
      } else {
        if (rr->exited != fr->exited || rr->exit_code != fr->exit_code) mismatch(call + "exit");
        if (rr->results.size() != fr->results.size()) mismatch(call + "result count");
        for (size_t i = 0; i < rr->results.size(); ++i) {
          if (!same_value(rr->results[i], fr->results[i])) {
            mismatch(call + "result " + std::to_string(i));
          }
        }
        if (rr->exited) return;
      }
      if (digest(**ri) != digest(**fi)) mismatch(call + "memory differs");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= 8 && std::memcmp(data, "\0asm", 4) == 0) {
    Bytes bytes(data, data + size);
    Source args{data, size};
    compare(bytes, args);
    return 0;
  }
  Source s{data, size};
  Bytes bytes = generate(s);
  if (const char* dump = std::getenv("FUZZ_FAST_DIFF_DUMP")) {  // look at what it makes
    if (FILE* f = std::fopen(dump, "wb")) {
      std::fwrite(bytes.data(), 1, bytes.size(), f);
      std::fclose(f);
    }
  }
  // Arguments come from the same bytes again (the generator's choices are not disturbed).
  Source args{data, size};
  compare(bytes, args);
  return 0;
}
