// mapfile / readarray (docs/shell.md "Commands"): the lines of a descriptor into an indexed
// array, as bash's: -t, -n COUNT, -O ORIGIN, -s COUNT, -d DELIM, -u FD, -C CALLBACK, -c QUANTUM,
// MAPFILE by default; bash's messages and statuses.
//
// Threat: an input without end (`yes | mapfile`, a line that never ends). The line being read is
// a budget-charged string and every stored line an element charged as any array's, so the
// bytes stop at --max-shell-memory; the lines one mapfile stores are counted against
// --max-words, as `read -a`'s fields are. Waits see the script's deadline (read_bounded).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "shell/lex.h"
#include "shell/state.h"
#include "shell/test_expr.h"

namespace wasmcap::shell {

namespace {

constexpr int64_t kDefaultQuantum = 5000;  // -c's default (bash's)
constexpr size_t kBlock = 65536;           // a buffered read

struct MapfileArgs {
  char delim = '\n';
  int64_t count = 0;  // -n: 0 = every line
  int64_t origin = 0;
  bool clear = true;  // no -O: the array is emptied first
  int64_t skip = 0;
  bool chop = false;
  int fd = 0;
  bool has_callback = false;  // -C
  std::string_view callback;
  int64_t quantum = kDefaultQuantum;
  std::string_view name = "MAPFILE";
};

// Lines of one descriptor. Where bash reads a byte at a time (a pipe or terminal: the rest of
// the input must stay for the next command) it does too, unless every line will be read anyway
// (no -n, no callback); a seekable input is read in blocks and what was read past the last line
// is given back with lseek, before a callback runs and at the end.
class LineReader {
 public:
  LineReader(Ctx& ctx, int fd, char delim, bool buffered)
      : ctx_(ctx), fd_(fd), delim_(delim), buf_(ctx.str()), line_(ctx.str()) {
    seekable_ = fd >= 0 && ::lseek(fd, 0, SEEK_CUR) >= 0;
    block_ = seekable_ || buffered ? kBlock : 1;
  }
  ~LineReader() { give_back(); }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line, its delimiter kept when it had one; false at the end of the input (or a read
  // error: error() tells).
  bool next(Str** line) {
    line_.clear();
    for (;;) {
      if (at_ == buf_.size() && !fill()) {
        *line = &line_;
        return !line_.empty();
      }
      const char* p = buf_.data() + at_;
      size_t left = buf_.size() - at_;
      const void* d = std::memchr(p, delim_, left);
      size_t take = d == nullptr ? left : static_cast<size_t>(static_cast<const char*>(d) - p) + 1;
      line_.append(p, take);
      at_ += take;
      if (d != nullptr) {
        *line = &line_;
        return true;
      }
    }
  }
  // Puts the descriptor back at the end of the last line returned (seekable input).
  void give_back() {
    if (seekable_ && at_ < buf_.size()) {
      ::lseek(fd_, -static_cast<off_t>(buf_.size() - at_), SEEK_CUR);
    }
    buf_.clear();
    at_ = 0;
  }
  int error() const { return error_; }

 private:
  bool fill() {
    buf_.clear();
    at_ = 0;
    if (fd_ < 0 || eof_) return false;  // kNull: /dev/null's end; a closed descriptor: none
    // read_bounded returns with `block_` bytes or at the end; a pipe's rest stays unread when
    // block_ is 1.
    errno = 0;
    if (!read_bounded(ctx_, fd_, block_, &buf_)) error_ = errno == 0 ? EIO : errno;
    if (buf_.size() < block_) eof_ = true;
    return !buf_.empty();
  }

  Ctx& ctx_;
  int fd_;
  char delim_;
  bool seekable_ = false;
  size_t block_ = 1;
  bool eof_ = false;
  int error_ = 0;
  Str buf_;
  size_t at_ = 0;
  Str line_;
};

// bash's sh_single_quote of the line, after CALLBACK and the index: `cb 4 'it'\''s'`.
int run_callback(Ctx& ctx, State& st, const Io& io, std::string_view callback, int64_t index,
                 std::string_view line) {
  std::string text(callback);
  text += ' ';
  text += std::to_string(index);
  text += ' ';
  text += quote_single(line);
  Budget::Lease lease(ctx.budget, text.size());
  return run_script_text(ctx, st, text, io, "mapfile");
}

}  // namespace

bool is_mapfile_builtin(std::string_view n) { return n == "mapfile" || n == "readarray"; }

int run_mapfile_builtin(Ctx& ctx, State& st, const Vec<Str>& argv, const Io& io,
                        std::atomic<uint64_t>* err_b) {
  const std::string cmd(view(argv[0]));
  auto say = [&](const std::string& m, int status) {
    emit(ctx, io.err(), "wasmcap sh: " + cmd + ": " + m + "\n", err_b);
    return status;
  };
  auto usage = [&](const std::string& m) {
    return say(m + "\n" + cmd + ": usage: " + cmd +
                   " [-d delim] [-n count] [-O origin] [-s count] [-t] [-u fd] [-C callback] "
                   "[-c quantum] [array]",
               2);
  };
  // A count: a number from 0 (1 for -c) to UINT_MAX, as bash's.
  auto count = [](std::string_view v, int64_t min, int64_t* out) {
    auto n = legal_number(v);
    if (!n || *n < min || *n > int64_t{UINT32_MAX}) return false;
    *out = *n;
    return true;
  };
  MapfileArgs m;
  m.fd = io.in();
  size_t i = 1;
  // Options as bash's getopt reads them: grouped (`-tn2`), a value in the rest of the word or
  // the next word; `--` or the first word that is not an option ends them.
  for (; i < argv.size(); ++i) {
    std::string_view o = view(argv[i]);
    if (o == "--") {
      ++i;
      break;
    }
    if (o.size() < 2 || o[0] != '-') break;
    for (size_t k = 1; k < o.size(); ++k) {
      char f = o[k];
      if (f == 't') {
        m.chop = true;
        continue;
      }
      std::string letter(1, '-');
      letter += shown(std::string_view(&f, 1));
      if (std::string_view("dunOCcs").find(f) == std::string_view::npos) {
        return usage(letter + ": invalid option");
      }
      std::string_view v;
      if (k + 1 < o.size()) {
        v = o.substr(k + 1);
      } else if (i + 1 < argv.size()) {
        v = view(argv[++i]);
      } else {
        return usage(letter + ": option requires an argument");
      }
      if (f == 'd') {
        m.delim = v.empty() ? '\0' : v[0];
      } else if (f == 'u') {
        auto n = legal_number(v);
        if (!n || *n < 0 || *n > INT32_MAX) {
          return say(shown(v) + ": invalid file descriptor specification", 1);
        }
        if (*n >= kMaxFds || io.fd[*n] == kClosed) {
          return say(std::to_string(*n) + ": invalid file descriptor: " + std::strerror(EBADF), 1);
        }
        m.fd = io.fd[*n];
      } else if (f == 'n') {
        if (!count(v, 0, &m.count)) return say(shown(v) + ": invalid line count", 1);
      } else if (f == 's') {
        if (!count(v, 0, &m.skip)) return say(shown(v) + ": invalid line count", 1);
      } else if (f == 'O') {
        if (!count(v, 0, &m.origin)) return say(shown(v) + ": invalid array origin", 1);
        m.clear = false;
      } else if (f == 'c') {
        if (!count(v, 1, &m.quantum)) return say(shown(v) + ": invalid callback quantum", 1);
      } else {
        m.has_callback = true;
        m.callback = v;
      }
      break;
    }
  }
  if (i < argv.size()) {  // words after the name are ignored, as bash does
    m.name = view(argv[i]);
    if (m.name.empty()) return say("empty array variable name", 2);
  }
  bool valid = detail::is_name_start(m.name[0]);
  for (char c : m.name) valid = valid && detail::is_name_char(c);
  if (!valid) return say(std::string(1, '`').append(shown(m.name)) + "': not a valid identifier", 1);
  if (find_assoc(st, m.name) != nullptr) return say(shown(m.name) + ": not an indexed array", 1);
  ArrayElems& arr = array_for_write(ctx, st, m.name);  // readonly: AssignError, as bash's message
  if (m.clear) arr.clear();

  LineReader in(ctx, m.fd == kClosed ? kNull : m.fd, m.delim, m.count == 0 && !m.has_callback);
  Str* line = nullptr;
  for (int64_t k = 0; k < m.skip && in.next(&line); ++k) {
  }
  int64_t stored = 0;
  int64_t index = m.origin;
  while ((m.count == 0 || stored < m.count) && in.next(&line)) {
    if (m.chop && !line->empty() && line->back() == m.delim) line->pop_back();
    // A value ends at its first NUL byte, as in bash (a variable cannot hold one).
    std::string_view value = view(*line);
    value = value.substr(0, value.find('\0'));
    ++stored;
    ctx.budget->check_words(static_cast<size_t>(stored), cmd + " read", "lines");
    if (m.has_callback && stored % m.quantum == 0) {
      in.give_back();  // the callback reads on from the end of this line
      Str held = ctx.str(value);
      run_callback(ctx, st, io, m.callback, index, view(held));
      if (stopping(ctx, st)) break;
      set_element(ctx, st, m.name, index++, std::move(held));
      continue;
    }
    set_element(ctx, st, m.name, index++, ctx.str(value));
  }
  in.give_back();
  if (in.error() != 0) return say(std::string("read error: ") + std::strerror(in.error()), 1);
  return 0;
}

}  // namespace wasmcap::shell
