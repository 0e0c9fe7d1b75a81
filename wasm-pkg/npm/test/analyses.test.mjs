// The account analyses in Node: escalation paths over an account export (the CLI's example, with
// its every class and near misses), and Access Analyzer's custom checks in AWS's response shape.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  escalationPaths,
  checkNoPublicAccess,
  checkAccessNotGranted,
  checkNoNewAccess,
} from "@iamlet/engine";

const example = (name) => readFileSync(new URL(`../../../examples/${name}`, import.meta.url), "utf8");
const account = example("escalation/account.json");
const arn = (short) => `arn:aws:iam::111122223333:${short}`;

test("escalationPaths: the same findings as `iamlet report escalation`", () => {
  const findings = escalationPaths(account);
  const escalating = findings.filter((f) => !f.already).map((f) => f.principal);
  assert.equal(escalating.length, 30);
  for (const near of ["n-boundary", "n-deny", "n-trust", "n-passrole", "n-version", "bystander"]) {
    assert.ok(!findings.some((f) => f.principal === arn(`user/${near}`)), near);
  }
  const chain = findings.find((f) => f.principal === arn("user/u-chain"));
  assert.deepEqual(
    chain.paths[0].map((s) => [s.principal, s.action, s.resource]),
    [
      [arn("user/u-chain"), "sts:AssumeRole", arn("role/role-a")],
      [arn("role/role-a"), "iam:AttachRolePolicy", arn("role/role-b")],
      [arn("role/role-a"), "sts:AssumeRole", arn("role/role-b")],
    ],
  );
  assert.deepEqual(Object.keys(chain.paths[0][0]).sort(), ["action", "gains", "principal", "resource", "statement"]);
  const ip = findings.find((f) => f.principal === arn("user/u-source-ip"));
  assert.deepEqual(ip.paths[0][0].if, ["aws:SourceIp IpAddress 203.0.113.0/24"]);
});

test("escalationPaths: an object export, options, an organization, errors", () => {
  const only = escalationPaths(JSON.parse(account), { principal: arn("user/u-assume") });
  assert.deepEqual(only.map((f) => f.principal), [arn("user/u-assume")]);
  const org = JSON.parse(example("escalation/organization.json"));
  assert.deepEqual(escalationPaths(account, { principal: arn("user/u-assume"), organization: org }), []);
  const s3 = escalationPaths(account, { principal: arn("user/u-glue"), target: ["s3:GetObject=arn:aws:s3:::b/k"] });
  assert.equal(s3[0].paths[0].at(-1).action, "glue:CreateDevEndpoint");
  assert.throws(() => escalationPaths("{\"UserDetailList\": [{\"UserName\": 5}]}"), /UserDetailList\[0\]/);
  assert.throws(() => escalationPaths(account, { principals: "x" }), /unknown field/);
  assert.throws(() => escalationPaths(account, { principal: arn("user/nobody") }), /not a user or role/);
});

test("checkNoPublicAccess, checkAccessNotGranted, checkNoNewAccess", () => {
  const open = JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "Open", Effect: "Allow", Principal: "*", Action: "sqs:SendMessage", Resource: "*" }] });
  assert.deepEqual(checkNoPublicAccess(open, "AWS::SQS::Queue"), {
    result: "FAIL",
    message: "The resource policy grants public access for the given resource type.",
    reasons: [{ description: "Public access granted in the statement with sid: Open.", statementIndex: 0, statementId: "Open" }],
  });
  const pinned = JSON.parse(open);
  pinned.Statement[0].Condition = { StringEquals: { "aws:SourceAccount": "111122223333" } };
  assert.equal(checkNoPublicAccess(JSON.stringify(pinned), "AWS::SQS::Queue").result, "PASS");
  pinned.Statement[0].Condition = { StringEqualsIfExists: { "aws:SourceAccount": "111122223333" } };
  assert.equal(checkNoPublicAccess(JSON.stringify(pinned), "AWS::SQS::Queue").result, "FAIL");
  assert.throws(() => checkNoPublicAccess(open, "AWS::SQS::Nope"), /resource type/);

  const after = example("checks/deploy-after.json");
  assert.equal(checkAccessNotGranted(after, { actions: ["iam:PassRole"] }).reasons[0].statementId, "PassAnyRole");
  assert.equal(checkAccessNotGranted(after, { actions: ["iam:CreateUser"] }, "IDENTITY_POLICY").result, "PASS");
  assert.equal(checkNoNewAccess(example("checks/deploy-before.json"), after).result, "FAIL");
  assert.equal(checkNoNewAccess(after, example("checks/deploy-before.json")).result, "PASS");
});
