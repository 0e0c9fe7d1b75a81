// The whole conformance corpus through the package: every case compiled with `PolicySet` from its
// inputs and explained, and again through `simulate`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { PolicySet, simulate, casePolicyInputs, caseRequest } from "@iamlet/engine";

const dir = new URL("../../../tests/conformance/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();

test("the corpus has cases", () => {
  assert.ok(files.length > 10);
});

for (const file of files) {
  const cases = JSON.parse(readFileSync(new URL(file, dir), "utf8"));
  test(file, () => {
    let failures = [];
    for (const c of cases) {
      const set = new PolicySet(casePolicyInputs(c));
      const decision = set.explain(caseRequest(c)).decision;
      if (decision !== c.expected) failures.push(`${c.id}: expected ${c.expected}, got ${decision}`);
    }
    const batch = simulate(cases);
    batch.forEach((r, i) => {
      if (r.decision !== cases[i].expected) failures.push(`simulate ${r.id}: expected ${cases[i].expected}, got ${r.decision ?? r.error}`);
    });
    assert.deepEqual(failures, []);
  });
}
