#!/usr/bin/env python3
"""`iamlet check access-not-granted | no-public-access | no-new-access` and `iamlet report
external-access` through the real binary: PASS/FAIL, exit statuses (0 PASS, 1 FAIL, 2 bad input),
and JSON that botocore's own accessanalyzer model accepts as CheckAccessNotGranted /
CheckNoPublicAccess / CheckNoNewAccess responses.

Run with `python3 tests/e2e/access_checks_test.py -v` after `cargo build -p iamlet` (IAMLET_BIN
overrides the binary).
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import botocore.session
from botocore.validate import ParamValidator

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("IAMLET_BIN", os.path.join(ROOT, "target", "debug", "iamlet"))
CHECKS = os.path.join(ROOT, "examples", "checks")
MODEL = botocore.session.get_session().get_service_model("accessanalyzer")


def iamlet(*args, input=None):
    return subprocess.run([BIN, *args], capture_output=True, text=True, input=input)


def valid(operation, body):
    """Whether `body` fits the operation's output shape in botocore's model."""
    shape = MODEL.operation_model(operation).output_shape
    report = ParamValidator().validate(body, shape)
    return not report.has_errors(), report.generate_report()


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Checks(unittest.TestCase):
    def check_json(self, operation, *args, input=None):
        out = iamlet("check", *args, "--format", "json", input=input)
        self.assertIn(out.returncode, (0, 1), out.stderr)
        body = json.loads(out.stdout)
        ok, report = valid(operation, body)
        self.assertTrue(ok, report)
        self.assertEqual(out.returncode, 1 if body["result"] == "FAIL" else 0)
        return body

    def test_no_public_access(self):
        body = self.check_json("CheckNoPublicAccess", "no-public-access", "--resource-type", "AWS::S3::Bucket",
                               os.path.join(CHECKS, "bucket-public.json"))
        self.assertEqual(body["result"], "FAIL")
        self.assertEqual(body["reasons"], [{"description": "Public access granted in the statement with sid: Website.",
                                            "statementIndex": 0, "statementId": "Website"}])
        body = self.check_json("CheckNoPublicAccess", "no-public-access", "--resource-type", "AWS::S3::Bucket",
                               os.path.join(CHECKS, "bucket-org.json"))
        self.assertEqual(body["result"], "PASS")

    def test_every_resource_type_of_the_model(self):
        types = MODEL.shape_for("AccessCheckResourceType").enum
        for t in types:
            service = {"AWS::IAM::AssumeRolePolicyDocument": None}.get(t, "*")
            if service is None:
                policy = doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
            else:
                policy = doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})
            body = self.check_json("CheckNoPublicAccess", "no-public-access", "--resource-type", t, "-", input=policy)
            self.assertEqual(body["result"], "FAIL", t)
            pinned = json.loads(policy)
            pinned["Statement"][0]["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
            body = self.check_json("CheckNoPublicAccess", "no-public-access", "--resource-type", t, "-",
                                   input=json.dumps(pinned))
            self.assertEqual(body["result"], "PASS", t)

    def test_near_misses_do_not_pin(self):
        for cond in [{"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}},
                     {"StringLike": {"aws:PrincipalOrgID": "*"}},
                     {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}]:
            policy = doc({"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*",
                          "Condition": cond})
            body = self.check_json("CheckNoPublicAccess", "no-public-access", "--resource-type", "AWS::SQS::Queue",
                                   "-", input=policy)
            self.assertEqual(body["result"], "FAIL", cond)

    def test_access_not_granted(self):
        after = os.path.join(CHECKS, "deploy-after.json")
        body = self.check_json("CheckAccessNotGranted", "access-not-granted", "--actions", "iam:PassRole", after)
        self.assertEqual((body["result"], body["reasons"][0]["statementId"]), ("FAIL", "PassAnyRole"))
        body = self.check_json("CheckAccessNotGranted", "access-not-granted", "--actions", "s3:DeleteObject,iam:CreateUser",
                               after)
        self.assertEqual(body["result"], "PASS")
        body = self.check_json("CheckAccessNotGranted", "access-not-granted", "--actions", "s3:PutObject",
                               "--resources", "arn:aws:s3:::amzn-s3-demo-bucket/releases/*", after)
        self.assertEqual(body["result"], "PASS")

    def test_no_new_access(self):
        before = os.path.join(CHECKS, "deploy-before.json")
        after = os.path.join(CHECKS, "deploy-after.json")
        body = self.check_json("CheckNoNewAccess", "no-new-access", before, after)
        self.assertEqual([r["statementId"] for r in body["reasons"]], ["PassAnyRole"])
        body = self.check_json("CheckNoNewAccess", "no-new-access", after, before)
        self.assertEqual(body["result"], "PASS")
        with tempfile.TemporaryDirectory() as d:
            old = os.path.join(d, "old.json")
            new = os.path.join(d, "new.json")
            with open(old, "w") as f:
                f.write(doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                             "Action": "sts:AssumeRole"}))
            with open(new, "w") as f:
                f.write(doc({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]},
                             "Action": "sts:AssumeRole"}))
            body = self.check_json("CheckNoNewAccess", "no-new-access", "--policy-type", "RESOURCE_POLICY", old, new)
            self.assertEqual(body["result"], "FAIL")

    def test_text_and_errors(self):
        out = iamlet("check", "no-public-access", "--resource-type", "AWS::S3::Bucket",
                     os.path.join(CHECKS, "bucket-public.json"))
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stdout, "FAIL: The resource policy grants public access for the given resource type.\n"
                                     "  - Public access granted in the statement with sid: Website.\n")
        out = iamlet("check", "no-public-access", "--resource-type", "AWS::S3::Nope", os.path.join(CHECKS, "bucket-org.json"))
        self.assertEqual(out.returncode, 2)
        self.assertIn("resource type `AWS::S3::Nope`", out.stderr)
        out = iamlet("check", "access-not-granted", "--actions", "s3:GetObject", "-",
                     input='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Actio":"s3:*","Resource":"*"}]}')
        self.assertEqual(out.returncode, 2)
        self.assertIn("Statement[0].Actio", out.stderr)


class ExternalAccess(unittest.TestCase):
    def test_example_account(self):
        out = iamlet("report", "external-access", "--account", os.path.join(ROOT, "examples", "account.json"),
                     "--organization", os.path.join(ROOT, "examples", "organization.json"), "--format", "json")
        self.assertEqual(out.returncode, 1, out.stderr)
        findings = json.loads(out.stdout)
        self.assertEqual([(f["resource"], f["principals"], f["actions"]) for f in findings],
                         [("arn:aws:s3:::amzn-s3-demo-bucket", ["arn:aws:iam::444455556666:root"], ["s3:GetObject"])])
        self.assertFalse(findings[0]["isPublic"])

    def test_the_escalation_example_has_a_role_other_accounts_may_assume(self):
        out = iamlet("report", "external-access", "--account", os.path.join(ROOT, "examples", "escalation", "account.json"))
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn("EXTERNAL arn:aws:iam::111122223333:role/locked-admin [AWS::IAM::Role] Statement[0]: "
                      "arn:aws:iam::999999999999:root may sts:AssumeRole", out.stdout)


if __name__ == "__main__":
    unittest.main()
