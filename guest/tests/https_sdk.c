/* Drives the guest SDK's high-level API (tests/https/abi/fetch_test.cc).
 *   https_sdk high URL [NAME VALUE]...   wasmcap_https_request(), prints the response as lines
 *   https_sdk leak URL                   9 wasmcap_https_send() without close: the 9th is refused
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmcap_https.h"

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  if (strcmp(argv[1], "leak") == 0) {
    wasmcap_https_request_t req = {0};
    req.url = argv[2];
    for (int i = 0; i < 9; ++i) {
      wasmcap_https_handle h = 0;
      int rc = wasmcap_https_send(&req, &h);
      printf("rc[%d]=%s\n", i, wasmcap_https_errno_name(rc));
    }
    return 0;
  }
  wasmcap_https_header_t headers[8];
  size_t n = 0;
  for (int i = 3; i + 1 < argc && n < 8; i += 2, ++n) {
    headers[n].name = argv[i];
    headers[n].value = argv[i + 1];
  }
  wasmcap_https_request_t req = {0};
  req.method = NULL; /* GET */
  req.url = argv[2];
  req.headers = headers;
  req.header_count = n;
  wasmcap_https_response_t resp;
  int rc = wasmcap_https_request(&req, &resp);
  if (rc != 0) {
    printf("ok=%d\nerror=%s\nmessage=%s\n", resp.ok, resp.error_code, resp.error_message);
    wasmcap_https_response_free(&resp);
    return 1;
  }
  printf("ok=%d\nstatus=%d\nheaders=%zu\n", resp.ok, resp.status, resp.header_count);
  for (size_t i = 0; i < resp.header_count; ++i) {
    printf("h=%s:%s (%zu,%zu)\n", resp.headers[i].name, resp.headers[i].value,
           resp.headers[i].name_len, resp.headers[i].value_len);
  }
  printf("body_len=%zu\ntruncated=%d\nnul=%d\n", resp.body_len, resp.truncated,
         resp.body[resp.body_len] == '\0');
  fwrite(resp.body, 1, resp.body_len, stdout);
  wasmcap_https_response_free(&resp);
  printf("\nfreed=%d\n", resp.body == NULL && resp.headers == NULL && resp.header_count == 0);
  return 0;
}
