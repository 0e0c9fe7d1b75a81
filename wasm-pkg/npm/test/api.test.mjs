// The package's API in Node: decisions, explanations, problems as data, thrown errors, batch cases.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  PolicySet,
  validate,
  simulate,
  casePolicyInputs,
  caseRequest,
  lint,
  diff,
  expandActions,
  checkPassword,
  version,
} from "@iamlet/engine";

const home = {
  policyType: "identity",
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
  assert.deepEqual(why.statements[0].reason.requestValues, ["false"]);
  assert.match(why.statements[0].message, /aws:MultiFactorAuthPresent/);
});

test("documents as JSON text, SCP levels", () => {
  const scp = (action) => ({
    policyType: "scp",
    document: JSON.stringify({ Statement: { Effect: "Allow", Action: action, Resource: "*" } }),
  });
  const set = new PolicySet([home, { ...scp("*"), level: 0 }, { ...scp("ec2:*"), level: 1 }]);
  const why = set.explain(request("alice", true));
  assert.equal(why.decision, "ImplicitDeny");
  assert.match(why.summary, /organization level 1/);
});

test("problems as data, and as a thrown error", () => {
  const bad = { policyType: "identity", name: "bad", document: '{"Statement": {"Effect": "allow", "Action": "s3:*", "Resource": "*"}}' };
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

test("lint: findings with codes, paths, positions and fixes", () => {
  const risky = JSON.stringify(
    {
      Statement: [
        { Effect: "Allow", Action: ["iam:PassRole", "s3:GetObjekt"], Resource: "*" },
      ],
    },
    null,
    2,
  );
  const findings = lint(risky, "identity");
  const codes = findings.map((f) => f.code);
  assert.ok(codes.includes("missing_version"), codes.join());
  assert.ok(codes.includes("pass_role_with_star"), codes.join());
  const unknown = findings.find((f) => f.code === "unknown_action");
  assert.equal(unknown.severity, "error");
  assert.equal(unknown.path, "Statement[0].Action[1]");
  assert.equal(unknown.location.line, 7);
  assert.match(unknown.message, /s3:GetObjekt/);
  // A grammar error is a finding, not a throw; an unknown type is a thrown error.
  assert.equal(lint("{", "scp")[0].code, "syntax");
  assert.throws(() => lint("{}", "admin"), /admin/);
  assert.deepEqual(
    lint(
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}',
      "identity",
    ),
    [],
  );
});

test("diff: what a change grants and revokes, and why", () => {
  const before = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "Get", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }],
  });
  const after = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "Write", Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::b/*" }],
  });
  const d = diff(before, after, "arn:aws:iam::111122223333:user/alice", "identity");
  const row = (c) => [c.action, c.resource, c.before, c.after, c.because[0].sid];
  assert.deepEqual(d.granted.map(row), [["s3:PutObject", "arn:aws:s3:::b/*", "ImplicitDeny", "Allow", "Write"]]);
  assert.deepEqual(d.revoked.map(row), [["s3:GetObject", "arn:aws:s3:::b/*", "Allow", "ImplicitDeny", "Get"]]);
  assert.ok(d.probes > 0);
  assert.throws(() => diff("{", after, "arn:aws:iam::111122223333:user/alice", "identity"), /old/);
  assert.throws(() => diff(before, after, "nobody", "identity"), /principal/i);
});

test("expandActions: the catalog's actions with access levels", () => {
  const actions = expandActions("iam:PassRole");
  assert.deepEqual(actions, [{ action: "iam:PassRole", level: "write" }]);
  const gets = expandActions("s3:GetObject*").map((a) => a.action);
  assert.ok(gets.includes("s3:GetObjectAcl"), gets.join());
  assert.ok(gets.every((a) => a.startsWith("s3:GetObject")));
  assert.deepEqual(expandActions("zzz:*"), []);
});

test("checkPassword: the account policy, AWS's default, reuse", () => {
  const policy = {
    MinimumPasswordLength: 14,
    RequireSymbols: true,
    RequireNumbers: true,
    RequireUppercaseCharacters: true,
    RequireLowercaseCharacters: true,
    PasswordReusePrevention: 24,
  };
  assert.deepEqual(
    checkPassword(policy, "correcthorse", {}).map((p) => p.code),
    ["too_short", "missing_symbol", "missing_number", "missing_uppercase"],
  );
  assert.deepEqual(checkPassword(policy, "correct-Horse-7-battery", {}), []);
  const reused = checkPassword(policy, "correct-Horse-7-battery", { previous: ["x", "correct-Horse-7-battery"] });
  assert.equal(reused[0].code, "reused");
  assert.match(reused[0].message, /number 2/);
  assert.deepEqual(checkPassword(null, "summer2026", {}).map((p) => p.code), ["too_few_character_types"]);
  assert.deepEqual(checkPassword(null, "Summer2026", {}), []);
  assert.throws(() => checkPassword({ MinimumPasswordLength: 4 }, "x", {}), /MinimumPasswordLength must be between 6 and 128/);
});

test("JavaScript's field names: camelCase in and out", () => {
  const noSnakeKeys = (value, where) => {
    if (Array.isArray(value)) return value.forEach((v) => noSnakeKeys(v, where));
    if (value === null || typeof value !== "object") return;
    for (const [k, v] of Object.entries(value)) {
      assert.doesNotMatch(k, /_/, `${where}: ${k}`);
      // Policy documents and condition keys are the caller's own.
      if (k !== "document" && k !== "context") noSnakeKeys(v, where);
    }
  };
  const set = new PolicySet([home]);
  const full = {
    ...request("alice", false),
    resourceAccount: "111122223333",
    sessionIssuer: "arn:aws:iam::111122223333:user/alice",
  };
  noSnakeKeys(set.explain(full), "explain");
  noSnakeKeys(set.decide(request("alice", true)), "decide");
  assert.equal(set.decide(request("alice", true)).deciding[0].policyType, "identity");
  const cases = [{ id: "a", identity_policies: [home.document], request: request("alice", true) }];
  noSnakeKeys(simulate(cases), "simulate");
  noSnakeKeys(casePolicyInputs(cases[0]), "casePolicyInputs");
  assert.equal(casePolicyInputs(cases[0])[0].policyType, "identity");
  const fromFile = { ...cases[0], request: { ...request("alice", true), resource_account: "111122223333" } };
  assert.deepEqual(caseRequest(fromFile), { ...request("alice", true), resourceAccount: "111122223333" });
  assert.equal(set.evaluate(caseRequest(fromFile)), "Allow");
  noSnakeKeys(diff(JSON.stringify({ Version: "2012-10-17", Statement: [] }), JSON.stringify(home.document), "arn:aws:iam::111122223333:user/alice", "identity"), "diff");
  // The old snake_case names are refused, not ignored.
  assert.throws(() => set.evaluate({ ...request("alice", true), resource_account: "111122223333" }), /resource_account/);
  assert.throws(() => new PolicySet([{ policy_type: "identity", document: home.document }]), /policy_type/);
  assert.deepEqual(checkPassword(null, "acme-Corp-1", { accountNames: ["acme-Corp-1"] }).map((p) => p.code), ["account_name"]);
});

test("context keys no statement reads are left in JavaScript, and change nothing", () => {
  const set = new PolicySet([home]);
  const noise = {
    "aws:UserAgent": "aws-sdk-js/3.700.0",
    "aws:SourceIp": "203.0.113.10",
    "aws:RequestedRegion": "us-east-1",
    "aws:TagKeys": ["team", "env"],
    "s3:prefix": 7,
  };
  for (const mfa of [true, false]) {
    const plain = request("alice", mfa);
    const padded = { ...plain, context: { ...noise, ...plain.context } };
    assert.equal(set.evaluate(padded), set.evaluate(plain));
    assert.deepEqual(set.decide(padded), set.decide(plain));
    assert.deepEqual(set.explain(padded).decision, set.explain(plain).decision);
  }
  // The caller's object is not changed.
  const padded = { ...request("alice", true), context: { ...noise, "aws:MultiFactorAuthPresent": true } };
  set.evaluate(padded);
  assert.equal(Object.keys(padded.context).length, 6);
  // A key read is found in any case; the same key spelt twice is the engine's to settle.
  assert.equal(set.evaluate({ ...request("alice", false), context: { ...noise, "AWS:MULTIFACTORAUTHPRESENT": true } }), "Allow");
  // An unread key with a value the engine refuses is still refused, by name; so is an unknown field.
  assert.throws(() => set.evaluate({ ...request("alice", true), context: { ...noise, "aws:Odd": { a: 1 } } }), /aws:Odd/);
  assert.throws(() => set.evaluate({ ...request("alice", true), context: { ...noise, "aws:Odd": [1, null] } }), /aws:Odd/);
  assert.throws(() => set.evaluate({ ...padded, resource_account: "111122223333" }), /resource_account/);
  // A set reading a key that is not ASCII gets every key, as given.
  const tagged = new PolicySet([{
    policyType: "identity",
    document: { Statement: { Effect: "Allow", Action: "s3:GetObject", Resource: "*", Condition: { StringEquals: { "aws:RequestTag/Équipe": "paiements" } } } },
  }]);
  const tagRequest = (key) => ({ ...request("alice", true), context: { ...noise, [key]: "paiements" } });
  assert.equal(tagged.evaluate(tagRequest("aws:requesttag/équipe")), "Allow");
  assert.equal(tagged.evaluate(tagRequest("aws:RequestTag/ÉQUIPE")), "Allow");
  assert.equal(tagged.evaluate(tagRequest("aws:RequestTag/equipe")), "ImplicitDeny");
});
