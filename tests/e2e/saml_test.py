#!/usr/bin/env python3
"""SAML 2.0 federation end to end, against one `iamlet serve` on a fresh IAM database (the IAM API,
the sidecar and STS on loopback), with an identity provider written here (saml_idp.py: a key and
certificate from cryptography, assertions signed by signxml):

- SAML providers as IAM entities through boto3: create (AWS's validation of the metadata), get,
  list, update, tags, delete; export and import carry them.
- AssumeRoleWithSAML through boto3's `assume_role_with_saml`: the assertion signed on the Assertion,
  on the Response, with RSA-SHA256 and RSA-SHA512; the answer's fields; the session's requests pass
  ext_authz as the role session with its tags; the trust policy decides with the `saml:` keys.
- Every rejection with STS's code: another key, an expired assertion, the wrong audience or
  recipient, another issuer, a role pair the assertion lacks, a trust condition on saml:sub not met,
  a tampered assertion, the classic signature-wrapping variants, comment injection in the NameID, a
  DOCTYPE, an IdP status that is not Success.
- The AWS CLI's `aws iam create-saml-provider` and `aws sts assume-role-with-saml`.
- The file world: the provider declared in the account export the sidecar reads.

Run with `python3 tests/e2e/saml_test.py -v` after `cargo build -p iamlet`; needs boto3, awscli,
cryptography and signxml (scripts/setup installs them).
"""

import base64
import copy
import datetime
import hashlib
import json
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
from controlplane import ACCOUNT, ControlPlane, error_code  # noqa: E402
from federation_test import BUCKET, ROUTES, ext_authz_check  # noqa: E402
from saml_idp import DS, SAML, SAMLP, IdP, SigningKey, b64, role_pair  # noqa: E402

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402
from botocore import UNSIGNED  # noqa: E402
from lxml import etree  # noqa: E402

SIGNIN = "https://signin.aws.amazon.com/saml"
NS = {"samlp": SAMLP, "saml": SAML, "ds": DS}


def saml_trust(provider_arn, condition=None, extra_actions=(), aud=SIGNIN):
    """The trust policy of AWS's SAML 2.0 federation documentation (`SAML:aud` as AWS writes it)."""
    cond = {"StringEquals": {"SAML:aud": aud}}
    for op, kv in (condition or {}).items():
        cond.setdefault(op, {}).update(kv)
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": ["sts:AssumeRoleWithSAML", *extra_actions],
            "Condition": cond,
        }],
    })


def read_policy(resource=f"arn:aws:s3:::{BUCKET}/*"):
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}]}


class SamlProviders(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane()
        cls.iam = cls.cp.root_client()
        cls.idp = IdP()

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()

    def assertCode(self, code, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            fn(**kw)
        self.assertEqual(error_code(e.exception), code, e.exception.response["Error"]["Message"])
        return e.exception.response["Error"]["Message"]

    def test_lifecycle(self):
        iam = self.iam
        doc = self.idp.metadata()
        out = iam.create_saml_provider(SAMLMetadataDocument=doc, Name="Corp_IdP.1-x",
                                       Tags=[{"Key": "team", "Value": "identity"}])
        arn = out["SAMLProviderArn"]
        self.assertEqual(arn, f"arn:aws:iam::{ACCOUNT}:saml-provider/Corp_IdP.1-x")
        self.assertEqual(out["Tags"], [{"Key": "team", "Value": "identity"}])
        got = iam.get_saml_provider(SAMLProviderArn=arn)
        self.assertEqual(got["SAMLMetadataDocument"], doc)
        self.assertIsInstance(got["CreateDate"], datetime.datetime)
        self.assertEqual(got["Tags"], [{"Key": "team", "Value": "identity"}])
        listed = iam.list_saml_providers()["SAMLProviderList"]
        self.assertIn(arn, [p["Arn"] for p in listed])
        self.assertCode("EntityAlreadyExists", iam.create_saml_provider, SAMLMetadataDocument=doc, Name="Corp_IdP.1-x")

        other = IdP(entity_id="https://idp2.example.com")
        self.assertEqual(iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=other.metadata())
                         ["SAMLProviderArn"], arn)
        self.assertEqual(iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"], other.metadata())

        iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "env", "Value": "prod"}])
        keys = [t["Key"] for t in iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"]]
        self.assertEqual(sorted(keys), ["env", "team"])
        iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["team"])
        self.assertEqual(iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"], [{"Key": "env", "Value": "prod"}])

        iam.delete_saml_provider(SAMLProviderArn=arn)
        self.assertCode("NoSuchEntity", iam.get_saml_provider, SAMLProviderArn=arn)
        self.assertCode("NoSuchEntity", iam.delete_saml_provider, SAMLProviderArn=arn)
        self.assertNotIn(arn, [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]])

    def test_validation(self):
        iam = self.iam
        pad = "<!--" + " " * 1000 + "-->"
        # Not SAML metadata; metadata without a signing certificate (encryption only).
        self.assertCode("InvalidInput", iam.create_saml_provider, Name="x1",
                        SAMLMetadataDocument=f"<root>{pad}</root>")
        msg = self.assertCode("InvalidInput", iam.create_saml_provider, Name="x2",
                              SAMLMetadataDocument=self.idp.metadata(use="encryption"))
        self.assertIn("signing certificate", msg)
        self.assertCode("InvalidInput", iam.create_saml_provider, Name="x3",
                        SAMLMetadataDocument="<!DOCTYPE r [<!ENTITY e 'x'>]>" + self.idp.metadata())
        # Shorter than IAM's 1,000 characters (botocore checks it too: ask without its check).
        unchecked = boto3.client("iam", endpoint_url=self.cp.iam_url, region_name="us-east-1",
                                 aws_access_key_id=self.cp.root["AccessKeyId"],
                                 aws_secret_access_key=self.cp.root["SecretAccessKey"],
                                 config=botocore.config.Config(parameter_validation=False,
                                                               retries={"max_attempts": 1}))
        self.assertCode("ValidationError", unchecked.create_saml_provider, Name="x4", SAMLMetadataDocument="<short/>")
        self.assertCode("ValidationError", iam.create_saml_provider, Name="has space",
                        SAMLMetadataDocument=self.idp.metadata())
        self.assertCode("InvalidInput", iam.get_saml_provider,
                        SAMLProviderArn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/example.com")
        # A metadata document with no `use` on its key is a signing key too.
        arn = iam.create_saml_provider(Name="nouse", SAMLMetadataDocument=self.idp.metadata(use=None))[
            "SAMLProviderArn"]
        iam.delete_saml_provider(SAMLProviderArn=arn)

    def test_export_and_import_carry_providers(self):
        arn = self.iam.create_saml_provider(Name="exported", SAMLMetadataDocument=self.idp.metadata())[
            "SAMLProviderArn"]
        out = self.cp.iamlet("iam", "export", "--database", self.cp.database)
        exported = json.loads(out.stdout)
        self.assertIn({"Arn": arn, "SAMLMetadataDocument": self.idp.metadata()}, exported["SAMLProviderList"])
        path = os.path.join(self.cp.dir, "export-saml.json")
        with open(path, "w") as f:
            f.write(out.stdout)
        self.cp.iamlet("iam", "import", "--database", "sqlite:copy-saml.db", "--account", path)
        again = json.loads(self.cp.iamlet("iam", "export", "--database", "sqlite:copy-saml.db").stdout)
        self.assertEqual(again["SAMLProviderList"], exported["SAMLProviderList"])
        self.iam.delete_saml_provider(SAMLProviderArn=arn)

    def test_authorized_before_existence_is_revealed(self):
        iam = self.iam
        iam.create_user(UserName="saml-reader")
        iam.put_user_policy(UserName="saml-reader", PolicyName="r", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["iam:GetSAMLProvider", "iam:ListSAMLProviders"],
                           "Resource": "*"}]}))
        reader = self.cp.user_client(iam, "saml-reader")
        time.sleep(0.5)
        arn = f"arn:aws:iam::{ACCOUNT}:saml-provider/absent"
        self.assertCode("NoSuchEntity", reader.get_saml_provider, SAMLProviderArn=arn)
        self.assertCode("AccessDenied", reader.delete_saml_provider, SAMLProviderArn=arn)
        self.assertCode("AccessDenied", reader.create_saml_provider, Name="r", SAMLMetadataDocument=self.idp.metadata())


def xsw_moved_into_extensions(response_xml, evil_subject):
    """XSW: the signed assertion moved into the Response's Extensions; an unsigned copy with another
    subject (and ID) where the reader looks."""
    root = etree.fromstring(response_xml.encode())
    signed = root.find("saml:Assertion", NS)
    evil = copy.deepcopy(signed)
    evil.set("ID", "_evil" + signed.get("ID"))
    sig = evil.find("ds:Signature", NS)
    if sig is not None:
        evil.remove(sig)
    evil.find("saml:Subject/saml:NameID", NS).text = evil_subject
    root.remove(signed)
    ext = etree.SubElement(root, f"{{{SAMLP}}}Extensions")
    ext.append(signed)
    root.insert(2, ext)
    root.append(evil)
    return etree.tostring(root).decode()


def xsw_evil_carries_signature(response_xml, evil_subject):
    """XSW: the evil assertion carries the original signature (whose reference names the original
    ID); the original assertion is gone."""
    root = etree.fromstring(response_xml.encode())
    signed = root.find("saml:Assertion", NS)
    signed.set("ID", "_evil" + signed.get("ID"))
    signed.find("saml:Subject/saml:NameID", NS).text = evil_subject
    return etree.tostring(root).decode()


def xsw_signed_inside_evil(response_xml, evil_subject):
    """XSW: the signed assertion kept whole inside the evil assertion's Advice."""
    root = etree.fromstring(response_xml.encode())
    signed = root.find("saml:Assertion", NS)
    evil = copy.deepcopy(signed)
    evil.set("ID", "_evil" + signed.get("ID"))
    evil.remove(evil.find("ds:Signature", NS))
    evil.find("saml:Subject/saml:NameID", NS).text = evil_subject
    root.remove(signed)
    advice = etree.SubElement(evil, f"{{{SAML}}}Advice")
    advice.append(signed)
    root.append(evil)
    return etree.tostring(root).decode()


def xsw_signed_response_wrapped(response_xml, evil_subject):
    """XSW on a signed Response: a new Response with an evil assertion, the original signed Response
    hidden in its Extensions."""
    original = etree.fromstring(response_xml.encode())
    root = copy.deepcopy(original)
    root.set("ID", "_evil" + original.get("ID"))
    root.remove(root.find("ds:Signature", NS))
    root.find("saml:Assertion/saml:Subject/saml:NameID", NS).text = evil_subject
    ext = etree.Element(f"{{{SAMLP}}}Extensions")
    ext.append(original)
    root.insert(1, ext)
    return etree.tostring(root).decode()


def xsw_duplicate_id(response_xml, evil_subject):
    """XSW: an evil assertion with the signed one's ID, placed first; the signed one after it."""
    root = etree.fromstring(response_xml.encode())
    signed = root.find("saml:Assertion", NS)
    evil = copy.deepcopy(signed)
    evil.remove(evil.find("ds:Signature", NS))
    evil.find("saml:Subject/saml:NameID", NS).text = evil_subject
    signed.addprevious(evil)
    return etree.tostring(root).decode()


class AssumeRoleWithSaml(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane(extra=ROUTES)
        cls.iam = cls.cp.root_client()
        cls.idp = IdP()
        cls.provider = cls.iam.create_saml_provider(Name="corp", SAMLMetadataDocument=cls.idp.metadata())[
            "SAMLProviderArn"]
        cls.role = cls.make_role("saml-ops", saml_trust(cls.provider))
        cls.sts = boto3.client("sts", endpoint_url=cls.cp.sts_url, region_name="us-east-1",
                               config=botocore.config.Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))

    @classmethod
    def make_role(cls, name, trust, policy=None, max_session=3600):
        arn = cls.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust,
                                  MaxSessionDuration=max_session)["Role"]["Arn"]
        cls.iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=json.dumps(policy or read_policy()))
        return arn

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()

    def response(self, role=None, **kw):
        return self.idp.response([role_pair(role or self.role, self.provider)], **kw)

    def assume(self, assertion, role=None, **kw):
        return self.sts.assume_role_with_saml(RoleArn=role or self.role, PrincipalArn=self.provider,
                                              SAMLAssertion=assertion, **kw)

    def refused(self, code, assertion, role=None, status=None, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.assume(assertion, role=role, **kw)
        r = e.exception.response
        self.assertEqual(error_code(e.exception), code, r["Error"]["Message"])
        if status:
            self.assertEqual(r["ResponseMetadata"]["HTTPStatusCode"], status)
        return r["Error"]["Message"]

    def check(self, creds, object_key="q1.csv"):
        return ext_authz_check(self.cp.ports["http"], creds, object_key)

    def test_assertion_to_credentials_to_an_allowed_request(self):
        assertion = self.response(session_name="alice")
        out = self.assume(assertion)
        session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/saml-ops/alice"
        self.assertEqual(out["AssumedRoleUser"]["Arn"], session_arn)
        self.assertTrue(out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA"))
        self.assertTrue(out["AssumedRoleUser"]["AssumedRoleId"].endswith(":alice"))
        self.assertEqual(out["Subject"], "alice@example.com")
        self.assertEqual(out["SubjectType"], "persistent")
        self.assertEqual(out["Issuer"], self.idp.entity_id)
        self.assertEqual(out["Audience"], SIGNIN)
        expected = base64.b64encode(
            hashlib.sha1(f"{self.idp.entity_id}{ACCOUNT}/corp".encode()).digest()).decode()
        self.assertEqual(out["NameQualifier"], expected)
        creds = out["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(self.check(creds), 200)
        ident = self.cp.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]) \
            .get_caller_identity()
        self.assertEqual(ident["Arn"], session_arn)

        # The decision log names the provider and the subject, and never holds the assertion.
        line = self.cp.wait_decision(lambda d: d.get("action") == "sts:AssumeRoleWithSAML"
                                     and d.get("allowed") and d.get("resource") == self.role)
        self.assertEqual(line["federation"], {"provider": self.provider, "subject": "alice@example.com"})
        with open(self.cp.log_path) as f:
            raw = f.read()
        self.assertNotIn(assertion[:200], raw)
        self.assertNotIn(assertion[-200:], raw)

    def test_signature_placements_and_algorithms(self):
        for kw in ({"sign_assertion": False, "sign_response": True},
                   {"sign_response": True, "sign_kw": {"algorithm": "rsa-sha512", "digest": "sha512"}},
                   {"sign_kw": {"algorithm": "rsa-sha1", "digest": "sha1"}},
                   {"sign_kw": {"c14n": "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"}}):
            out = self.assume(self.response(**kw))
            self.assertEqual(out["Subject"], "alice@example.com", kw)
        # Transient NameIDs and other formats, as AWS reports them.
        out = self.assume(self.response(subject="_t1", subject_format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient"))
        self.assertEqual(out["SubjectType"], "transient")
        fmt = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
        self.assertEqual(self.assume(self.response(subject_format=fmt))["SubjectType"], fmt)
        # urn:amazon:webservices is an audience AWS accepts; a regional sign-in endpoint is a
        # Recipient it accepts, which then is saml:aud (the trust policy here wants the global one).
        self.assume(self.response(audience="urn:amazon:webservices"))
        self.refused("AccessDenied", self.response(recipient="https://us-east-1.signin.aws.amazon.com/saml"))
        self.refused("AccessDenied", self.response(recipient="https://signin.aws.amazon.com/static/saml"))

    def test_duration_and_session_policy(self):
        out = self.assume(self.response(), DurationSeconds=900)
        left = out["Credentials"]["Expiration"].timestamp() - time.time()
        self.assertTrue(850 < left <= 905, left)
        # SessionDuration in the assertion caps the session.
        out = self.assume(self.response(session_duration=1000), DurationSeconds=3600)
        left = out["Credentials"]["Expiration"].timestamp() - time.time()
        self.assertTrue(950 < left <= 1005, left)
        self.refused("ValidationError", self.response(), DurationSeconds=7200)
        policy = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/public/*"}]})
        creds = self.assume(self.response(), Policy=policy)["Credentials"]
        self.assertEqual(self.check(creds, "public/a.csv"), 200)
        self.assertEqual(self.check(creds, "q1.csv"), 403)
        self.refused("MalformedPolicyDocument", self.response(), Policy="{nope")

    def test_trust_policy_decides_with_saml_keys(self):
        qualifier = base64.b64encode(
            hashlib.sha1(f"{self.idp.entity_id}{ACCOUNT}/corp".encode()).digest()).decode()
        role = self.make_role("saml-bob", saml_trust(self.provider, {"StringEquals": {
            "saml:sub": "bob@example.com", "saml:namequalifier": qualifier, "saml:iss": self.idp.entity_id,
            "saml:sub_type": "persistent", "saml:doc": f"{ACCOUNT}/corp",
            "saml:edupersonprincipalname": "bob@example.edu"}}))
        eppn = {"urn:oid:1.3.6.1.4.1.5923.1.1.1.6": ["bob@example.edu"]}
        ok = self.response(role=role, subject="bob@example.com", attributes=eppn)
        self.assertEqual(self.assume(ok, role=role)["AssumedRoleUser"]["Arn"],
                         f"arn:aws:sts::{ACCOUNT}:assumed-role/saml-bob/alice")
        msg = self.refused("AccessDenied", self.response(role=role, subject="alice@example.com", attributes=eppn),
                           role=role, status=403)
        self.assertIn("Not authorized to perform sts:AssumeRoleWithSAML", msg)
        self.refused("AccessDenied", self.response(role=role, subject="bob@example.com"), role=role)
        line = self.cp.wait_decision(lambda d: d.get("action") == "sts:AssumeRoleWithSAML"
                                     and not d.get("allowed") and d.get("resource") == role)
        self.assertEqual(line["federation"]["provider"], self.provider)

    def test_session_tags_reach_ext_authz(self):
        policy = read_policy(f"arn:aws:s3:::{BUCKET}/${{aws:PrincipalTag/team}}/*")
        role = self.make_role("saml-tagged", saml_trust(self.provider, extra_actions=["sts:TagSession"]), policy)
        attrs = {"https://aws.amazon.com/SAML/Attributes/PrincipalTag:team": ["blue"],
                 "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys": ["team"]}
        creds = self.assume(self.response(role=role, attributes=attrs), role=role)["Credentials"]
        self.assertEqual(self.check(creds, "blue/q1.csv"), 200)
        self.assertEqual(self.check(creds, "red/q1.csv"), 403)
        # Without sts:TagSession in the trust policy, an assertion with tags is refused.
        self.refused("AccessDenied", self.response(attributes=attrs))
        # A source identity needs sts:SetSourceIdentity.
        self.refused("AccessDenied", self.response(
            attributes={"https://aws.amazon.com/SAML/Attributes/SourceIdentity": ["alice"]}))

    def test_rejections(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        evil_idp = IdP(entity_id=self.idp.entity_id, keys=[SigningKey("evil")])
        cases = [
            # Signed by a key that is not the provider's.
            ("InvalidIdentityToken", evil_idp.response([role_pair(self.role, self.provider)])),
            # Expired.
            ("ExpiredTokenException", self.response(now=now - datetime.timedelta(hours=1))),
            ("InvalidIdentityToken", self.response(lifetime=0)),
            ("InvalidIdentityToken", self.response(confirmations=2)),
            ("InvalidIdentityToken", self.response(confirmations=0)),
            ("InvalidIdentityToken", self.response(audience="https://evil.example.com/saml")),
            ("InvalidIdentityToken", self.response(recipient="https://evil.example.com/saml")),
            ("InvalidIdentityToken", self.response(issuer="https://evil.example.com/idp")),
            ("InvalidIdentityToken", self.response(session_name=None)),
            ("InvalidIdentityToken", self.response(session_name="has space")),
            # The role pair the assertion names is another role's.
            ("AccessDenied", self.idp.response([role_pair(f"arn:aws:iam::{ACCOUNT}:role/other", self.provider)])),
            ("AccessDenied", self.idp.response([role_pair(self.role, f"arn:aws:iam::{ACCOUNT}:saml-provider/x")])),
            ("InvalidIdentityToken", "bm90IHhtbA=="),
        ]
        for code, assertion in cases:
            with self.subTest(code=code):
                self.refused(code, assertion)
        # The IdP's own status says no.
        a = self.idp.sign(self.idp.assertion_xml([role_pair(self.role, self.provider)]))
        failed = b64(self.idp.response_xml(a, status="urn:oasis:names:tc:SAML:2.0:status:Responder"))
        self.refused("IDPRejectedClaim", failed)
        # Another key whose certificate is swapped for the provider's in KeyInfo.
        forged = etree.fromstring(base64.b64decode(evil_idp.response([role_pair(self.role, self.provider)])))
        for cert in forged.iter(f"{{{DS}}}X509Certificate"):
            cert.text = self.idp.keys[0].cert_b64()
        self.refused("InvalidIdentityToken", b64(etree.tostring(forged).decode()))
        # No such provider; PrincipalArn not a provider's ARN.
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.sts.assume_role_with_saml(RoleArn=self.role, PrincipalArn=f"arn:aws:iam::{ACCOUNT}:saml-provider/absent",
                                           SAMLAssertion=self.response())
        self.assertEqual(error_code(e.exception), "InvalidIdentityToken")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.sts.assume_role_with_saml(RoleArn=self.role, PrincipalArn=f"arn:aws:iam::{ACCOUNT}:role/x",
                                           SAMLAssertion=self.response())
        self.assertEqual(error_code(e.exception), "ValidationError")
        # Metrics count the outcomes.
        with urllib.request.urlopen(f"http://127.0.0.1:{self.cp.ports['admin']}/metrics", timeout=5) as r:
            metrics = r.read().decode()
        for outcome in ("InvalidIdentityToken", "ExpiredTokenException", "AccessDenied", "IDPRejectedClaim"):
            self.assertRegex(metrics, r'iamlet_sts_calls_total\{[^}]*action="AssumeRoleWithSAML"[^}]*outcome="%s"[^}]*\} [1-9]' % outcome)

    def test_tampering_wrapping_comments_and_dtds(self):
        signed = base64.b64decode(self.response()).decode()
        self.assume(b64(signed))
        # Tampered after signing.
        self.refused("InvalidIdentityToken", b64(signed.replace(">alice@example.com<", ">root@example.com<")))
        # The classic signature-wrapping variants, on an assertion signature and a response signature.
        for wrap in (xsw_moved_into_extensions, xsw_evil_carries_signature, xsw_signed_inside_evil,
                     xsw_duplicate_id):
            with self.subTest(wrap=wrap.__name__):
                self.refused("InvalidIdentityToken", b64(wrap(signed, "root@example.com")))
        signed_response = base64.b64decode(self.response(sign_assertion=False, sign_response=True)).decode()
        self.assume(b64(signed_response))
        for wrap in (xsw_signed_response_wrapped, xsw_moved_into_extensions):
            with self.subTest(wrap=wrap.__name__ + " (response signed)"):
                self.refused("InvalidIdentityToken", b64(wrap(signed_response, "root@example.com")))
        # Comment injection: the IdP signed `admin@corp.example.com.evil.com`; a comment makes a
        # naive reader see `admin@corp.example.com` while the digest (without comments) still holds.
        role = self.make_role("saml-admin", saml_trust(self.provider, {"StringEquals": {
            "saml:sub": "admin@corp.example.com"}}))
        real = base64.b64decode(self.response(role=role, subject="admin@corp.example.com.evil.com")).decode()
        injected = real.replace(">admin@corp.example.com.evil.com<", ">admin@corp.example.com<!---->.evil.com<")
        self.assertNotEqual(real, injected)
        self.refused("InvalidIdentityToken", b64(injected), role=role)
        self.refused("AccessDenied", b64(real), role=role)
        # Deep nesting (canonicalization must not exhaust the stack), then STS still answers.
        deep = signed.replace("<samlp:Status>", "<x>" * 9000 + "</x>" * 9000 + "<samlp:Status>", 1)
        self.refused("InvalidIdentityToken", b64(deep))
        self.assume(b64(signed))
        # A DOCTYPE (entities, external fetches) is refused before anything else.
        dtd = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY sub "alice@example.com">]>' + signed
        self.refused("InvalidIdentityToken", b64(dtd))

    def test_sizes_at_and_past_the_limits(self):
        """AWS's SAMLAssertion is 4 to 100,000 characters (AssumeRoleWithSAML API reference, Length
        Constraints: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithSAML.html);
        Iamlet's STS reads at most 320 KiB of body. At the limit the assertion is read
        (and refused for what it says); past it, AWS's ValidationError; past the body limit, 413 before
        anything is parsed. STS answers normally afterwards."""
        self.refused("InvalidIdentityToken", "A" * 100_000)
        self.assertIn("sAMLAssertion", self.refused("ValidationError", "A" * 100_004))

        def post(body):
            req = urllib.request.Request(self.cp.sts_url, data=body.encode(), method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()

        head = (f"Action=AssumeRoleWithSAML&Version=2011-06-15&RoleArn={urllib.parse.quote(self.role)}"
                f"&PrincipalArn={urllib.parse.quote(self.provider)}&SAMLAssertion=")
        # The largest assertion, every character URL-encoded as a client may send it (`%2B` for `+`):
        # three times 100,000 bytes, under the body limit.
        status, text = post(head + "%2B" * 100_000)
        self.assertEqual(status, 400, text)
        self.assertIn("<Code>InvalidIdentityToken</Code>", text)
        status, text = post(head + "A" * (320 * 1024))
        self.assertEqual(status, 413, text)
        self.assertIn("<Code>RequestEntityTooLarge</Code>", text)
        self.assume(self.response())

    def test_deleted_provider_stops_federation(self):
        idp = IdP(entity_id="https://temporary.example.com")
        arn = self.iam.create_saml_provider(Name="temporary", SAMLMetadataDocument=idp.metadata())["SAMLProviderArn"]
        role = self.make_role("saml-temp", saml_trust(arn))
        assertion = lambda: idp.response([role_pair(role, arn)])  # noqa: E731
        self.sts.assume_role_with_saml(RoleArn=role, PrincipalArn=arn, SAMLAssertion=assertion())
        # Rotating the IdP's certificate: the old one stops working once the metadata changes.
        rotated = IdP(entity_id=idp.entity_id)
        self.iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=rotated.metadata())
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.sts.assume_role_with_saml(RoleArn=role, PrincipalArn=arn, SAMLAssertion=assertion())
        self.assertEqual(error_code(e.exception), "InvalidIdentityToken")
        self.sts.assume_role_with_saml(RoleArn=role, PrincipalArn=arn,
                                       SAMLAssertion=rotated.response([role_pair(role, arn)]))
        self.iam.delete_saml_provider(SAMLProviderArn=arn)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.sts.assume_role_with_saml(RoleArn=role, PrincipalArn=arn,
                                           SAMLAssertion=rotated.response([role_pair(role, arn)]))
        self.assertEqual(error_code(e.exception), "InvalidIdentityToken")

    def test_expired_metadata(self):
        idp = IdP(entity_id="https://expired.example.com")
        arn = self.iam.create_saml_provider(Name="expired", SAMLMetadataDocument=idp.metadata(
            valid_until="2020-01-01T00:00:00Z"))["SAMLProviderArn"]
        self.assertEqual(self.iam.get_saml_provider(SAMLProviderArn=arn)["ValidUntil"].year, 2020)
        role = self.make_role("saml-expired", saml_trust(arn))
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.sts.assume_role_with_saml(RoleArn=role, PrincipalArn=arn,
                                           SAMLAssertion=idp.response([role_pair(role, arn)]))
        self.assertEqual(error_code(e.exception), "InvalidIdentityToken")
        self.assertIn("validUntil", e.exception.response["Error"]["Message"])

    def test_aws_cli(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.cp.root["AccessKeyId"],
                   AWS_SECRET_ACCESS_KEY=self.cp.root["SecretAccessKey"], AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        env.pop("AWS_PROFILE", None)
        idp = IdP(entity_id="https://cli.example.com")
        with tempfile.TemporaryDirectory() as d:
            meta = os.path.join(d, "metadata.xml")
            with open(meta, "w") as f:
                f.write(idp.metadata())
            out = subprocess.run(["aws", "iam", "create-saml-provider", "--endpoint-url", self.cp.iam_url,
                                  "--name", "cli-idp", "--saml-metadata-document", f"file://{meta}"],
                                 env=env, capture_output=True, text=True, check=True)
            arn = json.loads(out.stdout)["SAMLProviderArn"]
            self.assertEqual(arn, f"arn:aws:iam::{ACCOUNT}:saml-provider/cli-idp")
            role = self.make_role("saml-cli", saml_trust(arn))
            assertion = os.path.join(d, "assertion.b64")
            with open(assertion, "w") as f:
                f.write(idp.response([role_pair(role, arn)], session_name="cli-user"))
            out = subprocess.run(["aws", "sts", "assume-role-with-saml", "--endpoint-url", self.cp.sts_url,
                                  "--role-arn", role, "--principal-arn", arn, "--saml-assertion", f"file://{assertion}"],
                                 env=env, capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            got = json.loads(out.stdout)
            self.assertEqual(got["AssumedRoleUser"]["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/saml-cli/cli-user")
            self.assertEqual(self.check(got["Credentials"]), 200)


class FileWorld(unittest.TestCase):
    """Without the IAM database: the SAML provider declared in the account export the sidecar reads
    (`SAMLProviderList`), STS on a credentials file; Iamlet as a service provider of its own
    (`[sts] saml_audiences`, `saml_recipients`)."""

    OWN_AUDIENCE = "urn:iamlet:files"
    OWN_ACS = "https://sts.files.example.internal/saml"

    @classmethod
    def setUpClass(cls):
        from controlplane import BIN, free_port

        cls.idp = IdP(entity_id="https://files.example.com/idp")
        # Removed when the run exits.
        cls._tmp = tempfile.TemporaryDirectory(prefix="iamlet-saml-")
        cls.dir = cls._tmp.name
        cls.provider = f"arn:aws:iam::{ACCOUNT}:saml-provider/files"
        cls.role = f"arn:aws:iam::{ACCOUNT}:role/analyst"
        cls.own_role = f"arn:aws:iam::{ACCOUNT}:role/own-sp"
        account = {
            "RoleDetailList": [{
                "RoleName": "analyst", "Arn": cls.role, "RoleId": "AROAANALYSTEXAMPLE01", "Path": "/",
                "AssumeRolePolicyDocument": json.loads(saml_trust(cls.provider)),
                "RolePolicyList": [{"PolicyName": "read", "PolicyDocument": read_policy()}],
            }, {
                "RoleName": "own-sp", "Arn": cls.own_role, "RoleId": "AROAOWNSPEXAMPLE0001", "Path": "/",
                "AssumeRolePolicyDocument": json.loads(saml_trust(cls.provider, aud=cls.OWN_ACS)),
                "RolePolicyList": [{"PolicyName": "read", "PolicyDocument": read_policy()}],
            }],
            "SAMLProviderList": [{"Arn": cls.provider, "SAMLMetadataDocument": cls.idp.metadata()}],
        }
        with open(os.path.join(cls.dir, "account.json"), "w") as f:
            json.dump(account, f)
        creds = os.path.join(cls.dir, "creds.json")
        subprocess.run([BIN, "sts", "rotate-key", "--credentials", creds], check=True, capture_output=True)
        cls.ports = {k: free_port() for k in ("grpc", "http", "admin", "sts")}
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
saml_audiences = ["{cls.OWN_AUDIENCE}"]
saml_recipients = ["{cls.OWN_ACS}"]
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

    def test_saml_from_the_account_file(self):
        out = self.sts.assume_role_with_saml(
            RoleArn=self.role, PrincipalArn=self.provider,
            SAMLAssertion=self.idp.response([role_pair(self.role, self.provider)], session_name="ana"))
        self.assertEqual(out["AssumedRoleUser"]["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/analyst/ana")
        self.assertEqual(out["AssumedRoleUser"]["AssumedRoleId"], "AROAANALYSTEXAMPLE01:ana")
        self.assertEqual(ext_authz_check(self.ports["http"], out["Credentials"]), 200)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.sts.assume_role_with_saml(
                RoleArn=self.role, PrincipalArn=self.provider,
                SAMLAssertion=IdP(entity_id=self.idp.entity_id).response([role_pair(self.role, self.provider)]))
        self.assertEqual(error_code(e.exception), "InvalidIdentityToken")

    def test_iamlet_as_its_own_service_provider(self):
        pair = [role_pair(self.own_role, self.provider)]
        out = self.sts.assume_role_with_saml(
            RoleArn=self.own_role, PrincipalArn=self.provider,
            SAMLAssertion=self.idp.response(pair, audience=self.OWN_AUDIENCE, recipient=self.OWN_ACS))
        self.assertEqual(out["Audience"], self.OWN_ACS)
        self.assertEqual(ext_authz_check(self.ports["http"], out["Credentials"]), 200)
        for kw in ({"audience": "urn:someone:else", "recipient": self.OWN_ACS},
                   {"audience": self.OWN_AUDIENCE, "recipient": self.OWN_ACS + "/other"}):
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                self.sts.assume_role_with_saml(RoleArn=self.own_role, PrincipalArn=self.provider,
                                               SAMLAssertion=self.idp.response(pair, **kw))
            self.assertEqual(error_code(e.exception), "InvalidIdentityToken", kw)


if __name__ == "__main__":
    unittest.main()
