#!/usr/bin/env python3
"""`iamlet report escalation` through the real binary: every escalation class of
examples/escalation/account.json found with its path and none of the near misses, the JSON shape,
exit statuses for CI (1 when someone can escalate, 0 when not, 2 on bad input), an SCP that stops a
path, and the three sources — the export file, the IAM database (`--account database`) and the IAM
API (`--account iam-api`, GetAccountAuthorizationDetails from `iamlet serve`, after boto3 made a user
that can escalate).

Run with `python3 tests/e2e/escalation_test.py -v` after `cargo build -p iamlet` (IAMLET_BIN
overrides the binary).
"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import ACCOUNT, BIN, ROOT, ControlPlane  # noqa: E402

EXAMPLE = os.path.join(ROOT, "examples", "escalation")
ACCOUNT_FILE = os.path.join(EXAMPLE, "account.json")
ORG_FILE = os.path.join(EXAMPLE, "organization.json")

ESCALATING = {
    "user/u-create-version": ["iam:CreatePolicyVersion"],
    "user/u-set-default": ["iam:SetDefaultPolicyVersion"],
    "user/u-put-user-policy": ["iam:PutUserPolicy"],
    "user/u-attach-user-policy": ["iam:AttachUserPolicy"],
    "user/u-put-group-policy": ["iam:PutGroupPolicy"],
    "user/u-attach-group-policy": ["iam:AttachGroupPolicy"],
    "user/u-add-to-group": ["iam:AddUserToGroup"],
    "user/u-delete-boundary": ["iam:DeleteUserPermissionsBoundary"],
    "user/u-put-boundary": ["iam:PutUserPermissionsBoundary"],
    "user/u-access-key": ["iam:CreateAccessKey"],
    "user/u-login-profile": ["iam:CreateLoginProfile"],
    "user/u-update-login": ["iam:UpdateLoginProfile"],
    "user/u-assume": ["sts:AssumeRole"],
    "user/u-mfa-assume": ["sts:AssumeRole"],
    "user/u-source-ip": ["iam:PutUserPolicy"],
    "user/u-update-trust": ["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"],
    "user/u-lambda-invoke": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
    "user/u-lambda-event": ["iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"],
    "user/u-ec2": ["iam:PassRole", "ec2:RunInstances"],
    "user/u-glue": ["iam:PassRole", "glue:CreateDevEndpoint"],
    "user/u-cloudformation": ["iam:PassRole", "cloudformation:CreateStack"],
    "user/u-datapipeline": ["iam:PassRole", "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"],
    "user/u-sagemaker": ["iam:PassRole", "sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"],
    "user/u-codebuild": ["iam:PassRole", "codebuild:CreateProject", "codebuild:StartBuild"],
    "user/u-update-code": ["lambda:UpdateFunctionCode"],
    "user/u-chain": ["sts:AssumeRole", "iam:AttachRolePolicy", "sts:AssumeRole"],
    "role/r-put-self": ["iam:PutRolePolicy"],
    "role/r-delete-boundary": ["iam:DeleteRolePermissionsBoundary"],
    "role/r-put-boundary": ["iam:PutRolePermissionsBoundary"],
    "role/role-a": ["iam:AttachRolePolicy", "sts:AssumeRole"],
}

NEAR_MISSES = ["n-boundary", "n-deny", "n-trust", "n-passrole", "n-version", "n-passrole-wrong-service", "bystander"]


def arn(short):
    return f"arn:aws:iam::{ACCOUNT}:{short}"


def report(*args, cwd=None, env=None):
    return subprocess.run(
        [BIN, "report", "escalation", *args], capture_output=True, text=True, cwd=cwd, env=env
    )


def shortest(findings):
    return {f["principal"]: [s["action"] for s in f["paths"][0]] for f in findings if not f["already"]}


class ExportFile(unittest.TestCase):
    def test_every_class_and_no_near_miss(self):
        out = report("--account", ACCOUNT_FILE, "--format", "json")
        self.assertEqual(out.returncode, 1, out.stderr)
        findings = json.loads(out.stdout)
        self.assertEqual(shortest(findings), {arn(k): v for k, v in ESCALATING.items()})
        reported = {f["principal"] for f in findings}
        for n in NEAR_MISSES:
            self.assertNotIn(arn(f"user/{n}"), reported)
        for f in findings:
            self.assertEqual(set(f), {"principal", "already", "paths"})
            self.assertEqual(f["already"], f["paths"] == [])
            for path in f["paths"]:
                for step in path:
                    self.assertLessEqual({"principal", "action", "resource", "statement", "gains"}, set(step))
                    self.assertLessEqual(set(step), {"principal", "action", "resource", "statement", "gains", "if"})
        admins = {f["principal"] for f in findings if f["already"]}
        self.assertIn(arn("user/admin-user"), admins)
        self.assertIn(arn("role/admin-role"), admins)

    def test_conditions_the_account_cannot_decide(self):
        out = report("--account", ACCOUNT_FILE, "--principal", arn("user/u-source-ip"), "--format", "json")
        step = json.loads(out.stdout)[0]["paths"][0][0]
        self.assertEqual(step["if"], ["aws:SourceIp IpAddress 203.0.113.0/24"])

    def test_exit_zero_when_nobody_escalates(self):
        for n in NEAR_MISSES:
            out = report("--account", ACCOUNT_FILE, "--principal", arn(f"user/{n}"), "--format", "json")
            self.assertEqual((out.returncode, json.loads(out.stdout)), (0, []), n)
        # An administrator already: listed, but CI passes.
        out = report("--account", ACCOUNT_FILE, "--principal", arn("user/admin-user"))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("Already administrator (* on *):", out.stdout)
        self.assertIn("No principal can escalate", out.stdout)

    def test_text_output(self):
        out = report("--account", ACCOUNT_FILE, "--principal", arn("user/u-chain"))
        self.assertEqual(out.returncode, 1)
        self.assertIn(f"2. {arn('role/role-a')} → iam:AttachRolePolicy on {arn('role/role-b')}", out.stdout)
        self.assertIn("allowed by Statement[0] of trust policy `role/role-b:trust`", out.stdout)

    def test_an_scp_stops_a_path(self):
        out = report("--account", ACCOUNT_FILE, "--organization", ORG_FILE, "--format", "json")
        found = shortest(json.loads(out.stdout))
        self.assertNotIn(arn("user/u-assume"), found)
        self.assertIn(arn("user/u-access-key"), found)

    def test_targets(self):
        out = report("--account", ACCOUNT_FILE, "--principal", arn("user/u-glue"),
                     "--target", "s3:GetObject=arn:aws:s3:::bucket/key", "--format", "json")
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertEqual(json.loads(out.stdout)[0]["paths"][0][-1]["action"], "glue:CreateDevEndpoint")

    def test_bad_input_is_an_error_naming_it(self):
        out = report("--account", ACCOUNT_FILE, "--target", "nonsense")
        self.assertEqual(out.returncode, 2)
        self.assertIn("target `nonsense`", out.stderr)
        out = report("--account", ACCOUNT_FILE, "--principal", arn("user/nobody"))
        self.assertEqual(out.returncode, 2)
        self.assertIn("is not a user or role of the account export", out.stderr)
        out = report("--account", "database")
        self.assertEqual(out.returncode, 2)
        self.assertIn("--database", out.stderr)


class Database(unittest.TestCase):
    def test_database_and_iam_api_match_the_file(self):
        cp = ControlPlane(init=False, start=False)
        try:
            imported = cp.iamlet("iam", "import", "--database", cp.database, "--account", ACCOUNT_FILE)
            cp.root = json.loads(imported.stdout)
            want = json.loads(report("--account", ACCOUNT_FILE, "--format", "json").stdout)
            out = report("--account", "database", "--database", cp.database, "--format", "json", cwd=cp.dir)
            self.assertEqual(out.returncode, 1, out.stderr)
            self.assertEqual(json.loads(out.stdout), want)

            cp.start()
            iam = cp.root_client()
            # A user made through the API that may rewrite its own policies.
            iam.create_user(UserName="ci-bot")
            iam.put_user_policy(
                UserName="ci-bot",
                PolicyName="self",
                PolicyDocument=json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "iam:PutUserPolicy",
                                   "Resource": "arn:aws:iam::*:user/${aws:username}"}],
                }),
            )
            env = dict(os.environ,
                       AWS_ENDPOINT_URL=cp.iam_url,
                       AWS_ACCESS_KEY_ID=cp.root["AccessKeyId"],
                       AWS_SECRET_ACCESS_KEY=cp.root["SecretAccessKey"],
                       AWS_REGION="us-east-1")
            env.pop("AWS_PROFILE", None)
            out = report("--account", "iam-api", "--format", "json", env=env, cwd=cp.dir)
            self.assertEqual(out.returncode, 1, out.stderr)
            got = json.loads(out.stdout)
            bot = [f for f in got if f["principal"] == arn("user/ci-bot")]
            self.assertEqual(len(bot), 1, got)
            self.assertEqual([s["action"] for s in bot[0]["paths"][0]], ["iam:PutUserPolicy"])
            self.assertEqual([f for f in got if f["principal"] != arn("user/ci-bot")], want)
        finally:
            cp.close()


if __name__ == "__main__":
    unittest.main()
