// Per-decision cost of the npm package in Node, on the typical principal of the Rust benchmarks
// (5 policies, 20 statements with conditions). Run: node wasm-pkg/npm/bench/evaluate.mjs
import { PolicySet } from "@iamlet/engine";

const services = ["s3", "ec2", "dynamodb", "sqs", "sns", "lambda", "kms", "logs"];
const policy = (n, seed) => ({
  policyType: "identity",
  document: {
    Version: "2012-10-17",
    Statement: Array.from({ length: n }, (_, i) => {
      const svc = services[(i + seed) % services.length];
      const s = { Sid: `S${i}`, Effect: "Allow", Action: [`${svc}:Get*`, `${svc}:List*`], Resource: `arn:aws:${svc}:*:111122223333:res${i}/*` };
      if (i % 2 === 0) s.Condition = { StringEquals: { "aws:PrincipalTag/team": ["payments", "search"] }, IpAddress: { "aws:SourceIp": "203.0.113.0/24" } };
      return s;
    }),
  },
});
const set = new PolicySet([0, 1, 2, 3, 4].map((p) => policy(4, p)));
const request = {
  principal: "arn:aws:iam::111122223333:user/alice",
  action: "s3:GetObject",
  resource: "arn:aws:s3:*:111122223333:res0/key",
  context: { "aws:PrincipalTag/team": "search", "aws:SourceIp": "203.0.113.10" },
};
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
