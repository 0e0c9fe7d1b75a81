#!/usr/bin/env python3
"""The seeds' "Basic Setup" end to end, once with the AWS CLI (`aws iam … --endpoint-url`) and once
with boto3, against one `iamlet serve` that is both the IAM API and the sidecar: a password policy,
a user, a login profile the policy first refuses and then accepts, `AmazonS3ReadOnlyAccess`
attached, a role with a trust policy, an access key; then a request signed with the new key (SigV4 by
botocore) passes ext_authz in HTTP mode, and after `detach-user-policy` the same request is denied.
A user without permissions is refused `iam:CreateUser` in AWS's words. Every call is a decision-log
line in CloudTrail's management-event shape, and a password never reaches the log in any encoding.

Run with `python3 tests/e2e/iam_api_test.py -v` after `cargo build -p iamlet` (IAMLET_BIN overrides
the binary); needs boto3 and the AWS CLI (scripts/setup installs both).
"""

import base64
import json
import re
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import ACCOUNT, S3_ROUTE, ControlPlane, error_code, signed_get  # noqa: E402

import botocore.exceptions  # noqa: E402

S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
BUCKET = "reports"
ROUTES = S3_ROUTE
PASSWORD_POLICY = {
    "MinimumPasswordLength": 14,
    "RequireSymbols": True,
    "RequireNumbers": True,
    "RequireUppercaseCharacters": True,
    "RequireLowercaseCharacters": True,
    "AllowUsersToChangePassword": True,
    "PasswordReusePrevention": 3,
}
WEAK_PASSWORD = "password1"
STRONG_PASSWORD = "Tr0ub4dor&3-Horse+Battery"
TRUST_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})


class ApiError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Boto3:
    """The IAM API through boto3."""

    name = "boto3"

    def __init__(self, cp, key=None, secret=None):
        self.iam = cp.client(key=key, secret=secret)

    def call(self, action, **params):
        method = getattr(self.iam, "".join("_" + c.lower() if c.isupper() else c for c in action).lstrip("_"))
        try:
            out = method(**params)
        except botocore.exceptions.ClientError as e:
            code, message = error_code(e), e.response["Error"]["Message"]
            raise ApiError(code, message) from None
        out.pop("ResponseMetadata", None)
        return out


class Cli:
    """The IAM API through the AWS CLI: `aws iam <command> --endpoint-url …`, credentials from the
    environment only (empty configuration files, so nothing of the machine leaks in)."""

    name = "aws-cli"

    def __init__(self, cp, key, secret):
        self.cp = cp
        # Removed when the driver is collected or the run exits.
        self._tmp = tempfile.TemporaryDirectory(prefix="iamlet-cli-")
        self.dir = self._tmp.name
        config = os.path.join(self.dir, "config")
        credentials = os.path.join(self.dir, "credentials")
        for path in (config, credentials):
            open(path, "w").close()
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": self.dir,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": config,
            "AWS_SHARED_CREDENTIALS_FILE": credentials,
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
        }

    @staticmethod
    def kebab(name):
        return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")

    def args(self, params):
        out = []
        for k, v in params.items():
            flag = "--" + self.kebab(k)
            if isinstance(v, bool):
                out.append(flag if v else "--no-" + self.kebab(k))
            elif isinstance(v, list):
                out.append(flag)
                for item in v:
                    if isinstance(item, dict):
                        out.append(",".join(f"{a}={b}" for a, b in item.items()))
                    else:
                        out.append(str(item))
            else:
                out += [flag, str(v)]
        return out

    def call(self, action, **params):
        cmd = ["aws", "iam", self.kebab(action), "--endpoint-url", self.cp.iam_url, "--output", "json",
               *self.args(params)]
        r = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            # "An error occurred (Code) when calling the Action operation: message"
            text = r.stderr.strip()
            if "An error occurred (" not in text:
                raise AssertionError(f"{' '.join(cmd[:3])} failed: {text}")
            # Newer CLIs add "(reached max retries: N)" after the operation's name.
            m = re.search(r"An error occurred \(([^)]*)\) when calling the \w+ operation(?: \([^)]*\))?: (.*)",
                          text, re.S)
            if not m:
                raise AssertionError(f"{' '.join(cmd[:3])}: unexpected error output: {text}")
            raise ApiError(m.group(1), m.group(2).strip())
        return json.loads(r.stdout) if r.stdout.strip() else {}


class BasicSetup(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane(extra=ROUTES)
        cls.root = cls.cp.root

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()

    def drivers(self):
        return [Cli(self.cp, self.root["AccessKeyId"], self.root["SecretAccessKey"]), Boto3(self.cp)]

    def assertFails(self, code, d, action, **params):
        with self.assertRaises(ApiError) as e:
            d.call(action, **params)
        self.assertEqual(e.exception.code, code, e.exception.message)
        return e.exception.message

    # --- the check a service makes, signed with the new key --------------------------------------

    def check(self, key, object_key="q1.csv"):
        """GET through the sidecar's HTTP ext_authz port, signed by botocore with the key."""
        return signed_get(self.cp.ports["http"], key, BUCKET, object_key)

    def poll_check(self, key, want, timeout=10):
        """The sidecar reads the change at once in-process; the poll only absorbs scheduling."""
        deadline = time.monotonic() + timeout
        while True:
            status, headers, body = self.check(key)
            if status == want or time.monotonic() > deadline:
                return status, headers, body
            time.sleep(0.05)

    # --- the seeds' Basic Setup --------------------------------------------------------------------

    def basic_setup(self, d, user):
        role = f"{user}-ec2"
        d.call("UpdateAccountPasswordPolicy", **PASSWORD_POLICY)
        policy = d.call("GetAccountPasswordPolicy")["PasswordPolicy"]
        self.assertEqual(policy["MinimumPasswordLength"], 14)
        created = d.call("CreateUser", UserName=user, Tags=[{"Key": "team", "Value": "analytics"}])["User"]
        self.assertEqual(created["Arn"], f"arn:aws:iam::{ACCOUNT}:user/{user}")
        message = self.assertFails("PasswordPolicyViolation", d, "CreateLoginProfile", UserName=user,
                                   Password=WEAK_PASSWORD)
        self.assertNotIn(WEAK_PASSWORD, message)
        self.assertFails("NoSuchEntity", d, "GetLoginProfile", UserName=user)
        profile = d.call("CreateLoginProfile", UserName=user, Password=STRONG_PASSWORD,
                         PasswordResetRequired=True)["LoginProfile"]
        self.assertEqual((profile["UserName"], profile["PasswordResetRequired"]), (user, True))
        d.call("AttachUserPolicy", UserName=user, PolicyArn=S3_READ_ONLY)
        attached = d.call("ListAttachedUserPolicies", UserName=user)["AttachedPolicies"]
        self.assertEqual([p["PolicyArn"] for p in attached], [S3_READ_ONLY])
        made = d.call("CreateRole", RoleName=role, AssumeRolePolicyDocument=TRUST_POLICY,
                      Description="EC2 instances of the analytics team")["Role"]
        self.assertEqual(made["Arn"], f"arn:aws:iam::{ACCOUNT}:role/{role}")
        trust = d.call("GetRole", RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        trust = json.loads(urllib.parse.unquote(trust)) if isinstance(trust, str) else trust
        self.assertEqual(trust, json.loads(TRUST_POLICY))
        key = d.call("CreateAccessKey", UserName=user)["AccessKey"]
        self.assertEqual((key["UserName"], key["Status"]), (user, "Active"))

        status, headers, body = self.poll_check(key, 200)
        self.assertEqual(status, 200, body)
        self.assertEqual({k.lower(): v for k, v in headers.items()}.get("x-iamlet-principal"), created["Arn"])
        d.call("DetachUserPolicy", UserName=user, PolicyArn=S3_READ_ONLY)
        status, _, body = self.poll_check(key, 403)
        self.assertEqual(status, 403, body)
        self.assertEqual(json.loads(body)["decision"], "ImplicitDeny")

    def test_basic_setup_with_the_aws_cli(self):
        self.basic_setup(self.drivers()[0], "alice-cli")

    def test_basic_setup_with_boto3(self):
        self.basic_setup(self.drivers()[1], "alice-boto3")

    def test_a_user_without_permissions_may_not_create_users(self):
        root = Boto3(self.cp)
        root.call("CreateUser", UserName="bob-no-perms")
        key = root.call("CreateAccessKey", UserName="bob-no-perms")["AccessKey"]
        bob = f"arn:aws:iam::{ACCOUNT}:user/bob-no-perms"
        for d in (Cli(self.cp, key["AccessKeyId"], key["SecretAccessKey"]),
                  Boto3(self.cp, key["AccessKeyId"], key["SecretAccessKey"])):
            with self.subTest(client=d.name):
                target = f"arn:aws:iam::{ACCOUNT}:user/eve-{d.name}"
                message = self.assertFails("AccessDenied", d, "CreateUser", UserName=f"eve-{d.name}")
                self.assertEqual(
                    message,
                    f"User: {bob} is not authorized to perform: iam:CreateUser on resource: {target} "
                    "because no identity-based policy allows the iam:CreateUser action",
                )
        # Nothing was created.
        self.assertFails("NoSuchEntity", root, "GetUser", UserName="eve-boto3")


class CloudTrailEvents(unittest.TestCase):
    """Every IAM API call is a decision-log line in CloudTrail's management-event shape."""

    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane()

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()

    def lines(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            lines = [d for d in self.cp.decisions() if d.get("eventSource") == "iam.amazonaws.com"]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def test_events_and_no_secrets(self):
        iam = self.cp.root_client()
        secret = "S3cret!Pa ss/w+rd=%&é-" + "x" * 8
        calls = [
            ("CreateUser", lambda: iam.create_user(UserName="trail", Tags=[{"Key": "team", "Value": "audit"}])),
            ("CreateUser", lambda: iam.create_user(UserName="trail")),
            ("GetUser", lambda: iam.get_user(UserName="nobody")),
            ("CreateLoginProfile", lambda: iam.create_login_profile(UserName="trail", Password=secret)),
            ("UpdateLoginProfile", lambda: iam.update_login_profile(UserName="trail", Password=secret + "2")),
            ("ChangePassword", lambda: iam.change_password(OldPassword=secret, NewPassword=secret + "3")),
            ("ListUsers", lambda: iam.list_users()),
        ]
        outcomes = []
        for name, call in calls:
            try:
                call()
                outcomes.append((name, None))
            except botocore.exceptions.ClientError as e:
                outcomes.append((name, error_code(e)))
        self.assertEqual(outcomes[0], ("CreateUser", None))
        self.assertEqual(outcomes[1], ("CreateUser", "EntityAlreadyExists"))
        self.assertEqual(outcomes[2], ("GetUser", "NoSuchEntity"))
        lines = self.lines(len(calls))
        self.assertEqual([(l["eventName"], l.get("errorCode")) for l in lines], outcomes)
        for line in lines:
            self.assertEqual(line["eventSource"], "iam.amazonaws.com")
            self.assertEqual(line["eventType"], "AwsApiCall")
            self.assertEqual(line["recipientAccountId"], ACCOUNT)
            identity = line["userIdentity"]
            self.assertEqual(identity["type"], "Root")
            self.assertEqual(identity["arn"], f"arn:aws:iam::{ACCOUNT}:root")
            self.assertEqual(identity["accountId"], ACCOUNT)
            self.assertEqual(identity["accessKeyId"], self.cp.root["AccessKeyId"])
        create = lines[0]
        self.assertEqual(create["requestParameters"],
                         {"userName": "trail", "tags": [{"key": "team", "value": "audit"}]})
        self.assertFalse(create["readOnly"])
        self.assertTrue(lines[-1]["readOnly"])
        self.assertEqual(lines[3]["requestParameters"]["password"], "HIDDEN_DUE_TO_SECURITY_REASONS")
        self.assertEqual(lines[5]["requestParameters"]["newPassword"], "HIDDEN_DUE_TO_SECURITY_REASONS")
        self.assertIn("errorMessage", lines[1])

        # No password, in any encoding, anywhere in the log or the server's output.
        with open(self.cp.log_path, encoding="utf-8") as f:
            log = f.read()
        output = self.cp.stderr_text()
        for pw in (secret, secret + "2", secret + "3"):
            raw = pw.encode()
            forms = {
                "plain": pw,
                "url": urllib.parse.quote(pw, safe=""),
                "form": urllib.parse.quote_plus(pw),
                "base64": base64.b64encode(raw).decode(),
                "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
                "hex": raw.hex(),
                "json": json.dumps(pw)[1:-1],
            }
            for form, text in forms.items():
                with self.subTest(password=pw, form=form):
                    self.assertNotIn(text, log)
                    self.assertNotIn(text, output)


if __name__ == "__main__":
    unittest.main()
