// npm run generate: starts the authlite binary ($AUTHLITE_BIN, else
// target/debug/authlite; build it with `cargo build`), reads its /openapi.json,
// rewrites src/generated/api.ts, and builds dist/ again, since its
// declarations carry those types. One command after any change to the API.
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { buildInto } from "./build.mjs";
import { GENERATED, generateTypes } from "./openapi.mjs";
import { binary, startServer } from "./server.mjs";

const server = await startServer();
try {
  const text = await generateTypes(server.url);
  await writeFile(GENERATED, text);
  console.log(`wrote ${fileURLToPath(GENERATED)} from ${binary()}`);
  await buildInto(fileURLToPath(new URL("../dist", import.meta.url)));
  console.log("built dist/ again: commit src/generated/api.ts and dist/");
} finally {
  await server.stop();
}
