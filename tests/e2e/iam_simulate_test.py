#!/usr/bin/env python3
"""The Policy Simulator API through boto3: SimulateCustomPolicy and SimulatePrincipalPolicy answered
by the engine in AWS's `EvaluationResults` shape (decisions, matched statements with their positions,
missing context values, boundary and cross-account details, per-resource results, pages), every
refusal with AWS's code.

Run with `python3 tests/e2e/iam_simulate_test.py -v` after `cargo build -p iamlet` (IAMLET_BIN
overrides the binary). The tests that put policies on users, groups and roles, or sign with a user's
key, need those actions served: until they are, they are skipped with the action named.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import ACCOUNT, ControlPlane, error_code  # noqa: E402

import botocore.exceptions  # noqa: E402

ALLOW_BUCKET = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/secret/*"},
        ],
    }
)


def statement_span(text, index):
    """AWS's StartPosition and EndPosition of statement `index` of a policy text: the line and column
    (1-based) of its opening brace, and of the place just past its closing brace."""
    decoder = json.JSONDecoder()
    i = text.index("[", text.index('"Statement"')) + 1
    for n in range(index + 1):
        while text[i] in " \t\r\n,":
            i += 1
        _, end = decoder.raw_decode(text, i)
        if n == index:
            return position(text, i), position(text, end)
        i = end


def position(text, offset):
    before = text[:offset]
    return {"Line": before.count("\n") + 1, "Column": offset - (before.rfind("\n") + 1) + 1}


class Simulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane()
        cls.iam = cls.cp.root_client()

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()

    def requires(self, action, call):
        """Runs `call`; skips the test while the action is not served yet."""
        try:
            return call()
        except botocore.exceptions.ClientError as e:
            if error_code(e) == "InvalidAction" and "not served yet" in str(e):
                self.skipTest(f"{action} is not served yet")
            raise

    def assertCode(self, code, call, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            call(**kw)
        self.assertEqual(error_code(e.exception), code, e.exception.response["Error"])
        return e.exception.response["Error"]["Message"]

    def test_custom_policy_decisions_and_matched_statements(self):
        out = self.iam.simulate_custom_policy(
            PolicyInputList=[ALLOW_BUCKET],
            ActionNames=["s3:GetObject", "s3:PutObject"],
            ResourceArns=["arn:aws:s3:::b/report.csv", "arn:aws:s3:::b/secret/key"],
        )
        self.assertFalse(out["IsTruncated"])
        get, put = out["EvaluationResults"]
        self.assertEqual(get["EvalActionName"], "s3:GetObject")
        # Over several resources: the worst decision, and the resource type's ARN template.
        self.assertEqual(get["EvalDecision"], "explicitDeny")
        self.assertEqual(get["EvalResourceName"], "arn:aws:s3:::${BucketName}/${ObjectName}")
        report, secret = get["ResourceSpecificResults"]
        self.assertEqual(report["EvalResourceName"], "arn:aws:s3:::b/report.csv")
        self.assertEqual(report["EvalResourceDecision"], "allowed")
        start, end = statement_span(ALLOW_BUCKET, 0)
        self.assertEqual(
            report["MatchedStatements"],
            [{"SourcePolicyId": "PolicyInputList.1", "SourcePolicyType": "IAM Policy",
              "StartPosition": start, "EndPosition": end}],
        )
        self.assertEqual(secret["EvalResourceDecision"], "explicitDeny")
        start, end = statement_span(ALLOW_BUCKET, 1)
        # An explicit deny: the deny is the only matched statement.
        self.assertEqual([(m["StartPosition"], m["EndPosition"]) for m in secret["MatchedStatements"]],
                         [(start, end)])
        self.assertEqual(put["EvalDecision"], "implicitDeny")
        self.assertTrue(all(r["MatchedStatements"] == [] for r in put["ResourceSpecificResults"]))
        # One resource: it is the result's resource, and same-account details are present but empty.
        one = self.iam.simulate_custom_policy(
            PolicyInputList=[ALLOW_BUCKET], ActionNames=["s3:GetObject"],
            ResourceArns=["arn:aws:s3:::b/report.csv"],
        )["EvaluationResults"][0]
        self.assertEqual(one["EvalResourceName"], "arn:aws:s3:::b/report.csv")
        self.assertEqual(one["EvalDecision"], "allowed")
        self.assertEqual(one["EvalDecisionDetails"], {})
        self.assertEqual(len(one["ResourceSpecificResults"]), 1)
        # No ResourceArns: `*`, no per-resource results, no decision details.
        star = self.iam.simulate_custom_policy(
            PolicyInputList=['{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}'],
            ActionNames=["s3:ListBucket"],
        )["EvaluationResults"][0]
        self.assertEqual((star["EvalResourceName"], star["EvalDecision"]), ("*", "allowed"))
        self.assertNotIn("ResourceSpecificResults", star)
        self.assertNotIn("EvalDecisionDetails", star)
        self.assertEqual(star["MatchedStatements"][0]["StartPosition"], {"Line": 1, "Column": 37})

    def test_multiline_positions(self):
        policy = json.dumps(json.loads(ALLOW_BUCKET), indent=2)
        r = self.iam.simulate_custom_policy(
            PolicyInputList=[policy], ActionNames=["s3:GetObject"], ResourceArns=["arn:aws:s3:::b/secret/x"]
        )["EvaluationResults"][0]
        start, end = statement_span(policy, 1)
        self.assertGreater(start["Line"], 1)
        m = r["MatchedStatements"][0]
        self.assertEqual((m["StartPosition"], m["EndPosition"]), (start, end))

    def test_context_entries_and_missing_context_values(self):
        policy = json.dumps({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*",
            "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2018-08-16T12:00:00Z"},
                          "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}})
        run = lambda entries, **kw: self.iam.simulate_custom_policy(  # noqa: E731
            PolicyInputList=[policy], ActionNames=["dynamodb:CreateBackup"], ContextEntries=entries, **kw
        )["EvaluationResults"][0]
        none = run([])
        self.assertEqual(none["EvalDecision"], "implicitDeny")
        self.assertEqual(sorted(none["MissingContextValues"]), ["aws:CurrentTime", "aws:SourceIp"])
        entries = [
            {"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": ["2019-04-25T11:00:00Z"], "ContextKeyType": "date"},
            {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.1.2.3"], "ContextKeyType": "ip"},
        ]
        full = run(entries)
        self.assertEqual((full["EvalDecision"], full["MissingContextValues"]), ("allowed", []))
        before = run([dict(entries[0], ContextKeyValues=["2017-01-01T00:00:00Z"]), entries[1]])
        self.assertEqual(before["EvalDecision"], "implicitDeny")
        # With ResourceArns the missing keys are reported per resource.
        per = run(entries[:1], ResourceArns=["arn:aws:dynamodb:us-east-1:111122223333:table/t"])
        self.assertEqual(per["MissingContextValues"], [])
        self.assertEqual(per["ResourceSpecificResults"][0]["MissingContextValues"], ["aws:SourceIp"])
        # Values of the wrong type, one value for a list of two, an unknown type.
        for bad in (
            {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["not-an-ip"], "ContextKeyType": "ip"},
            {"ContextKeyName": "aws:MultiFactorAuthAge", "ContextKeyValues": ["ten"], "ContextKeyType": "numeric"},
            {"ContextKeyName": "aws:SecureTransport", "ContextKeyValues": ["true", "false"], "ContextKeyType": "boolean"},
            {"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": ["yesterday"], "ContextKeyType": "date"},
        ):
            with self.subTest(entry=bad):
                self.assertCode("InvalidInput", run, entries=[bad])
        self.assertCode("InvalidInput", run, entries=[entries[0], entries[0]])

    def test_boundary_and_resource_policy_details(self):
        everything = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}'
        only_s3 = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}'
        out = self.iam.simulate_custom_policy(
            PolicyInputList=[everything], PermissionsBoundaryPolicyInputList=[only_s3],
            ActionNames=["s3:GetObject", "sqs:SendMessage"],
        )["EvaluationResults"]
        by = {r["EvalActionName"]: r for r in out}
        self.assertEqual(by["s3:GetObject"]["EvalDecision"], "allowed")
        self.assertTrue(by["s3:GetObject"]["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"])
        self.assertEqual(by["sqs:SendMessage"]["EvalDecision"], "implicitDeny")
        self.assertFalse(by["sqs:SendMessage"]["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"])
        # The identity policy's allow still matched: the boundary cut it short.
        self.assertEqual(len(by["sqs:SendMessage"]["MatchedStatements"]), 1)
        self.assertCode("InvalidInput", self.iam.simulate_custom_policy, PolicyInputList=[everything],
                        PermissionsBoundaryPolicyInputList=[only_s3, only_s3], ActionNames=["s3:GetObject"])

        caller = f"arn:aws:iam::{ACCOUNT}:user/alice"
        bucket_policy = json.dumps({"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", "Principal": {"AWS": caller}, "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::shared/*"}})
        resource = ["arn:aws:s3:::shared/data"]
        # A resource-based policy needs a caller to evaluate its Principal against.
        self.assertCode("InvalidInput", self.iam.simulate_custom_policy, PolicyInputList=[only_s3],
                        ActionNames=["s3:GetObject"], ResourceArns=resource, ResourcePolicy=bucket_policy)
        same = self.iam.simulate_custom_policy(
            PolicyInputList=['{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"sqs:*","Resource":"*"}}'],
            ActionNames=["s3:GetObject"], ResourceArns=resource, ResourcePolicy=bucket_policy, CallerArn=caller,
        )["EvaluationResults"][0]
        # In one account a bucket policy naming the caller allows on its own.
        self.assertEqual(same["EvalDecision"], "allowed")
        self.assertEqual([m["SourcePolicyType"] for m in same["MatchedStatements"]], ["resource"])
        self.assertEqual(same["MatchedStatements"][0]["SourcePolicyId"], "ResourcePolicy")
        # Another account owns the bucket: both sides must allow, and the details say which did.
        cross = lambda identity: self.iam.simulate_custom_policy(  # noqa: E731
            PolicyInputList=[identity], ActionNames=["s3:GetObject"], ResourceArns=resource,
            ResourcePolicy=bucket_policy, CallerArn=caller, ResourceOwner="arn:aws:iam::444455556666:root",
        )["EvaluationResults"][0]
        yes = cross(only_s3)
        self.assertEqual(yes["EvalDecision"], "allowed")
        self.assertEqual(yes["EvalDecisionDetails"], {"IAM Policy": "allowed", "Resource Policy": "allowed"})
        no = cross('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"*"}}')
        self.assertEqual(no["EvalDecision"], "implicitDeny")
        self.assertEqual(no["EvalDecisionDetails"], {"IAM Policy": "implicitDeny", "Resource Policy": "allowed"})
        self.assertCode("InvalidInput", self.iam.simulate_custom_policy, PolicyInputList=[only_s3],
                        ActionNames=["s3:GetObject"], CallerArn=f"arn:aws:iam::{ACCOUNT}:role/r")

    def test_pages(self):
        actions = [f"s3:{a}" for a in ("GetObject", "PutObject", "DeleteObject", "ListBucket", "GetBucketPolicy")]
        seen, marker, pages = [], None, 0
        while True:
            kw = {"Marker": marker} if marker else {}
            out = self.iam.simulate_custom_policy(PolicyInputList=[ALLOW_BUCKET], ActionNames=actions, MaxItems=2, **kw)
            pages += 1
            seen += [r["EvalActionName"] for r in out["EvaluationResults"]]
            if not out["IsTruncated"]:
                break
            marker = out["Marker"]
        self.assertEqual((seen, pages), (actions, 3))
        paginator = self.iam.get_paginator("simulate_custom_policy")
        got = [r["EvalActionName"] for p in paginator.paginate(
            PolicyInputList=[ALLOW_BUCKET], ActionNames=actions, PaginationConfig={"PageSize": 4})
            for r in p["EvaluationResults"]]
        self.assertEqual(got, actions)
        self.assertCode("InvalidInput", self.iam.simulate_custom_policy, PolicyInputList=[ALLOW_BUCKET],
                        ActionNames=actions, Marker="9")

    def test_invalid_input(self):
        ok = [ALLOW_BUCKET]
        for kw in (
            {"PolicyInputList": ['{"Statement":{"Effect":"Allow","Action":"s3:*"}}'], "ActionNames": ["s3:GetObject"]},
            {"PolicyInputList": ["not json"], "ActionNames": ["s3:GetObject"]},
            {"PolicyInputList": ok, "ActionNames": ["GetObject"]},
            {"PolicyInputList": ok, "ActionNames": ["s3:GetObject"], "ResourceOwner": "someone"},
            {"PolicyInputList": ok, "ActionNames": ["ec2:RunInstances"], "ResourceHandlingOption": "EC2-Mars"},
            {"PolicyInputList": ok, "ActionNames": ["ec2:RunInstances"], "ResourceHandlingOption": "EC2-VPC-InstanceStore",
             "ResourceArns": ["arn:aws:ec2:us-east-1:111122223333:instance/*"]},
        ):
            with self.subTest(kw=kw):
                self.assertCode("InvalidInput", self.iam.simulate_custom_policy, **kw)
        message = self.assertCode("InvalidInput", self.iam.simulate_custom_policy,
                                  PolicyInputList=['{"Statement":{"Effect":"Allow","Action":"s3:*"}}'],
                                  ActionNames=["s3:GetObject"])
        self.assertIn("PolicyInputList.1", message)
        scenario = self.iam.simulate_custom_policy(
            PolicyInputList=['{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*"}}'],
            ActionNames=["ec2:RunInstances"], ResourceHandlingOption="EC2-VPC-InstanceStore",
            ResourceArns=[f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*", "arn:aws:ec2:us-east-1::image/ami-1",
                          f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/sg-1",
                          f"arn:aws:ec2:us-east-1:{ACCOUNT}:network-interface/*"],
        )["EvaluationResults"][0]
        self.assertEqual(scenario["EvalDecision"], "allowed")
        self.assertEqual(len(scenario["ResourceSpecificResults"]), 4)

    def test_principal_policy_of_a_user_and_a_group(self):
        self.iam.create_user(UserName="sim-alice", Path="/team/")
        self.iam.create_group(GroupName="sim-readers")
        arn = f"arn:aws:iam::{ACCOUNT}:user/team/sim-alice"
        # No policies of its own: only what is given.
        bare = self.iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject"],
                                                  ResourceArns=["arn:aws:s3:::b/k"])["EvaluationResults"][0]
        self.assertEqual(bare["EvalDecision"], "implicitDeny")
        given = self.iam.simulate_principal_policy(PolicySourceArn=arn, PolicyInputList=[ALLOW_BUCKET],
                                                   ActionNames=["s3:GetObject"], ResourceArns=["arn:aws:s3:::b/k"])
        self.assertEqual(given["EvaluationResults"][0]["EvalDecision"], "allowed")
        # The caller is the user: a policy variable on its name resolves.
        home = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}}'
        mine = self.iam.simulate_principal_policy(
            PolicySourceArn=arn, PolicyInputList=[home], ActionNames=["s3:GetObject"],
            ResourceArns=["arn:aws:s3:::b/sim-alice/x", "arn:aws:s3:::b/bob/x"],
        )["EvaluationResults"][0]
        self.assertEqual([r["EvalResourceDecision"] for r in mine["ResourceSpecificResults"]], ["allowed", "implicitDeny"])
        # SimulateCustomPolicy has no caller unless named: the variable has no value.
        custom = self.iam.simulate_custom_policy(PolicyInputList=[home], ActionNames=["s3:GetObject"],
                                                 ResourceArns=["arn:aws:s3:::b/sim-alice/x"])["EvaluationResults"][0]
        self.assertEqual(custom["EvalDecision"], "implicitDeny")
        group = self.iam.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:group/sim-readers", PolicyInputList=[ALLOW_BUCKET],
            ActionNames=["s3:GetObject"])["EvaluationResults"][0]
        self.assertEqual(group["EvalDecision"], "implicitDeny")  # `*` is no object of b
        # Another account's user: even its root user may not act on this one's.
        self.assertCode("AccessDenied", self.iam.simulate_principal_policy,
                        PolicySourceArn="arn:aws:iam::444455556666:user/sim-alice", ActionNames=["s3:GetObject"])
        for missing in (f"arn:aws:iam::{ACCOUNT}:user/nobody", f"arn:aws:iam::{ACCOUNT}:role/nobody",
                        f"arn:aws:iam::{ACCOUNT}:group/nobody"):
            with self.subTest(arn=missing):
                self.assertCode("NoSuchEntity", self.iam.simulate_principal_policy, PolicySourceArn=missing,
                                ActionNames=["s3:GetObject"])
        for bad in ("arn:aws:s3:::bucket/object", f"arn:aws:iam::{ACCOUNT}:policy/p"):
            with self.subTest(arn=bad):
                self.assertCode("InvalidInput", self.iam.simulate_principal_policy, PolicySourceArn=bad,
                                ActionNames=["s3:GetObject"])

    def test_principal_policy_reads_the_database(self):
        self.iam.create_user(UserName="sim-bob")
        self.iam.create_group(GroupName="sim-ops")
        self.iam.add_user_to_group(GroupName="sim-ops", UserName="sim-bob")
        own = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}'
        group_doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sqs:DeleteQueue","Resource":"*"},{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}'
        self.requires("PutUserPolicy", lambda: self.iam.put_user_policy(
            UserName="sim-bob", PolicyName="own", PolicyDocument=own))
        self.requires("PutGroupPolicy", lambda: self.iam.put_group_policy(
            GroupName="sim-ops", PolicyName="ops", PolicyDocument=group_doc))
        self.requires("AttachUserPolicy", lambda: self.iam.attach_user_policy(
            UserName="sim-bob", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"))
        arn = f"arn:aws:iam::{ACCOUNT}:user/sim-bob"
        out = {r["EvalActionName"]: r for r in self.iam.simulate_principal_policy(
            PolicySourceArn=arn, ActionNames=["sqs:SendMessage", "sqs:DeleteQueue", "s3:GetObject", "ec2:RunInstances"],
        )["EvaluationResults"]}
        self.assertEqual(out["sqs:SendMessage"]["EvalDecision"], "allowed")
        self.assertEqual(sorted((m["SourcePolicyId"], m["SourcePolicyType"]) for m in out["sqs:SendMessage"]["MatchedStatements"]),
                         [("ops", "group"), ("own", "user")])
        deny = out["sqs:DeleteQueue"]
        self.assertEqual(deny["EvalDecision"], "explicitDeny")
        start, end = statement_span(group_doc, 0)
        self.assertEqual(deny["MatchedStatements"], [{"SourcePolicyId": "ops", "SourcePolicyType": "group",
                                                      "StartPosition": start, "EndPosition": end}])
        self.assertEqual([(m["SourcePolicyId"], m["SourcePolicyType"]) for m in out["s3:GetObject"]["MatchedStatements"]],
                         [("AmazonS3ReadOnlyAccess", "aws-managed")])
        self.assertEqual(out["ec2:RunInstances"]["EvalDecision"], "implicitDeny")
        # A permissions boundary limits, and a given one replaces it.
        self.requires("PutUserPermissionsBoundary", lambda: self.iam.put_user_permissions_boundary(
            UserName="sim-bob", PermissionsBoundary="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"))
        bounded = self.iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["sqs:SendMessage", "s3:GetObject"])
        by = {r["EvalActionName"]: r for r in bounded["EvaluationResults"]}
        self.assertEqual(by["sqs:SendMessage"]["EvalDecision"], "implicitDeny")
        self.assertFalse(by["sqs:SendMessage"]["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"])
        self.assertEqual(by["s3:GetObject"]["EvalDecision"], "allowed")
        replaced = self.iam.simulate_principal_policy(
            PolicySourceArn=arn, ActionNames=["sqs:SendMessage"],
            PermissionsBoundaryPolicyInputList=['{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"*"}}'],
        )["EvaluationResults"][0]
        self.assertEqual(replaced["EvalDecision"], "allowed")

    def test_who_may_simulate(self):
        self.iam.create_user(UserName="sim-carol")
        self.iam.create_user(UserName="sim-target")
        carol = self.requires("CreateAccessKey", lambda: self.cp.user_client(self.iam, "sim-carol"))
        target = f"arn:aws:iam::{ACCOUNT}:user/sim-target"
        message = self.assertCode("AccessDenied", carol.simulate_principal_policy, PolicySourceArn=target,
                                  ActionNames=["s3:GetObject"])
        self.assertIn(f"iam:SimulatePrincipalPolicy on resource: {target}", message)
        message = self.assertCode("AccessDenied", carol.simulate_custom_policy, PolicyInputList=[ALLOW_BUCKET],
                                  ActionNames=["s3:GetObject"])
        self.assertIn("iam:SimulateCustomPolicy on resource: *", message)
        # A user that does not exist is refused the same way: the caller learns nothing.
        self.assertCode("AccessDenied", carol.simulate_principal_policy,
                        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/nobody", ActionNames=["s3:GetObject"])
        self.requires("PutUserPolicy", lambda: self.iam.put_user_policy(
            UserName="sim-carol", PolicyName="simulate", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy",
                                                       "Resource": target}})))
        allowed = None
        for _ in range(50):
            try:
                allowed = carol.simulate_principal_policy(PolicySourceArn=target, ActionNames=["s3:GetObject"])
                break
            except botocore.exceptions.ClientError:
                time.sleep(0.1)
        self.assertIsNotNone(allowed)
        self.assertEqual(allowed["EvaluationResults"][0]["EvalDecision"], "implicitDeny")


if __name__ == "__main__":
    unittest.main()
