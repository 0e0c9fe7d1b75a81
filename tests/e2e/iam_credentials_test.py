#!/usr/bin/env python3
"""End-to-end tests of the IAM API's credentials and account calls (issue 20) through boto3 and the
AWS CLI against `iamlet serve` on a fresh database: access keys (an Inactive key refused by the IAM
API itself, a key's first use in GetAccessKeyLastUsed), login profiles under the password policy,
ChangePassword by the user itself, virtual MFA with TOTP codes computed here (RFC 6238), the
account summary and aliases, GetAccountAuthorizationDetails page by page, and the credential
report — each error code these calls produce at least once.

Run with `IAMLET_BIN=… python3 tests/e2e/iam_credentials_test.py -v` after `cargo build -p iamlet`.
"""

import base64
import csv
import hashlib
import hmac
import io
import json
import os
import sqlite3
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import ACCOUNT, ControlPlane, error_code  # noqa: E402

import botocore.exceptions  # noqa: E402

ClientError = botocore.exceptions.ClientError


def totp(seed_base32, at):
    """RFC 6238: HMAC-SHA1 over the 30-second step, six digits."""
    key = base64.b32decode(seed_base32 + "=" * (-len(seed_base32) % 8))
    mac = hmac.new(key, struct.pack(">q", int(at) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    word = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{word % 1_000_000:06d}"


def wait_for(check, timeout=10.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        time.sleep(0.1)


class Shared(unittest.TestCase):
    """One control plane for the tests that do not depend on what the others did."""

    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane()
        cls.iam = cls.cp.root_client()

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()

    def assertCode(self, code, call, *args, **kwargs):
        with self.assertRaises(ClientError) as e:
            call(*args, **kwargs)
        self.assertEqual(error_code(e.exception), code, e.exception.response)
        return e.exception

    def user(self, name):
        self.iam.create_user(UserName=name)
        return name


class AccessKeys(Shared):
    def test_key_lifecycle_quota_and_refusal_of_an_inactive_key(self):
        self.user("kim")
        created = self.iam.create_access_key(UserName="kim")["AccessKey"]
        self.assertEqual(created["UserName"], "kim")
        self.assertEqual(created["Status"], "Active")
        self.assertTrue(created["AccessKeyId"].startswith("AKIA"))
        self.assertEqual(len(created["SecretAccessKey"]), 40)
        kim = self.cp.client(key=created["AccessKeyId"], secret=created["SecretAccessKey"])
        # The key authenticates (kim may do nothing, so AccessDenied, not a signature error) ...
        self.assertCode("AccessDenied", kim.list_users)
        # ... and its first use reaches GetAccessKeyLastUsed (the sidecar writes uses each second).
        used = wait_for(
            lambda: self.iam.get_access_key_last_used(AccessKeyId=created["AccessKeyId"])
            if "LastUsedDate"
            in self.iam.get_access_key_last_used(AccessKeyId=created["AccessKeyId"])[
                "AccessKeyLastUsed"
            ]
            else None,
            what="the key's last use",
        )
        self.assertEqual(used["UserName"], "kim")
        self.assertEqual(used["AccessKeyLastUsed"]["ServiceName"], "iam")
        self.assertEqual(used["AccessKeyLastUsed"]["Region"], "us-east-1")

        second = self.iam.create_access_key(UserName="kim")["AccessKey"]
        never = self.iam.get_access_key_last_used(AccessKeyId=second["AccessKeyId"])
        self.assertEqual(never["AccessKeyLastUsed"]["ServiceName"], "N/A")
        self.assertEqual(never["AccessKeyLastUsed"]["Region"], "N/A")
        self.assertNotIn("LastUsedDate", never["AccessKeyLastUsed"])
        e = self.assertCode("LimitExceeded", self.iam.create_access_key, UserName="kim")
        self.assertIn("AccessKeysPerUser: 2", e.response["Error"]["Message"])
        listed = self.iam.list_access_keys(UserName="kim")["AccessKeyMetadata"]
        self.assertEqual(
            sorted(k["AccessKeyId"] for k in listed),
            sorted([created["AccessKeyId"], second["AccessKeyId"]]),
        )
        self.assertTrue(all("SecretAccessKey" not in k for k in listed))
        page = self.iam.list_access_keys(UserName="kim", MaxItems=1)
        self.assertTrue(page["IsTruncated"])
        rest = self.iam.list_access_keys(UserName="kim", Marker=page["Marker"])
        self.assertEqual(len(page["AccessKeyMetadata"]) + len(rest["AccessKeyMetadata"]), 2)

        # Inactive: the IAM API itself refuses the key at once.
        self.iam.update_access_key(
            UserName="kim", AccessKeyId=created["AccessKeyId"], Status="Inactive"
        )
        started = time.monotonic()
        wait_for(
            lambda: self._refused(kim), timeout=1.0, what="the inactive key's refusal"
        )
        self.assertLess(time.monotonic() - started, 1.0)
        self.iam.update_access_key(
            UserName="kim", AccessKeyId=created["AccessKeyId"], Status="Active"
        )
        wait_for(lambda: not self._refused(kim), timeout=1.0, what="the key's return")
        self.assertCode(
            "ValidationError",
            self.iam.update_access_key,
            UserName="kim",
            AccessKeyId=created["AccessKeyId"],
            Status="Expired",
        )

        # A user with keys is not deleted; keys go only when deleted by name.
        self.assertCode("DeleteConflict", self.iam.delete_user, UserName="kim")
        self.user("lee")
        e = self.assertCode(
            "NoSuchEntity",
            self.iam.delete_access_key,
            UserName="lee",
            AccessKeyId=created["AccessKeyId"],
        )
        self.assertEqual(
            e.response["Error"]["Message"],
            f"The Access Key with id {created['AccessKeyId']} cannot be found.",
        )
        for k in (created, second):
            self.iam.delete_access_key(UserName="kim", AccessKeyId=k["AccessKeyId"])
        self.assertCode("InvalidClientTokenId", kim.list_users)
        self.iam.delete_user(UserName="kim")
        self.assertCode("NoSuchEntity", self.iam.list_access_keys, UserName="kim")

    def _refused(self, client):
        try:
            client.list_users()
        except ClientError as e:
            return error_code(e) == "InvalidClientTokenId"
        return False

    def test_a_user_lists_its_own_keys_and_the_root_user_its_own(self):
        root_keys = self.iam.list_access_keys()["AccessKeyMetadata"]
        self.assertIn(self.cp.root["AccessKeyId"], [k["AccessKeyId"] for k in root_keys])
        # The AWS CLI, signed with the root key.
        out = self.aws("iam", "list-access-keys")
        self.assertIn(self.cp.root["AccessKeyId"], out)

    def aws(self, *args):
        env = dict(
            os.environ,
            AWS_ACCESS_KEY_ID=self.cp.root["AccessKeyId"],
            AWS_SECRET_ACCESS_KEY=self.cp.root["SecretAccessKey"],
            AWS_DEFAULT_REGION="us-east-1",
        )
        env.pop("AWS_SESSION_TOKEN", None)
        env.pop("AWS_PROFILE", None)
        done = subprocess.run(
            ["aws", *args, "--endpoint-url", self.cp.iam_url, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout


class Passwords(Shared):
    def test_login_profiles_under_the_password_policy_and_change_password(self):
        self.user("pat")
        self.assertCode("NoSuchEntity", self.iam.get_account_password_policy)
        # AWS's default policy (no policy set): three character types.
        e = self.assertCode(
            "PasswordPolicyViolation",
            self.iam.create_login_profile,
            UserName="pat",
            Password="alllowercase",
        )
        self.assertNotIn("alllowercase", e.response["Error"]["Message"])
        self.iam.update_account_password_policy(
            MinimumPasswordLength=14,
            RequireSymbols=True,
            RequireNumbers=True,
            RequireUppercaseCharacters=True,
            RequireLowercaseCharacters=True,
            PasswordReusePrevention=3,
            MaxPasswordAge=90,
        )
        policy = self.iam.get_account_password_policy()["PasswordPolicy"]
        self.assertEqual(policy["MinimumPasswordLength"], 14)
        self.assertTrue(policy["ExpirePasswords"])
        self.assertEqual(policy["MaxPasswordAge"], 90)
        self.assertFalse(policy["AllowUsersToChangePassword"])
        e = self.assertCode(
            "PasswordPolicyViolation",
            self.iam.create_login_profile,
            UserName="pat",
            Password="Short-1",
        )
        self.assertIn("minimum length of 14", e.response["Error"]["Message"])
        profile = self.iam.create_login_profile(
            UserName="pat", Password="Correct-Horse-1-Battery", PasswordResetRequired=True
        )["LoginProfile"]
        self.assertEqual(profile["UserName"], "pat")
        self.assertTrue(profile["PasswordResetRequired"])
        self.assertCode(
            "EntityAlreadyExists",
            self.iam.create_login_profile,
            UserName="pat",
            Password="Correct-Horse-1-Battery",
        )
        self.assertTrue(self.iam.get_login_profile(UserName="pat")["LoginProfile"]["PasswordResetRequired"])
        # Passwords never reach the decision log.
        log = json.dumps(self.cp.decisions())
        self.assertNotIn("Correct-Horse-1-Battery", log)
        self.assertIn("HIDDEN_DUE_TO_SECURITY_REASONS", log)

        # The user itself: denied until the policy lets users change their passwords.
        key = self.iam.create_access_key(UserName="pat")["AccessKey"]
        pat = self.cp.client(key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        self.assertCode(
            "AccessDenied",
            pat.change_password,
            OldPassword="Correct-Horse-1-Battery",
            NewPassword="Another-Horse-2-Battery",
        )
        self.assertCode("AccessDenied", pat.get_account_password_policy)
        self.iam.update_account_password_policy(
            MinimumPasswordLength=14,
            RequireSymbols=True,
            RequireNumbers=True,
            RequireUppercaseCharacters=True,
            RequireLowercaseCharacters=True,
            PasswordReusePrevention=3,
            MaxPasswordAge=90,
            AllowUsersToChangePassword=True,
        )
        self.assertTrue(
            pat.get_account_password_policy()["PasswordPolicy"]["AllowUsersToChangePassword"]
        )
        self.assertCode(
            "AccessDenied",
            pat.change_password,
            OldPassword="not-the-password",
            NewPassword="Another-Horse-2-Battery",
        )
        self.assertCode(
            "PasswordPolicyViolation",
            pat.change_password,
            OldPassword="Correct-Horse-1-Battery",
            NewPassword="Correct-Horse-1-Battery",
        )
        pat.change_password(
            OldPassword="Correct-Horse-1-Battery", NewPassword="Another-Horse-2-Battery"
        )
        self.assertFalse(self.iam.get_login_profile(UserName="pat")["LoginProfile"]["PasswordResetRequired"])
        # The root user has no password to change here.
        self.assertCode(
            "InvalidUserType",
            self.iam.change_password,
            OldPassword="Correct-Horse-1-Battery",
            NewPassword="Another-Horse-3-Battery",
        )
        # An administrator's reset is checked too, including reuse.
        self.assertCode(
            "PasswordPolicyViolation",
            self.iam.update_login_profile,
            UserName="pat",
            Password="Correct-Horse-1-Battery",
        )
        self.iam.update_login_profile(
            UserName="pat", Password="Third-Horse-3-Battery", PasswordResetRequired=True
        )
        self.assertCode("DeleteConflict", self.iam.delete_user, UserName="pat")
        self.iam.delete_login_profile(UserName="pat")
        self.assertCode("NoSuchEntity", self.iam.get_login_profile, UserName="pat")
        self.assertCode("NoSuchEntity", self.iam.delete_login_profile, UserName="pat")
        self.iam.delete_account_password_policy()
        self.assertCode("NoSuchEntity", self.iam.delete_account_password_policy)


class Mfa(Shared):
    def test_virtual_mfa_enable_resync_deactivate_delete(self):
        self.user("max")
        device = self.iam.create_virtual_mfa_device(
            VirtualMFADeviceName="max-phone", Tags=[{"Key": "team", "Value": "ops"}]
        )["VirtualMFADevice"]
        serial = device["SerialNumber"]
        self.assertEqual(serial, f"arn:aws:iam::{ACCOUNT}:mfa/max-phone")
        seed = device["Base32StringSeed"].decode()
        self.assertEqual(len(base64.b32decode(seed + "=" * (-len(seed) % 8))), 20)
        self.assertTrue(device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n"))
        self.assertCode(
            "EntityAlreadyExists",
            self.iam.create_virtual_mfa_device,
            VirtualMFADeviceName="max-phone",
        )
        # Seeds never reach the decision log.
        self.assertNotIn(seed, json.dumps(self.cp.decisions()))

        now = time.time()
        c1, c2, c3 = totp(seed, now - 30), totp(seed, now), totp(seed, now + 30)
        self.assertCode(
            "InvalidAuthenticationCode",
            self.iam.enable_mfa_device,
            UserName="max",
            SerialNumber=serial,
            AuthenticationCode1=c1,
            AuthenticationCode2=c3,
        )
        self.assertCode(
            "NoSuchEntity",
            self.iam.enable_mfa_device,
            UserName="max",
            SerialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/nothing",
            AuthenticationCode1=c1,
            AuthenticationCode2=c2,
        )
        self.iam.enable_mfa_device(
            UserName="max", SerialNumber=serial, AuthenticationCode1=c1, AuthenticationCode2=c2
        )
        self.assertCode(
            "EntityAlreadyExists",
            self.iam.enable_mfa_device,
            UserName="max",
            SerialNumber=serial,
            AuthenticationCode1=c1,
            AuthenticationCode2=c2,
        )
        listed = self.iam.list_mfa_devices(UserName="max")["MFADevices"]
        self.assertEqual([d["SerialNumber"] for d in listed], [serial])
        assigned = self.iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
        self.assertEqual(assigned[0]["User"]["UserName"], "max")
        self.assertNotIn("Base32StringSeed", assigned[0])
        self.assertEqual(
            self.iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"], []
        )
        self.assertCode("DeleteConflict", self.iam.delete_virtual_mfa_device, SerialNumber=serial)
        self.assertCode("DeleteConflict", self.iam.delete_user, UserName="max")

        # The sidecar's STS takes a fresh code from the enabled device (the enabling code is used).
        key = self.iam.create_access_key(UserName="max")["AccessKey"]
        sts = self.cp.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        with self.assertRaises(ClientError):
            sts.get_session_token(SerialNumber=serial, TokenCode=c2)
        session = sts.get_session_token(SerialNumber=serial, TokenCode=c3)["Credentials"]
        self.assertTrue(session["AccessKeyId"].startswith("ASIA"))
        self.iam.delete_access_key(UserName="max", AccessKeyId=key["AccessKeyId"])

        now = time.time()
        self.iam.resync_mfa_device(
            UserName="max",
            SerialNumber=serial,
            AuthenticationCode1=totp(seed, now - 30),
            AuthenticationCode2=totp(seed, now),
        )
        self.assertCode(
            "InvalidAuthenticationCode",
            self.iam.resync_mfa_device,
            UserName="max",
            SerialNumber=serial,
            AuthenticationCode1="000000",
            AuthenticationCode2="000000",
        )
        self.iam.deactivate_mfa_device(UserName="max", SerialNumber=serial)
        self.assertCode(
            "NoSuchEntity", self.iam.deactivate_mfa_device, UserName="max", SerialNumber=serial
        )
        unassigned = self.iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")
        self.assertEqual([d["SerialNumber"] for d in unassigned["VirtualMFADevices"]], [serial])
        self.assertEqual(unassigned["VirtualMFADevices"][0]["Tags"], [{"Key": "team", "Value": "ops"}])
        self.iam.delete_virtual_mfa_device(SerialNumber=serial)
        self.assertCode("NoSuchEntity", self.iam.delete_virtual_mfa_device, SerialNumber=serial)
        self.iam.delete_user(UserName="max")


class Account(Shared):
    def test_summary_aliases_and_authorization_details(self):
        before = self.iam.get_account_summary()["SummaryMap"]
        for n in ("sam", "sue"):
            self.user(n)
        self.iam.create_group(GroupName="auditors")
        summary = self.iam.get_account_summary()["SummaryMap"]
        self.assertEqual(summary["Users"], before["Users"] + 2)
        self.assertEqual(summary["Groups"], before["Groups"] + 1)
        self.assertEqual(summary["UsersQuota"], 5000)
        self.assertEqual(summary["AccessKeysPerUserQuota"], 2)
        self.assertEqual(summary["AccountAccessKeysPresent"], 1)
        for key in ("Roles", "Policies", "MFADevices", "PolicySizeQuota", "GlobalEndpointTokenVersion"):
            self.assertIn(key, summary)

        self.assertEqual(self.iam.list_account_aliases()["AccountAliases"], [])
        self.assertCode("ValidationError", self.iam.create_account_alias, AccountAlias="Bad--Alias")
        self.iam.create_account_alias(AccountAlias="example-corp")
        self.assertCode("EntityAlreadyExists", self.iam.create_account_alias, AccountAlias="example-corp")
        self.assertCode("LimitExceeded", self.iam.create_account_alias, AccountAlias="another-one")
        self.assertEqual(self.iam.list_account_aliases()["AccountAliases"], ["example-corp"])
        self.iam.delete_account_alias(AccountAlias="example-corp")
        self.assertCode("NoSuchEntity", self.iam.delete_account_alias, AccountAlias="example-corp")

        # Every entity, one per page.
        seen = {"users": [], "groups": []}
        marker = None
        pages = 0
        while True:
            kwargs = {"MaxItems": 1}
            if marker:
                kwargs["Marker"] = marker
            page = self.iam.get_account_authorization_details(**kwargs)
            pages += 1
            count = sum(
                len(page[k])
                for k in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
            )
            self.assertLessEqual(count, 1)
            seen["users"] += [u["UserName"] for u in page["UserDetailList"]]
            seen["groups"] += [g["GroupName"] for g in page["GroupDetailList"]]
            if not page["IsTruncated"]:
                break
            marker = page["Marker"]
        users = [u["UserName"] for u in self.iam.list_users()["Users"]]
        groups = [g["GroupName"] for g in self.iam.list_groups()["Groups"]]
        self.assertEqual(sorted(seen["users"]), sorted(users))
        self.assertEqual(sorted(seen["groups"]), sorted(groups))
        self.assertGreaterEqual(pages, len(users) + len(groups))
        only_groups = self.iam.get_account_authorization_details(Filter=["Group"])
        self.assertEqual(only_groups["UserDetailList"], [])
        self.assertEqual([g["GroupName"] for g in only_groups["GroupDetailList"]], groups)
        self.assertCode(
            "ValidationError", self.iam.get_account_authorization_details, Filter=["Users"]
        )
        # The AWS CLI reads the same document.
        out = json.loads(
            AccessKeys.aws(self, "iam", "get-account-authorization-details", "--filter", "User")
        )
        self.assertEqual(sorted(u["UserName"] for u in out["UserDetailList"]), sorted(users))


class DetailsShape(Shared):
    """GetAccountAuthorizationDetails' roles and managed policies in AWS's XML, read back by boto3
    (documents URL-encoded on the wire, JSON objects once decoded). The rows are written straight
    into the database, so the shape is checked whatever API creates roles and policies."""

    def test_roles_profiles_and_policies_as_aws_writes_them(self):
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/a+b c%"}]}
        arn = f"arn:aws:iam::{ACCOUNT}:policy/ops/reader"
        db = sqlite3.connect(os.path.join(self.cp.dir, "iam.db"), timeout=10)
        with db:
            db.execute(
                "INSERT INTO iam_roles VALUES ('AROAEXAMPLEROLE000001', 'app', 'app', '/svc/', 1700000000, ?, 'the app', 7200, ?, 0, 1800000000, 'eu-west-1')",
                (json.dumps(trust), arn),
            )
            db.execute("INSERT INTO iam_instance_profiles VALUES ('AIPAEXAMPLEPROFILE001', 'app-profile', 'app-profile', '/', 1700000000)")
            db.execute("INSERT INTO iam_instance_profile_roles VALUES ('AIPAEXAMPLEPROFILE001', 'AROAEXAMPLEROLE000001')")
            db.execute(
                "INSERT INTO iam_policies VALUES ('ANPAEXAMPLEPOLICY0001', ?, 'reader', 'reader', '/ops/', 'reads', 1700000000, 1700000100, 'v2', 3, 0)",
                (arn,),
            )
            db.execute("INSERT INTO iam_policy_versions VALUES ('ANPAEXAMPLEPOLICY0001', 'v1', '{\"Version\": \"2012-10-17\", \"Statement\": []}', 1700000000)")
            db.execute("INSERT INTO iam_policy_versions VALUES ('ANPAEXAMPLEPOLICY0001', 'v2', ?, 1700000100)", (json.dumps(doc),))
            db.execute("INSERT INTO iam_attachments VALUES ('role', 'AROAEXAMPLEROLE000001', 'ANPAEXAMPLEPOLICY0001')")
            db.execute("INSERT INTO iam_inline_policies VALUES ('role', 'AROAEXAMPLEROLE000001', 'inline', 'inline', ?)", (json.dumps(doc),))
        db.close()
        d = self.iam.get_account_authorization_details(Filter=["Role", "LocalManagedPolicy"])
        self.assertEqual(d["UserDetailList"], [])
        [role] = d["RoleDetailList"]
        self.assertEqual(role["Arn"], f"arn:aws:iam::{ACCOUNT}:role/svc/app")
        self.assertEqual(role["AssumeRolePolicyDocument"], trust)
        self.assertEqual(role["RolePolicyList"], [{"PolicyName": "inline", "PolicyDocument": doc}])
        self.assertEqual(role["AttachedManagedPolicies"], [{"PolicyName": "reader", "PolicyArn": arn}])
        self.assertEqual(
            role["PermissionsBoundary"],
            {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn},
        )
        self.assertEqual(role["RoleLastUsed"]["Region"], "eu-west-1")
        [profile] = role["InstanceProfileList"]
        self.assertEqual(profile["InstanceProfileName"], "app-profile")
        self.assertEqual([r["RoleName"] for r in profile["Roles"]], ["app"])
        [policy] = d["Policies"]
        self.assertEqual((policy["Arn"], policy["DefaultVersionId"]), (arn, "v2"))
        self.assertEqual((policy["AttachmentCount"], policy["PermissionsBoundaryUsageCount"]), (1, 1))
        self.assertEqual(policy["Description"], "reads")
        versions = {v["VersionId"]: v for v in policy["PolicyVersionList"]}
        self.assertEqual(versions["v2"]["Document"], doc)
        self.assertTrue(versions["v2"]["IsDefaultVersion"])
        self.assertFalse(versions["v1"]["IsDefaultVersion"])


class CredentialReport(Shared):
    def test_report_columns_from_the_database(self):
        self.assertCode("ReportNotPresent", self.iam.get_credential_report)
        self.user("ray")
        self.iam.update_account_password_policy(MaxPasswordAge=30)
        self.iam.create_login_profile(UserName="ray", Password="Ray-Password-2026")
        key = self.iam.create_access_key(UserName="ray")["AccessKey"]
        ray = self.cp.client(key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        self.assertCode("AccessDenied", ray.list_users)
        wait_for(
            lambda: "LastUsedDate"
            in self.iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"],
            what="the key's last use",
        )
        started = self.iam.generate_credential_report()
        self.assertEqual(started["State"], "STARTED")
        self.assertEqual(self.iam.generate_credential_report()["State"], "COMPLETE")
        report = self.iam.get_credential_report()
        self.assertEqual(report["ReportFormat"], "text/csv")
        rows = list(csv.DictReader(io.StringIO(report["Content"].decode())))
        self.assertEqual(rows[0]["user"], "<root_account>")
        self.assertEqual(rows[0]["arn"], f"arn:aws:iam::{ACCOUNT}:root")
        self.assertEqual(rows[0]["access_key_1_active"], "true")
        by_user = {r["user"]: r for r in rows}
        r = by_user["ray"]
        self.assertEqual(r["arn"], f"arn:aws:iam::{ACCOUNT}:user/ray")
        self.assertEqual(r["password_enabled"], "true")
        self.assertEqual(r["password_last_used"], "no_information")
        self.assertNotEqual(r["password_last_changed"], "N/A")
        self.assertNotEqual(r["password_next_rotation"], "N/A")
        self.assertEqual(r["mfa_active"], "false")
        self.assertEqual(r["access_key_1_active"], "true")
        self.assertEqual(r["access_key_1_last_used_service"], "iam")
        self.assertEqual(r["access_key_1_last_used_region"], "us-east-1")
        self.assertEqual(r["access_key_2_active"], "false")
        self.assertEqual(r["cert_1_active"], "false")
        self.assertEqual(
            list(rows[0].keys())[:4], ["user", "arn", "user_creation_time", "password_enabled"]
        )
        # Four hours on (the database's clock moved back), the report has expired.
        db = sqlite3.connect(os.path.join(self.cp.dir, "iam.db"), timeout=10)
        with db:
            db.execute("UPDATE iam_credential_reports SET generated_at = generated_at - 14400")
        db.close()
        self.assertCode("ReportExpired", self.iam.get_credential_report)
        self.assertEqual(self.iam.generate_credential_report()["State"], "STARTED")
        self.assertIn(b"ray", self.iam.get_credential_report()["Content"])


if __name__ == "__main__":
    unittest.main()
