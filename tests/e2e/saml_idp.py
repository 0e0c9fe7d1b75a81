"""A SAML 2.0 identity provider for end-to-end tests, independent of Iamlet: an RSA key and a
self-signed certificate made with cryptography, the IdP's metadata document, and Responses whose
assertion (or the Response itself) is signed by signxml (XML-DSig on lxml), with exclusive
canonicalization, as ADFS, Okta or Shibboleth send them to AWS.

`python3 tests/e2e/saml_idp.py FIXTURE_DIR` writes the unit-test fixtures of
`sidecar/server/src/sts/saml/fixtures/`.
"""

import base64
import datetime
import os
import sys
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner, methods

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
SIGNIN = "https://signin.aws.amazon.com/saml"
ROLE_ATTR = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_ATTR = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"


def _iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class LegacySigner(XMLSigner):
    """signxml refuses SHA-1 unless a subclass allows it (its documented way): IdPs still sign with
    RSA-SHA1, and STS accepts it, so the tests sign with it too."""

    def check_deprecated_methods(self):
        pass


class SigningKey:
    """An RSA key and its self-signed certificate."""

    def __init__(self, cn="Iamlet test IdP"):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
            .sign(self.key, hashes.SHA256())
        )
        self.key_pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM)

    def cert_b64(self):
        return base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()


class IdP:
    """An IdP with an entityID and signing keys (the first signs)."""

    def __init__(self, entity_id="https://idp.example.com/saml", keys=None):
        self.entity_id = entity_id
        self.keys = keys or [SigningKey()]

    def metadata(self, use="signing", valid_until=None):
        use_attr = f' use="{use}"' if use else ""
        keys = "".join(
            f"""<md:KeyDescriptor{use_attr}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{k.cert_b64()}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"""
            for k in self.keys
        )
        until = f' validUntil="{valid_until}"' if valid_until else ""
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="{DS}" entityID="{self.entity_id}"{until}>
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    {keys}
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""

    def assertion_xml(self, roles, session_name="alice", subject="alice@example.com",
                      subject_format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                      audience=SIGNIN, recipient=SIGNIN, issuer=None, lifetime=300, now=None,
                      attributes=None, session_duration=None, assertion_id=None, signature_slot=True,
                      confirmations=1):
        """The Assertion element's text (unsigned), with a Signature placeholder after Issuer."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        exp = now + datetime.timedelta(seconds=lifetime or 300)
        aid = assertion_id or "_" + uuid.uuid4().hex
        attrs = [(ROLE_ATTR, roles)]
        if session_name is not None:
            attrs.append((SESSION_NAME_ATTR, [session_name]))
        if session_duration is not None:
            attrs.append(("https://aws.amazon.com/SAML/Attributes/SessionDuration", [str(session_duration)]))
        attrs += list((attributes or {}).items())
        attr_xml = "".join(
            f'<saml:Attribute Name="{n}">'
            + "".join(f'<saml:AttributeValue xsi:type="xs:string">{v}</saml:AttributeValue>' for v in vals)
            + "</saml:Attribute>"
            for n, vals in attrs
        )
        slot = f'<ds:Signature xmlns:ds="{DS}" Id="placeholder"></ds:Signature>' if signature_slot else ""
        fmt = f' Format="{subject_format}"' if subject_format else ""
        # lifetime=0: no NotOnOrAfter at all (an assertion that never ends, which STS refuses).
        end = f' NotOnOrAfter="{_iso(exp)}"' if lifetime != 0 else ""
        return (
            f'<saml:Assertion xmlns:saml="{SAML}" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{aid}" Version="2.0" IssueInstant="{_iso(now)}">'
            f"<saml:Issuer>{issuer or self.entity_id}</saml:Issuer>{slot}"
            f"<saml:Subject><saml:NameID{fmt}>{subject}</saml:NameID>"
            + (f'<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
               f'<saml:SubjectConfirmationData{end} Recipient="{recipient}"/>'
               f"</saml:SubjectConfirmation>") * confirmations
            + f"</saml:Subject>"
            f'<saml:Conditions NotBefore="{_iso(now - datetime.timedelta(seconds=5))}"{end}>'
            f"<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>"
            f"</saml:Conditions>"
            f'<saml:AuthnStatement AuthnInstant="{_iso(now)}" SessionIndex="{aid}">'
            f"<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            f"</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
            f"<saml:AttributeStatement>{attr_xml}</saml:AttributeStatement>"
            f"</saml:Assertion>"
        )

    def sign(self, xml, key=None, algorithm="rsa-sha256", digest="sha256", c14n=EXC_C14N):
        """`xml` (an element with a Signature placeholder) signed enveloped, its ID referenced."""
        key = key or self.keys[0]
        root = etree.fromstring(xml.encode())
        cls = LegacySigner if "sha1" in (algorithm + digest) else XMLSigner
        signer = cls(method=methods.enveloped, signature_algorithm=algorithm,
                           digest_algorithm=digest, c14n_algorithm=c14n)
        signed = signer.sign(root, key=key.key_pem, cert=key.cert_pem, reference_uri="#" + root.get("ID"))
        return etree.tostring(signed).decode()

    def response_xml(self, assertion, sign_response=False, key=None, issuer=None,
                     status="urn:oasis:names:tc:SAML:2.0:status:Success", **sign_kw):
        rid = "_" + uuid.uuid4().hex
        now = _iso(datetime.datetime.now(datetime.timezone.utc))
        slot = f'<ds:Signature xmlns:ds="{DS}" Id="placeholder"></ds:Signature>' if sign_response else ""
        xml = (
            f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{rid}" Version="2.0" '
            f'IssueInstant="{now}" Destination="{SIGNIN}">'
            f"<saml:Issuer>{issuer or self.entity_id}</saml:Issuer>{slot}"
            f'<samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status>'
            f"{assertion}</samlp:Response>"
        )
        if sign_response:
            xml = self.sign(xml, key=key, **sign_kw)
        return xml

    def response(self, roles, sign_assertion=True, sign_response=False, key=None, sign_kw=None, **kw):
        """Base64 of a Response (as `SAMLAssertion` carries it)."""
        sign_kw = sign_kw or {}
        a = self.assertion_xml(roles, signature_slot=sign_assertion, **kw)
        if sign_assertion:
            a = self.sign(a, key=key, **sign_kw)
        return b64(self.response_xml(a, sign_response=sign_response, key=key, **sign_kw))


def b64(text):
    return base64.b64encode(text.encode()).decode()


def role_pair(role_arn, provider_arn):
    return f"{role_arn},{provider_arn}"


if __name__ == "__main__":
    # Unit-test fixtures: one IdP, responses signed at a fixed time the Rust tests pass as `now`.
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    idp = IdP()
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    pair = role_pair("arn:aws:iam::111122223333:role/saml-ops", "arn:aws:iam::111122223333:saml-provider/corp")
    kw = dict(now=now, attributes={"urn:oid:0.9.2342.19200300.100.1.3": ["alice@example.com"]})
    files = {
        "metadata.xml": idp.metadata(),
        "assertion_signed.b64": idp.response([pair], **kw),
        "response_signed.b64": idp.response([pair], sign_assertion=False, sign_response=True, **kw),
        "both_signed_sha512.b64": idp.response([pair], sign_response=True,
                                               sign_kw={"algorithm": "rsa-sha512", "digest": "sha512"}, **kw),
        "sha1.b64": idp.response([pair], sign_kw={"algorithm": "rsa-sha1", "digest": "sha1"}, **kw),
        "with_comments_c14n.b64": idp.response(
            [pair], sign_kw={"c14n": EXC_C14N + "WithComments"}, **kw),
        "other_key.b64": IdP(keys=[SigningKey("evil")]).response([pair], **kw),
    }
    for name, text in files.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(text)
    print("now =", int(now.timestamp()))
