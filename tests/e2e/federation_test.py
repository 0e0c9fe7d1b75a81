#!/usr/bin/env python3
"""Identity federation end to end, against one `iamlet serve` on a fresh IAM database (the IAM API,
the sidecar and STS on loopback):

- OpenID Connect providers as IAM entities through boto3: create (AWS's validation), get, list,
  client ids, thumbprints, tags, delete; authorization before existence is revealed.
- GetFederationToken through boto3: federated user sessions within their session policy.
- AssumeRoleWithWebIdentity against an OIDC issuer written here in Python, served over HTTPS on
  127.0.0.1 with a private CA (trusted only through the provider's thumbprint), tokens minted with
  PyJWT: boto3's `assume_role_with_web_identity`, botocore's own web-identity credential provider
  (`AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ENDPOINT_URL_STS`), the IRSA trust policy
  from AWS's EKS documentation unchanged, key rotation, and every rejection with STS's codes; the
  session's requests then pass ext_authz as the role session with its tags.

Run with `python3 tests/e2e/federation_test.py -v` after `cargo build -p iamlet`; needs boto3,
cryptography and PyJWT (scripts/setup installs them).
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import ACCOUNT, ControlPlane, error_code  # noqa: E402
from oidc_issuer import Issuer, SigningKey  # noqa: E402

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402
from botocore import UNSIGNED  # noqa: E402

BUCKET = "reports"
ROUTES = f"""
[[routes]]
method = "GET"
path = "/buckets/{{bucket}}/objects/{{key*}}"
action = "s3:GetObject"
resource = "arn:aws:s3:::{{bucket}}/{{key}}"
resource_account = "{ACCOUNT}"
"""

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

    def test_export_and_import_carry_providers(self):
        url = "https://token.actions.example.com"
        arn = self.iam.create_open_id_connect_provider(
            Url=url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[THUMB])["OpenIDConnectProviderArn"]
        out = self.cp.iamlet("iam", "export", "--database", self.cp.database)
        exported = json.loads(out.stdout)
        self.assertIn({"Arn": arn, "Url": "token.actions.example.com", "ClientIDList": ["sts.amazonaws.com"],
                       "ThumbprintList": [THUMB]}, exported["OpenIDConnectProviderList"])
        path = os.path.join(self.cp.dir, "export.json")
        with open(path, "w") as f:
            f.write(out.stdout)
        self.cp.iamlet("iam", "import", "--database", "sqlite:copy.db", "--account", path)
        again = json.loads(self.cp.iamlet("iam", "export", "--database", "sqlite:copy.db").stdout)
        self.assertEqual(again["OpenIDConnectProviderList"], exported["OpenIDConnectProviderList"])
        self.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)

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


def ext_authz_check(http_port, creds, object_key="q1.csv", bucket=BUCKET):
    """GET through the sidecar's HTTP ext_authz port, signed by botocore with temporary
    credentials; the status."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"http://127.0.0.1:{http_port}/buckets/{bucket}/objects/{object_key}"
    request = AWSRequest(method="GET", url=url)
    S3SigV4Auth(Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
                "s3", "us-east-1").add_auth(request)
    req = urllib.request.Request(url, headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def irsa_trust(provider_arn, host_path, sub, extra_actions=()):
    """The trust policy of AWS's EKS IRSA documentation, unchanged but for the names."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": ["sts:AssumeRoleWithWebIdentity", *extra_actions],
            "Condition": {"StringEquals": {f"{host_path}:sub": sub, f"{host_path}:aud": "sts.amazonaws.com"}},
        }],
    })


class WebIdentity(unittest.TestCase):
    SA = "system:serviceaccount:analytics:reporter"

    @classmethod
    def setUpClass(cls):
        cls.issuer = Issuer("/id/CLUSTER1")
        cls.cp = ControlPlane(extra=ROUTES)
        cls.iam = cls.cp.root_client()
        cls.provider = cls.iam.create_open_id_connect_provider(
            Url=cls.issuer.url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[cls.issuer.thumbprint],
        )["OpenIDConnectProviderArn"]
        cls.role = cls.make_role("reporter", irsa_trust(cls.provider, cls.issuer.host_path, cls.SA))
        cls.sts = boto3.client("sts", endpoint_url=cls.cp.sts_url, region_name="us-east-1",
                               config=botocore.config.Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))

    @classmethod
    def make_role(cls, name, trust, policy=None, max_session=3600):
        arn = cls.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust,
                                  MaxSessionDuration=max_session)["Role"]["Arn"]
        cls.iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=json.dumps(policy or {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}],
        }))
        return arn

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()
        cls.issuer.close()

    def assume(self, token, role=None, session="reporter-pod", **kw):
        return self.sts.assume_role_with_web_identity(
            RoleArn=role or self.role, RoleSessionName=session, WebIdentityToken=token, **kw)

    def refused(self, code, token, role=None, status=None, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.assume(token, role=role, **kw)
        r = e.exception.response
        self.assertEqual(error_code(e.exception), code, r["Error"]["Message"])
        if status:
            self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], status)
        return r["Error"]["Message"]

    def check(self, creds, object_key="q1.csv", bucket=BUCKET):
        return ext_authz_check(self.cp.ports["http"], creds, object_key, bucket)

    def test_irsa_token_to_credentials_to_an_allowed_request(self):
        token = self.issuer.token(sub=self.SA)
        out = self.assume(token)
        session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/reporter/reporter-pod"
        self.assertEqual(out["AssumedRoleUser"]["Arn"], session_arn)
        self.assertTrue(out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA"))
        self.assertTrue(out["AssumedRoleUser"]["AssumedRoleId"].endswith(":reporter-pod"))
        self.assertEqual(out["SubjectFromWebIdentityToken"], self.SA)
        self.assertEqual(out["Provider"], self.issuer.url)
        self.assertEqual(out["Audience"], "sts.amazonaws.com")
        creds = out["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(self.check(creds), 200)
        # The role's policy is all the session has.
        ident = self.cp.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]) \
            .get_caller_identity()
        self.assertEqual(ident["Arn"], session_arn)

        # The decision log names the provider and the subject, and never holds the token.
        line = self.cp.wait_decision(lambda d: d.get("action") == "sts:AssumeRoleWithWebIdentity"
                                     and d.get("allowed") and d.get("resource") == self.role)
        self.assertEqual(line["federation"], {"provider": self.provider, "subject": self.SA})
        self.assertEqual(line["resource"], self.role)
        with open(self.cp.log_path) as f:
            raw = f.read()
        self.assertNotIn(token, raw)
        self.assertNotIn(token.split(".")[2], raw)

    def test_duration_and_session_policy(self):
        token = self.issuer.token(sub=self.SA)
        out = self.assume(token, DurationSeconds=900)
        exp = out["Credentials"]["Expiration"].timestamp()
        self.assertLess(abs(exp - (time.time() + 900)), 60)
        msg = self.refused("ValidationError", token, DurationSeconds=7200)
        self.assertIn("MaxSessionDuration", msg)
        # A session policy narrows the session: this one allows another bucket only.
        narrow = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}]})
        creds = self.assume(token, Policy=narrow)["Credentials"]
        self.assertEqual(self.check(creds), 403)

    def test_sdk_web_identity_provider_from_the_environment(self):
        """botocore's own AssumeRoleWithWebIdentity credential provider, configured as EKS
        configures a pod, with no code of ours."""
        with tempfile.NamedTemporaryFile("w", suffix=".jwt", delete=False) as f:
            f.write(self.issuer.token(sub=self.SA))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ROLE_ARN": self.role,
            "AWS_WEB_IDENTITY_TOKEN_FILE": f.name,
            "AWS_ROLE_SESSION_NAME": "sdk-pod",
            "AWS_ENDPOINT_URL_STS": self.cp.sts_url,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        script = (
            "import boto3, json\n"
            "s = boto3.Session()\n"
            "c = s.get_credentials()\n"
            "print(json.dumps({'method': c.method, 'arn': s.client('sts').get_caller_identity()['Arn'],\n"
            "  'creds': (lambda f: {'AccessKeyId': f.access_key, 'SecretAccessKey': f.secret_key, 'SessionToken': f.token})(c.get_frozen_credentials())}))\n"
        )
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
        os.unlink(f.name)
        self.assertEqual(out.returncode, 0, out.stderr)
        got = json.loads(out.stdout)
        self.assertEqual(got["method"], "assume-role-with-web-identity")
        self.assertEqual(got["arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/reporter/sdk-pod")
        self.assertEqual(self.check(got["creds"]), 200)

    def test_trust_policy_decides(self):
        # Another service account: the IRSA condition on :sub refuses it.
        msg = self.refused("AccessDenied", self.issuer.token(sub="system:serviceaccount:default:other"), status=403)
        self.assertEqual(msg, "Not authorized to perform sts:AssumeRoleWithWebIdentity")
        # A role that does not exist, and a role that trusts another provider.
        self.refused("AccessDenied", self.issuer.token(sub=self.SA), role=f"arn:aws:iam::{ACCOUNT}:role/nope")
        other = self.make_role("trusts-another", irsa_trust(
            f"arn:aws:iam::{ACCOUNT}:oidc-provider/elsewhere.example.com", self.issuer.host_path, self.SA))
        self.refused("AccessDenied", self.issuer.token(sub=self.SA), role=other)
        # sts:RoleSessionName as a condition.
        named = self.make_role("named-sessions", json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": self.provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"sts:RoleSessionName": "ci-*",
                                         f"{self.issuer.host_path}:sub": "system:serviceaccount:analytics:*"}}}]}))
        self.assume(self.issuer.token(sub=self.SA), role=named, session="ci-42")
        self.refused("AccessDenied", self.issuer.token(sub=self.SA), role=named, session="laptop")

    def test_session_tags_and_federated_provider_reach_ext_authz(self):
        trust = json.loads(irsa_trust(self.provider, self.issuer.host_path, self.SA, ["sts:TagSession"]))
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/${{aws:PrincipalTag/team}}/*",
            "Condition": {"StringEquals": {"aws:FederatedProvider": self.provider}}}]}
        role = self.make_role("tagged", json.dumps(trust), policy)
        tags = {"principal_tags": {"team": ["blue"], "cost": ["42"]}, "transitive_tag_keys": ["team"]}
        token = self.issuer.token(sub=self.SA, **{"https://aws.amazon.com/tags": tags})
        creds = self.assume(token, role=role)["Credentials"]
        self.assertEqual(self.check(creds, "blue/q1.csv"), 200)
        self.assertEqual(self.check(creds, "red/q1.csv"), 403)
        # Without sts:TagSession in the trust policy, a token with tags is refused.
        self.refused("AccessDenied", token)
        # A source identity claim needs sts:SetSourceIdentity.
        self.refused("AccessDenied", self.issuer.token(sub=self.SA, **{"https://aws.amazon.com/source_identity": "alice"}))
        self.refused("InvalidIdentityToken", self.issuer.token(
            sub=self.SA, **{"https://aws.amazon.com/tags": {"principal_tags": {"team": ["a", "b"]}}}))

    def test_rejections(self):
        iss = self.issuer
        good = dict(sub=self.SA)
        self.assertIn("audience", self.refused("InvalidIdentityToken", iss.token(aud="someone-else", **good), status=400))
        self.refused("InvalidIdentityToken", iss.token(aud=None, **good))
        self.refused("ExpiredTokenException", iss.token(lifetime=-3600, **good), status=400)
        now = int(time.time())
        self.refused("InvalidIdentityToken", iss.token(nbf=now + 3600, **good))
        self.refused("InvalidIdentityToken", iss.token(iat=now + 3600, **good))
        # Signed by a key the issuer never published, under a published kid and under another.
        stranger = SigningKey("k1")
        self.refused("InvalidIdentityToken", iss.token(key=stranger, **good))
        self.refused("InvalidIdentityToken", iss.token(key=SigningKey("unpublished"), **good))
        # alg confusion: HS256 keyed with the public key, and alg none.
        import jwt
        pub = iss.keys[0].key.public_key()
        from cryptography.hazmat.primitives import serialization
        pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        claims = {"iss": iss.url, "sub": self.SA, "aud": "sts.amazonaws.com", "exp": now + 600, "iat": now}
        hs = jwt.api_jws.PyJWS()
        hs._algorithms["HS256"] = jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256)
        hs._algorithms["HS256"].prepare_key = lambda k: k
        forged = hs.encode(json.dumps(claims).encode(), pem, algorithm="HS256", headers={"kid": "k1"})
        self.refused("InvalidIdentityToken", forged)
        b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        none = b64(b'{"alg":"none","kid":"k1"}') + "." + b64(json.dumps(claims).encode()) + "."
        self.refused("InvalidIdentityToken", none)
        # A tampered payload.
        head, body, sig = iss.token(**good).split(".")
        other = json.loads(base64.urlsafe_b64decode(body + "=="))
        other["sub"] = "system:serviceaccount:kube-system:admin"
        self.refused("InvalidIdentityToken", ".".join([head, b64(json.dumps(other).encode()), sig]))
        # Not a JWT at all; an issuer that is not https; an issuer with no provider.
        self.refused("InvalidIdentityToken", "not-a-token")
        self.refused("InvalidIdentityToken", iss.token(iss="http://" + iss.host_path, **good))
        self.assertIn("No OpenIDConnect provider",
                      self.refused("InvalidIdentityToken", iss.token(iss=iss.url + "/other", **good)))
        # Too long for STS.
        raw = boto3.client("sts", endpoint_url=self.cp.sts_url, region_name="us-east-1",
                           config=botocore.config.Config(signature_version=UNSIGNED, parameter_validation=False,
                                                         retries={"max_attempts": 1}))
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            raw.assume_role_with_web_identity(RoleArn=self.role, RoleSessionName="s1", WebIdentityToken="x" * 20001)
        self.assertEqual(error_code(e.exception), "ValidationError")
        # Metrics count the calls by outcome.
        with urllib.request.urlopen(f"http://127.0.0.1:{self.cp.ports['admin']}/metrics", timeout=5) as r:
            metrics = r.read().decode()
        for outcome in ("InvalidIdentityToken", "ExpiredTokenException"):
            self.assertRegex(metrics, r'iamlet_sts_calls_total\{[^}]*action="AssumeRoleWithWebIdentity"[^}]*outcome="%s"[^}]*\} [1-9]' % outcome)

    def test_tls_trust_is_the_thumbprint(self):
        """The issuer's CA is private: only the provider's thumbprint trusts it."""
        for name, thumbs in (("untrusted", []), ("wrong-thumbprint", ["0" * 40])):
            issuer = Issuer(f"/{name}")
            try:
                arn = self.iam.create_open_id_connect_provider(
                    Url=issuer.url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=thumbs)["OpenIDConnectProviderArn"]
                role = self.make_role(f"tls-{name}", irsa_trust(arn, issuer.host_path, self.SA))
                self.refused("IDPCommunicationError", issuer.token(sub=self.SA), role=role, status=400)
                self.assertEqual(issuer.jwks_fetches(), 0)
                # Its thumbprint added: trusted.
                self.iam.update_open_id_connect_provider_thumbprint(
                    OpenIDConnectProviderArn=arn, ThumbprintList=[issuer.thumbprint])
                self.assume(issuer.token(sub=self.SA), role=role)
            finally:
                issuer.close()

    def test_key_rotation_and_es256(self):
        issuer = Issuer("/rotating")
        try:
            arn = self.iam.create_open_id_connect_provider(
                Url=issuer.url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[issuer.thumbprint])["OpenIDConnectProviderArn"]
            role = self.make_role("rotating", irsa_trust(arn, issuer.host_path, self.SA))
            self.assume(issuer.token(sub=self.SA), role=role)
            self.assume(issuer.token(sub=self.SA), role=role)
            self.assertEqual(issuer.jwks_fetches(), 1, "the keys are cached")
            # The issuer rotates to an EC key: a token naming the new kid makes Iamlet fetch again.
            time.sleep(10.5)
            new = SigningKey("k2", "ES256")
            issuer.keys = [new, issuer.keys[0]]
            self.assume(issuer.token(sub=self.SA, key=new), role=role)
            self.assertEqual(issuer.jwks_fetches(), 2)
            # Unknown kids right after a fetch do not make Iamlet hammer the issuer.
            for i in range(3):
                self.refused("InvalidIdentityToken", issuer.token(sub=self.SA, key=SigningKey(f"x{i}")), role=role)
            self.assertEqual(issuer.jwks_fetches(), 2)
            # The old key retired: its tokens stop working once the keys are fetched again.
            issuer.keys = [new]
            time.sleep(10.5)
            self.refused("InvalidIdentityToken", issuer.token(sub=self.SA, key=SigningKey("x9")), role=role)
            self.assertEqual(issuer.jwks_fetches(), 3)
            self.assume(issuer.token(sub=self.SA, key=new), role=role)
        finally:
            issuer.close()

    def test_deleted_provider_stops_federation(self):
        issuer = Issuer("/short-lived")
        try:
            arn = self.iam.create_open_id_connect_provider(
                Url=issuer.url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=[issuer.thumbprint])["OpenIDConnectProviderArn"]
            role = self.make_role("short-lived", irsa_trust(arn, issuer.host_path, self.SA))
            self.assume(issuer.token(sub=self.SA), role=role)
            self.iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com")
            self.refused("InvalidIdentityToken", issuer.token(sub=self.SA), role=role)
            self.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
            self.assertIn("No OpenIDConnect provider", self.refused("InvalidIdentityToken", issuer.token(sub=self.SA), role=role))
        finally:
            issuer.close()


class FederationToken(unittest.TestCase):
    """GetFederationToken through boto3: a broker user's long-term key, a required session policy."""

    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane(extra=ROUTES)
        iam = cls.iam = cls.cp.root_client()
        iam.create_user(UserName="broker")
        iam.put_user_policy(UserName="broker", PolicyName="broker", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:GetFederationToken",
                 "Resource": f"arn:aws:sts::{ACCOUNT}:federated-user/app-*"},
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
            ],
        }))
        k = iam.create_access_key(UserName="broker")["AccessKey"]
        cls.key = (k["AccessKeyId"], k["SecretAccessKey"])
        cls.sts = cls.cp.client("sts", *cls.key)
        # The sidecar sees the new key within its poll interval.
        deadline = time.monotonic() + 10
        while True:
            try:
                cls.sts.get_caller_identity()
                break
            except botocore.exceptions.ClientError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()

    check = WebIdentity.check

    def test_federated_user_session(self):
        public = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/public/*"}]})
        out = self.sts.get_federation_token(Name="app-alice", Policy=public, DurationSeconds=900)
        arn = f"arn:aws:sts::{ACCOUNT}:federated-user/app-alice"
        self.assertEqual(out["FederatedUser"], {"FederatedUserId": f"{ACCOUNT}:app-alice", "Arn": arn})
        creds = out["Credentials"]
        self.assertLess(abs(creds["Expiration"].timestamp() - (time.time() + 900)), 60)
        # The session's permissions: the broker's, within the session policy.
        self.assertEqual(self.check(creds, "public/a.csv"), 200)
        self.assertEqual(self.check(creds, "private/a.csv"), 403)
        ident = self.cp.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]) \
            .get_caller_identity()
        self.assertEqual(ident["Arn"], arn)
        self.assertEqual(ident["UserId"], f"{ACCOUNT}:app-alice")
        # A session policy granting more than the broker has grants nothing more.
        wide = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
        creds = self.sts.get_federation_token(Name="app-bob", Policy=wide)["Credentials"]
        self.assertEqual(self.check(creds, "private/a.csv"), 200)
        self.assertEqual(self.check(creds, "a.csv", bucket="other"), 403)
        # No session policy: no permissions at all.
        creds = self.sts.get_federation_token(Name="app-carol")["Credentials"]
        self.assertEqual(self.check(creds, "public/a.csv"), 403)

    def test_refusals(self):
        def refused(code, client=None, **kw):
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                (client or self.sts).get_federation_token(**kw)
            self.assertEqual(error_code(e.exception), code, e.exception.response["Error"]["Message"])
            return e.exception.response["Error"]["Message"]

        # A name the broker's policy does not cover.
        self.assertIn("sts:GetFederationToken", refused("AccessDenied", Name="other"))
        # Session credentials cannot call it.
        creds = self.sts.get_federation_token(Name="app-dave")["Credentials"]
        session = self.cp.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        refused("AccessDenied", client=session, Name="app-eve")
        # Tags need sts:TagSession, which the broker lacks.
        refused("AccessDenied", Name="app-frank", Tags=[{"Key": "team", "Value": "blue"}])
        refused("MalformedPolicyDocument", Name="app-gina", Policy='{"Statement": 3}')
        raw = boto3.client("sts", endpoint_url=self.cp.sts_url, region_name="us-east-1",
                           aws_access_key_id=self.key[0], aws_secret_access_key=self.key[1],
                           config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}))
        refused("ValidationError", client=raw, Name="a")
        refused("ValidationError", client=raw, Name="app-has space")
        refused("ValidationError", client=raw, Name="app-" + "x" * 40)


class FileWorld(unittest.TestCase):
    """Without the IAM database: the provider declared in the account export the sidecar reads
    (`OpenIDConnectProviderList`), STS on a credentials file, the same IRSA flow."""

    SA = "system:serviceaccount:batch:nightly"

    @classmethod
    def setUpClass(cls):
        from controlplane import BIN, free_port

        cls.issuer = Issuer("/file-world")
        # Removed when the run exits.
        cls._tmp = tempfile.TemporaryDirectory(prefix="iamlet-fed-")
        cls.dir = cls._tmp.name
        provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{cls.issuer.host_path}"
        cls.provider = provider
        cls.role = f"arn:aws:iam::{ACCOUNT}:role/nightly"
        account = {
            "RoleDetailList": [{
                "RoleName": "nightly", "Arn": cls.role, "RoleId": "AROANIGHTLYEXAMPLE01", "Path": "/",
                "AssumeRolePolicyDocument": json.loads(irsa_trust(provider, cls.issuer.host_path, cls.SA)),
                "RolePolicyList": [{"PolicyName": "read", "PolicyDocument": {
                    "Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}}],
            }],
            "OpenIDConnectProviderList": [{"Arn": provider, "Url": cls.issuer.host_path,
                                           "ClientIDList": ["sts.amazonaws.com"],
                                           "ThumbprintList": [cls.issuer.thumbprint]}],
        }
        with open(os.path.join(cls.dir, "account.json"), "w") as f:
            json.dump(account, f)
        creds = os.path.join(cls.dir, "creds.json")
        subprocess.run([BIN, "sts", "rotate-key", "--credentials", creds], check=True, capture_output=True)
        cls.ports = {k: free_port() for k in ("grpc", "http", "admin", "sts")}
        cls.log_path = os.path.join(cls.dir, "decisions.jsonl")
        with open(os.path.join(cls.dir, "iamlet.toml"), "w") as f:
            f.write(f"""
[listen]
grpc = "127.0.0.1:{cls.ports['grpc']}"
http = "127.0.0.1:{cls.ports['http']}"
admin = "127.0.0.1:{cls.ports['admin']}"

[store]
accounts = "account.json"

[principal]
sigv4 = {{ credentials = "creds.json" }}

[context]
region = "us-east-1"

[sts]
listen = "127.0.0.1:{cls.ports['sts']}"

[decision_log]
path = "{cls.log_path}"
{ROUTES}
""")
        cls.stderr = open(os.path.join(cls.dir, "stderr.txt"), "w+")
        cls.proc = subprocess.Popen([BIN, "serve", "--config", os.path.join(cls.dir, "iamlet.toml")],
                                    cwd=cls.dir, stdout=subprocess.DEVNULL, stderr=cls.stderr)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{cls.ports['admin']}/readyz", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if cls.proc.poll() is not None or time.monotonic() > deadline:
                    cls.stderr.seek(0)
                    raise RuntimeError(cls.stderr.read())
                time.sleep(0.05)
        cls.sts = boto3.client("sts", endpoint_url=f"http://127.0.0.1:{cls.ports['sts']}", region_name="us-east-1",
                               config=botocore.config.Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(timeout=30)
        cls.stderr.close()
        cls.issuer.close()

    def test_irsa_from_the_account_file(self):
        out = self.sts.assume_role_with_web_identity(
            RoleArn=self.role, RoleSessionName="nightly-1", WebIdentityToken=self.issuer.token(sub=self.SA))
        self.assertEqual(out["AssumedRoleUser"]["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/nightly/nightly-1")
        self.assertEqual(out["AssumedRoleUser"]["AssumedRoleId"], "AROANIGHTLYEXAMPLE01:nightly-1")
        # The session's request through ext_authz.
        self.assertEqual(ext_authz_check(self.ports["http"], out["Credentials"]), 200)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.sts.assume_role_with_web_identity(
                RoleArn=self.role, RoleSessionName="nightly-2",
                WebIdentityToken=self.issuer.token(sub="system:serviceaccount:batch:other"))
        self.assertEqual(error_code(e.exception), "AccessDenied")


if __name__ == "__main__":
    unittest.main()
