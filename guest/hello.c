// The smallest useful guest: prints a greeting, its arguments and one granted env variable.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  printf("hello from wasm\n");
  for (int i = 1; i < argc; i++) printf("arg[%d]=%s\n", i, argv[i]);
  const char* who = getenv("WHO");
  if (who) printf("WHO=%s\n", who);
  return 0;
}
