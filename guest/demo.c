// The README demo: what an agent's tool sees inside a wasmcap sandbox.
// Run with a workspace preopened at /work (and optionally a read-only /data). It works inside
// the workspace, then tries to step outside it in several ways and reports each outcome.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int refused = 0, escaped = 0;

static void try_open(const char* label, const char* path, int flags) {
  int fd = open(path, flags, 0644);
  if (fd >= 0) {
    printf("  [ESCAPED] %-44s %s\n", label, path);
    escaped++;
    close(fd);
  } else {
    printf("  [refused] %-44s %s (%s)\n", label, path, strerror(errno));
    refused++;
  }
}

int main(void) {
  printf("== inside the workspace /work ==\n");
  DIR* d = opendir("/work");
  if (!d) {
    printf("  cannot list /work: %s (run with --dir WS::/work)\n", strerror(errno));
    return 2;
  }
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    printf("  found    /work/%s\n", e->d_name);
  }
  closedir(d);

  FILE* in = fopen("/work/notes.txt", "r");
  if (in) {
    char line[256];
    if (fgets(line, sizeof line, in)) printf("  read     /work/notes.txt: %s", line);
    fclose(in);
  }
  FILE* out = fopen("/work/report.txt", "w");
  if (out) {
    fprintf(out, "written by a sandboxed tool\n");
    fclose(out);
    printf("  wrote    /work/report.txt\n");
  }

  printf("== attempts to leave the sandbox ==\n");
  try_open("parent directory via ..", "/work/../secret.txt", O_RDONLY);
  try_open("absolute host path", "/etc/passwd", O_RDONLY);
  try_open("symlink planted in the workspace", "/work/escape-link/passwd", O_RDONLY);
  try_open("create a file outside", "/work/../../tmp/pwned", O_WRONLY | O_CREAT);
  if (access("/data", F_OK) == 0) {
    try_open("write into the read-only /data", "/data/new.txt", O_WRONLY | O_CREAT);
  }
  const char* home = getenv("HOME");
  printf("  [%s] %-44s HOME=%s\n", home ? "LEAKED " : "refused", "host environment variable",
         home ? home : "(unset: no ambient environment)");
  if (!home) refused++; else escaped++;

  printf("== summary: %d refused, %d escaped ==\n", refused, escaped);
  return escaped == 0 ? 0 : 1;
}
