// For the Rust parity test: prints, for every case of the given files, the explanation the package
// produces through `PolicySet` (or the error), as one JSON array.
import { readFileSync } from "node:fs";
import { PolicySet, casePolicyInputs, caseRequest } from "@iamlet/engine";

const out = [];
for (const file of process.argv.slice(2)) {
  for (const c of JSON.parse(readFileSync(file, "utf8"))) {
    try {
      const set = new PolicySet(casePolicyInputs(c));
      out.push({ id: c.id, explanation: set.explain(caseRequest(c)) });
    } catch (e) {
      out.push({ id: c.id, error: String(e.message ?? e) });
    }
  }
}
process.stdout.write(JSON.stringify(out));
