/* compat/tar/termios.h — no terminal control in WASI: checkpoint.c includes it for TIOCGWINSZ,
 * which stays undefined (the width of --checkpoint-action=ttyout is then 80, as on a non-tty). */
#ifndef WASMCAP_COMPAT_TERMIOS_H
#define WASMCAP_COMPAT_TERMIOS_H
#endif
