# Start-up of the python bundle (guest/python/README.md): imported by `site` on every start.
# The granted workspace /work, when present, is the working directory, so relative paths in a
# plugin's code name workspace files (the root tree "/" is the bundle's read-only stdlib).
import os

if os.path.isdir("/work"):
    try:
        os.chdir("/work")
    except OSError:
        pass
del os
