// npm run build: tsc to dist/ (the ES module and its declarations, what npm
// users import), then esbuild to dist/authlite-client.js (the same source as
// one minified, self-contained module, the file the server embeds and serves at
// GET /client/authlite-client.js).
//
// `node scripts/build.mjs --out DIR` builds into DIR instead, for the test that
// compares the committed dist/ with a fresh build.
import { execFile } from "node:child_process";
import { rm, writeFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
const tsc = require.resolve("typescript/bin/tsc");

export const BUNDLE = "authlite-client.js";

export async function buildInto(out) {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await promisify(execFile)(process.execPath, [tsc, "-p", join(root, "tsconfig.json"), "--outDir", out]);
  const bundled = await build({
    entryPoints: [join(root, "src/index.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    minify: true,
    legalComments: "none",
    write: false,
    logLevel: "silent",
  });
  const [file] = bundled.outputFiles;
  await writeFile(join(out, BUNDLE), file.contents);
  return { out, bytes: file.contents.length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--out");
  const out = i > 0 ? resolve(process.argv[i + 1]) : join(root, "dist");
  const { bytes } = await buildInto(out);
  const { gzipSync } = await import("node:zlib");
  const { readFile } = await import("node:fs/promises");
  const gz = gzipSync(await readFile(join(out, BUNDLE)), { level: 9 }).length;
  console.log(`built ${out}: ${BUNDLE} ${bytes} bytes minified, ${gz} bytes gzipped`);
}
