// What this process removes when SIGINT, SIGTERM or SIGHUP stops it: the one registry of
// temporary things a signal must not leave behind (a shell session's private /tmp, an AOT
// compile's temporary directory). What SIGKILL leaves is each owner's to sweep on its next start.
//
// The cleanups run on a thread of their own (the handler only forwards the signal to it), so a
// cleanup may lock, allocate and remove trees; then the process dies of the signal as it would
// have.
#pragma once

#include <cstdint>
#include <functional>

namespace wasmcap::platform {

// Registers `cleanup` to run (on the signal thread, newest registration first) if one of the
// signals stops the process while it is registered. Returns the id remove_signal_cleanup takes
// (0, registering nothing, before run_cleanups_on_signals or in a forked child). The owner removes its own
// things on the ordinary path and unregisters first: a cleanup never runs after that returns.
uint64_t add_signal_cleanup(std::function<void()> cleanup);
void remove_signal_cleanup(uint64_t id);

// Handles SIGINT, SIGTERM and SIGHUP (those not ignored or handled already): with cleanups
// registered, a thread of their own runs them all and then the process dies of the signal;
// with none, it dies at once. Once per process; a front end calls it (an embedder keeps its own
// signal handling: registrations then simply never run).
void run_cleanups_on_signals();

}  // namespace wasmcap::platform
