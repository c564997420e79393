// Shared declarations of the wasmcap core utilities (one multi-call WASI module; see README.md).
#ifndef WASMCAP_COREUTILS_CU_H
#define WASMCAP_COREUTILS_CU_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

// The name used as the prefix of every diagnostic ("ls", "grep", ...).
extern const char *cu_prog;

// Tool entry points: argv[0] is the tool name; the return value is the exit status.
int cu_ls(int argc, char **argv);
int cu_cat(int argc, char **argv);
int cu_grep(int argc, char **argv);
int cu_mkdir(int argc, char **argv);
int cu_touch(int argc, char **argv);
int cu_rm(int argc, char **argv);
int cu_cp(int argc, char **argv);
int cu_mv(int argc, char **argv);
int cu_head(int argc, char **argv);
int cu_tail(int argc, char **argv);
int cu_wc(int argc, char **argv);
int cu_pwd(int argc, char **argv);
int cu_find(int argc, char **argv);
int cu_sed(int argc, char **argv);
int cu_sort(int argc, char **argv);
int cu_uniq(int argc, char **argv);
int cu_cut(int argc, char **argv);
int cu_tr(int argc, char **argv);
int cu_tee(int argc, char **argv);
int cu_basename(int argc, char **argv);
int cu_dirname(int argc, char **argv);
int cu_seq(int argc, char **argv);
int cu_env(int argc, char **argv);
int cu_yes(int argc, char **argv);
int cu_realpath(int argc, char **argv);
int cu_readlink(int argc, char **argv);
int cu_mktemp(int argc, char **argv);
int cu_sleep(int argc, char **argv);
int cu_rev(int argc, char **argv);
int cu_paste(int argc, char **argv);
int cu_comm(int argc, char **argv);
int cu_fold(int argc, char **argv);
int cu_expand(int argc, char **argv);
int cu_unexpand(int argc, char **argv);
int cu_nl(int argc, char **argv);
int cu_base64(int argc, char **argv);
int cu_md5sum(int argc, char **argv);
int cu_sha1sum(int argc, char **argv);
int cu_sha256sum(int argc, char **argv);
int cu_cksum(int argc, char **argv);

// cksum's algorithms beyond md5sum's, sha1sum's and sha256sum's (digest.c's kinds 5, 1, 224,
// 256): SHA-384, SHA-512, SM3 (3) and BLAKE2b of BITS (CU_B2(BITS)) in hash64.c, and the sums.
#define CU_B2(bits) (0x10000 + (bits))
enum { CU_CRC = -1, CU_SYSV = -2, CU_BSD = -3 };
// Hashes all of FD as KIND into HEX (lowercase, NUL-terminated; 129 bytes). 0, or -1 (errno).
int cu_hash_ext_fd(int fd, int kind, char *hex);
// cksum's CRC, sum -s's or sum -r's checksum of all of FD, and its length. 0, or -1 (errno).
int cu_sum_fd(int fd, int kind, uint32_t *sum, uint64_t *bytes);
int cu_date(int argc, char **argv);
int cu_tac(int argc, char **argv);
int cu_od(int argc, char **argv);
int cu_ln(int argc, char **argv);
int cu_stat(int argc, char **argv);
int cu_split(int argc, char **argv);
int cu_join_tool(int argc, char **argv);  // join (cu_join is the path helper)
int cu_du(int argc, char **argv);
int cu_rmdir(int argc, char **argv);
int cu_printenv(int argc, char **argv);
int cu_nproc(int argc, char **argv);
int cu_true(int argc, char **argv);
int cu_false(int argc, char **argv);
int cu_egrep(int argc, char **argv);
int cu_fgrep(int argc, char **argv);
int cu_hostname(int argc, char **argv);
int cu_uname(int argc, char **argv);
int cu_arch(int argc, char **argv);
int cu_whoami(int argc, char **argv);
int cu_id(int argc, char **argv);

// The sandbox's user and group ids (the shell's $UID), never the host's.
#define CU_SANDBOX_UID 1000
// The sandbox's host name: `hostname` and `uname -n` (sysinfo.c).
#define CU_SANDBOX_HOSTNAME "localhost"
#define CU_SANDBOX_GID 1000
#define CU_STR_UID "1000"
// The sandbox user's name when the operator gave one (USER: see sysinfo.c), else NULL.
const char *cu_user_name(void);

// "PROG: PATH: <strerror(err)>" on stderr; paths leading outside every granted directory say
// so. `what` (may be NULL) is a GNU-style context such as "cannot remove".
void cu_err(const char *what, const char *path, int err);
// strerror with glibc's wording where wasi-libc's differs (GNU's messages quote glibc's).
const char *cu_strerror(int err);
// Writes NAME as GNU's messages quote file names (quotef: shell quoting when needed).
void cu_quote_name(FILE *f, const char *name);
// NAME as GNU's quoteaf quotes it: as cu_quote_name, but always in quotes ('plain').
void cu_quote_always(FILE *f, const char *name);
// "PROG: <formatted message>" on stderr.
void cu_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// Allocation that ends the tool (exit 1, message) when memory runs out.
void *cu_xmalloc(size_t n);
void *cu_xrealloc(void *p, size_t n);
char *cu_xstrdup(const char *s);

// DIR + "/" + NAME (no doubled slash), malloc'd.
char *cu_join(const char *dir, const char *name);
// The last path component, ignoring trailing slashes ("a/b/" -> "b"); malloc'd.
char *cu_path_base(const char *path);

// A growable list of strings.
struct cu_list {
  char **v;
  size_t n, cap;
};
void cu_list_push(struct cu_list *l, char *s);
void cu_list_free(struct cu_list *l);
void cu_list_sort(struct cu_list *l);  // bytewise (strcmp), like GNU tools under LC_ALL=C

// The names in directory PATH, sorted bytewise. `dots` keeps "." and "..". Returns 0, or -1
// with errno set.
int cu_read_dir(const char *path, int dots, struct cu_list *out);

// Reads all of fd into a malloc'd buffer (NUL-terminated, *len excludes the NUL). Returns 0 or
// -1 with errno set.
int cu_read_all(int fd, char **buf, size_t *len);

// Number of '\n' bytes in P[0..n), 8 bytes at a time.
unsigned long long cu_count_newlines(const char *p, size_t n);

// Writes all bytes to stdout (buffered stdio). Returns 0 or -1.
int cu_out(const void *p, size_t n);
// Writes all bytes to FD unbuffered (retrying short writes). Returns 0 or -1 with errno set.
int cu_write_fd(int fd, const void *p, size_t n);

// Copies regular file SRC to DST (created or truncated). Returns 0, or -1 after printing an
// error naming the failing path.
int cu_copy_file(const char *src, const char *dst);

// Recursive copy used by cp -r and by mv across devices. Returns 0 or 1 (errors printed).
// `follow` follows symlinks in the source (cp without -r); otherwise links are copied as links.
int cu_copy_tree(const char *src, const char *dst, int follow, int no_clobber);

// Recursive removal used by rm -r and by mv across devices. Returns 0 or 1 (errors printed).
int cu_remove_tree(const char *path, int force);

// Lexically normalizes PATH against the guest's cwd (no symlinks resolved): absolute, no ".",
// "..", doubled or trailing slashes. malloc'd.
char *cu_abspath(const char *path);

// --- input of the text filters (lineio.c) ---
// Opens an input operand ("-" is stdin). A directory is refused with EISDIR. Returns the fd,
// or -1 with errno set (nothing printed).
int cu_open_input(const char *path);
void cu_close_input(int fd);

// Delimited records from an fd, read in chunks; a record is held whole in the buffer (its
// length is bounded by the run's memory: cu_xrealloc ends the tool cleanly).
struct cu_reader {
  int fd, eof;
  char *buf;
  size_t cap, pos, end;
};
void cu_reader_init(struct cu_reader *r, int fd);
void cu_reader_free(struct cu_reader *r);
// The next record ending in DELIM (or at the end of input): *p, *n without the delimiter,
// *had_delim whether it had one. The record stays valid until the next call. Returns 1, 0 at
// the end, -1 on a read error (errno set).
int cu_reader_next(struct cu_reader *r, int delim, char **p, size_t *n, int *had_delim);

// "Try 'PROG --help' for more information." on stderr (GNU's line after a usage error);
// returns STATUS.
int cu_try_help(int status);
// GNU's "PROG: extra operand 'ARG'" (ARG quoted as cu_quote_always quotes it), then the --help
// hint; returns 1.
int cu_extra_operand(const char *arg);
// A non-negative decimal count (digits only); SIZE_MAX when larger. Returns 0 or -1.
int cu_parse_count(const char *s, size_t *out);
// Runs FN on a reader for each operand from optind on (none: stdin); an operand that cannot be
// opened is reported ("PROG: NAME: reason"). Returns 1 if FN or an open failed, else 0.
int cu_each_input(int argc, char **argv, int (*fn)(struct cu_reader *r, const char *name));
// Ends the reading of operand NAME that cu_open_input opened as FD: a read error (GOT < 0,
// errno set) is reported ("PROG: NAME: reason"), the reader freed and FD closed. Returns 1
// after a read error, else 0.
int cu_end_input(struct cu_reader *r, int fd, int got, const char *name);
// GNU's obsolete count option "-N" (fold -N is -w N, uniq -N is -f N): returns a malloc'd,
// NULL-terminated copy of argv where each such argument before "--" is OPT then N, and sets
// *argc to its length. (After "--" an "-N" is an operand, as with GNU's getopt.)
char **cu_obsolete_count(int *argc, char **argv, const char *opt);

#endif
