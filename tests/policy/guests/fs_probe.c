// Policy test guest: for each directory given as an argument, tries a few filesystem
// operations on it and prints one line per operation: "OP DIR: ok" or "OP DIR: ENOTCAPABLE"
// (or another errno number). Used to check that a denied preopen refuses everything.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void report(const char* op, const char* dir, int ok) {
  if (ok) {
    printf("%s %s: ok\n", op, dir);
  } else if (errno == ENOTCAPABLE) {
    printf("%s %s: ENOTCAPABLE\n", op, dir);
  } else {
    printf("%s %s: errno %d\n", op, dir, errno);
  }
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* dir = argv[i];
    char path[512];
    struct stat st;

    errno = 0;
    report("stat", dir, stat(dir, &st) == 0);

    errno = 0;
    DIR* d = opendir(dir);
    report("opendir", dir, d != NULL);
    if (d != NULL) closedir(d);

    snprintf(path, sizeof path, "%s/existing.txt", dir);
    errno = 0;
    int fd = open(path, O_RDONLY);
    report("read", dir, fd >= 0);
    if (fd >= 0) close(fd);

    snprintf(path, sizeof path, "%s/created.txt", dir);
    errno = 0;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    report("create", dir, fd >= 0);
    if (fd >= 0) close(fd);

    snprintf(path, sizeof path, "%s/subdir", dir);
    errno = 0;
    report("mkdir", dir, mkdir(path, 0755) == 0);
  }
  return 0;
}
