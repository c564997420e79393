// The `bash` tool driven by the official TypeScript SDK clients (docs/mcp.md "The bash tool").
//   node sdk_bash_client.mjs v1 stdio|http   (the 1.x SDK, a session: state, diff, apply)
//   node sdk_bash_client.mjs v2 stdio|http   (the v2 client on 2026-07-28: no session)
// Environment: WASMCAP, CONFIG, AUDIT, PROJ (the real project), TRANSCRIPT (the agent's command
// lines, one JSON string per line), OUT (where the v1 run writes `find`'s listing of /work).
import { readFileSync, writeFileSync } from "node:fs";
import assert from "node:assert/strict";
import { readAudit, sleep, startServer } from "./sdk_server.mjs";

const [sdk, mode] = process.argv.slice(2);
const { WASMCAP, CONFIG, AUDIT, PROJ, TRANSCRIPT, OUT } = process.env;
const serverArgs = ["mcp", "--config", CONFIG, "--timeout-ms", "3000", "--max-output-bytes", "4096"];
const audit = () => readAudit(AUDIT);
const text = (r) => r.content.map((c) => c.text).join("");

let Client, Stdio, Http;
if (sdk === "v1") {
  ({ Client } = await import("@modelcontextprotocol/sdk/client/index.js"));
  ({ StdioClientTransport: Stdio } = await import("@modelcontextprotocol/sdk/client/stdio.js"));
  ({ StreamableHTTPClientTransport: Http } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js"));
} else {
  ({ Client, StreamableHTTPClientTransport: Http } = await import("@modelcontextprotocol/client"));
  ({ StdioClientTransport: Stdio } = await import("@modelcontextprotocol/client/stdio"));
}

const { transport, server } = await startServer(mode, WASMCAP, serverArgs, { Stdio, Http });
const client = sdk === "v1"
  ? new Client({ name: "wasmcap-bash-test", version: "1.0.0" })
  : new Client({ name: "wasmcap-bash-test", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
await client.connect(transport);
const tag = `[${sdk} ${mode}]`;
const bash = (command, extra = {}) => client.callTool({ name: "bash", arguments: { command, ...extra } });

const { tools } = await client.listTools();
const listed = tools.find((t) => t.name === "bash");
assert.ok(listed, "bash is listed");
assert.equal(listed.inputSchema.properties.command.maxLength, 65536);
assert.ok(tools.find((t) => t.name === "workspace_diff") && tools.find((t) => t.name === "workspace_apply"));

// Bounds and refusals, each by its message.
let r = await bash("echo x #" + "y".repeat(65536));
assert.equal(r.isError, true);
assert.match(text(r), /invalid arguments: \$\.command: longer than 65536 characters/);
r = await bash("seq 1 100000");
assert.equal(r.isError, true);
assert.ok(r.content[0].text.length <= 4096);
assert.match(text(r), /\[output truncated: the command wrote more than 4096 bytes and was stopped\]/);
r = await bash("sleep 30", { timeout_ms: 200 });
assert.match(text(r), /did not finish within its deadline \(200 ms\)/);
r = await bash("sleep 30", { timeout_ms: 100000 }); // never past the server's 3000 ms
assert.match(text(r), /did not finish within its deadline \(3000 ms\)/);
r = await bash(`cat ${PROJ}/notes.txt`); // the host path of the real project: not reachable
assert.equal(r.isError, true);
assert.doesNotMatch(text(r), /alpha/);
console.log(`${tag} bounds and refusals ok`);

// Cancellation: the SDK sends notifications/cancelled (stdio) or closes the request (HTTP; the
// only cancellation the 2026-07-28 revision has, so not on its stdio: sdk_v2_client.mjs).
if (sdk === "v1" || mode === "http") {
  const before = audit().filter((e) => e.tool === "bash" && e.outcome === "cancelled").length;
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  const params = { name: "bash", arguments: { command: "sleep 30" } };
  const options = { signal: ac.signal, timeout: 30000 };
  // 1.x: callTool(params, resultSchema, options); v2: callTool(params, options).
  await assert.rejects(sdk === "v1" ? client.callTool(params, undefined, options) : client.callTool(params, options));
  for (let i = 0; i < 100; i++) {
    if (audit().filter((e) => e.tool === "bash" && e.outcome === "cancelled").length > before) break;
    await sleep(100);
  }
  assert.ok(audit().filter((e) => e.tool === "bash" && e.outcome === "cancelled").length > before,
            "a cancelled bash record");
  console.log(`${tag} cancellation stopped the command`);
}

if (sdk === "v1") {
  // A session: the agent's transcript, state kept from call to call.
  const lines = readFileSync(TRANSCRIPT, "utf8").split("\n").filter(Boolean).map(JSON.parse);
  for (const line of lines) {
    r = await bash(line);
    assert.equal(r.isError, false, line + " => " + JSON.stringify(r));
  }
  r = await bash("pwd");
  assert.equal(text(r), "/work/app\nexit status 0");
  r = await bash("cd /work && find . | sort");
  writeFileSync(OUT, r.content[0].text);
  assert.equal(readFileSync(`${PROJ}/notes.txt`, "utf8"), "alpha\nbeta\n"); // not applied yet
  r = await client.callTool({ name: "workspace_diff", arguments: {} });
  assert.equal(r.isError, false);
  const digest = r.structuredContent.digest;
  assert.match(digest, /^[0-9a-f]{64}$/);
  assert.match(text(r), /-beta\n\+gamma/);
  r = await client.callTool({ name: "workspace_apply", arguments: { digest: "0".repeat(64) } });
  assert.equal(r.isError, true); // not the reviewed change set: nothing written
  assert.equal(readFileSync(`${PROJ}/notes.txt`, "utf8"), "alpha\nbeta\n");
  r = await client.callTool({ name: "workspace_apply", arguments: { digest } });
  assert.equal(r.isError, false, JSON.stringify(r));
  console.log(`${tag} transcript run, reviewed and applied (${r.content[0].text})`);
} else if (mode === "stdio") {
  // The stdio connection is the session, whatever the revision: state is kept.
  r = await bash("cd /work && mkdir kept && cd kept && pwd");
  assert.equal(text(r), "/work/kept\nexit status 0");
  r = await bash("pwd");
  assert.equal(text(r), "/work/kept\nexit status 0");
  console.log(`${tag} the connection's shell keeps its state`);
} else {
  // No session on 2026-07-28 over HTTP: every call starts afresh, on a copy of its own.
  r = await bash("cd /work && mkdir gone && cd gone && pwd");
  assert.equal(text(r), "/work/gone\nexit status 0");
  r = await bash("pwd; ls /work");
  assert.equal(text(r), "/work\nnotes.txt\nexit status 0");
  r = await client.callTool({ name: "workspace_diff", arguments: {} });
  assert.equal(r.isError, true);
  assert.match(text(r), /needs a session/);
  console.log(`${tag} stateless calls keep nothing`);
}
const records = audit().filter((e) => e.event === "tool_call" && e.tool === "bash");
assert.ok(records.length > 0 && records.every((e) => e.plugin === null));
await client.close();
server?.kill("SIGTERM");
console.log(`${tag} PASS`);
