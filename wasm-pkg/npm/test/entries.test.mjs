// The entry files build.sh generates (entries.mjs) re-export the whole API wasm-bindgen generated, the
// same names in Node, in browsers and in the type declarations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as engine from "@iamlet/engine";
import * as generated from "../dist/iamlet_js.js";

const exported = (file) => {
  const text = readFileSync(new URL(`../${file}`, import.meta.url), "utf8");
  const list = /export \{([^}]*)\} from "\.\/dist\/iamlet_js\.js";/.exec(text)?.[1] ?? "";
  return list.split(",").map((name) => name.trim()).filter(Boolean).sort();
};

test("every entry exports the API of the WebAssembly module, and only it", () => {
  const api = Object.keys(generated).filter((name) => name !== "default" && name !== "initSync").sort();
  assert.ok(api.includes("PolicySet") && api.includes("checkPassword"), api.join());
  assert.deepEqual(Object.keys(engine).sort(), api);
  for (const file of ["index.node.js", "index.browser.js", "index.d.ts"]) assert.deepEqual(exported(file), api, file);
});
