// node calls.mjs TRANSPILED_JS CALLS: the same call as component_calls.cc through `jco transpile`'s
// JavaScript bindings on node (the reference host): echo(s, items) with a 1 KiB string and 100
// records, CALLS times in 5 batches; one JSON line with nanoseconds per call (the best batch).
const [, , file, n] = process.argv;
const calls = Number(n);
const mod = await import(file);
const items = [];
for (let i = 0; i < 100; i++) items.push([i, "item-" + (10000 + i), i * 0.5]);
const s = "x".repeat(1024);
let best = Infinity, equal = true;
for (let batch = 0; batch < 5; batch++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const r = mod.echo(s, items);
    if (i === 0 && batch === 0) equal = r[0] === s && JSON.stringify(r[1]) === JSON.stringify(items);
  }
  const t1 = process.hrtime.bigint();
  best = Math.min(best, Number(t1 - t0) / calls);
}
console.log(JSON.stringify({ engine: "jco transpile (node " + process.version + ")", ns_per_call: Math.round(best), result_equal: equal }));
