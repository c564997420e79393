#!/usr/bin/env python3
"""The Oils spec runner's own rules (oils_spec.py): how the case format is read, how a result is
judged (pass / N-I / BUG / FAIL, as upstream's harness counts them) and when the ratchet fails.
Each test fails if its rule is removed."""
import io
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oils_spec  # noqa: E402

CASES = b"""## compare_shells: bash dash
## legacy_tmp_dir: yes

#### plain
echo hi
## stdout: hi

#### block, comments dropped, blank line kept in the block
# a comment in the code
echo a

echo b
## STDOUT:
a
# a comment in the block

b
## END
## N-I dash STDOUT:
a
## END
## N-I dash status: 2

#### variants
echo x; exit 1
## status: 1
## stdout-json: "x\\n"
## OK bash status: 3
## BUG dash stdout: y
## OK-2 zsh/bash stdout: z

#### block ended by the next directive
echo a
## STDOUT:
a
## OK dash STDOUT:
b
## END

#### code in a directive
## code: ls '
## status: 2
"""


def parse():
    with tempfile.NamedTemporaryFile(suffix=".test.sh", delete=False) as f:
        f.write(CASES)
    try:
        return oils_spec.parse_file(f.name)
    finally:
        os.unlink(f.name)


def result(out, status=0, err=b"", timeout=False):
    return {"stdout": out, "stderr": err, "status": status, "timeout": timeout}


class Format(unittest.TestCase):
    def test_header_and_cases(self):
        header, cases = parse()
        self.assertEqual(header["legacy_tmp_dir"], "yes")
        self.assertEqual([c["name"] for c in cases],
                         ["plain", "block, comments dropped, blank line kept in the block",
                          "variants", "block ended by the next directive", "code in a directive"])

    def test_code_and_blocks_as_upstream_reads_them(self):
        _, cases = parse()
        self.assertEqual(cases[0]["default"], {"stdout": b"hi\n"})
        self.assertEqual(cases[1]["code"], b"echo a\necho b\n")  # comment and blank dropped
        self.assertEqual(cases[1]["default"]["stdout"], b"a\n\nb\n")  # blank kept in a block
        self.assertEqual(cases[2]["default"], {"status": 1, "stdout": b"x\n"})
        self.assertEqual(cases[3]["default"]["stdout"], b"a\n")
        self.assertEqual(cases[3]["variants"], [("OK", "", ["dash"], {"stdout": b"b\n"})])
        self.assertEqual(cases[4]["code"], b"ls '\n")


class Judge(unittest.TestCase):
    def setUp(self):
        _, self.cases = parse()

    def test_default_expectation_and_status_zero_by_default(self):
        c = self.cases[0]
        self.assertEqual(oils_spec.judge(c, "wasmcap", result(b"hi\n")), "pass")
        self.assertEqual(oils_spec.judge(c, "wasmcap", result(b"hi\n", status=1)), "FAIL")
        self.assertEqual(oils_spec.judge(c, "wasmcap", result(b"ho\n")), "FAIL")
        # stderr is not checked unless the case gives it
        self.assertEqual(oils_spec.judge(c, "wasmcap", result(b"hi\n", err=b"noise")), "pass")

    def test_ok_variants_pass_and_override_key_by_key(self):
        c = self.cases[2]
        self.assertEqual(oils_spec.judge(c, "bash", result(b"x\n", status=3)), "pass")  # OK
        self.assertEqual(oils_spec.judge(c, "bash", result(b"z\n", status=1)), "pass")  # OK-2
        # wasmcap stands in for bash: an OK variant naming bash is a pass, reported apart
        self.assertEqual(oils_spec.judge(c, "wasmcap", result(b"x\n", status=3)), "pass-as-bash")
        self.assertEqual(oils_spec.judge(c, "wasmcap", result(b"z\n", status=1)), "pass-as-bash")
        # ... but never a variant naming another shell only, nor bash's N-I or BUG variants
        self.assertEqual(oils_spec.judge(self.cases[3], "wasmcap", result(b"b\n")), "FAIL")
        self.assertEqual(oils_spec.judge(self.cases[2], "wasmcap", result(b"y\n", status=1)),
                         "FAIL")

    def test_ni_and_bug_are_known_non_passes(self):
        self.assertEqual(oils_spec.judge(self.cases[2], "dash", result(b"y\n", status=1)), "BUG")
        self.assertEqual(oils_spec.judge(self.cases[1], "dash", result(b"a\n", status=2)), "N-I")
        self.assertEqual(oils_spec.judge(self.cases[1], "dash", result(b"a\n", status=0)), "FAIL")

    def test_timeout_fails(self):
        self.assertEqual(oils_spec.judge(self.cases[0], "bash", result(b"hi\n", timeout=True)),
                         "FAIL")


class Ratchet(unittest.TestCase):
    def check(self, listed, ran, passing, whole=("f",)):
        with redirect_stdout(io.StringIO()) as out:
            status = oils_spec.check_ratchet(listed, set(ran), set(passing), "list", set(whole))
        return status, out.getvalue()

    def test_a_listed_case_that_fails_is_a_regression(self):
        status, out = self.check(["f::a", "f::b"], ["f::a", "f::b"], ["f::a"])
        self.assertEqual(status, 1)
        self.assertIn("REGRESSION: 1 case(s) in list no longer pass:\n  f::b", out)

    def test_new_passes_are_printed_not_failed(self):
        status, out = self.check(["f::a"], ["f::a", "f::b"], ["f::a", "f::b"])
        self.assertEqual(status, 0)
        self.assertIn("1 newly passing case(s):\n  f::b", out)
        self.assertIn("--update", out)

    def test_a_listed_case_that_no_longer_exists_fails(self):
        status, out = self.check(["f::a", "f::gone"], ["f::a"], ["f::a"])
        self.assertEqual(status, 1)
        self.assertIn("f::gone", out)
        # ... unless its file did not run whole (a --file/--case filter)
        self.assertEqual(self.check(["f::a", "g::x"], ["f::a"], ["f::a"])[0], 0)

    def test_a_timing_dependent_case_may_not_be_listed(self):
        timing = sorted(oils_spec.TIMING_CASES)[0]
        f = timing.split("::", 1)[0]
        status, out = self.check(["f::a", timing], ["f::a", timing], ["f::a", timing], (f, "f"))
        self.assertEqual(status, 1)
        self.assertIn("timing-dependent", out)


if __name__ == "__main__":
    unittest.main()
