// `npm pack` produces a tarball that installs into an empty folder and works there, offline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = fileURLToPath(new URL("..", import.meta.url));

test("the packed tarball installs and evaluates", () => {
  const dir = mkdtempSync(join(tmpdir(), "iamlet-pack-"));
  try {
    const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: pkg, encoding: "utf8" }).trim().split("\n").pop();
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", type: "module", private: true }));
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", join(dir, tarball)], { cwd: dir, stdio: "pipe" });
    writeFileSync(
      join(dir, "main.js"),
      `import { PolicySet } from "@iamlet/engine";
const set = new PolicySet([{ policyType: "identity", document: { Statement: { Effect: "Allow", Action: "s3:*", Resource: "*" } } }]);
console.log(set.evaluate({ principal: "arn:aws:iam::111122223333:user/a", action: "s3:GetObject", resource: "*" }));`,
    );
    const out = execFileSync(process.execPath, ["main.js"], { cwd: dir, encoding: "utf8" }).trim();
    assert.equal(out, "Allow");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
