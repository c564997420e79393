/* compat/column/pwd.h — util-linux's include/c.h includes <pwd.h>, which wasi-libc has not;
 * column reads no user database, so nothing is declared (a use would not compile). */
#include <sys/types.h>
