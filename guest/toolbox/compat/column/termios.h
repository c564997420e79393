/* compat/column/termios.h — no terminal control in WASI (wasi-libc has no <termios.h>, and no
 * TIOCGWINSZ): libsmartcols and lib/ttyutils.h include it; the terminal's width is then $COLUMNS,
 * else 80, as natively on a pipe (patches/util-linux/02 leaves out ttyutils.h's console reset). */
#include <sys/types.h>
