// The package's API in Node: decisions, explanations, problems as data, thrown errors, batch cases.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PolicySet, validate, simulate, casePolicyInputs, version } from "@iamlet/engine";

const home = {
  policy_type: "identity",
  name: "home",
  document: {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Home",
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*",
        Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } },
      },
    ],
  },
};
const request = (user, mfa) => ({
  principal: `arn:aws:iam::111122223333:user/${user}`,
  action: "s3:GetObject",
  resource: "arn:aws:s3:::amzn-s3-demo-bucket/home/alice/notes.txt",
  context: { "aws:MultiFactorAuthPresent": mfa },
});

test("evaluate, decide and explain", () => {
  const set = new PolicySet([home]);
  assert.equal(set.statementCount, 1);
  assert.equal(set.evaluate(request("alice", true)), "Allow");
  assert.equal(set.evaluate(request("bob", true)), "ImplicitDeny");
  const verdict = set.decide(request("alice", true));
  assert.equal(verdict.deciding[0].sid, "Home");
  const why = set.explain(request("alice", false));
  assert.equal(why.decision, "ImplicitDeny");
  assert.equal(why.statements[0].reason.kind, "condition_not_met");
  assert.deepEqual(why.statements[0].reason.request_values, ["false"]);
  assert.match(why.statements[0].message, /aws:MultiFactorAuthPresent/);
});

test("documents as JSON text, SCP levels", () => {
  const scp = (action) => ({
    policy_type: "scp",
    document: JSON.stringify({ Statement: { Effect: "Allow", Action: action, Resource: "*" } }),
  });
  const set = new PolicySet([home, { ...scp("*"), level: 0 }, { ...scp("ec2:*"), level: 1 }]);
  const why = set.explain(request("alice", true));
  assert.equal(why.decision, "ImplicitDeny");
  assert.match(why.summary, /organization level 1/);
});

test("problems as data, and as a thrown error", () => {
  const bad = { policy_type: "identity", name: "bad", document: '{"Statement": {"Effect": "allow", "Action": "s3:*", "Resource": "*"}}' };
  const problems = validate(bad);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].path, "Statement.Effect");
  assert.equal(problems[0].line, 1);
  assert.equal(problems[0].column, 26);
  assert.deepEqual(validate(home), []);
  assert.throws(() => new PolicySet([bad]), /Statement\.Effect: expected "Allow" or "Deny", found "allow"/);
  const set = new PolicySet([home]);
  assert.throws(() => set.evaluate({ principal: "bob", action: "s3:GetObject", resource: "*" }), /principal `bob`/);
});

test("simulate and casePolicyInputs", () => {
  const cases = [
    {
      id: "a",
      identity_policies: [home.document],
      request: request("alice", true),
      expected: "Allow",
    },
  ];
  const [r] = simulate(cases);
  assert.equal(r.id, "a");
  assert.equal(r.decision, "Allow");
  assert.equal(simulate(JSON.stringify(cases))[0].decision, "Allow");
  const inputs = casePolicyInputs(cases[0]);
  assert.equal(inputs[0].name, "identity_policies[0]");
  assert.equal(new PolicySet(inputs).evaluate(cases[0].request), "Allow");
  assert.match(version(), /^\d+\.\d+\.\d+/);
});
