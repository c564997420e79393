# Runs inside the python bundle (tests/python/regrtest.py): CPython's own regression test modules
# from /work/test (the build's copy of Lib/test), each with unittest, in one interpreter. One JSON
# line per module: {"module", "run", "failures", "errors", "skipped", "seconds", "failed"}.
import io
import json
import sys
import time
import unittest

sys.path.insert(0, "/work")
from test import support  # noqa: E402

support.verbose = 0
for name in sys.argv[1:]:
    t0 = time.monotonic()
    rec = {"module": name}
    try:
        suite = unittest.defaultTestLoader.loadTestsFromName("test." + name)
        stream = io.StringIO()
        result = unittest.TextTestRunner(stream=stream, verbosity=0).run(suite)
        rec.update(run=result.testsRun, failures=len(result.failures), errors=len(result.errors),
                   skipped=len(result.skipped),
                   failed=[t.id() for t, _ in result.failures + result.errors][:50])
        if result.failures or result.errors:
            sys.stderr.write(stream.getvalue()[-6000:])
    except BaseException as e:  # noqa: BLE001 - an import failure is a result too
        rec.update(run=0, failures=0, errors=1, skipped=0, failed=["import: %r" % (e,)])
    rec["seconds"] = round(time.monotonic() - t0, 1)
    print(json.dumps(rec), flush=True)
