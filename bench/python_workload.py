# The python bundle's benchmark workload (bench/python_bench.py): json round trips, regex scans
# and a pure-Python loop, sized to take ~0.2 s on native python3.11. Prints a checksum that every
# runtime must reproduce.
import hashlib
import json
import re

docs = []
for i in range(300):
    docs.append({"id": i, "name": "item-%d" % i, "tags": ["t%d" % (i % 7), "x"],
                 "price": i * 1.25, "nested": {"a": [i, i * 2, {"b": str(i)}]}})
text = json.dumps(docs)
for _ in range(5):
    text = json.dumps(json.loads(text), sort_keys=True)
words = re.findall(r"item-(\d+)", text)
emails = re.sub(r"t(\d)", lambda m: "tag%s" % m.group(1), text)
total = 0
for i in range(300000):
    total = (total * 31 + i) % 1000003
h = hashlib.sha256((text + emails + str(total) + str(len(words))).encode()).hexdigest()
print("workload", len(text), len(words), total, h[:16])
