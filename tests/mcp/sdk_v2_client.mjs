// The official TypeScript SDK v2 client (@modelcontextprotocol/client), pinned to the stateless
// 2026-07-28 revision, against `wasmcap mcp` over HTTP and stdio: server/discover, tools/list,
// tools/call, and cancellation by aborting the request (on HTTP: the connection closes, the
// server must stop the instance; the audit file must say so).
//   node sdk_v2_client.mjs http URL AUDIT_FILE
//   node sdk_v2_client.mjs stdio WASMCAP CONFIG
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { readFileSync, existsSync } from 'node:fs';

const [mode, a1, a2] = process.argv.slice(2);
function check(cond, what) {
  if (!cond) {
    console.error('FAIL: ' + what);
    process.exit(1);
  }
  console.log('ok: ' + what);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const client = new Client({ name: 'wasmcap-sdk-v2-test', version: '1.0.0' },
                          { versionNegotiation: { mode: { pin: '2026-07-28' } } });
const transport = mode === 'http'
  ? new StreamableHTTPClientTransport(new URL(a1))
  : new StdioClientTransport({ command: a1, args: ['mcp', '--config', a2], env: process.env, stderr: 'inherit' });
await client.connect(transport);
check(client.getServerVersion()?.name === 'wasmcap', 'connected on 2026-07-28, server wasmcap');

const { tools } = await client.listTools();
const names = tools.map((t) => t.name);
check(names.includes('cat') && names.includes('spin'), 'tools/list has cat and spin');

const r = await client.callTool({ name: 'cat', arguments: { paths: ['/work/notes.txt'] } });
check(!r.isError && r.content[0].text.includes('beta'), 'tools/call cat reads the workspace');

const bad = await client.callTool({ name: 'cat', arguments: { paths: [1] } });
check(bad.isError === true, 'invalid arguments are a tool error');

if (mode === 'http') {
  // Cancel by aborting: the request's connection closes, the server stops the instance.
  const ac = new AbortController();
  const started = Date.now();
  const p = client.callTool({ name: 'spin', arguments: {} }, { signal: ac.signal, timeout: 30000 })
    .then(() => 'finished', (e) => 'rejected: ' + e.message);
  await sleep(700);
  ac.abort('user cancelled');
  const outcome = await p;
  check(outcome.startsWith('rejected') && Date.now() - started < 5000,
        `the aborted call rejects on the client at once (${outcome})`);
  let record;
  for (let i = 0; i < 100 && !record; ++i) {
    await sleep(100);
    if (!existsSync(a2)) continue;
    record = readFileSync(a2, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
      .find((x) => x.event === 'tool_call' && x.tool === 'spin');
  }
  check(record && record.outcome === 'cancelled' && record.duration_ms < 10000,
        `the server stopped the instance (audit outcome ${record?.outcome}, ${Date.now() - started} ms)`);
  check(record.session_id === null, 'no session on 2026-07-28 (audit session_id null)');
  // And the server is fine afterwards.
  const again = await client.callTool({ name: 'cat', arguments: { paths: ['/work/notes.txt'] } });
  check(!again.isError, 'the next call runs');
}
await client.close();
process.exit(0);
