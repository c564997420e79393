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
del os
