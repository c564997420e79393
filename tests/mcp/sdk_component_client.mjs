// Component tools (docs/mcp.md, "Component tools") through the official TypeScript SDK clients:
// v1 (@modelcontextprotocol/sdk) and v2 (@modelcontextprotocol/client), over stdio, against
// `wasmcap mcp` serving tests/component/wat/call.wat's exports as tools. The clients validate
// every structuredContent against the tool's outputSchema themselves.
//   node sdk_component_client.mjs v1|v2 WASMCAP CONFIG
const [version, wasmcap, config] = process.argv.slice(2);
let Client, StdioClientTransport, options = {};
if (version === 'v1') {
  ({ Client } = await import('@modelcontextprotocol/sdk/client/index.js'));
  ({ StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js'));
} else {
  ({ Client } = await import('@modelcontextprotocol/client'));
  ({ StdioClientTransport } = await import('@modelcontextprotocol/client/stdio'));
}
function check(cond, what) {
  if (!cond) {
    console.error(`FAIL (${version}): ${what}`);
    process.exit(1);
  }
  console.log(`ok (${version}): ${what}`);
}
const client = new Client({ name: 'wasmcap-component-test', version: '1.0.0' }, options);
await client.connect(new StdioClientTransport({
  command: wasmcap, args: ['mcp', '--config', config], env: process.env, stderr: 'inherit' }));

const { tools } = await client.listTools();
const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
const names = Object.keys(byName).sort();
check(JSON.stringify(names) === JSON.stringify(['add', 'div', 'norm2', 'ops_add', 'trap']),
      `tools/list has the selected exports, named by function and interface: ${names}`);
const add = byName.add;
check(add.inputSchema.type === 'object' && add.inputSchema.properties.a.maximum === 4294967295 &&
      JSON.stringify(add.inputSchema.required) === '["a","b"]', 'add: inputSchema from (a: u32, b: u32)');
check(add.outputSchema?.type === 'object' && add.outputSchema.properties.result.type === 'integer',
      'add: outputSchema wraps the u32 result as "result"');
check(add.description.includes('add(a: u32, b: u32) -> u32'), 'add: the description has the signature');
check(add._meta['io.wasmcap/export'] === 'add' && byName.ops_add._meta['io.wasmcap/export'] === 'example:call/ops#add',
      '_meta names the export called');
check(add.annotations.readOnlyHint === true, 'annotations from the grants (none: read-only)');
check(byName.trap.outputSchema === undefined, 'a function without a result has no outputSchema');

let r = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
check(!r.isError && r.structuredContent.result === 5 && r.content[0].text === '5', 'add(2, 3) = 5, structured');
r = await client.callTool({ name: 'ops_add', arguments: { a: 4294967295, b: 1 } });
check(!r.isError && r.structuredContent.result === 0, 'ops_add wraps at 2^32 as u32 does');
r = await client.callTool({ name: 'div', arguments: { a: 7, b: 2 } });
check(!r.isError && r.structuredContent.result.ok === 3, 'div(7, 2) = {ok: 3}');
r = await client.callTool({ name: 'div', arguments: { a: 7, b: 0 } });
check(r.isError === true && r.content[0].text === '{"err":"division by zero"}',
      'div by zero: isError carrying the error value');
r = await client.callTool({ name: 'norm2', arguments: { p: [3, 4] } });
check(!r.isError && r.structuredContent.result === 25, 'norm2([3, 4]) = 25 (a tuple argument)');
r = await client.callTool({ name: 'norm2', arguments: { p: [3, 'x'] } });
check(r.isError === true && r.content[0].text.includes('$.p[1]'), 'a wrong type: isError naming $.p[1]');
r = await client.callTool({ name: 'add', arguments: { a: 1, b: 2, c: 3 } });
check(r.isError === true && r.content[0].text.includes('$.c'), 'an unknown parameter: isError naming $.c');
r = await client.callTool({ name: 'add', arguments: { a: -1, b: 2 } });
check(r.isError === true && r.content[0].text.includes('$.a'), 'out of range: isError naming $.a');
r = await client.callTool({ name: 'trap', arguments: {} });
check(r.isError === true && /unreachable|trap/.test(r.content.map((c) => c.text).join(' ')), 'a trap is a tool error');
await client.close();
console.log(`sdk_component_client ${version}: PASS`);
