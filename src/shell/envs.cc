// What the pure evaluation modules ask of the shell: variables for arithmetic (arith.h), files,
// variables and options for test / [ (test_expr.h). Files resolve beneath the preopens only.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shell/arith.h"
#include "shell/state.h"
#include "shell/test_expr.h"

namespace wasmcap::shell {

namespace {

class ShellArith : public ArithEnv {
 public:
  ShellArith(Ctx& ctx, State& st) : ctx_(ctx), st_(st) {}
  Result<std::optional<std::string>> get(std::string_view name) override {
    std::string tmp;
    auto v = param_value(st_, name, &tmp);
    if (!v) return unset(name);
    return std::optional<std::string>(std::string(*v));
  }
  Result<void> set(std::string_view name, int64_t value) override {
    try {
      set_var(ctx_, st_, name, ctx_.str(std::to_string(value)));
    } catch (const AssignError& e) {
      return make_error(ErrorCode::kInvalidArgument, e.message);
    }
    return {};
  }
  bool is_assoc(std::string_view name) override { return find_assoc(st_, name) != nullptr; }
  Result<std::optional<std::string>> get_element(std::string_view name,
                                                 const ArrayKey& key) override {
    if (key.assoc) {
      const Assoc* as = find_assoc(st_, name);
      auto it = as == nullptr ? AssocElems::const_iterator{} : as->elems.find(std::string_view(key.key));
      if (as == nullptr || it == as->elems.end()) return unset(name);
      return std::optional<std::string>(std::string(view(it->second.value)));
    }
    const ArrayElems* arr = find_array(st_, name);
    if (arr == nullptr) {  // a scalar is element 0
      if (key.index != 0) return unset(name);
      return get(name);
    }
    int64_t i = key.index;
    if (i < 0) {
      int64_t end = arr->empty() ? 0 : arr->rbegin()->first + 1;
      if (end + i < 0) {
        return make_error(ErrorCode::kInvalidArgument,
                          std::string(name) + ": bad array subscript");
      }
      i += end;
    }
    auto it = arr->find(i);
    if (it == arr->end()) return unset(name);
    return std::optional<std::string>(std::string(view(it->second)));
  }
  Result<void> set_element(std::string_view name, const ArrayKey& key, int64_t value) override {
    try {
      if (key.assoc) {
        set_assoc_element(ctx_, st_, name, ctx_.str(key.key), ctx_.str(std::to_string(value)));
        return {};
      }
      shell::set_element(ctx_, st_, name, key.index, ctx_.str(std::to_string(value)));
    } catch (const AssignError& e) {
      return make_error(ErrorCode::kInvalidArgument, e.message);
    }
    return {};
  }

 private:
  // An unset variable is 0, or under `set -u` an error (bash's message).
  Result<std::optional<std::string>> unset(std::string_view name) {
    if (st_.opt_nounset) {
      return make_error(ErrorCode::kInvalidArgument, std::string(name) + ": unbound variable");
    }
    return std::optional<std::string>();
  }

  Ctx& ctx_;
  State& st_;
};

class ShellTest : public TestEnv {
 public:
  ShellTest(Ctx& ctx, State& st, const Io& io) : ctx_(ctx), st_(st), io_(io) {}

  std::optional<FileInfo> stat(std::string_view path, bool follow) override {
    if (path.empty()) return std::nullopt;
    if (auto d = shell_dev_fd(io_, path)) {  // a `<(list)`'s pipe, `3<f`
      int fd = *d;
      struct stat s {};
      if (fd == kClosed || (fd >= 0 && ::fstat(fd, &s) != 0)) return std::nullopt;
      FileInfo i;
      i.type = fd == kNull ? FileInfo::Type::kChar
               : S_ISFIFO(s.st_mode) ? FileInfo::Type::kFifo
               : S_ISREG(s.st_mode)  ? FileInfo::Type::kRegular
                                     : FileInfo::Type::kChar;
      i.mode = fd == kNull ? 0666 : s.st_mode & 0777;
      i.size = fd == kNull || !S_ISREG(s.st_mode) ? 0 : static_cast<uint64_t>(s.st_size);
      i.dev = fd == kNull ? 0 : s.st_dev;
      i.ino = fd == kNull ? 0 : s.st_ino;
      i.owned_by_euid = i.group_is_egid = true;
      return i;
    }
    if (is_guest_device(ctx_, st_.cwd, path)) {  // the tools' /dev (paths.cc): a character device
      FileInfo i;
      i.type = FileInfo::Type::kChar;
      i.mode = 0666;
      return i;
    }
    if (auto v = virtual_entry(ctx_, st_.cwd, path)) {  // above the preopens: root's
      auto s = stat_guest(ctx_, st_.cwd, path);
      if (!s) return std::nullopt;
      FileInfo i;
      i.type = S_ISDIR(s->st_mode) ? FileInfo::Type::kDirectory : FileInfo::Type::kRegular;
      i.mode = s->st_mode & 07777;
      i.ino = s->st_ino;
      return i;
    }
    auto f = resolve_guest(ctx_, st_.cwd, path, follow);
    if (!f) return std::nullopt;
    struct stat s {};
    if (::fstatat(f->rp.dir.get(), f->rp.name.c_str(), &s, AT_SYMLINK_NOFOLLOW) != 0) {
      return std::nullopt;
    }
    FileInfo i;
    i.type = S_ISREG(s.st_mode)    ? FileInfo::Type::kRegular
             : S_ISDIR(s.st_mode)  ? FileInfo::Type::kDirectory
             : S_ISLNK(s.st_mode)  ? FileInfo::Type::kSymlink
             : S_ISFIFO(s.st_mode) ? FileInfo::Type::kFifo
             : S_ISSOCK(s.st_mode) ? FileInfo::Type::kSocket
             : S_ISBLK(s.st_mode)  ? FileInfo::Type::kBlock
             : S_ISCHR(s.st_mode)  ? FileInfo::Type::kChar
                                   : FileInfo::Type::kOther;
    i.size = static_cast<uint64_t>(s.st_size);
    i.mode = s.st_mode & 07777;
    i.dev = s.st_dev;
    i.ino = s.st_ino;
    i.mtime_ns = static_cast<int64_t>(s.st_mtim.tv_sec) * 1000000000 + s.st_mtim.tv_nsec;
    i.atime_ns = static_cast<int64_t>(s.st_atim.tv_sec) * 1000000000 + s.st_atim.tv_nsec;
    // Every file is the sandbox user's (access below; the tools show it as the owner).
    i.owned_by_euid = i.group_is_egid = true;
    return i;
  }

  // A read-only preopen is never writable, whatever the file's mode says.
  bool access(std::string_view path, char mode) override {
    if (auto d = shell_dev_fd(io_, path)) {  // a `<(list)`'s pipe, `3<f`
      int fd = *d;
      if (fd == kClosed || mode == 'x') return false;
      if (fd == kNull) return true;
      // As access(2) on Linux's /dev/fd/N answers: the object's permission bits, not the
      // descriptor's access (a pipe is 0600: `[ -w <(:) ]` is true in bash).
      struct stat sb {};
      return ::fstat(fd, &sb) == 0 && (sb.st_mode & (mode == 'r' ? S_IRUSR : S_IWUSR)) != 0;
    }
    if (is_guest_device(ctx_, st_.cwd, path)) return mode != 'x';
    if (auto v = virtual_entry(ctx_, st_.cwd, path)) {
      // Root's: a directory is read and searched, a command only run (stat_guest's modes).
      using K = wasi::VirtualTree::Found::Kind;
      return (v->kind == K::kDir && mode != 'w') || (v->kind == K::kCommand && mode == 'x');
    }
    auto f = resolve_guest(ctx_, st_.cwd, path, true);
    if (!f) return false;
    if (mode == 'w' && f->preopen->read_only) return false;
    // The sandbox's user owns every file it sees (kShellUid; the tools show the same owner):
    // the owner's bits answer, as access(2) answers a user who is not root, whoever runs
    // wasmcap (root's access(2) would say yes to every read and write).
    struct stat s {};
    if (::fstatat(f->rp.dir.get(), f->rp.name.c_str(), &s, AT_SYMLINK_NOFOLLOW) != 0) return false;
    return (s.st_mode & (mode == 'r' ? S_IRUSR : mode == 'w' ? S_IWUSR : S_IXUSR)) != 0;
  }

  bool isatty(int64_t fd) override {
    if (fd < 0 || fd >= kMaxFds) return false;
    int real = io_.fd[fd];
    return real >= 0 && ::isatty(real) == 1;
  }

  // -v NAME, and -v NAME[SUB] (bash): an element of an indexed array (SUB arithmetic, negative
  // from the end; [@] and [*]: any element) or of an associative one (SUB the key, even @).
  bool variable_set(std::string_view name) override {
    std::string tmp;
    size_t br = name.find('[');
    if (br == std::string_view::npos || br == 0 || name.back() != ']') {
      return param_value(st_, name, &tmp).has_value();
    }
    std::string_view base = name.substr(0, br);
    std::string_view sub = name.substr(br + 1, name.size() - br - 2);
    const ArrayElems* arr = find_array(st_, base);
    if (const Assoc* as = find_assoc(st_, base)) return as->elems.find(sub) != as->elems.end();
    if (sub == "@" || sub == "*") {
      if (arr != nullptr) return !arr->empty();
      return param_value(st_, base, &tmp).has_value();
    }
    auto i = arith_eval(ctx_, st_, sub);
    if (!i) return false;
    if (arr == nullptr) return *i == 0 && param_value(st_, base, &tmp).has_value();
    int64_t k = *i;
    if (k < 0) k += arr->empty() ? 0 : arr->rbegin()->first + 1;
    if (k < 0) {
      emit(ctx_, io_.err(), "wasmcap sh: " + shown(base) + ": bad array subscript\n");
      return false;
    }
    return arr->find(k) != arr->end();
  }

  bool option_set(std::string_view name) override {
    if (name == "errexit") return st_.opt_errexit;
    if (name == "nounset") return st_.opt_nounset;
    if (name == "xtrace") return st_.opt_xtrace;
    if (name == "noglob") return st_.opt_noglob;
    if (name == "pipefail") return st_.opt_pipefail;
    if (name == "noclobber") return st_.opt_noclobber;
    return false;
  }

  Result<int64_t> arith(std::string_view expr) override {
    ShellArith env(ctx_, st_);
    return eval_arith(expr, env);
  }

 private:
  Ctx& ctx_;
  State& st_;
  const Io& io_;
};

}  // namespace

Result<int64_t> arith_eval(Ctx& ctx, State& st, std::string_view expr) {
  ctx.budget->check();
  ShellArith env(ctx, st);
  return eval_arith(expr, env);
}

std::unique_ptr<TestEnv> make_test_env(Ctx& ctx, State& st, const Io& io) {
  return std::make_unique<ShellTest>(ctx, st, io);
}

Result<bool> test_eval(Ctx& ctx, State& st, const Io& io, const std::vector<std::string>& argv,
                       bool bracket) {
  ShellTest env(ctx, st, io);
  return eval_test(argv, bracket, env);
}

}  // namespace wasmcap::shell
