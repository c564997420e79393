// What the SDK clients (sdk_client.mjs, sdk_bash_client.mjs) share: `wasmcap mcp` started as the
// client's transport, and the audit file read back. sdk_install.sh copies it into the node
// directory, next to them.
import { spawn } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";

// The audit file's records (none while it does not exist).
export const readAudit = (path) =>
  existsSync(path) ? readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map(JSON.parse) : [];
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// `wasmcap ARGS` as the transport of `mode`: on "stdio" the SDK's transport runs it; otherwise it
// listens on a free loopback port (read from its "listening on" line) and the transport posts
// there. { transport, server }: server is the HTTP server's process (null on stdio), killed
// when this process exits.
export async function startServer(mode, wasmcap, args, { Stdio, Http }) {
  if (mode === "stdio") {
    return { transport: new Stdio({ command: wasmcap, args, env: process.env, stderr: "inherit" }), server: null };
  }
  const server = spawn(wasmcap, [...args, "--listen", "127.0.0.1:0"], { stdio: ["ignore", "inherit", "pipe"] });
  process.on("exit", () => server.kill("SIGKILL")); // never leave the server behind
  const port = await new Promise((resolve, reject) => {
    let err = "";
    server.stderr.on("data", (d) => {
      err += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    server.on("exit", (c) => reject(new Error("server exited " + c + ": " + err)));
  });
  return { transport: new Http(new URL(`http://127.0.0.1:${port}/mcp`)), server };
}
