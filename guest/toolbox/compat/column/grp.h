/* compat/column/grp.h — util-linux's include/c.h includes <grp.h>, which wasi-libc has not;
 * column reads no group database, so nothing is declared (a use would not compile). */
#include <sys/types.h>
