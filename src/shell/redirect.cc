// Redirections on any command (docs/shell.md "Redirections"): files opened beneath a preopen
// (paths.cc), descriptors duplicated, moved and closed among 0..kMaxFds-1 ({NAME} ones chosen
// from 10), here-documents and here-strings.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "shell/state.h"

namespace wasmcap::shell {

namespace {

// A here-document's or here-string's text as a readable descriptor: a memfd holding it (a
// regular file: a tool can read it at its pace, nothing to feed from a thread). Threat: a huge
// body. The text was charged to the budget while it was expanded; the memfd's copy stays
// charged (`lease`) while the command runs.
Result<Fd> text_fd(Ctx& ctx, std::string_view text, Opened& opened) {
  opened.leases.push_back(std::make_unique<Budget::Lease>(ctx.budget, text.size()));
  Fd fd(::memfd_create("wasmcap-sh-heredoc", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) return make_error(ErrorCode::kIo, std::string("memfd: ") + std::strerror(errno));
  // Sealed once written: the text is read-only, as bash's here-documents are (a tool given it
  // gets no write rights: tool.cc).
  if (!write_all(fd.get(), text.data(), text.size()) || ::lseek(fd.get(), 0, SEEK_SET) != 0 ||
      ::fcntl(fd.get(), F_ADD_SEALS,
              F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
    return make_error(ErrorCode::kIo, std::string("here-document: ") + std::strerror(errno));
  }
  return fd;
}

int open_flags(Redirect::Op op) {
  switch (op) {
    case Redirect::Op::kIn: return O_RDONLY;
    case Redirect::Op::kAppend:
    case Redirect::Op::kAppendErr: return O_WRONLY | O_CREAT | O_APPEND;
    case Redirect::Op::kReadWrite: return O_RDWR | O_CREAT;
    default: return O_WRONLY | O_CREAT | O_TRUNC;  // > >| &>
  }
}

}  // namespace

bool apply_redirects(Ctx& ctx, State& st, const std::vector<Redirect>& redirects, Io& io,
                     Opened& opened, int* subst_status) {
  const Io before = io;  // substitutions in targets read and report where the command would have
  auto fail = [&](const std::string& m) {
    emit(ctx, io.err(), "wasmcap sh: " + m + "\n");
    return false;
  };
  for (const Redirect& rd : redirects) {
    // {NAME} and expanded targets: the descriptor or the operation is decided now, on a copy.
    const bool dynamic = !rd.fd_var.empty() || rd.op == Redirect::Op::kDupWord;
    Redirect dyn;
    if (dynamic) dyn = rd;
    if (!dyn.fd_var.empty()) {
      if (dyn.op == Redirect::Op::kClose) {  // {NAME}>&-: the descriptor NAME holds
        std::string tmp;
        auto v = param_value(st, dyn.fd_var, &tmp);
        long n = -1;
        if (v && !v->empty() && v->size() <= 2 &&
            v->find_first_not_of("0123456789") == std::string_view::npos) {
          n = std::stol(std::string(*v));
        }
        if (n < 0 || n >= kMaxFds) return fail(shown(dyn.fd_var) + ": Bad file descriptor");
        dyn.fd = static_cast<int>(n);
      } else {  // the lowest closed descriptor from 10, NAME set to it
        int k = 10;
        while (k < kMaxFds && io.fd[k] != kClosed) ++k;
        if (k == kMaxFds) {
          return fail("{" + shown(dyn.fd_var) + "}: no free descriptor (at most " +
                      std::to_string(kMaxFds - 1) + ")");
        }
        dyn.fd = k;
        set_var(ctx, st, dyn.fd_var, ctx.str(std::to_string(k)));
        opened.named.push_back(k);
      }
    }
    if (dyn.op == Redirect::Op::kDupWord) {  // N>&$x: a number, -, M-, or (>&$x) a file
      Vec<Str> t(ctx.alloc());
      expand(ctx, st, dyn.target, false, before, subst_status, t);
      if (t.size() != 1) return fail(shown(t.empty() ? std::string_view() : view(t[0])) +
                                     ": ambiguous redirect");
      std::string_view w = view(t[0]);
      std::string_view num = !w.empty() && w.back() == '-' ? w.substr(0, w.size() - 1) : w;
      bool number = !num.empty() && num.find_first_not_of("0123456789") == std::string_view::npos;
      if (w == "-") {
        dyn.op = Redirect::Op::kClose;
      } else if (number) {
        dyn.op = num.size() < w.size() ? Redirect::Op::kMove : Redirect::Op::kDup;
        dyn.dup_to = num.size() <= 2 ? std::stoi(std::string(num)) : kMaxFds;
      } else if (dyn.out_err) {
        dyn.op = Redirect::Op::kOutErr;  // the file, as expanded (not expanded again below)
        WordPart name{WordPart::Kind::kLiteral, std::string(w), true};
        dyn.target.parts.assign(1, std::move(name));
      } else {
        return fail(shown(w) + ": ambiguous redirect");
      }
    }
    const Redirect& r = dynamic ? dyn : rd;
    switch (r.op) {
      case Redirect::Op::kDup:
      case Redirect::Op::kMove:
        if (r.dup_to >= kMaxFds || io.fd[r.dup_to] == kClosed) {
          return fail(std::to_string(r.dup_to) + ": Bad file descriptor");
        }
        io.fd[r.fd] = io.fd[r.dup_to];
        if (r.op == Redirect::Op::kMove && r.dup_to != r.fd) io.fd[r.dup_to] = kClosed;
        continue;
      case Redirect::Op::kClose:
        io.fd[r.fd] = kClosed;
        continue;
      case Redirect::Op::kHereDoc:
      case Redirect::Op::kHereString: {
        Str text = r.op == Redirect::Op::kHereDoc
                       ? expand_string(ctx, st, r.heredoc->body, before, subst_status)
                       : expand_string(ctx, st, r.target, before, subst_status);
        if (r.op == Redirect::Op::kHereString) text.push_back('\n');
        auto fd = text_fd(ctx, view(text), opened);
        if (!fd) return fail(fd.error().message);
        io.fd[r.fd] = fd->get();
        opened.fds.push_back(std::move(*fd));
        continue;
      }
      default:
        break;
    }
    Vec<Str> t(ctx.alloc());
    expand(ctx, st, r.target, true, before, subst_status, t);
    if (t.size() != 1) return fail(shown(t.empty() ? std::string_view() : view(t[0])) +
                                   ": ambiguous redirect");
    std::string_view path = view(t[0]);
    bool both = r.op == Redirect::Op::kOutErr || r.op == Redirect::Op::kAppendErr;
    // The virtual files: /dev/null (writes discarded, reads see EOF) and the shell's own
    // descriptors by name.
    int virt = path == "/dev/null" ? kNull
               : path == "/dev/stdin" ? io.fd[0]
               : path == "/dev/stdout" ? io.fd[1]
               : path == "/dev/stderr" ? io.fd[2]
                                       : -3;
    // /dev/fd/N: the shell's own descriptor N, as Linux's /dev/fd is the process's (bash on Linux
    // says "No such file or directory" for one that is not open).
    if (auto d = shell_dev_fd(io, path)) {
      if (*d == kClosed) return fail(shown(path) + ": No such file or directory");
      virt = *d;
    }
    if (virt != -3) {
      io.fd[r.fd] = virt;
      if (both) io.fd[2] = virt;
      continue;
    }
    // /dev/zero: reads give zero bytes, writes are discarded. The host's device, opened by this
    // fixed name only (a guest's path never reaches the host's /dev).
    if (path == "/dev/zero") {
      Fd z(::open("/dev/zero", (open_flags(r.op) & O_ACCMODE) | O_CLOEXEC));
      if (!z.valid()) return fail(shown(path) + ": " + std::strerror(errno));
      io.fd[r.fd] = z.get();
      if (both) io.fd[2] = z.get();
      opened.fds.push_back(std::move(z));
      continue;
    }
    // set -C: `>` and `&>` create the file, never truncate one (`>|` does).
    bool excl = st.opt_noclobber && (r.op == Redirect::Op::kOut || r.op == Redirect::Op::kOutErr);
    auto f = open_redirect(ctx, st.cwd, path, open_flags(r.op) | (excl ? O_EXCL : 0));
    if (!f && excl && stat_guest(ctx, st.cwd, path)) {
      return fail(shown(path) + ": cannot overwrite existing file");
    }
    if (!f) return fail(f.error().message);
    io.fd[r.fd] = f->get();
    if (both) io.fd[2] = f->get();
    opened.fds.push_back(std::move(*f));
  }
  return true;
}

}  // namespace wasmcap::shell
