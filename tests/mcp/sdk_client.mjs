// Drives `wasmcap mcp` with the official TypeScript SDK client (@modelcontextprotocol/sdk),
// over stdio or Streamable HTTP: list tools, call core-utils tools in a workspace, a denied
// https call, a server-side deadline, client cancellation and a client timeout.
// Run by tests/mcp/sdk_test.sh, which installs the SDK and prepares the registry.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import assert from "node:assert/strict";
import { readAudit, sleep, startServer } from "./sdk_server.mjs";

const mode = process.argv[2];
const { WASMCAP, CONFIG, WS, AUDIT } = process.env;
const serverArgs = ["mcp", "--config", CONFIG, "--timeout-ms", "1500"];

const audit = () => readAudit(AUDIT);
async function waitFor(pred, what) {
  for (let i = 0; i < 100; i++) {
    if (pred()) return;
    await sleep(100);
  }
  assert.fail("timed out waiting for " + what);
}

const { transport, server } = await startServer(mode, WASMCAP, serverArgs,
                                               { Stdio: StdioClientTransport, Http: StreamableHTTPClientTransport });
const client = new Client({ name: "wasmcap-sdk-test", version: "1.0.0" });
await client.connect(transport);
console.log(`[${mode}] connected: server ${client.getServerVersion().name}, protocol ${transport.protocolVersion ?? "(stdio)"}`);

// tools/list (the SDK follows nextCursor itself when asked page by page)
const { tools } = await client.listTools();
const names = tools.map((t) => t.name).sort();
for (const n of ["cat", "fetch", "grep", "ls", "mkdir", "rm", "spin"]) assert.ok(names.includes(n), "missing tool " + n);
const rm = tools.find((t) => t.name === "rm");
assert.equal(rm.annotations.destructiveHint, true);
assert.equal(tools.find((t) => t.name === "cat").annotations.readOnlyHint, true);
assert.equal(tools.find((t) => t.name === "fetch").annotations.openWorldHint, true);
console.log(`[${mode}] tools/list: ${names.length} tools`);

// core-utils in the workspace
let r = await client.callTool({ name: "mkdir", arguments: { paths: [`dir-${mode}`] } });
assert.equal(r.isError, false, JSON.stringify(r));
r = await client.callTool({ name: "ls", arguments: {} });
assert.equal(r.isError, false);
assert.match(r.content[0].text, new RegExp(`dir-${mode}`));
r = await client.callTool({ name: "cat", arguments: { paths: ["notes.txt"] } });
assert.equal(r.content[0].text, "alpha\nbeta\n");
r = await client.callTool({ name: "grep", arguments: { pattern: "be", paths: ["notes.txt"], line_numbers: true } });
assert.equal(r.content[0].text, "2:beta\n");
r = await client.callTool({ name: "cat", arguments: { paths: ["../../etc/passwd"] } });
assert.equal(r.isError, true); // outside the grant
r = await client.callTool({ name: "cat", arguments: { paths: 7 } });
assert.equal(r.isError, true);
assert.match(r.content[0].text, /invalid arguments: \$\.paths: must be of type "array"/);
console.log(`[${mode}] core-utils calls ok`);

// a denied https call: refused by policy before any connection, audited under the call's id
r = await client.callTool({ name: "fetch", arguments: { url: "https://example.com/" } });
assert.equal(r.isError, true);
assert.equal(r.structuredContent.error.code, "grant_denied");
{
  const a = audit();
  const call = a.filter((e) => e.event === "tool_call" && e.tool === "fetch").pop();
  const https = a.filter((e) => e.event === "https_request" && e.invocation_id === call.invocation_id);
  assert.equal(https.length, 1);
  assert.equal(https[0].decision, "denied");
}
console.log(`[${mode}] denied https call ok`);

// server-side deadline (--timeout-ms 1500): a tool error, not a hang
r = await client.callTool({ name: "spin", arguments: {} });
assert.equal(r.isError, true);
assert.match(r.content.at(-1).text, /did not finish within its deadline \(1500 ms\)/);
console.log(`[${mode}] server deadline ok`);

// cancellation: the SDK sends notifications/cancelled (stdio) or drops the stream (HTTP)
const before = audit().filter((e) => e.outcome === "cancelled").length;
const ac = new AbortController();
setTimeout(() => ac.abort(), 300);
await assert.rejects(client.callTool({ name: "spin", arguments: {} }, undefined, { signal: ac.signal }));
await waitFor(() => audit().filter((e) => e.outcome === "cancelled").length > before, "a cancelled tool_call record");
console.log(`[${mode}] cancellation stopped the instance`);

// client-side timeout: the SDK gives up after 300 ms and cancels
const before2 = audit().filter((e) => e.outcome === "cancelled").length;
await assert.rejects(client.callTool({ name: "spin", arguments: {} }, undefined, { timeout: 300 }), /timed out|Timeout/i);
await waitFor(() => audit().filter((e) => e.outcome === "cancelled").length > before2, "a cancelled tool_call record");
console.log(`[${mode}] client timeout cancelled the instance`);

// the server still answers afterwards
r = await client.callTool({ name: "wc", arguments: { lines: true, paths: ["notes.txt"] } });
assert.equal(r.isError, false);

await client.close();
if (server) {
  server.kill("SIGTERM");
}
console.log(`[${mode}] PASS`);
