// libgit2's socket stream (streams/socket.c) resolves host names; there is no network in the
// sandbox (no sockets are granted), so resolution fails with a message saying why and nothing
// is connected. Only what socket.c uses.
#ifndef WASMCAP_GIT_COMPAT_NETDB_H
#define WASMCAP_GIT_COMPAT_NETDB_H
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

struct addrinfo {
  int ai_flags;
  int ai_family;
  int ai_socktype;
  int ai_protocol;
  socklen_t ai_addrlen;
  struct sockaddr *ai_addr;
  char *ai_canonname;
  struct addrinfo *ai_next;
};
#define EAI_FAIL (-4)

static inline int getaddrinfo(const char *host, const char *port, const struct addrinfo *hints,
                              struct addrinfo **res) {
  (void)host, (void)port, (void)hints;
  *res = NULL;
  return EAI_FAIL;
}
static inline void freeaddrinfo(struct addrinfo *info) { (void)info; }
static inline const char *gai_strerror(int code) {
  (void)code;
  return "there is no network in the WASI sandbox";
}
// Never reached (no address resolves); wasi-libc declares neither.
static inline int socket(int domain, int type, int protocol) {
  (void)domain, (void)type, (void)protocol;
  errno = ENOSYS;
  return -1;
}
static inline int connect(int fd, const struct sockaddr *addr, socklen_t len) {
  (void)fd, (void)addr, (void)len;
  errno = ENOSYS;
  return -1;
}
#endif
