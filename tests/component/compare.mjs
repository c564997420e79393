// The reference host's side of the comparison (component_run_test.cc, "MatchesJcoTranspile"):
// calls the exports of wat/compare.wat, transpiled by `jco transpile`, on node and prints one line
// per call, "name: JSON" or "name: trap". u64s print as decimal strings, typed arrays as arrays,
// a missing option as null. The C++ test makes the same calls on wasmcap and renders them alike.
// (Not compared: a core i32 lifted as s8 beyond its range, which the spec wraps and jco 1.35
// refuses with a TypeError.)
//   node compare.mjs TRANSPILED_DIR/compare.js
const m = await import(process.argv[2]);
const json = (v) => {
  if (v === undefined) return 'null';
  return JSON.stringify(v, (k, x) =>
    typeof x === 'bigint' ? x.toString() : ArrayBuffer.isView(x) ? Array.from(x) : x === undefined ? null : x);
};
const calls = [
  ['add', () => m.add(40, 2)],
  ['add-wraps', () => m.add(4294967295, 2)],
  ['echo-string', () => m.echoString('h\u00e9llo \u{1F600}')],
  ['utf16-len', () => m.utf16Len('h\u00e9llo \u{1F600}')],
  ['echo-utf16', () => m.echoUtf16('h\u00e9llo \u{1F600}')],
  ['sum-list', () => m.sumList(Array.from({length: 100}, (_, i) => (i + 1) * 1000))],
  ['make-list', () => m.makeList(5)],
  ['swap', () => m.swap([9, 1n << 40n])],
  ['echo-opt-none', () => m.echoOpt(undefined)],
  ['echo-opt-some', () => m.echoOpt(18446744073709551615n)],
  ['echo-char', () => m.echoChar('\u{1F600}')],
  ['echo-f64', () => m.echoF64(-2.25)],
  ['sum17', () => m.sum17(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)],
  ['pair-as-string-oob', () => m.pairAsString(0xfffffff0, 100)],
];
for (const [name, f] of calls) {
  let out;
  try {
    out = json(f());
  } catch (e) {
    out = 'trap';
  }
  console.log(`${name}: ${out}`);
}
