/* wasmcap_user.h — the sandbox's one user, as every guest that names owners shows it.
 *
 * A guest never sees the host's users: its user is uid and gid 1000 (as the shell's $UID says),
 * named only when the operator named it (the host config's shell.user, which `wasmcap sh` gives
 * the commands as USER): a name of [a-z_][a-z0-9_-]{0,31} (POSIX's portable user names), used for
 * the group too (a user private group, as Debian's adduser makes). Anything else in USER names
 * nobody, so the id is shown as a number.
 *
 * Used by the core-utils bundle (guest/coreutils/sysinfo.c: ls, id, whoami) and the toolbox's
 * GNU ls, cat and find (guest/toolbox/compat/coreutils/coreutils.c): header-only, one rule.
 */
#ifndef WASMCAP_USER_H_
#define WASMCAP_USER_H_

#include <stdlib.h>
#include <string.h>

enum { WASMCAP_SANDBOX_ID = 1000 };

/* $USER when it is a portable user name, else NULL (the user has no name). */
static inline const char *wasmcap_user_name(void) {
  const char *u = getenv("USER");
  if (u == NULL || u[0] == '\0' || strlen(u) > 32) return NULL;
  if (!((u[0] >= 'a' && u[0] <= 'z') || u[0] == '_')) return NULL;
  for (const char *p = u; *p; ++p) {
    const char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return NULL;
  }
  return u;
}

#endif
