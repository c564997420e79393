// Prints what the guest sees of its stdio: for fds 0, 1 and 2, isatty() and the WASI filetype
// fd_fdstat_get reports, one line each:
//   fd=N isatty=0|1 filetype=T
// (T: 0 unknown, 2 character_device, 4 regular_file, 6 socket_stream, ... as in WASI).
// With an argument "err" the lines go to stderr instead (so stdout's type can be a terminal
// while the lines are still captured).
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

int main(int argc, char** argv) {
  FILE* to = argc > 1 && strcmp(argv[1], "err") == 0 ? stderr : stdout;
  for (int fd = 0; fd < 3; fd++) {
    __wasi_fdstat_t st;
    memset(&st, 0, sizeof st);
    __wasi_errno_t e = __wasi_fd_fdstat_get(fd, &st);
    int tty = isatty(fd);
    if (e != 0) {
      fprintf(to, "fd=%d isatty=%d errno=%d\n", fd, tty, e);
    } else {
      fprintf(to, "fd=%d isatty=%d filetype=%d\n", fd, tty, st.fs_filetype);
    }
  }
  return 0;
}
