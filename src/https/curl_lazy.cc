// libcurl, loaded on first use (docs/architecture.md, "Start-up cost").
//
// Why: linking libcurl makes every wasmcap process map it and its TLS, HTTP/2, IDN, LDAP,
// Kerberos, SSH and compression dependencies (about two dozen shared objects) at start-up,
// although only a run that uses the https host API (or parses an https URL) needs any of them.
// This file defines the libcurl functions wasmcap calls; the first call dlopen()s the libcurl
// the build was configured against (by soname, through the normal library search) and resolves
// the real functions. A hello-world run never loads it.
//
// If libcurl cannot be loaded, every entry point fails the way libcurl itself reports failure
// (CURLE_FAILED_INIT, a null handle, CURLUE_OUT_OF_MEMORY), so callers need no special case:
// the https client refuses to start with "libcurl initialization failed: ..." naming dlerror().
#define CURL_DISABLE_TYPECHECK 1  // curl_easy_setopt/getinfo are real functions here, not macros
#include <curl/curl.h>

#include <cstdarg>
#include <mutex>
#include <string>

#include "common/system_lib.h"

#ifndef WASMCAP_LIBCURL_SONAME
#define WASMCAP_LIBCURL_SONAME "libcurl.so.4"
#endif

namespace {

struct Api {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL*);
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  CURLcode (*easy_perform)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  void (*free_)(void*);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
  CURLU* (*url)();
  void (*url_cleanup)(CURLU*);
  CURLUcode (*url_get)(CURLU*, CURLUPart, char**, unsigned int);
  CURLUcode (*url_set)(CURLU*, CURLUPart, const char*, unsigned int);
  const char* (*url_strerror)(CURLUcode);
  curl_version_info_data* (*version_info)(CURLversion);
};

std::string g_error;  // why libcurl could not be loaded (set once, under the once_flag)

const Api* api() {
  static Api a;
  static const Api* loaded = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    wasmcap::syslib::Library lib(WASMCAP_LIBCURL_SONAME);
    lib.get(&a.global_init, "curl_global_init");
    lib.get(&a.easy_init, "curl_easy_init");
    lib.get(&a.easy_cleanup, "curl_easy_cleanup");
    lib.get(&a.easy_setopt, "curl_easy_setopt");
    lib.get(&a.easy_getinfo, "curl_easy_getinfo");
    lib.get(&a.easy_perform, "curl_easy_perform");
    lib.get(&a.easy_strerror, "curl_easy_strerror");
    lib.get(&a.free_, "curl_free");
    lib.get(&a.slist_append, "curl_slist_append");
    lib.get(&a.slist_free_all, "curl_slist_free_all");
    lib.get(&a.url, "curl_url");
    lib.get(&a.url_cleanup, "curl_url_cleanup");
    lib.get(&a.url_get, "curl_url_get");
    lib.get(&a.url_set, "curl_url_set");
    lib.get(&a.url_strerror, "curl_url_strerror");
    lib.get(&a.version_info, "curl_version_info");
    if (lib.ok()) loaded = &a;  // the library stays open for the life of the process
    g_error = lib.error();
  });
  return loaded;
}

}  // namespace

#define WASMCAP_CURL_SHIM extern "C" __attribute__((visibility("hidden")))

WASMCAP_CURL_SHIM CURLcode curl_global_init(long flags) {
  const Api* a = api();
  return a ? a->global_init(flags) : CURLE_FAILED_INIT;
}

WASMCAP_CURL_SHIM CURL* curl_easy_init(void) {
  const Api* a = api();
  return a ? a->easy_init() : nullptr;
}

WASMCAP_CURL_SHIM void curl_easy_cleanup(CURL* h) {
  if (const Api* a = api()) a->easy_cleanup(h);
}

// The variadic argument's type follows from the option number's range (curl.h: CURLOPTTYPE_*).
WASMCAP_CURL_SHIM CURLcode curl_easy_setopt(CURL* h, CURLoption option, ...) {
  const Api* a = api();
  if (a == nullptr) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, option);
  CURLcode rc;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    rc = a->easy_setopt(h, option, va_arg(ap, long));
  } else if (option < CURLOPTTYPE_OFF_T) {  // object and function pointers
    rc = a->easy_setopt(h, option, va_arg(ap, void*));
  } else if (option < CURLOPTTYPE_BLOB) {
    rc = a->easy_setopt(h, option, va_arg(ap, curl_off_t));
  } else {
    rc = a->easy_setopt(h, option, va_arg(ap, void*));
  }
  va_end(ap);
  return rc;
}

// Every CURLINFO takes a pointer to where the value goes.
WASMCAP_CURL_SHIM CURLcode curl_easy_getinfo(CURL* h, CURLINFO info, ...) {
  const Api* a = api();
  if (a == nullptr) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, info);
  CURLcode rc = a->easy_getinfo(h, info, va_arg(ap, void*));
  va_end(ap);
  return rc;
}

WASMCAP_CURL_SHIM CURLcode curl_easy_perform(CURL* h) {
  const Api* a = api();
  return a ? a->easy_perform(h) : CURLE_FAILED_INIT;
}

WASMCAP_CURL_SHIM const char* curl_easy_strerror(CURLcode code) {
  const Api* a = api();
  return a ? a->easy_strerror(code) : g_error.c_str();
}

WASMCAP_CURL_SHIM void curl_free(void* p) {
  if (const Api* a = api()) a->free_(p);
}

WASMCAP_CURL_SHIM curl_slist* curl_slist_append(curl_slist* list, const char* s) {
  const Api* a = api();
  return a ? a->slist_append(list, s) : nullptr;
}

WASMCAP_CURL_SHIM void curl_slist_free_all(curl_slist* list) {
  if (const Api* a = api()) a->slist_free_all(list);
}

WASMCAP_CURL_SHIM CURLU* curl_url(void) {
  const Api* a = api();
  return a ? a->url() : nullptr;
}

WASMCAP_CURL_SHIM void curl_url_cleanup(CURLU* u) {
  if (const Api* a = api()) a->url_cleanup(u);
}

WASMCAP_CURL_SHIM CURLUcode curl_url_get(CURLU* u, CURLUPart part, char** out,
                                         unsigned int flags) {
  const Api* a = api();
  return a ? a->url_get(u, part, out, flags) : CURLUE_OUT_OF_MEMORY;
}

WASMCAP_CURL_SHIM CURLUcode curl_url_set(CURLU* u, CURLUPart part, const char* value,
                                         unsigned int flags) {
  const Api* a = api();
  return a ? a->url_set(u, part, value, flags) : CURLUE_OUT_OF_MEMORY;
}

WASMCAP_CURL_SHIM const char* curl_url_strerror(CURLUcode code) {
  const Api* a = api();
  return a ? a->url_strerror(code) : g_error.c_str();
}

WASMCAP_CURL_SHIM curl_version_info_data* curl_version_info(CURLversion v) {
  const Api* a = api();
  return a ? a->version_info(v) : nullptr;
}
