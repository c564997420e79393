// Checks, with npm's ajv (a JSON Schema 2020-12 validator in strict mode), that each schema
// json_schema/params_schema derived accepts a sample exactly when json_to_val/json_to_args did
// (json_val_test.cc writes the triples).   node json_schema_check.mjs AJV_DIR SAMPLES.json
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
const require = createRequire(resolve(process.argv[2]) + "/");
const Ajv2020 = require("ajv/dist/2020").default;
const samples = JSON.parse(readFileSync(process.argv[3], "utf8"));
const ajv = new Ajv2020({ strict: true, allErrors: false });
const compiled = new Map();
let bad = 0;
for (const { schema, value, accepted } of samples) {
  const key = JSON.stringify(schema);
  if (!compiled.has(key)) compiled.set(key, ajv.compile(schema));  // throws on an invalid schema
  const ok = compiled.get(key)(value);
  if (ok !== accepted) {
    bad++;
    console.log(`disagree: ${JSON.stringify(value)} ajv ${ok}, json_to_val ${accepted}; schema ${key}`);
  }
}
console.log(`${samples.length} samples, ${compiled.size} schemas, ${bad} disagreements`);
if (samples.length < 100 || bad > 0) process.exit(1);
