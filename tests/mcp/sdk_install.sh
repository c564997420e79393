#!/usr/bin/env bash
# Installs the official MCP TypeScript SDK clients into DIR (cached across runs, never committed):
# the 1.x SDK (initialize era, 2025-11-25) and the v2 client package (the stateless 2026-07-28
# revision). The tests using DIR hold the ctest resource lock `mcp-node`.
#   sdk_install.sh DIR
set -euo pipefail
NODE_DIR=$1
SDK_VERSION=1.32.2      # the 1.x SDK: initialize era (2025-11-25), the latest 1.x on npm
CLIENT_VERSION=2.4.0    # the v2 client package: the stateless 2026-07-28 revision
if [ ! -f "$NODE_DIR/node_modules/@modelcontextprotocol/sdk/package.json" ] ||
   ! grep -q "\"version\": \"$SDK_VERSION\"" "$NODE_DIR/node_modules/@modelcontextprotocol/sdk/package.json" ||
   ! grep -q "\"version\": \"$CLIENT_VERSION\"" "$NODE_DIR/node_modules/@modelcontextprotocol/client/package.json" 2>/dev/null; then
  mkdir -p "$NODE_DIR"
  echo '{"private":true}' > "$NODE_DIR/package.json"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error "@modelcontextprotocol/sdk@$SDK_VERSION" \
    "@modelcontextprotocol/client@$CLIENT_VERSION"
fi
# What the clients share (the server start, the audit reader), next to them.
cp "$(dirname "$0")/sdk_server.mjs" "$NODE_DIR/sdk_server.mjs"
