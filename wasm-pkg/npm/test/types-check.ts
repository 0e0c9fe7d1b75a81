// Compiled by `tsc --noEmit` in types.test.mjs: the declarations must type real use, and reject misuse.
import { PolicySet, validate, lint, diff, expandActions, checkPassword, type PasswordProblem, type Explanation, type PolicyInput, type Decision, type RequestInput, type Finding, type PolicyDiff, type ActionSummary } from "@iamlet/engine";

const input: PolicyInput = {
  policyType: "identity",
  document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] },
};
const set = new PolicySet([input]);
const request: RequestInput = { principal: "arn:aws:iam::111122223333:user/alice", action: "s3:GetObject", resource: "*", context: { "aws:TagKeys": ["a", "b"] } };
const decision: Decision = set.evaluate(request);
const why: Explanation = set.explain(request);
const first: string | undefined = why.statements[0]?.message;
const line: number | undefined = validate(input)[0]?.line;
console.log(decision, first, line, why.deciding.map((d) => d.policyType));

const findings: Finding[] = lint("{}", "scp");
const severity: "error" | "security_warning" | "warning" | "suggestion" | undefined = findings[0]?.severity;
const changes: PolicyDiff = diff("{}", "{}", "arn:aws:iam::111122223333:user/alice", "identity");
const granted: Decision | undefined = changes.granted[0]?.after;
const expanded: ActionSummary[] = expandActions("s3:*");
const problems: PasswordProblem[] = checkPassword({ MinimumPasswordLength: 12, RequireSymbols: true }, "pw", { previous: [] });
console.log(problems[0]?.code);
// @ts-expect-error: MinimumPasswordLength is a number
checkPassword({ MinimumPasswordLength: "12" }, "pw", {});

// A finding's location is the engine's (byte offsets included), not the DOM's `Location`.
const start: number | undefined = findings[0]?.location?.start;
console.log(severity, granted, expanded[0]?.level, start);
// @ts-expect-error: "admin" is not a PolicyType
lint("{}", "admin");

// @ts-expect-error: "allow" is not an Effect
const wrong: PolicyInput = { policyType: "identity", document: { Statement: { Effect: "allow", Action: "*", Resource: "*" } } };
// @ts-expect-error: policyType is required
const missing: PolicyInput = { document: "{}" };
console.log(wrong, missing);

import { escalationPaths, checkNoPublicAccess, type EscalationFinding, type CheckResponse } from "@iamlet/engine";
const risks: EscalationFinding[] = escalationPaths("{}", { target: ["admin"], maxPaths: 2 });
const firstGain: string | undefined = risks[0]?.paths[0]?.[0]?.gains;
const check: CheckResponse = checkNoPublicAccess("{}", "AWS::S3::Bucket");
const passed: boolean = check.result === "PASS";
console.log(firstGain, passed, check.reasons[0]?.statementIndex);
// @ts-expect-error: maxPaths is a number
escalationPaths("{}", { maxPaths: "2" });
