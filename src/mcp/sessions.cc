// MCP sessions and their workspace copies (sessions.h).
#include "mcp/sessions.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "mcp/protocol.h"
#include "wasmcap/policy.h"
#include "wasmcap/mcp.h"
#include "wasmcap/runtime.h"
#include "wasmcap/tenancy.h"
#include "wasmcap/workspace.h"

namespace wasmcap::mcp {

namespace {

uint64_t apparent_bytes(const workspace::Info& info) {
  uint64_t n = 0;
  for (const auto& e : info.entries) n += e.size;
  return n;
}

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

}  // namespace

std::function<Sessions::Options::PrincipalCaps(const std::string&)> principal_session_caps(
    const ServerOptions& o) {
  const policy::TenancyConfig* t = o.config.mcp.tenancy.get();
  if (t == nullptr) return nullptr;
  // Set per principal, else per_principal's, else the defaults when the host config names
  // principals (with one principal, all of them).
  Sessions::Options::PrincipalCaps base;
  if (!t->principals.empty()) {
    base.max_sessions = policy::kDefaultPrincipalMaxSessions;
    base.max_copies = std::max<size_t>(1, o.max_session_workspaces / 2);
  }
  if (t->per_principal.max_sessions) base.max_sessions = *t->per_principal.max_sessions;
  if (t->per_principal.max_workspaces) base.max_copies = *t->per_principal.max_workspaces;
  std::map<std::string, Sessions::Options::PrincipalCaps> caps;
  for (const auto& p : t->principals) {
    auto& c = caps[p.name] = base;
    if (p.limits.max_sessions) c.max_sessions = *p.limits.max_sessions;
    if (p.limits.max_workspaces) c.max_copies = *p.limits.max_workspaces;
  }
  return [base, caps = std::move(caps)](const std::string& principal) {
    auto it = caps.find(principal);
    return it == caps.end() ? base : it->second;
  };
}

Sessions::Lease::~Lease() {
  if (owner_ != nullptr) owner_->release(*this);
}

Sessions::Sessions(Options options) : o_(std::move(options)) {}

// Nothing is deleted when the server stops: a session's copy may hold changes for review.
Sessions::~Sessions() = default;

Sessions::Options::PrincipalCaps Sessions::caps_of(const std::string& principal) const {
  return o_.caps ? o_.caps(principal) : Options::PrincipalCaps{};
}

bool Sessions::forget_idle_locked(const std::string* principal) {
  std::map<std::string, size_t> held;  // sessions per principal
  if (principal == nullptr) {
    for (const auto& [id, s] : sessions_) ++held[s.principal];
  }
  auto victim = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    const Session& s = it->second;
    if (s.active != 0 || !s.copies.empty()) continue;
    if (principal != nullptr && s.principal != *principal) continue;
    if (victim == sessions_.end()) {
      victim = it;
      continue;
    }
    const Session& v = victim->second;
    if (principal == nullptr && held[s.principal] != held[v.principal]) {
      if (held[s.principal] > held[v.principal]) victim = it;
    } else if (s.last_used < v.last_used) {
      victim = it;
    }
  }
  if (victim == sessions_.end()) return false;
  sessions_.erase(victim);
  return true;
}

Result<std::string> Sessions::open(const std::string& principal) {
  std::string id;
  WASMCAP_TRY_ASSIGN(id, make_invocation_id());  // 128 random bits: never one issued before
  const Options::PrincipalCaps caps = caps_of(principal);
  std::vector<std::string> to_finish;
  std::optional<Error> refused;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto now = o_.now();
    to_finish = sweep_locked(now);
    size_t mine = 0;
    for (const auto& [sid, s] : sessions_) mine += s.principal == principal ? 1 : 0;
    if (mine >= caps.max_sessions && !forget_idle_locked(&principal)) {
      // At its share, a principal's own least recently used idle session goes; another
      // principal's never does.
      refused = Error(ErrorCode::kCapabilityUnavailable,
                      "server busy: principal '" + principal + "' has " + std::to_string(mine) +
                          " sessions open, its share (mcp.tenancy max_sessions), and each owns a "
                          "workspace or runs a call; end one (DELETE /mcp with its Mcp-Session-Id) "
                          "or retry when one expires (idle for --session-idle-timeout-ms)");
    } else if (sessions_.size() >= o_.max_sessions && !forget_idle_locked(nullptr)) {
      // The table is full: the principal holding the most sessions loses its least recently
      // used idle one without copies. There is always one: copies are capped far below
      // kMaxSessions.
      refused = Error(ErrorCode::kCapabilityUnavailable,
                      "server busy: " + std::to_string(sessions_.size()) +
                          " sessions are open and each owns a workspace; retry later");
    } else {
      Session& s = sessions_[id];
      s.principal = principal;
      s.last_used = now;
    }
  }
  // What the sweep ended is finished whether or not this session was opened.
  finish(to_finish);
  if (refused) return tl::unexpected(std::move(*refused));
  return id;
}

bool Sessions::terminate(const std::string& id, const std::string& principal) {
  return end_session(id, principal, true);
}

bool Sessions::terminated(const std::string& id) {
  std::lock_guard<std::mutex> l(mu_);
  return terminated_.count(id) != 0;
}

bool Sessions::known(const std::string& id) {
  std::lock_guard<std::mutex> l(mu_);
  return sessions_.count(id) != 0;
}

bool Sessions::close(const std::string& id, const std::string& principal) {
  return end_session(id, principal, false);
}

bool Sessions::end_session(const std::string& id, const std::string& principal, bool remember) {
  std::vector<std::string> to_finish;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.principal != principal) return false;
    if (remember && terminated_.insert(id).second) {
      terminated_order_.push_back(id);
      if (terminated_order_.size() > o_.max_sessions) {
        terminated_.erase(terminated_order_.front());
        terminated_order_.pop_front();
      }
    }
    // Its copies are not taken from a call still using them: the session ends when its last
    // call does (release), and takes no new call meanwhile (bind).
    if (it->second.active > 0) {
      it->second.ending = true;
    } else {
      end_locked(id, to_finish);
    }
  }
  finish(to_finish);
  return true;
}

void Sessions::end_locked(const std::string& id, std::vector<std::string>& to_finish) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  for (const auto& [base, name] : it->second.copies) {
    auto c = copies_.find(name);
    if (c != copies_.end() && c->second.state == Copy::State::kReady) {
      c->second.state = Copy::State::kClosing;
      to_finish.push_back(name);
    }
  }
  sessions_.erase(it);
}

std::vector<std::string> Sessions::sweep_locked(std::chrono::steady_clock::time_point now) {
  std::vector<std::string> to_finish;
  if (o_.idle_timeout_ms != 0) {
    auto idle = std::chrono::milliseconds(o_.idle_timeout_ms);
    std::vector<std::string> expired;
    for (const auto& [id, s] : sessions_) {
      if (s.active == 0 && now - s.last_used > idle) expired.push_back(id);
    }
    for (const auto& id : expired) end_locked(id, to_finish);
  }
  // A retained copy stops counting once the operator has applied and discarded it (or removed
  // it any other way).
  for (auto it = copies_.begin(); it != copies_.end();) {
    std::error_code ec;
    if (it->second.state == Copy::State::kRetained &&
        !std::filesystem::exists(o_.home + "/workspaces/" + it->first + "/snapshot.json", ec)) {
      it = copies_.erase(it);
    } else {
      ++it;
    }
  }
  return to_finish;
}

void Sessions::finish(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    auto d = workspace::diff(o_.home, name);
    bool unchanged = d && d->changes.empty();
    if (unchanged) (void)workspace::discard(o_.home, name);
    std::lock_guard<std::mutex> l(mu_);
    auto it = copies_.find(name);
    if (it == copies_.end()) continue;
    if (unchanged) {
      copies_.erase(it);
    } else {
      it->second.state = Copy::State::kRetained;
      if (o_.log) {
        o_.log("session workspace " + name + " expired with changes; kept for review (wasmcap ws diff " +
               name + ", then ws apply or ws discard)");
      }
    }
  }
  cv_.notify_all();
}

uint64_t Sessions::bytes_locked() const {
  uint64_t n = 0;
  for (const auto& [name, c] : copies_) n += c.bytes;
  return n;
}

std::map<std::string, std::pair<size_t, size_t>> Sessions::held_by_principal() {
  std::lock_guard<std::mutex> l(mu_);
  std::map<std::string, std::pair<size_t, size_t>> out;
  for (const auto& [id, sess] : sessions_) ++out[sess.principal].first;
  for (const auto& [name, c] : copies_) ++out[c.principal].second;
  return out;
}

size_t Sessions::live_copies() {
  std::lock_guard<std::mutex> l(mu_);
  return copies_.size();
}

uint64_t Sessions::live_bytes() {
  std::lock_guard<std::mutex> l(mu_);
  return bytes_locked();
}

tl::expected<std::unique_ptr<Sessions::Lease>, Sessions::Refusal> Sessions::bind(
    policy::Plan& plan, const std::string& session, const std::string& call_id,
    const std::string& principal) {
  auto lease = std::unique_ptr<Lease>(new Lease(this));
  auto refuse = [](int code, ErrorCode ec, std::string message) {
    return tl::unexpected(Refusal{code, Error(ec, std::move(message))});
  };
  std::vector<policy::FsMount*> mounts;
  for (auto& m : plan.fs) {
    if (m.per_session && !m.workspace.empty() && !m.denied) mounts.push_back(&m);
  }
  if (mounts.empty()) return lease;
  if (session.empty() && call_id.size() < 16) {
    return refuse(0, ErrorCode::kInternal, "no call id for a per-call workspace copy");
  }
  // Each base's source and size, read before taking the lock (a snapshot read is file I/O).
  struct Base {
    std::string source;
    uint64_t bytes = 0;
  };
  std::map<std::string, Base> bases;
  for (auto* m : mounts) {
    if (bases.count(m->workspace) != 0) continue;
    auto b = workspace::open(o_.home, m->workspace);
    if (!b) {
      return refuse(0, b.error().code,
                    "fs " + m->guest + ": workspace " + m->workspace + ": " + b.error().message);
    }
    bases[m->workspace] = Base{b->source, apparent_bytes(*b)};
  }
  std::vector<std::string> to_finish;
  std::unique_lock<std::mutex> l(mu_);
  to_finish = sweep_locked(o_.now());
  auto finish_later = [&] {
    l.unlock();
    finish(to_finish);
    to_finish.clear();
  };
  if (!session.empty()) {
    auto it = sessions_.find(session);
    // Another principal's session is answered as one never issued: the reply does not tell
    // whether the id exists.
    if (it == sessions_.end() || it->second.principal != principal || it->second.ending) {
      finish_later();
      // Only a session this server issued owns workspace copies: an id the client made up (or
      // one that expired, or another replica's, or another principal's) owns none.
      return refuse(kSessionNotFound, ErrorCode::kNotFound,
                    "Session not found: this server did not issue that Mcp-Session-Id, or it "
                    "expired after " + std::to_string(o_.idle_timeout_ms / 1000) +
                        " s idle; send initialize (without Mcp-Session-Id) to start a new session");
    }
    ++it->second.active;
    it->second.last_used = o_.now();
    lease->session = session;
  }
  for (size_t i = 0; i < mounts.size(); ++i) {
    policy::FsMount& m = *mounts[i];
    const Base& base = bases[m.workspace];
    std::string name = session.empty()
                           ? "c-" + call_id.substr(0, 16) + "-" + std::to_string(i)
                           : workspace::session_workspace_name(m.workspace, session);
    for (;;) {
      auto c = copies_.find(name);
      if (c == copies_.end()) break;  // not made yet (or its making failed): make it
      if (c->second.state == Copy::State::kCreating) {
        cv_.wait(l);  // another call of this session is copying it
        continue;
      }
      if (c->second.state == Copy::State::kReady) {
        ++c->second.users;
        lease->copies.push_back(name);
        m.host = o_.home + "/workspaces/" + name + "/tree";
      }
      break;
    }
    if (!m.host.empty()) continue;
    // Copy it: reserve its slot and estimated bytes first, so concurrent first calls of other
    // sessions see the reservation; the copy itself runs outside the lock.
    uint64_t used = bytes_locked();
    size_t mine = 0;
    for (const auto& [n, c] : copies_) mine += c.principal == principal ? 1 : 0;
    if (const size_t share = caps_of(principal).max_copies; mine >= share) {
      finish_later();
      return refuse(kServerBusy, ErrorCode::kCapabilityUnavailable,
                    "server busy: principal '" + principal + "' holds " + std::to_string(mine) +
                        " session workspace copies, its share (mcp.tenancy max_workspaces); "
                        "retry when its sessions end or expire, or ask the operator to discard "
                        "kept ones (wasmcap ws list)");
    }
    if (copies_.size() >= o_.max_copies || used + base.bytes > o_.max_bytes) {
      size_t live = copies_.size();
      finish_later();
      return refuse(kServerBusy, ErrorCode::kCapabilityUnavailable,
                    "server busy: " + std::to_string(live) + " session workspace copies (" +
                        mib(used) + ") are live and a copy of '" + m.workspace + "' (" +
                        mib(base.bytes) + ") would exceed the limits (" +
                        std::to_string(o_.max_copies) + " copies, " + mib(o_.max_bytes) +
                        "; --max-session-workspaces, --max-session-workspace-mb); retry when "
                        "sessions end or expire, or discard kept ones (wasmcap ws list)");
    }
    Copy& slot = copies_[name];
    slot.session = session;
    slot.principal = principal;
    slot.bytes = base.bytes;
    l.unlock();
    if (o_.before_copy) o_.before_copy(name);
    auto made = workspace::create(o_.home, base.source, name);
    l.lock();
    auto c = copies_.find(name);
    if (!made) {
      copies_.erase(c);
      cv_.notify_all();
      finish_later();
      return refuse(0, made.error().code,
                    "fs " + m.guest + ": workspace " + m.workspace + ": " + made.error().message);
    }
    c->second.bytes = apparent_bytes(*made);
    // The source may have grown since the base's snapshot: the bound holds on what was copied.
    if (bytes_locked() > o_.max_bytes) {
      uint64_t total = bytes_locked();
      copies_.erase(c);
      cv_.notify_all();
      l.unlock();
      (void)workspace::discard(o_.home, name);
      l.lock();
      finish_later();
      return refuse(kServerBusy, ErrorCode::kCapabilityUnavailable,
                    "server busy: a copy of '" + m.workspace + "' would make " + mib(total) +
                        " of session workspace copies, over the limit of " + mib(o_.max_bytes) +
                        " (--max-session-workspace-mb); retry when sessions end or expire");
    }
    c->second.state = Copy::State::kReady;
    c->second.users = 1;
    if (!session.empty()) sessions_[session].copies[m.workspace] = name;
    lease->copies.push_back(name);
    m.host = made->tree;
    cv_.notify_all();
  }
  finish_later();
  return lease;
}

void Sessions::release(Lease& lease) {
  std::vector<std::string> remove, to_finish;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& name : lease.copies) {
      auto c = copies_.find(name);
      if (c == copies_.end()) continue;
      if (c->second.users > 0) --c->second.users;
      if (c->second.session.empty()) {
        c->second.state = Copy::State::kClosing;  // a per-call copy ends with its call
        remove.push_back(name);
      }
    }
    if (!lease.session.empty()) {
      auto s = sessions_.find(lease.session);
      if (s != sessions_.end()) {
        if (s->second.active > 0) --s->second.active;
        s->second.last_used = o_.now();
        // Its client ended it while this call ran: it ends now.
        if (s->second.active == 0 && s->second.ending) end_locked(lease.session, to_finish);
      }
    }
  }
  // Removed first, uncounted after: the caps hold on what is on disk.
  for (const auto& name : remove) (void)workspace::discard(o_.home, name);
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& name : remove) copies_.erase(name);
    cv_.notify_all();
  }
  finish(to_finish);
}

}  // namespace wasmcap::mcp
