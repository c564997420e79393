// Process substitution `<(list)` and `>(list)` (docs/shell.md "Process substitution"): the list
// runs as a pipeline stage does, on a thread of its own with a copy of the state (a subshell),
// its stdout into a pipe (`>(list)`: its stdin from one); the command that named it sees the
// pipe's other end as descriptor N (63 down, as bash picks them) and the word as /dev/fd/N: the
// shell's redirections (`< <(list)`, `> >(list)`) and builtins find N in the command's table, a
// tool finds it passed at N and opens /dev/fd/N in the WASI host's /dev. The command's ProcSubs
// (state.h) closes its ends when it is done and joins the lists, so none outlives it and none
// runs unbounded: each counts among the commands running at once (--max-live-commands), and its
// commands among the script's.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "shell/state.h"

namespace wasmcap::shell {

std::string start_process_substitution(Ctx& ctx, State& st, std::shared_ptr<const Script> inner,
                                       bool to_list, const Io& io) {
  ProcSubs* subs = st.procsubs;
  if (subs == nullptr) {  // (every command sets one: run_simple, run_compound)
    throw LimitHit(Error(ErrorCode::kInternal, "process substitution outside a command"), false);
  }
  // The descriptor: the highest of 10-63 that neither the command's table, the table its words
  // expand against, nor another of its substitutions uses.
  int num = -1;
  for (int k = kMaxFds - 1; k >= 10 && num < 0; --k) {
    if (io.fd[k] == kClosed && !subs->taken(k)) num = k;
  }
  if (num < 0) {
    throw LimitHit(Error(ErrorCode::kInvalidArgument,
                         "process substitution: descriptors 10-63 are all in use"),
                   false);
  }
  auto running = std::make_shared<Budget::Commands>(ctx.budget->start_commands(1));
  auto sub = std::make_shared<State>(st.on_new_thread());  // charged; before any thread exists
  ++sub->trace_depth;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    throw LimitHit(Error(ErrorCode::kInternal,
                         std::string("process substitution: pipe: ") + std::strerror(errno)),
                   false);
  }
  // The command's end, and the list's (held by its thread: closed when the list is done, so a
  // command still writing to a `>(list)` that ended sees EPIPE).
  Fd mine(to_list ? p[1] : p[0]);
  auto theirs = std::make_shared<Fd>(to_list ? p[0] : p[1]);
  // The other streams are the command's before its redirections, as bash's: `tee >(wc) > f`
  // prints wc's count, not into f.
  Io pio = io;
  pio.fd[to_list ? 0 : 1] = theirs->get();
  for (const auto& o : subs->list) pio.fd[o.num] = kClosed;  // not the other lists' ends
  auto thread = std::make_unique<ExecThread>(
      [&ctx, sub, inner, pio, theirs, running]() {
        try {
          run_list(ctx, *sub, inner->items, pio);
          run_exit_trap(ctx, *sub, pio);
        } catch (const LimitHit& h) {
          limit_status(ctx, h, pio.err());
        }
        sub->jobs.reset();  // its background jobs end before its output does
        theirs->reset();    // the reader sees end of file (the writer EPIPE)
      },
      kStageStackBytes);
  if (!thread->started()) {  // nothing ran: this command fails
    throw LimitHit(Error(ErrorCode::kInternal, thread->failure("a process substitution")), false);
  }
  ProcSubs::One one;
  one.num = num;
  one.end = std::move(mine);
  one.thread = std::move(thread);
  if (subs->io != nullptr) subs->io->fd[num] = one.end.get();
  subs->list.push_back(std::move(one));
  return "/dev/fd/" + std::to_string(num);
}

}  // namespace wasmcap::shell
