# Sourced by the component test scripts: installs npm's @bytecodealliance/jco (JCO_VERSION) into
# BUILD/node-jco once, and sets JCO to its command.
JCO_VERSION=1.35.0
NODE_DIR=$BUILD/node-jco
if [ ! -f "$NODE_DIR/node_modules/@bytecodealliance/jco/package.json" ] ||
   ! grep -q "\"version\": \"$JCO_VERSION\"" "$NODE_DIR/node_modules/@bytecodealliance/jco/package.json"; then
  mkdir -p "$NODE_DIR"
  echo '{"private":true}' > "$NODE_DIR/package.json"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error "@bytecodealliance/jco@$JCO_VERSION"
fi
JCO=$NODE_DIR/node_modules/.bin/jco
