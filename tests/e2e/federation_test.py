#!/usr/bin/env python3
"""Identity federation end to end, against one `iamlet serve` on a fresh IAM database (the IAM API,
the sidecar and STS on loopback):

- OpenID Connect providers as IAM entities through boto3: create (AWS's validation), get, list,
  client ids, thumbprints, tags, delete; authorization before existence is revealed.
- AssumeRoleWithWebIdentity against an OIDC issuer written here in Python, served over HTTPS on
  127.0.0.1 with a private CA (trusted only through the provider's thumbprint), tokens minted with
  PyJWT: boto3's `assume_role_with_web_identity`, botocore's own web-identity credential provider
  (`AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ENDPOINT_URL_STS`), the IRSA trust policy
  from AWS's EKS documentation unchanged, key rotation, and every rejection with STS's codes; the
  session's requests then pass ext_authz as the role session with its tags.

Run with `python3 tests/e2e/federation_test.py -v` after `cargo build -p iamlet`; needs boto3,
cryptography and PyJWT (scripts/setup installs them).
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import ACCOUNT, ControlPlane, error_code  # noqa: E402

import botocore.exceptions  # noqa: E402

THUMB = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


class OidcProviders(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane()
        cls.iam = cls.cp.root_client()

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()

    def assertCode(self, code, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            fn(**kw)
        self.assertEqual(error_code(e.exception), code, e.exception.response["Error"]["Message"])
        return e.exception.response

    def test_lifecycle(self):
        iam = self.iam
        url = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
        arn = iam.create_open_id_connect_provider(
            Url=url, ClientIDList=["sts.amazonaws.com", "sts.amazonaws.com"], ThumbprintList=[THUMB.upper()],
            Tags=[{"Key": "cluster", "Value": "blue"}],
        )["OpenIDConnectProviderArn"]
        self.assertEqual(
            arn, f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
        )
        got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        self.assertEqual(got["Url"], url.removeprefix("https://"))
        self.assertEqual(got["ClientIDList"], ["sts.amazonaws.com"])
        self.assertEqual(got["ThumbprintList"], [THUMB])
        self.assertEqual(got["Tags"], [{"Key": "cluster", "Value": "blue"}])
        self.assertIn("CreateDate", got)
        self.assertIn({"Arn": arn}, iam.list_open_id_connect_providers()["OpenIDConnectProviderList"])

        # The same URL again.
        self.assertCode("EntityAlreadyExists", iam.create_open_id_connect_provider, Url=url, ClientIDList=["x"])

        # Client ids: adding one it has and removing one it lacks are no errors (IAM is idempotent).
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="other")
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="other")
        iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com")
        iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="never")
        self.assertEqual(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"], ["other"])

        # Thumbprints replaced, then emptied (a CA-trusted issuer needs none).
        t2 = "a" * 40
        iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=[THUMB, t2])
        self.assertEqual(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"], [THUMB, t2])
        iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=[])
        self.assertEqual(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"], [])

        # Tags.
        iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "team", "Value": "infra"}])
        tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"]
        self.assertEqual(sorted(t["Key"] for t in tags), ["cluster", "team"])
        iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["cluster"])
        tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"]
        self.assertEqual(tags, [{"Key": "team", "Value": "infra"}])

        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        self.assertCode("NoSuchEntity", iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn)
        self.assertNotIn({"Arn": arn}, iam.list_open_id_connect_providers()["OpenIDConnectProviderList"])
        # Deleting what is not there is no error, as IAM documents.
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        self.assertCode("NoSuchEntity", iam.add_client_id_to_open_id_connect_provider,
                        OpenIDConnectProviderArn=arn, ClientID="x")

    def test_validation(self):
        import boto3
        import botocore.config

        # botocore checks lengths itself: without that, the server's own checks answer.
        iam = boto3.client(
            "iam", endpoint_url=self.cp.iam_url, region_name="us-east-1",
            aws_access_key_id=self.cp.root["AccessKeyId"], aws_secret_access_key=self.cp.root["SecretAccessKey"],
            config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}),
        )
        create = iam.create_open_id_connect_provider
        self.assertCode("InvalidInput", create, Url="http://plain.example.com", ClientIDList=["a"])
        self.assertCode("InvalidInput", create, Url="https://q.example.com/?a=1", ClientIDList=["a"])
        self.assertCode("InvalidInput", create, Url="issuer.example.com", ClientIDList=["a"])
        self.assertCode("ValidationError", create, Url="https://" + "a" * 250, ClientIDList=["a"])
        self.assertCode("ValidationError", create, Url="https://t.example.com", ThumbprintList=["abc"])
        self.assertCode("InvalidInput", create, Url="https://t.example.com", ThumbprintList=["z" * 40])
        self.assertCode("InvalidInput", create, Url="https://t.example.com",
                        ThumbprintList=[f"{i:040x}" for i in range(6)])
        self.assertCode("LimitExceeded", create, Url="https://t.example.com",
                        ClientIDList=[f"client-{i}" for i in range(101)])
        self.assertCode("ValidationError", create, Url="https://t.example.com", ClientIDList=["x" * 256])
        self.assertCode("InvalidInput", iam.get_open_id_connect_provider,
                        OpenIDConnectProviderArn=f"arn:aws:iam::{ACCOUNT}:role/not-a-provider")
        # Nothing was created by the refused calls.
        arns = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
        self.assertFalse([a for a in arns if "t.example.com" in a], arns)

    def test_authorized_before_existence_is_revealed(self):
        iam = self.iam
        arn = iam.create_open_id_connect_provider(Url="https://auth.example.com/tenant", ClientIDList=["a"])[
            "OpenIDConnectProviderArn"]
        iam.create_user(UserName="oidc-reader")
        iam.put_user_policy(UserName="oidc-reader", PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iam:GetOpenIDConnectProvider", "Resource": arn}],
        }))
        reader = self.cp.user_client(iam, "oidc-reader")
        import time
        deadline = time.monotonic() + 10
        while True:
            try:
                reader.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
                break
            except botocore.exceptions.ClientError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        missing = f"arn:aws:iam::{ACCOUNT}:oidc-provider/nothing.example.com"
        # Not allowed on another ARN: AccessDenied whether or not it exists.
        self.assertCode("AccessDenied", reader.get_open_id_connect_provider, OpenIDConnectProviderArn=missing)
        self.assertCode("AccessDenied", reader.delete_open_id_connect_provider, OpenIDConnectProviderArn=arn)
        self.assertCode("AccessDenied", reader.create_open_id_connect_provider,
                        Url="https://x.example.com", ClientIDList=["a"])


if __name__ == "__main__":
    unittest.main()
