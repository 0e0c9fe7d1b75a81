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

test("a request reads the same packed into one string as walked field by field", () => {
  // `evaluate`, `decide` and `explain` pack a plain request into one string in JavaScript; anything
  // that path does not read exactly as serde would goes to serde-wasm-bindgen. An object that is not
  // plain always takes serde's path, so the two are compared on generated requests, hostile values
  // included: the same decision, verdict and explanation, or the same error.
  class Carrier {}
  const viaSerde = (r) => (r !== null && typeof r === "object" ? Object.assign(new Carrier(), r) : r);
  const set = new PolicySet([
    home,
    {
      policyType: "identity",
      name: "conditions",
      document: {
        Version: "2012-10-17",
        Statement: [
          { Sid: "Net", Effect: "Allow", Action: "s3:ListBucket", Resource: "*", Condition: { IpAddress: { "aws:SourceIp": "203.0.113.0/24" }, NumericLessThan: { "s3:max-keys": "10" } } },
          { Sid: "Tags", Effect: "Deny", Action: "s3:*", Resource: "*", Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": ["secret", ""] } } },
          { Sid: "Team", Effect: "Allow", Action: "s3:*", Resource: "*", Condition: { StringEquals: { "aws:PrincipalTag/team": "search" }, Bool: { "aws:SecureTransport": "true" } } },
        ],
      },
    },
  ]);
  let seed = 7;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pick = (xs) => xs[rand(xs.length)];
  const strings = ["arn:aws:iam::111122223333:user/alice", "111122223333", "not an arn", "arn:aws:iam::111122223333:user/a\0b", "", "arn:aws:sts::111122223333:assumed-role/r/s", "\uD800"];
  const actions = ["s3:GetObject", "s3:ListBucket", "s3:PutObject", "GetObject", "s3:Get\0Object", ""];
  const resources = ["arn:aws:s3:::amzn-s3-demo-bucket/home/alice/notes.txt", "*", "arn:aws:s3:::b", "nope", "arn:aws:s3:::b\0"];
  const optionals = [undefined, undefined, "111122223333", "", null, 5, "a\0b", "arn:aws:iam::111122223333:user/x"];
  const keys = ["aws:SourceIp", "AWS:SOURCEIP", "s3:max-keys", "aws:TagKeys", "aws:PrincipalTag/team", "aws:SecureTransport", "aws:MultiFactorAuthPresent", "aws:username", "aws:UserAgent", "k\0ey", "ü:clé", "aws:tagkeys"];
  const values = ["203.0.113.10", "198.51.100.1", "", "a\0b", "search", "true", true, false, 5, 9, -0, 12, 1.5, NaN, Infinity, 2 ** 53, -(2 ** 53) + 1, null, undefined, {}, [], ["secret"], ["a", "b"], ["a", 1, true], [null], [["x"]], [1.5], "\uD800\uDC00", "\uDC00"];
  const outcome = (fn) => {
    try {
      return { ok: fn() };
    } catch (e) {
      return { error: String(e.message) };
    }
  };
  let packedAnswers = 0;
  for (let i = 0; i < 3000; i++) {
    const request = { principal: pick(strings), action: pick(actions), resource: pick(resources) };
    if (rand(10) === 0) request.principal = pick([7, null, undefined, ["x"]]);
    const account = pick(optionals);
    if (account !== undefined || rand(4) === 0) request.resourceAccount = account;
    const issuer = pick(optionals);
    if (issuer !== undefined || rand(4) === 0) request.sessionIssuer = issuer;
    const shape = rand(12);
    if (shape === 0) request.context = pick([null, undefined, "ctx", [], new Carrier()]);
    else if (shape > 1) {
      request.context = rand(8) === 0 ? Object.create(null) : {};
      for (let k = rand(7); k > 0; k--) request.context[pick(keys)] = pick(values);
    }
    if (rand(25) === 0) request[pick(["resource_account", "extra", "Context"])] = "x";
    for (const call of ["evaluate", "decide", "explain"]) {
      const packed = outcome(() => set[call](request));
      const walked = outcome(() => set[call](viaSerde(request)));
      assert.deepEqual(packed, walked, `${call} of ${JSON.stringify(request, (_, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v))}`);
      if (call === "evaluate" && packed.ok !== undefined) packedAnswers++;
    }
  }
  // The generator is not all errors: a good share of requests is decided.
  assert.ok(packedAnswers > 600, `${packedAnswers} requests decided`);
  // An optional field given as `undefined` is absent, as in TypeScript (`context` was once refused).
  assert.equal(set.evaluate({ ...request("alice", true), context: undefined, resourceAccount: undefined }), "ImplicitDeny");
  // Not a plain object at all: refused the same way.
  for (const bad of [null, undefined, "request", 5, []]) assert.deepEqual(outcome(() => set.evaluate(bad)), outcome(() => set.evaluate(viaSerde(bad))));
});
