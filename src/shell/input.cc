// The shell's script read from a descriptor as it runs (Session::run_input): what `wasmcap sh`
// does with a script on a stdin that is not a terminal, as bash does. bash never reads past the
// command it is about to run, so the commands of a script piped in read the rest of it
// (`read line` gets the script's next line), and a program that keeps the pipe open drives a
// live shell: it writes a command, reads its output, writes the next (agent harnesses hold a
// shell this way). A script read whole before it runs did neither: it waited for the writer to
// close the pipe, and its commands saw an empty stdin.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "shell/parse.h"
#include "shell/state.h"
#include "wasmcap/shell.h"

namespace wasmcap::shell {

namespace {

// One command's text (a line, or the lines a compound command or here-document spans) is at
// most this long, as a script FILE is.
constexpr size_t kMaxCommandBytes = 16u << 20;

// Whether the lines read so far end inside a construct is asked after every line while one
// command has fewer than this many lines and bytes, then only when its lines or its bytes have
// doubled since the last time: the question parses all the lines again, so asking it at every
// line of an N-line function would parse O(N^2) bytes (now at most 256 x 64 KiB, then a
// logarithmic number of parses of at most 16 MiB). The price, past those sizes only: up to as
// many lines again may be read ahead of a long compound command's end, which its commands then
// cannot read from the input.
constexpr size_t kLinesAskedEach = 256;
constexpr size_t kBytesAskedEach = 64 * 1024;

// The descriptor, read never past what is taken: a pipe or terminal a byte at a time (waiting
// in slices, so the deadline ends a wait on a writer that sends nothing), a regular file in
// blocks, with the offset put back before a command runs (give_back), as bash does.
class ScriptInput {
 public:
  explicit ScriptInput(int fd) : fd_(fd) {
    struct stat s {};
    seekable_ = fd >= 0 && ::fstat(fd, &s) == 0 && S_ISREG(s.st_mode) &&
                ::lseek(fd, 0, SEEK_CUR) >= 0;
  }

  // Appends the next line, with its newline if it has one, to `out`: false at the end of the
  // input (or a read error) with nothing appended. Stops early, true, when `out` passes
  // kMaxCommandBytes. The deadline throws LimitHit from a wait.
  bool line(Ctx& ctx, std::string* out) {
    bool any = false;
    for (;;) {
      if (pos_ == buf_.size() && !fill(ctx)) return any;
      size_t nl = buf_.find('\n', pos_);
      size_t end = nl == std::string::npos ? buf_.size() : nl + 1;
      out->append(buf_, pos_, end - pos_);
      pos_ = end;
      any = true;
      if (nl != std::string::npos || out->size() > kMaxCommandBytes) return true;
    }
  }

  // The errno of a failed read that ended the input (0: it ended at EOF).
  int read_error() const { return error_; }

  // Before commands run: a regular file's offset back to the end of what was taken.
  void give_back() {
    if (seekable_ && pos_ < buf_.size()) {
      (void)::lseek(fd_, -static_cast<off_t>(buf_.size() - pos_), SEEK_CUR);
    }
    buf_.clear();
    pos_ = 0;
  }

 private:
  bool fill(Ctx& ctx) {
    buf_.clear();
    pos_ = 0;
    if (fd_ < 0) return false;
    char block[65536];
    ssize_t n;
    if (seekable_) {
      do {
        n = ::read(fd_, block, sizeof block);
      } while (n < 0 && errno == EINTR);
    } else {
      n = read_waiting(ctx, fd_, block, 1);
    }
    if (n < 0) error_ = errno;  // the input ends there, reported (read_error)
    if (n <= 0) return false;
    buf_.assign(block, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  int error_ = 0;
  bool seekable_ = false;
  std::string buf_;  // read, not yet taken from pos_ on
  size_t pos_ = 0;
};

}  // namespace

int run_input(Ctx& ctx, State& st, int fd, const Io& io, const char* what) {
  ScriptInput in(fd);
  int line = 1;  // $LINENO of the next command's first line
  std::string text;
  try {
    while (!stopping(ctx, st)) {
      // The next complete command: lines until the text does not end inside a construct (or
      // the input ends; an incomplete command is then the syntax error the parse reports).
      text.clear();
      size_t lines = 0, asked_lines = 0, asked_bytes = 0;
      bool end = false;
      for (;;) {
        if (!in.line(ctx, &text)) {
          end = true;
          break;
        }
        ++lines;
        if (text.size() > kMaxCommandBytes) {
          in.give_back();
          emit(ctx, io.err(), std::string("wasmcap sh: ") + what + ": line " +
                                  std::to_string(line) +
                                  ": a command longer than 16 MiB: the script ends here\n");
          return st.last = 2;
        }
        const bool each = lines < kLinesAskedEach && text.size() < kBytesAskedEach;
        if (!each && lines < 2 * asked_lines && text.size() < 2 * asked_bytes) continue;
        if (!needs_more_input(text)) break;
        asked_lines = lines;
        asked_bytes = text.size();
      }
      in.give_back();
      if (!text.empty()) {
        Budget::Lease held(ctx.budget, text.size());
        // One line may hold several commands (`alias a=b; a`): each parsed with the aliases of
        // its moment, as a script is read. As bash, a syntax error ends a script that is not
        // interactive, with status 2.
        bool syntax_error = false;
        run_units(ctx, st, text, 0, line, io, what, &syntax_error);
        if (syntax_error) return st.last;
      }
      if (end) {
        if (int e = in.read_error()) {
          // (Reached only at the end of what could be read: the commands before it ran.)
          emit(ctx, io.err(), std::string("wasmcap sh: ") + what + ": cannot read the script: " +
                                  std::strerror(e) + "\n");
          st.last = error_exit_code(ErrorCode::kIo);
        }
        break;
      }
      // (An endless input's count stops at INT_MAX rather than overflow.)
      line = static_cast<int>(std::min<size_t>(static_cast<size_t>(line) + lines, INT_MAX));
    }
  } catch (const LimitHit& h) {
    // The deadline in a wait for input (recorded: the run ends with it), or the text of one
    // command over the shell's memory limit.
    limit_status(ctx, h, io.err());
    if (!h.stop()) st.last = 2;
  }
  return st.last;
}

}  // namespace wasmcap::shell
