// node typed_calls.mjs DIR CALLS: the same call as bench/capi/typed_calls.c through `jco
// transpile`'s bindings on node (the reference host), two ways: the transpiled module's instance
// reused for every call (DIR/reused/call.js), and a fresh instance per call (DIR/fresh/call.js,
// transpiled with --instantiation async), CALLS times in 5 batches; one JSON line each with
// microseconds per call of the best batch.
const [, , dir, n] = process.argv;
const calls = Number(n);
const reused = await import(dir + "/reused/call.js");
const fresh = await import(dir + "/fresh/call.js");
const { readFile } = await import("node:fs/promises");
// Core modules compiled once and kept (as wasmcap keeps a prepared component): each call pays
// only the instantiation.
const compiled = new Map();
const getCoreModule = (path) => {
  if (!compiled.has(path)) compiled.set(path, readFile(dir + "/fresh/" + path).then((b) => WebAssembly.compile(b)));
  return compiled.get(path);
};
// call.wat imports nothing from WASI but the transpiled instantiate() takes an imports object.
const imports = {};
async function measure(label, fn) {
  let best = Infinity, right = true;
  for (let batch = 0; batch < 5; batch++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) {
      const r = await fn(i);
      right = right && r === i + 2;
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / calls);
  }
  console.log(JSON.stringify({ via: label + " (node " + process.version + ")", us_per_call: +(best / 1e3).toFixed(2), right }));
}
await measure("jco transpile, one instance", (i) => reused.add(i, 2));
await measure("jco transpile, an instance per call", async (i) => {
  const inst = await fresh.instantiate(getCoreModule, imports);
  return inst.add(i, 2);
});
