// Render math fragments with KaTeX, as a Markdown site (MkDocs, a docs page)
// would, and report every fragment KaTeX refuses.
//
// stdin:  a JSON array of {"source": "file:line", "tex": "...", "display": true|false}
// stdout: one line "source: message" per fragment that failed
// exit:   0 all rendered, 1 some failed, 2 KaTeX could not be loaded or the input is bad
//
// KaTeX is loaded from KATEX_PATH (the katex package's folder) if set, else from
// .ci/node/node_modules/katex in the repository, where .ci/run installs it.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const katexPath = process.env.KATEX_PATH || resolve(root, ".ci/node/node_modules/katex");

let katex;
try {
  katex = createRequire(import.meta.url)(resolve(katexPath));
} catch (error) {
  console.error(`katex_check: cannot load KaTeX from ${katexPath}: ${error.message.split("\n")[0]}`);
  process.exit(2);
}

let fragments;
try {
  fragments = JSON.parse(readFileSync(0, "utf8"));
  if (!Array.isArray(fragments)) throw new Error("expected a JSON array");
} catch (error) {
  console.error(`katex_check: bad input on stdin: ${error.message}`);
  process.exit(2);
}

let failed = 0;
for (const { source, tex, display } of fragments) {
  try {
    katex.renderToString(tex, { displayMode: Boolean(display), throwOnError: true, strict: "error" });
  } catch (error) {
    failed += 1;
    const message = String(error && error.message ? error.message : error).replace(/\s+/g, " ");
    console.log(`${source}: ${message}`);
  }
}
process.exit(failed ? 1 : 0);
