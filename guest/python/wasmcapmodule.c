/* _wasmcap — the C half of Python's `wasmcap` package, compiled into python.wasm.
 *
 * It exposes one function over wasmcap's https host API (docs/abi-https.md), through the guest
 * SDK (guest/sdk/wasmcap_https.c, linked in):
 *
 *   _wasmcap.https_request(method, url, headers, body, strict)
 *     method, url: str (no NUL); headers: a sequence of (name, value) str pairs; body: a
 *     bytes-like object; strict: bool.
 *     -> ("response", status, [(name, value), ...], body_bytes, truncated)
 *     -> ("error", code, message)      a refused or failed request (code: the host's or the SDK's)
 *
 * The pure-Python package (guest/python/lib/wasmcap/) turns errors into exceptions. The host
 * checks every request against the operator's grants; nothing here is a security boundary.
 */
#define PY_SSIZE_T_CLEAN
#include "Python.h"

#include <stdlib.h>
#include <string.h>

#include "wasmcap_https.h"

/* UTF-8 of a str, refusing embedded NULs (the SDK takes NUL-terminated strings: a NUL would
 * silently cut a header value). */
static const char* utf8_no_nul(PyObject* s, const char* what) {
  if (!PyUnicode_Check(s)) {
    PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(s)->tp_name);
    return NULL;
  }
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(s, &n);
  if (p == NULL) return NULL;
  if ((size_t)n != strlen(p)) {
    PyErr_Format(PyExc_ValueError, "%s contains a NUL character", what);
    return NULL;
  }
  return p;
}

static PyObject* https_request(PyObject* self, PyObject* args) {
  (void)self;
  PyObject* method_o;
  PyObject* url_o;
  PyObject* headers_o;
  Py_buffer body;
  int strict = 0;
  if (!PyArg_ParseTuple(args, "UUOy*p:https_request", &method_o, &url_o, &headers_o, &body,
                        &strict)) {
    return NULL;
  }
  PyObject* result = NULL;
  PyObject* seq = NULL;
  wasmcap_https_header_t* hs = NULL;
  wasmcap_https_response_t resp;
  memset(&resp, 0, sizeof resp);

  const char* method = utf8_no_nul(method_o, "method");
  const char* url = method ? utf8_no_nul(url_o, "url") : NULL;
  if (url == NULL) goto done;

  seq = PySequence_Fast(headers_o, "headers must be a sequence of (name, value) pairs");
  if (seq == NULL) goto done;
  Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
  if (count > 1024) {
    PyErr_SetString(PyExc_ValueError, "at most 1024 request headers");
    goto done;
  }
  if (count > 0) {
    hs = PyMem_Calloc((size_t)count, sizeof *hs);
    if (hs == NULL) {
      PyErr_NoMemory();
      goto done;
    }
  }
  for (Py_ssize_t i = 0; i < count; ++i) {
    PyObject* pair = PySequence_Fast_GET_ITEM(seq, i);
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
      PyErr_SetString(PyExc_TypeError, "headers must be (name, value) pairs of str");
      goto done;
    }
    hs[i].name = utf8_no_nul(PyTuple_GET_ITEM(pair, 0), "header name");
    if (hs[i].name == NULL) goto done;
    hs[i].value = utf8_no_nul(PyTuple_GET_ITEM(pair, 1), "header value");
    if (hs[i].value == NULL) goto done;
  }

  wasmcap_https_request_t req;
  memset(&req, 0, sizeof req);
  req.method = method;
  req.url = url;
  req.headers = hs;
  req.header_count = (size_t)count;
  req.body = body.buf;
  req.body_len = (size_t)body.len;
  req.strict = strict;

  if (wasmcap_https_request(&req, &resp) != 0) {
    result = Py_BuildValue("(sss)", "error", resp.error_code ? resp.error_code : "abi_error",
                           resp.error_message ? resp.error_message : "");
    goto done;
  }
  PyObject* hlist = PyList_New((Py_ssize_t)resp.header_count);
  if (hlist == NULL) goto done;
  for (size_t i = 0; i < resp.header_count; ++i) {
    /* Field bytes are decoded as Latin-1, as http.client does: every byte maps to a character. */
    PyObject* item = Py_BuildValue(
        "(NN)",
        PyUnicode_DecodeLatin1(resp.headers[i].name, (Py_ssize_t)resp.headers[i].name_len, NULL),
        PyUnicode_DecodeLatin1(resp.headers[i].value, (Py_ssize_t)resp.headers[i].value_len,
                               NULL));
    if (item == NULL) {
      Py_DECREF(hlist);
      goto done;
    }
    PyList_SET_ITEM(hlist, (Py_ssize_t)i, item);
  }
  /* "y#" with a NULL pointer would give None: an empty body is b"". */
  result = Py_BuildValue("(siNy#O)", "response", resp.status, hlist,
                         resp.body ? (const char*)resp.body : "",
                         (Py_ssize_t)resp.body_len, resp.truncated ? Py_True : Py_False);

done:
  wasmcap_https_response_free(&resp);
  PyMem_Free(hs);
  Py_XDECREF(seq);
  PyBuffer_Release(&body);
  return result;
}

static PyMethodDef wasmcap_methods[] = {
    {"https_request", https_request, METH_VARARGS,
     "https_request(method, url, headers, body, strict) -> ('response', status, headers, body, "
     "truncated) | ('error', code, message)\n\nOne request over wasmcap's https host API."},
    {NULL, NULL, 0, NULL},
};

static int wasmcap_exec(PyObject* m) {
  return PyModule_AddIntConstant(m, "ABI_VERSION", WASMCAP_HTTPS_ABI_VERSION);
}

static PyModuleDef_Slot wasmcap_slots[] = {
    {Py_mod_exec, wasmcap_exec},
    {0, NULL},
};

static struct PyModuleDef wasmcap_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_wasmcap",
    .m_doc = "wasmcap host APIs (the C half of the wasmcap package).",
    .m_size = 0,
    .m_methods = wasmcap_methods,
    .m_slots = wasmcap_slots,
};

PyMODINIT_FUNC PyInit__wasmcap(void) { return PyModuleDef_Init(&wasmcap_module); }
