// Runs a WASI Preview 1 command module on node's V8 (node:wasi), for bench/run.py:
//   node --no-incremental-marking --disable-warning=ExperimentalWarning \
//        bench/node_wasi.mjs MODULE.wasm [ARGS...]
// No preopens and no environment, like `wasmcap run` without grants. The guest's exit status
// becomes node's. (node:wasi is not a sandbox; this is only a speed baseline.)
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [modulePath, ...args] = process.argv.slice(2);
if (!modulePath) {
  process.stderr.write('usage: node_wasi.mjs MODULE.wasm [ARGS...]\n');
  process.exit(2);
}
const wasi = new WASI({ version: 'preview1', args: [modulePath, ...args], env: {},
                        preopens: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(modulePath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
