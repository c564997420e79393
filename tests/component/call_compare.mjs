// The reference host's side of `wasmcap call`'s comparison (cli_components.sh): the exports of
// wat/call.wat, transpiled by `jco transpile`, called on node; one line per call, "name: JSON"
// in the JSON wasmcap call prints (docs/components.md, "Values as JSON": u64 a number up to
// 2^53-1; a result<T, E> as {"ok": T} or {"err": E}; jco returns T and throws E as `payload`),
// or "name: trap".
//   node call_compare.mjs TRANSPILED_DIR/call.js
const m = await import(process.argv[2]);
const json = (v) => JSON.stringify(v === undefined ? null : v, (k, x) =>
  typeof x === 'bigint' ? (x <= 9007199254740991n ? Number(x) : x.toString()) : x);
const calls = [
  ['add', () => m.add(40, 2)],
  ['add-wraps', () => m.add(4294967295, 2)],
  ['div', () => ({ok: m.div(-7, 2)})],
  ['div-by-zero', () => ({ok: m.div(7, 0)})],
  ['norm2', () => m.norm2([3, -4])],
  ['norm2-big', () => m.norm2([-2147483648, -2147483648])],
  ['ops-add', () => m.ops.add(1, 2)],
  // Last: after a trap the instance may not be entered again (the spec's rule, which jco keeps).
  ['trap', () => m.trap()],
];
for (const [name, f] of calls) {
  let out;
  try {
    out = json(f());
  } catch (e) {
    out = e && e.payload !== undefined ? json({err: e.payload}) : 'trap';
  }
  console.log(`${name}: ${out}`);
}
