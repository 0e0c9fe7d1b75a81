// Two builds of the package side by side in one Node process, alternating, so a change is measured
// against its baseline under the same load (this VM's speed moves by half between minutes).
//
// Usage: node wasm-pkg/npm/bench/ab.mjs BEFORE_DIST AFTER_DIST
//   each a `dist/` folder as build.sh leaves it (copy the old one aside before rebuilding).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { typicalPolicies, typicalRequest } from "./typical.mjs";

const [before, after] = process.argv.slice(2);
if (!before || !after) {
  console.error("usage: node ab.mjs BEFORE_DIST AFTER_DIST");
  process.exit(2);
}
async function load(dir) {
  const js = await import(pathToFileURL(resolve(dir, "iamlet_js.js")).href);
  js.initSync({ module: readFileSync(resolve(dir, "iamlet_js_bg.wasm")) });
  return js;
}
const builds = { before: await load(before), after: await load(after) };

// The typical principal of evaluate.mjs with six context keys, and a set that reads nothing.
const typical = typicalPolicies();
const allowAll = [{ policyType: "identity", document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }];
const request = typicalRequest();
Object.assign(request.context, {
  "aws:UserAgent": "aws-sdk-js/3.700.0",
  "aws:SecureTransport": "true",
  "aws:RequestedRegion": "us-east-1",
  "aws:SourceVpc": "vpc-1a2b3c4d",
});
const bare = { principal: request.principal, action: request.action, resource: request.resource };

const cases = {};
for (const [name, m] of Object.entries(builds)) {
  const set = new m.PolicySet(typical);
  const all = new m.PolicySet(allowAll);
  if (set.evaluate(request) !== "Allow") throw new Error(`${name}: the typical request must be allowed`);
  cases[name] = {
    "typical set, 6 context keys": () => set.evaluate(request),
    "Allow *, no context": () => all.evaluate(bare),
    "Allow *, 6 context keys": () => all.evaluate(request),
    "typical set, decide": () => set.decide(request),
  };
}
const batch = (fn, n = 20000) => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const times = {};
for (let round = 0; round < 21; round++) {
  for (const name of round % 2 ? ["before", "after"] : ["after", "before"]) {
    for (const [label, fn] of Object.entries(cases[name])) (times[`${name}\t${label}`] ??= []).push(batch(fn));
  }
}
console.log("| request | before | after | after ÷ before |\n|---|---:|---:|---:|");
for (const label of Object.keys(cases.before)) {
  const b = median(times[`before\t${label}`]);
  const a = median(times[`after\t${label}`]);
  console.log(`| ${label} | ${(b / 1000).toFixed(2)} µs | ${(a / 1000).toFixed(2)} µs | ${(a / b).toFixed(2)} |`);
}
