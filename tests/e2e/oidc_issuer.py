"""An OpenID Connect issuer for end-to-end tests, independent of Iamlet: a private CA and a server
certificate for 127.0.0.1 (cryptography), a discovery document and a JWKS served over HTTPS on a free
port of 127.0.0.1, RSA and EC signing keys that can be rotated, and ID tokens minted with PyJWT.
"""

import datetime
import hashlib
import http.server
import json
import os
import ssl
import tempfile
import threading
import time

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn="Iamlet test CA"):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn)).issuer_name(_name(cn))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_leaf(ca_key, ca_cert, ip="127.0.0.1"):
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(ip)).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def thumbprint(cert):
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


class SigningKey:
    def __init__(self, kid, alg="RS256"):
        self.kid, self.alg = kid, alg
        if alg.startswith("RS"):
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            self.key = ec.generate_private_key(ec.SECP256R1() if alg == "ES256" else ec.SECP384R1())

    def jwk(self):
        algo = jwt.algorithms.RSAAlgorithm if self.alg.startswith("RS") else jwt.algorithms.ECAlgorithm
        j = json.loads(algo.to_jwk(self.key.public_key()))
        j.update({"kid": self.kid, "use": "sig", "alg": self.alg})
        return j


class Issuer:
    """`https://127.0.0.1:PORT/PATH`, serving discovery and the JWKS of `self.keys`."""

    def __init__(self, path="/cluster"):
        # Removed when the issuer is collected or the run exits.
        self._tmp = tempfile.TemporaryDirectory(prefix="iamlet-oidc-")
        self.dir = self._tmp.name
        self.ca_key, self.ca_cert = make_ca()
        leaf_key, leaf_cert = make_leaf(self.ca_key, self.ca_cert)
        chain = os.path.join(self.dir, "chain.pem")
        key_path = os.path.join(self.dir, "key.pem")
        with open(chain, "wb") as f:
            f.write(leaf_cert.public_bytes(serialization.Encoding.PEM))
            f.write(self.ca_cert.public_bytes(serialization.Encoding.PEM))
        with open(key_path, "wb") as f:
            f.write(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        self.thumbprint = thumbprint(self.ca_cert)
        self.keys = [SigningKey("k1")]
        self.requests = []
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                issuer.requests.append(self.path)
                if self.path == issuer.path + "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys",
                            "id_token_signing_alg_values_supported": ["RS256", "ES256"]}
                elif self.path == issuer.path + "/keys":
                    body = {"keys": [k.jwk() for k in issuer.keys]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(chain, key_path)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.path = path
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"https://{self.host}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def host_path(self):
        return self.url.removeprefix("https://")

    def jwks_fetches(self):
        return sum(1 for p in self.requests if p.endswith("/keys"))

    def token(self, sub="system:serviceaccount:default:app", aud="sts.amazonaws.com", key=None, lifetime=600,
              iss=None, headers=None, **claims):
        key = key or self.keys[0]
        now = int(time.time())
        body = {"iss": iss or self.url, "sub": sub, "iat": now, "exp": now + lifetime}
        if aud is not None:
            body["aud"] = aud
        body.update(claims)
        h = {"kid": key.kid}
        h.update(headers or {})
        return jwt.encode(body, key.key, algorithm=key.alg, headers=h)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
