// Exception unwinding for the fast interpreter (legacy exception handling: try / catch /
// catch_all / delegate / throw / rethrow; docs/fast-interp.md, "Exceptions").
//
// No C++ exceptions and no host recursion: a throw walks the interpreter's own frame array.
// For each frame, the return address (or, in the throwing frame, the address just after the
// throw) is looked up in the function's sorted site table (binary search), which names the
// innermost try around it; from there the region chain (next = enclosing try, or a delegate's
// target) is followed until a catch clause for the tag or a catch_all matches. Frames above the
// handler's are dropped; the payload goes into the slots the handler reads it from.
//
// Rethrow needs the exception its handler caught. Caught exceptions that some rethrow can name
// are kept on `held`, keyed by (frame depth, region). A handler can be left without any
// instruction running (br out of it, return), so entries are dropped lazily: catching at
// (depth d, region r) first drops every entry of a deeper frame (those frames are gone) and every
// entry of frame d with a region >= r (a later region at the same depth is nested in r or dead:
// regions are numbered in the order their try opens, so a region that encloses r has a smaller
// number). The stack then holds at most one entry per (depth, region), and it is bounded in
// total besides (kMaxHeld*): past it the run traps with trap_stack_exhausted.
#include <algorithm>
#include <string>

#include "engine/fast/fast.h"

namespace wasmcap::fast {
namespace {

constexpr size_t kMaxHeldEntries = 1u << 18;  // 8 MiB of entries
constexpr size_t kMaxHeldSlots = 1u << 20;  // 8 MiB of caught payloads
// Unwinding is not metered in fuel; it checks the deadline every this many steps (frames and
// regions visited), so a hostile deep unwind cannot outlive the run's deadline.
constexpr uint64_t kCheckEvery = 4096;

int32_t site_region(const EhInfo& eh, uint32_t pc) {
  auto it = std::lower_bound(eh.sites.begin(), eh.sites.end(), pc,
                             [](const EhSite& s, uint32_t p) { return s.pc < p; });
  return it != eh.sites.end() && it->pc == pc ? it->region : -1;
}

}  // namespace

bool eh_rethrow(Runtime& rt, const ExecState& st, int32_t region) {
  for (size_t i = rt.held.size(); i > 0; --i) {
    const Runtime::Held& h = rt.held[i - 1];
    if (h.depth == st.depth && h.region == region) {
      rt.exn_tag = h.tag;
      size_t end = i < rt.held.size() ? rt.held[i].payload : rt.held_payload.size();
      rt.exn_payload.assign(rt.held_payload.begin() + static_cast<ptrdiff_t>(h.payload),
                            rt.held_payload.begin() + static_cast<ptrdiff_t>(end));
      return true;
    }
  }
  // Unreachable for a validated module (a rethrow runs only inside its try's handler).
  rt.error = Error(ErrorCode::kInternal, "rethrow found no caught exception");
  return false;
}

bool eh_unwind(Runtime& rt, ExecState& st) {
  ExecState s = st;
  uint64_t steps = 0;
  for (;;) {
    const FuncCode* c = rt.funcs[s.cur].code.get();
    if (c->eh) {
      const EhInfo& eh = *c->eh;
      int32_t r = site_region(eh, static_cast<uint32_t>(s.pc - c->code.data()));
      while (r >= 0) {
        if (++steps % kCheckEvery == 0 && !check_deadline(rt)) return false;
        const EhRegion& reg = eh.regions[static_cast<size_t>(r)];
        int32_t handler = -1;
        bool payload = false;
        for (const EhCatch& k : reg.catches) {
          if (k.tag == rt.exn_tag) {
            handler = static_cast<int32_t>(k.handler);
            payload = true;
            break;
          }
        }
        if (handler < 0) handler = reg.catch_all;
        if (handler < 0) {
          r = reg.next;
          continue;
        }
        // Caught. Drop the held exceptions this catch makes unreachable (see the top).
        while (!rt.held.empty() && (rt.held.back().depth > s.depth ||
                                    (rt.held.back().depth == s.depth && rt.held.back().region >= r))) {
          rt.held_payload.resize(rt.held.back().payload);
          rt.held.pop_back();
        }
        if (reg.rethrown) {
          if (rt.held.size() >= kMaxHeldEntries ||
              rt.held_payload.size() + rt.exn_payload.size() > kMaxHeldSlots) {
            rt.error = Error(ErrorCode::kTrapStackExhausted,
                             "exception handler stack exhausted (too many caught exceptions "
                             "held at once)");
            return false;
          }
          rt.held.push_back(Runtime::Held{s.depth, r, rt.exn_tag, rt.held_payload.size()});
          rt.held_payload.insert(rt.held_payload.end(), rt.exn_payload.begin(),
                                 rt.exn_payload.end());
        }
        if (payload) std::copy(rt.exn_payload.begin(), rt.exn_payload.end(), s.fp + reg.payload);
        s.pc = c->code.data() + handler;
        st = s;
        return true;
      }
    }
    if (++steps % kCheckEvery == 0 && !check_deadline(rt)) return false;
    const Frame& f = rt.frames[s.depth - 1];
    if (f.ret_pc == nullptr) {
      rt.error = Error(ErrorCode::kTrapUncaughtException,
                       "uncaught wasm exception (tag " + std::to_string(rt.exn_tag) +
                           "): no catch handled it");
      return false;
    }
    s.pc = f.ret_pc;
    s.fp = f.fp;
    s.cur = f.func;
    --s.depth;
  }
}

}  // namespace wasmcap::fast
