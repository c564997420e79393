/* wasmcap: forced include for gnulib-based programs on WASI (no includes: gnulib's headers
   want config.h first). */
struct _IO_FILE;
void flockfile(struct _IO_FILE *);
void funlockfile(struct _IO_FILE *);
void tzset(void);
#define F_DUPFD 0 /* gnulib would make it 1, which is wasi-libc's F_GETFD */
/* Never called (diff -l is refused: PR_PROGRAM is empty), but referenced. */
struct _IO_FILE *popen(const char *, const char *);
int pclose(struct _IO_FILE *);
/* WASI's filestat has no block size: wasi-libc's st_blksize is 0, which makes diff and cmp read
   (and look for binary content) a word at a time. 4096, what Linux reports for most files. */
#define STAT_BLOCKSIZE(s) ((s).st_blksize ? (s).st_blksize : 4096)
