# The python bundle's stdlib snippet suite: run once inside wasmcap (the workspace is /work and
# the working directory), its stdout compared with expected.txt by tests/python/snippets.py.
# Every section prints a header, then deterministic results.
import sys


def section(name):
    print("== " + name)


section("json")
import json
doc = {"b": [1, 2.5, None, True], "a": "h\u00e9llo", "nested": {"x": [], "y": {}}}
text = json.dumps(doc, sort_keys=True)
print(text)
print(json.loads(text) == doc)
print(json.dumps([1, {"k": "v"}], indent=2))
try:
    json.loads("{bad json}")
except json.JSONDecodeError as e:
    print("JSONDecodeError", e.lineno, e.colno)

section("re")
import re
print(re.findall(r"(\w+)@(\w+)\.com", "ann@example.com, bob@test.com; nobody@nowhere"))
print(re.sub(r"(?P<n>\d+)", lambda m: str(int(m["n"]) * 2), "a1 b22 c333"))
print(bool(re.fullmatch(r"[a-f0-9]{8}", "deadbeef")), re.split(r"\s*,\s*", "x , y,z"))
print(re.compile(r"^\s*#", re.M).sub("//", "a\n  # c\nb"))

section("datetime")
import datetime
d = datetime.datetime(2024, 2, 28, 23, 30, tzinfo=datetime.timezone.utc)
print((d + datetime.timedelta(hours=1)).isoformat())
print(d.strftime("%Y-%m-%d %H:%M %A %j"), datetime.date(2024, 3, 1) - datetime.date(2023, 3, 1))
print(datetime.datetime.fromisoformat("2021-06-01T12:00:00+02:00").astimezone(datetime.timezone.utc))
print(datetime.datetime.now().year >= 2024)

section("pathlib")
import pathlib
root = pathlib.Path("/work/snippets-tree")
(root / "a" / "b").mkdir(parents=True, exist_ok=True)
(root / "a" / "one.txt").write_text("one\n")
(root / "a" / "b" / "two.txt").write_text("two\ntwo\n")
print(sorted(str(p.relative_to(root)) for p in root.rglob("*.txt")))
print((root / "a" / "b" / "two.txt").read_text().splitlines(), (root / "a" / "one.txt").stat().st_size)
print(pathlib.Path.cwd(), pathlib.Path("rel.txt").resolve())
(root / "a" / "one.txt").rename(root / "moved.txt")
print(sorted(p.name for p in root.iterdir()))
import shutil
shutil.rmtree(root)
print(root.exists())

section("zipfile")
import io
import zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("hello.txt", "hello " * 100)
    z.writestr("dir/data.bin", bytes(range(256)))
with zipfile.ZipFile("/work/snippets.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("x.txt", "from a file")
with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
    print(z.namelist(), z.read("hello.txt")[:12], z.getinfo("hello.txt").compress_size < 600)
    print(z.testzip())
with zipfile.ZipFile("/work/snippets.zip") as z:
    print(z.read("x.txt"))
import zlib, gzip
print(zlib.crc32(b"wasmcap"), len(gzip.decompress(gzip.compress(b"a" * 1000))))

section("csv")
import csv
out = io.StringIO()
w = csv.writer(out)
w.writerows([["name", "note"], ["ann", 'says "hi", twice'], ["bob", "multi\nline"]])
print(repr(out.getvalue()))
print(list(csv.DictReader(io.StringIO(out.getvalue()))))

section("hashlib")
import hashlib, hmac, base64
print(hashlib.sha256(b"wasmcap").hexdigest())
print(hashlib.md5(b"wasmcap").hexdigest(), hashlib.sha1(b"").hexdigest())
print(hashlib.blake2b(b"x", digest_size=8).hexdigest(), hashlib.sha3_256(b"").hexdigest()[:16])
print(hmac.new(b"key", b"msg", "sha256").hexdigest()[:16], base64.b64encode(b"\x00\xffab"))

section("decimal")
from decimal import Decimal, getcontext, ROUND_HALF_EVEN
getcontext().prec = 30
print(Decimal(1) / Decimal(7), Decimal("0.1") + Decimal("0.2"))
print(Decimal("2.675").quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN), Decimal(2).sqrt())
from fractions import Fraction
print(Fraction(3, 4) + Fraction(1, 6), sum(Fraction(1, n) for n in range(1, 6)))

section("dataclasses")
import dataclasses
from typing import List


@dataclasses.dataclass(order=True, frozen=True)
class Item:
    name: str
    qty: int = 0
    tags: List[str] = dataclasses.field(default_factory=list, compare=False)


items = sorted([Item("b", 2), Item("a", 5, ["x"]), Item("a", 1)])
print(items)
print(dataclasses.asdict(items[0]), dataclasses.replace(items[0], qty=9))
try:
    items[0].qty = 3
except dataclasses.FrozenInstanceError as e:
    print("FrozenInstanceError", e)

section("textwrap")
import textwrap
para = "The quick brown fox jumps over the lazy dog. " * 3
print(textwrap.fill(para, width=30))
print(textwrap.dedent("""\
    indented
      more
    back"""))
print(textwrap.shorten("Hello  world, this is a long sentence", width=20))

section("misc")
import collections, itertools, functools, math, statistics, struct, random
print(collections.Counter("mississippi").most_common(2), list(itertools.accumulate([1, 2, 3, 4])))
print(functools.reduce(lambda a, b: a * b, range(1, 21)), math.comb(30, 15), math.isqrt(10**20))
print(statistics.median([5, 1, 4, 2, 3]), statistics.mean([1, 2, 3, 4]), struct.pack("<IhQ", 1, -2, 3).hex())
random.seed(42)
print(random.randint(1, 1000), random.choice("abcdef"), sorted(random.sample(range(100), 5)))
print(sys.platform, sys.version_info[:2], sys.maxsize == 2**31 - 1)
print("done")
