# Start-up of the python bundle (guest/python/README.md): imported by `site` on every start.
import os
import sys

# The working directory: $PWD when the environment has it and it is a directory (`wasmcap sh`
# passes its own working directory to every command, docs/shell.md), else the granted workspace
# /work when present, so relative paths in a plugin's code (and `python script.py`) name
# workspace files; "/" is the bundle's read-only tree.
for _wd in (os.environ.get("PWD"), "/work"):
    if _wd and os.path.isdir(_wd):
        try:
            os.chdir(_wd)
            break
        except OSError:
            pass
del _wd


# Uncaught exceptions are printed by the traceback module, which reads source lines through the
# zip importer (the C printer only opens plain files, so standard-library frames would show no
# source line: the stdlib lives in python311.zip). Imported only when an exception is printed.
def _wasmcap_excepthook(etype, value, tb):
    try:
        import traceback
        traceback.print_exception(etype, value, tb)
    except BaseException:  # noqa: BLE001 - never lose the original error
        sys.__excepthook__(etype, value, tb)


sys.excepthook = _wasmcap_excepthook


# https for ordinary code: when http.client is first imported, wasmcap._http adds the
# HTTPSConnection this build lacks (no ssl module), made by the host's https API under the
# operator's grants, so urllib.request and http.client work. A finder, not an import here: start-up
# does not pay for http.client in runs that never use it.
class _WasmcapHttpsLoader:
    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        from wasmcap import _http
        _http.install(module)

    def __getattr__(self, name):  # get_source, get_code, ... for tracebacks and inspect
        return getattr(self._inner, name)


class _WasmcapHttpsFinder:
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "http.client":
            return None
        for finder in sys.meta_path:
            if finder is cls or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _WasmcapHttpsLoader(spec.loader)
                return spec
        return None


sys.meta_path.insert(0, _WasmcapHttpsFinder)


# No processes in WASI: os.system says so (CPython's WASI build leaves it out, an AttributeError
# that reads like a bug); subprocess and os.popen already raise OSError naming WASI.
def _wasmcap_no_system(command):
    raise OSError(58, "wasmcap: os.system cannot run %r: WASI has no processes (run commands "
                      "from the shell, wasmcap sh, or call the tool as a bundle)" % (command,))


if not hasattr(os, "system"):
    os.system = _wasmcap_no_system
del os
