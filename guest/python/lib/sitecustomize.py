# Start-up of the python bundle (guest/python/README.md): imported by `site` on every start.
import os
import sys

# The granted workspace /work, when present, is the working directory, so relative paths in a
# plugin's code (and `python script.py`) name workspace files; "/" is the bundle's read-only tree.
if os.path.isdir("/work"):
    try:
        os.chdir("/work")
    except OSError:
        pass


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
