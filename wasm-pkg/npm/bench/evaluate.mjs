// Per-decision cost of the npm package in Node, on the typical principal of the Rust benchmarks
// (5 policies, 20 statements with conditions). Run: node wasm-pkg/npm/bench/evaluate.mjs
import { PolicySet } from "@iamlet/engine";
import { typicalPolicies, typicalRequest } from "./typical.mjs";

const set = new PolicySet(typicalPolicies());
const request = typicalRequest();
if (set.evaluate(request) !== "Allow") throw new Error("the benchmark request must be allowed");

function median(fn, rounds = 15, iterations = 20000) {
  const times = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    times.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

median(() => set.evaluate(request), 3);
console.log(`npm evaluate (typical, Allow): ${(median(() => set.evaluate(request)) / 1000).toFixed(2)} µs per decision (median of 15 rounds)`);
console.log(`npm explain  (typical, Allow): ${(median(() => set.explain(request), 15, 2000) / 1000).toFixed(2)} µs per decision`);

// The crossing's cost against the request's context keys: real requests carry 5–10. Keys no statement
// reads, so the engine's own work stays the same and only the request's size grows.
const extra = [
  ["aws:UserAgent", "aws-sdk-js/3.700.0"],
  ["aws:SecureTransport", "true"],
  ["aws:RequestedRegion", "us-east-1"],
  ["aws:SourceVpc", "vpc-1a2b3c4d"],
  ["aws:ViaAWSService", "false"],
  ["aws:userid", "AIDAEXAMPLEUSERID1234"],
  ["aws:PrincipalOrgID", "o-exampleorgid"],
];
for (const n of [0, 2, 5, 9]) {
  const context = Object.fromEntries([
    ...Object.entries(request.context),
    ...extra,
  ].slice(0, n));
  const r = { ...request, context };
  const expected = n >= 2 ? "Allow" : "ImplicitDeny";
  if (set.evaluate(r) !== expected) throw new Error(`${n} keys: not ${expected}`);
  median(() => set.evaluate(r), 3);
  console.log(`npm evaluate with ${n} context keys: ${(median(() => set.evaluate(r)) / 1000).toFixed(2)} µs per decision`);
}
