// The TypeScript declarations: they type-check real use, reject misuse, and say `any` nowhere in the
// engine's types.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

test("tsc accepts the example and rejects misuse", () => {
  const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: here, stdio: "pipe" });
});

test("no `any` in the engine's types", () => {
  const dts = readFileSync(new URL("../dist/iamlet_js.d.ts", import.meta.url), "utf8");
  // wasm-bindgen's own loader declarations (InitInput, initSync…) are not ours.
  const ours = dts.split("export type InitInput")[0];
  const anys = ours.split("\n").filter((l) => /\bany\b/.test(l) && !l.trim().startsWith("*") && !l.trim().startsWith("//"));
  assert.deepEqual(anys, []);
});
