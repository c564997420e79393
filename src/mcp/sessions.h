// Internal: MCP sessions and the workspace copies they own (docs/mcp.md, "Sessions and
// per-session workspaces").
//
// A host config fs grant with "per_session": true gives each session its own copy of a shadow
// workspace's source. A copy is a full copy of a project, so who may own one, how many exist and
// how large they are is bounded here:
// - only a session this server issued (open(): `initialize` over HTTP, the connection on stdio)
//   owns copies; a client-chosen Mcp-Session-Id that was never issued (or has expired) owns
//   nothing and its call is refused (kSessionNotFound), so inventing ids cannot make copies;
// - a call with no session (a 2026-07-28 request, a legacy request without Mcp-Session-Id,
//   `wasmcap tool call`) gets a copy for that call alone, removed when it ends: session-less
//   clients never share one;
// - live copies are capped in number and in total apparent bytes (ServerOptions
//   max_session_workspaces / max_session_workspace_bytes); past the cap a call is refused with
//   kServerBusy before anything is copied;
// - a client may end its session (HTTP DELETE: terminate()): as an expiry, once its running
//   calls are over, and its id is remembered as ended (requests under it get 404);
// - a session idle for session_idle_timeout_ms expires: its copies are deleted when unchanged,
//   and kept for the operator's review (still counted) when a tool changed them, until the
//   operator applies or discards them (`wasmcap ws`);
// - a session belongs to the principal that opened it (docs/mcp.md "Tenants"): another
//   principal presenting its id is answered as for an id never issued (kSessionNotFound), so a
//   leaked id gives no other tenant its copies or its shell; each principal holds at most its
//   share of sessions and of copies (Options::caps), and when the table is full the
//   principal holding the most sessions loses its least recently used idle one, so one
//   principal's `initialize` flood forgets only its own sessions;
// - copying happens outside the table's lock: sessions copy in parallel, and a second call of a
//   session waits only for that session's own copy.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "wasmcap/error.h"

namespace wasmcap::policy {
struct Plan;
}

namespace wasmcap::mcp {

struct ServerOptions;

// Issued session ids remembered at once. An id costs ~100 bytes; past the bound the least
// recently used idle session without copies, of the principal holding the most, is forgotten (a
// flood of `initialize` cannot grow the table, never takes a session's copies away, and never
// another principal's session).
inline constexpr size_t kMaxSessions = 4096;

class Sessions {
 public:
  struct Options {
    std::string home;                 // $WASMCAP_HOME (the workspaces live below it)
    size_t max_copies = 0;            // live copies: session workspaces + per-call copies
    uint64_t max_bytes = 0;           // their total apparent size
    uint64_t idle_timeout_ms = 0;     // a session unused this long expires (0: never)
    size_t max_sessions = kMaxSessions;
    // One principal's share: sessions it may hold, copies it may hold (its sessions' and its
    // session-less calls' together). `caps` is asked for each principal (empty: no share
    // beyond the totals above).
    struct PrincipalCaps {
      size_t max_sessions = kMaxSessions;
      size_t max_copies = SIZE_MAX;
    };
    std::function<PrincipalCaps(const std::string& principal)> caps;
    std::function<void(const std::string&)> log;
    // The clock idle times are measured on (tests substitute their own).
    std::function<std::chrono::steady_clock::time_point()> now = [] {
      return std::chrono::steady_clock::now();
    };
    // Called outside the lock just before a copy is made (tests: to show copies run in
    // parallel). May be empty.
    std::function<void(const std::string& name)> before_copy;
  };

  // Why bind() refused. `rpc_code` 0: a tool error (e.g. the base workspace is missing), else
  // a JSON-RPC error with that code (kSessionNotFound, kServerBusy).
  struct Refusal {
    int rpc_code = 0;
    Error error;
  };

  // The copies one call uses; releasing it ends the call's use (per-call copies are removed).
  class Lease {
   public:
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    // The workspace names of the copies this call uses.
    const std::vector<std::string>& names() const { return copies; }

   private:
    friend class Sessions;
    explicit Lease(Sessions* owner) : owner_(owner) {}
    Sessions* owner_;
    std::string session;
    std::vector<std::string> copies;  // names this call holds
  };

  explicit Sessions(Options options);
  ~Sessions();

  // Mints a session id (128 random bits, 32 hex digits) for `principal` and remembers it. At
  // the principal's share of sessions its own least recently used idle session without copies
  // is forgotten first; refused (kCapabilityUnavailable) when all of them own copies.
  Result<std::string> open(const std::string& principal);
  // Ends a session (stdio EOF) when `principal` opened it: as an expiry, at once, or when its
  // last running call ends (it takes no new call meanwhile). False when there is no such
  // session of that principal.
  bool close(const std::string& id, const std::string& principal);
  // Ends a session at its client's request (HTTP DELETE, transports/streamable-http "Session
  // Management") as close() does, and remembers its id as ended: the spec has a server answer
  // 404 to requests under it from then on. The last kMaxSessions ended ids are remembered.
  bool terminate(const std::string& id, const std::string& principal);
  // Whether `id` was ended by terminate() (and is still remembered).
  bool terminated(const std::string& id);
  // Whether `id` is a live session this server issued.
  bool known(const std::string& id);

  // Points every per_session workspace mount of `plan` at this call's copy: the session's own
  // (made on its first use) when `session` is non-empty, else a copy for this call alone named
  // after `call_id`. Mounts that are not per_session are left for workspace::bind_plan. A plan
  // with no per_session mount needs no session and gets an empty lease.
  // `principal` is the caller's: a session another principal opened is refused as unknown.
  tl::expected<std::unique_ptr<Lease>, Refusal> bind(policy::Plan& plan, const std::string& session,
                                                     const std::string& call_id,
                                                     const std::string& principal);

  // What each principal holds now: {sessions, copies} by principal (metrics).
  std::map<std::string, std::pair<size_t, size_t>> held_by_principal();
  // Copies counted against the caps now, and their bytes (tests, diagnostics).
  size_t live_copies();
  uint64_t live_bytes();

 private:
  struct Copy {
    enum class State { kCreating, kReady, kClosing, kRetained };
    State state = State::kCreating;
    std::string session;  // "" for a per-call copy
    std::string principal;  // whose session or call made it
    uint64_t bytes = 0;
    size_t users = 0;
  };
  struct Session {
    std::string principal;  // who opened it: the only one who may use it
    std::chrono::steady_clock::time_point last_used;
    size_t active = 0;                      // calls in flight
    bool ending = false;                    // terminated while calls ran: ends with the last
    std::map<std::string, std::string> copies;  // base workspace -> copy name
  };

  // Forgets expired sessions and retained copies the operator removed; returns the copies to
  // finish (outside the lock).
  std::vector<std::string> sweep_locked(std::chrono::steady_clock::time_point now);
  // close() and terminate(): `remember` the id as ended.
  bool end_session(const std::string& id, const std::string& principal, bool remember);
  // Ends the session `id` (locked): its copies become kClosing; appended to `finish`.
  void end_locked(const std::string& id, std::vector<std::string>& finish);
  // Deletes an unchanged copy, keeps a changed one for review (outside the lock).
  void finish(const std::vector<std::string>& names);
  void release(Lease& lease);
  uint64_t bytes_locked() const;
  Options::PrincipalCaps caps_of(const std::string& principal) const;
  // Forgets an idle session without copies: the least recently used one of `*principal`, or
  // (null) of the principal holding the most sessions. False when there is none.
  bool forget_idle_locked(const std::string* principal);

  Options o_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Session> sessions_;
  std::map<std::string, Copy> copies_;  // by workspace name
  std::set<std::string> terminated_;     // ids ended by terminate(), the last kMaxSessions
  std::deque<std::string> terminated_order_;  // oldest first
};

// Each principal's share of sessions and copies from the host config's mcp.tenancy (tenancy.h:
// max_sessions, max_workspaces; by default, when principals are named, kDefaultPrincipalMaxSessions
// and half of o.max_session_workspaces). Null without tenancy: no share beyond the totals.
std::function<Sessions::Options::PrincipalCaps(const std::string&)> principal_session_caps(
    const ServerOptions& o);

}  // namespace wasmcap::mcp
