// Returns atoi(argv[1]) from main (wasi-libc turns it into proc_exit).
#include <stdlib.h>

int main(int argc, char** argv) { return argc > 1 ? atoi(argv[1]) : 0; }
