/* Prints the version as the header (wasmcap/version.h through wasmcap.h) and as the linked C API
 * report it, one KEY=VALUE a line, for version_test.py. */
#include <stdio.h>

#include "wasmcap/wasmcap.h"

int main(void) {
  printf("header=%s\n", WASMCAP_VERSION);
  printf("header_number=%d\n", WASMCAP_VERSION_NUMBER);
  printf("header_parts=%d.%d.%d\n", WASMCAP_VERSION_MAJOR, WASMCAP_VERSION_MINOR, WASMCAP_VERSION_PATCH);
  printf("library=%s\n", wasmcap_version());
  printf("library_number=%d\n", wasmcap_version_number());
  return 0;
}
