/* wasmcap: forced include for gzip (after compat.h): what its gnulib modules call that WASI does
   not have (gzip.c's implementations). No includes: gnulib's headers want config.h first. */
/* No descriptor duplication: fails (dup2(fd, fd), gnulib's "is fd open" test, is answered). */
int dup(int);
int dup2(int, int);
/* No permission bits: setting them is a no-op that succeeds (gzip copies the input's mode). */
int chmod(const char *, unsigned int);
int fchmod(int, unsigned int);
/* No fchdir (wasi-libc keeps the working directory as a name; a descriptor has none), no pipes:
   both fail. */
int fchdir(int);
int pipe(int[2]);
