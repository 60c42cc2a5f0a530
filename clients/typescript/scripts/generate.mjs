// npm run generate: starts the authlite binary ($AUTHLITE_BIN, else
// target/debug/authlite; build it with `cargo build`), reads its /openapi.json
// and rewrites src/generated/api.ts.
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { GENERATED, generateTypes } from "./openapi.mjs";
import { binary, startServer } from "./server.mjs";

const server = await startServer();
try {
  const text = await generateTypes(server.url);
  await writeFile(GENERATED, text);
  console.log(`wrote ${fileURLToPath(GENERATED)} from ${binary()}`);
} finally {
  await server.stop();
}
