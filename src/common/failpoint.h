// Named failpoints: the places in code that writes state (workspaces, the audit log, caches, the
// registry) where a test can make the process die or an I/O call fail, as SQLite's crash tests
// and FoundationDB's simulation do. Each state-writing step calls
//
//   if (int e = failpoint::hit("ws.apply.rename")) { errno = e; return io_error(...); }
//
// right before the system call it stands for. The mechanism is compiled in only when the build
// sets WASMCAP_FAILPOINTS=ON (scripts/test.sh does; release and install builds do not): then
// hit() is an out-of-line call that returns 0 at once unless the environment armed a failpoint.
// In other builds hit() always returns 0 and reads no environment, so a deployed wasmcap cannot
// be made to fail by its environment. Failpoint names are fixed strings in our code, never input.
//
// Environment (read once, at the first hit):
//   WASMCAP_FAILPOINTS="NAME=ACTION[@N][,NAME=ACTION[@N]...]"
//     ACTION: kill (SIGKILL this process: no destructor, no atexit, like a power cut for the
//     process's own state), enospc or eio (hit() returns ENOSPC / EIO for the caller to fail
//     with), delayMS (hit() sleeps MS milliseconds, 1..60000, then returns 0: widens a race
//     window between threads so a test of the race is deterministic, as a debugger's breakpoint
//     would); @N arms the N-th time NAME is reached (1-based, default 1); later hits go on.
//   WASMCAP_FAILPOINT_TRACE=FILE
//     appends one line per hit, "NAME\n", so a test can first list every failpoint a command
//     reaches and then arm each in turn.
#pragma once

#include <string_view>

namespace wasmcap::failpoint {

// Returns 0 to go on, or an errno value (ENOSPC, EIO) the caller fails its step with as if the
// system call it stands for had returned it. An armed "kill" does not return; an armed "delay"
// returns 0 after its sleep.
int hit(std::string_view name) noexcept;

// Whether this build has failpoints (tests that need them skip, saying why, when it has not).
bool compiled_in() noexcept;

}  // namespace wasmcap::failpoint
