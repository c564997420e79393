// Prints its argv and its whole environment, one item per line, each wrapped in [] so empty
// strings and trailing spaces are visible:
//   argc=N
//   arg[i]=[...]
//   envc=N
//   env[i]=[...]
#include <stdio.h>

extern char** environ;

int main(int argc, char** argv) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("arg[%d]=[%s]\n", i, argv[i]);
  int n = 0;
  for (char** e = environ; e && *e; e++) n++;
  printf("envc=%d\n", n);
  for (int i = 0; i < n; i++) printf("env[%d]=[%s]\n", i, environ[i]);
  return 0;
}
