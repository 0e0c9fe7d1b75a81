#!/usr/bin/env python3
"""End-to-end tests of the security review's findings (RELIABILITY.md, "Security review"), each sent
over the wire the way an attacker sends it: boto3 against STS, Envoy's CheckRequests from grpcio,
raw sockets against the HTTP ports, the `iamlet` command line run concurrently.

Run with `python3 tests/e2e/security_test.py -v` (scripts/test does), after `cargo build -p iamlet`;
it shares the sidecar harness of ext_authz_test.py.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import ext_authz_test as e2e  # noqa: E402
from ext_authz_test import ACCOUNT, ALICE, BIN, BOB, BUCKET, ROOT, object_path  # noqa: E402

setUpModule = e2e.setUpModule
tearDownModule = e2e.tearDownModule

CAROL = f"arn:aws:iam::{ACCOUNT}:user/audit/carol"
BREAK_GLASS = f"arn:aws:iam::{ACCOUNT}:role/break-glass"


def guarded_role_export(directory):
    """The example account plus `guarded`, a role alice may assume only over TLS, or from
    203.0.113.0/24, or with the request tag project=carol: conditions STS must read from the
    connection and the call, never from headers a direct client sends."""
    path = e2e.reader_role_export(directory)
    with open(path) as f:
        export = json.load(f)
    statement = lambda condition: {  # noqa: E731
        "Effect": "Allow", "Principal": {"AWS": ALICE},
        "Action": ["sts:AssumeRole", "sts:TagSession"], "Condition": condition}
    export["RoleDetailList"].append({
        "Path": "/", "RoleName": "guarded", "RoleId": "AROAGUARDEDEXAMPLE44",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/guarded", "CreateDate": "2026-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            statement({"Bool": {"aws:SecureTransport": "true"}}),
            statement({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            statement({"StringEquals": {"aws:RequestTag/project": "carol"}}),
        ]},
        "InstanceProfileList": [], "RolePolicyList": [], "AttachedManagedPolicies": [],
        "Tags": [], "RoleLastUsed": {},
    })
    with open(path, "w") as f:
        json.dump(export, f)
    return path


class StsSecurityTest(e2e.StsClient, e2e.Base):
    """Findings 1 (AssumeRole without the role's trust policy), 2 (the client picking the region),
    3 (MFA codes guessed without limit, and reused across restarts) and 6 (forwarding headers from
    direct clients), against STS with boto3."""

    engine = "native"
    keys = {}

    @classmethod
    def prepare(cls, directory):
        path = os.path.join(directory, "credentials.json")
        accounts = guarded_role_export(directory)
        for user in ("alice", "bob", "carol"):
            cls.keys[user] = json.loads(e2e.iamlet_cli(
                "keys", "create", "--credentials", path, "--user", user,
                "--account", accounts))["AccessKey"]
        cls.bob_mfa = e2e.enabled_mfa_device(path, "bob", accounts)
        cls.carol_mfa = e2e.enabled_mfa_device(path, "carol", accounts)
        cls.credentials_path = path
        cls.accounts = accounts
        return {"credentials": path, "accounts": accounts, "sts": True}

    def test_a_role_is_assumed_only_by_its_exact_arn(self):
        bob = self.sts("bob")
        # bob is an administrator (capped by a boundary); break-glass trusts him only with MFA.
        for role in (f"arn:aws:iam::{ACCOUNT}:role/anything/break-glass",
                     f"arn:aws-cn:iam::{ACCOUNT}:role/break-glass",
                     f"arn:aws:iam::{ACCOUNT}:role/ci-deploy",
                     f"arn:aws:iam::{ACCOUNT}:role/service-role/x/ci-deploy"):
            with self.subTest(role=role):
                denied = self.client_error(
                    lambda: bob.assume_role(RoleArn=role, RoleSessionName="escape"), "AccessDenied")
                self.assertIn(f"User: {BOB} is not authorized to perform: sts:AssumeRole on resource: {role}",
                              denied["Error"]["Message"])
                line = self.log_line(denied["ResponseMetadata"]["RequestId"])
                self.assertEqual(line["decision"], "ImplicitDeny")
                self.assertIn("no role", line["reason"])
        # Through a chained call too: an MFA session of bob's, then the wrong path.
        mfa = bob.get_session_token(DurationSeconds=900, SerialNumber=self.bob_mfa["SerialNumber"],
                                    TokenCode=self.mfa_code())["Credentials"]
        self.client_error(lambda: self.sts(creds=mfa).assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/anything/break-glass", RoleSessionName="escape"),
            "AccessDenied")
        # The real ARN works, and the session is the role that was found.
        out = self.sts(creds=mfa).assume_role(RoleArn=BREAK_GLASS, RoleSessionName="real")
        self.assertEqual(out["AssumedRoleUser"]["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/break-glass/real")

    def test_a_signature_for_another_region_is_refused(self):
        import boto3

        key = self.keys["alice"]
        other = boto3.client("sts", region_name="us-east-1",
                             endpoint_url=f"http://127.0.0.1:{self.sidecar.ports['sts']}",
                             aws_access_key_id=key["AccessKeyId"],
                             aws_secret_access_key=key["SecretAccessKey"])
        denied = self.client_error(other.get_caller_identity, "SignatureDoesNotMatch")
        self.assertIn("Credential should be scoped to a valid region", denied["Error"]["Message"])
        # ext_authz: the same key signing for us-east-1 is refused; for eu-west-1, accepted.
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        for region, allowed in (("us-east-1", False), ("eu-west-1", True)):
            request = AWSRequest(method="GET", url=f"https://storage.example.com{object_path('alice')}")
            S3SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "s3", region).add_auth(request)
            resp = self.check(path=object_path("alice"),
                              headers={k.lower(): v for k, v in request.headers.items()})
            if allowed:
                self.assertAllowed(resp, ALICE)
            else:
                body = self.assertDenied(resp, "Unauthenticated")
                self.assertEqual(body["error"], "SignatureDoesNotMatch")

    def test_direct_clients_cannot_forge_transport_address_or_tags(self):
        alice = self.sts("alice")

        def forge(request, **_):
            request.headers["X-Forwarded-Proto"] = "https"
            request.headers["X-Forwarded-For"] = "203.0.113.9"
            request.headers["x-tag-project"] = "carol"

        alice.meta.events.register("before-sign.sts.AssumeRole", forge)
        role = f"arn:aws:iam::{ACCOUNT}:role/guarded"
        denied = self.client_error(lambda: alice.assume_role(RoleArn=role, RoleSessionName="forged"),
                                   "AccessDenied")
        line = self.log_line(denied["ResponseMetadata"]["RequestId"])
        self.assertEqual(line["sourceIpAddress"], "127.0.0.1")
        # The request tag passed as STS passes it (a session tag) does count.
        out = self.sts("alice").assume_role(RoleArn=role, RoleSessionName="tagged",
                                            Tags=[{"Key": "project", "Value": "carol"}])
        self.assertTrue(out["Credentials"]["AccessKeyId"].startswith("ASIA"))

    def test_mfa_codes_lock_the_device_and_throttle_the_key(self):
        carol = self.sts("carol")
        serial = self.carol_mfa["SerialNumber"]
        seed = self.carol_mfa["Base32StringSeed"]
        right = e2e.totp(seed, time.time())
        wrong = "000000" if right != "000000" else "111111"
        messages = []
        for _ in range(5):
            messages.append(self.client_error(
                lambda: carol.get_session_token(SerialNumber=serial, TokenCode=wrong),
                "AccessDenied")["Error"]["Message"])
        self.assertTrue(all("invalid MFA one time pass code" in m for m in messages), messages)
        # Locked: even the right code is refused, without being looked at.
        locked = self.client_error(
            lambda: carol.get_session_token(SerialNumber=serial, TokenCode=right), "AccessDenied")
        self.assertIn("locked until", locked["Error"]["Message"])
        # The lock is in the credentials file, for every replica and after a restart.
        with open(self.credentials_path) as f:
            device = next(d for d in json.load(f)["mfaDevices"] if d["serialNumber"] == serial)
        self.assertGreater(device["lockedUntil"], time.time())
        # Ten refusals in a minute throttle the key itself.
        for _ in range(4):
            self.client_error(lambda: carol.get_session_token(SerialNumber=serial, TokenCode=wrong),
                              "AccessDenied")
        self.client_error(lambda: carol.get_session_token(SerialNumber=serial, TokenCode=wrong),
                          "Throttling")
        _, metrics = self.sidecar.admin("/metrics")
        self.assertGreaterEqual(e2e.metric(metrics, "iamlet_mfa_attempts_total", kind="invalid"), 5)
        self.assertGreaterEqual(e2e.metric(metrics, "iamlet_mfa_attempts_total", kind="locked"), 1)
        self.assertGreaterEqual(e2e.metric(metrics, "iamlet_mfa_attempts_total", kind="throttled"), 1)
        self.assertIn("MFA code refused", self.sidecar.stderr_text())

    def test_a_used_code_stays_used_after_a_restart(self):
        code = self.mfa_code()
        serial = self.bob_mfa["SerialNumber"]
        self.sts("bob").get_session_token(SerialNumber=serial, TokenCode=code)
        # A second sidecar on the same credentials file (a replica, or this one restarted).
        replica = e2e.Sidecar("native", credentials=self.credentials_path, sts=True,
                              accounts=self.accounts)
        try:
            replica.wait_ready()
            key = self.keys["bob"]
            import boto3
            from botocore.exceptions import ClientError

            client = boto3.client("sts", region_name="eu-west-1",
                                  endpoint_url=f"http://127.0.0.1:{replica.ports['sts']}",
                                  aws_access_key_id=key["AccessKeyId"],
                                  aws_secret_access_key=key["SecretAccessKey"])
            with self.assertRaises(ClientError) as e:
                client.get_session_token(SerialNumber=serial, TokenCode=code)
            self.assertEqual(e.exception.response["Error"]["Code"], "AccessDenied")
            self.assertIn("already used", e.exception.response["Error"]["Message"])
        finally:
            replica.stop()


class CheckSecurityTest(e2e.Base):
    """Findings 4 (path confusion), 8 (fail_open forced by the client), 9 (the decision log's
    queue), 10 (XFCC quoting), 11 (redaction after decoding), 12 (the body bound to a signature) and
    13 (the admin port's changes), through gRPC and HTTP ext_authz. `fail_open` is on: what a
    client causes must still be denied."""

    engine = "native"
    keys = {}

    @classmethod
    def prepare(cls, directory):
        path = os.path.join(directory, "credentials.json")
        out = e2e.iamlet_cli("keys", "create", "--credentials", path, "--user", "alice",
                             "--account", os.path.join(ROOT, "examples", "account.json"))
        cls.keys["alice"] = json.loads(out)["AccessKey"]
        return {"credentials": path, "fail_open": True}

    @classmethod
    def setUpClass(cls):
        cls.options = {"prepare": cls.prepare}
        super().setUpClass()

    def test_paths_are_normalized_and_ambiguity_denied(self):
        hdr = {"x-iamlet-principal": ALICE}
        for path in (f"/buckets/{BUCKET}/objects/home/alice/../bob/notes.txt",
                     f"/buckets/{BUCKET}/objects/home/alice/%2E%2E/bob/notes.txt",
                     f"/buckets/{BUCKET}/objects/home/alice/./..//bob/notes.txt"):
            with self.subTest(path=path):
                body = self.assertDenied(self.check(path=path, headers=hdr), "ImplicitDeny")
                self.assertIn(f"arn:aws:s3:::{BUCKET}/home/bob/notes.txt", body["reason"])
        for path, why in ((f"/buckets/{BUCKET}/objects/home/alice/..%2Fbob%2Fnotes.txt", "encoded slash"),
                          (f"/buckets/{BUCKET}?prefix=home/alice/&prefix=home/bob/", "given 2 times"),
                          (f"/buckets/{BUCKET}/objects/home/alice/%5C..%5Cbob", "backslash"),
                          (f"/buckets/{BUCKET}/objects/home/alice/%zz", "hexadecimal")):
            with self.subTest(path=path):
                body = self.assertDenied(self.check(path=path, headers=hdr), "BadRequest", 400)
                self.assertIn(why, body["reason"])
                status, _, text = self.http("GET", path, dict(hdr, **{"x-forwarded-proto": "https"}))
                self.assertEqual((status, json.loads(text)["decision"]), (400, "BadRequest"))
        # The legitimate request still works.
        self.assertAllowed(self.check(path=f"/buckets/{BUCKET}/objects/home/alice/./notes.txt",
                                      headers=hdr), ALICE)

    def test_what_the_client_causes_is_denied_even_with_fail_open(self):
        big = self.check(path=object_path("alice"),
                         headers={"x-iamlet-principal": ALICE, "x-padding": "p" * 70_000})
        self.assertDenied(big, "Error", 431)
        # A path that fills the limit by itself, counted once (gRPC carries it twice).
        near = "/" + "a" * 40_000
        self.assertDenied(self.check(path=near, headers={"x-iamlet-principal": ALICE}), "Unmapped")
        # A principal that cannot be parsed is the client's doing too.
        self.assertDenied(self.check(path=object_path("alice"),
                                     headers={"x-iamlet-principal": "not-an-arn"}), "Error")
        status, _, _ = self.http("GET", object_path("alice"),
                                 {"x-iamlet-principal": ALICE, "x-padding": "p" * 70_000})
        self.assertEqual(status, 431)

    def test_a_body_over_the_limit_is_denied_and_logged_by_both_front_ends(self):
        hdr = {"x-iamlet-principal": ALICE}
        # gRPC: within the message limit (small headers), over the body's.
        req = e2e.check_request(path=object_path("alice"), headers=hdr)
        req.attributes.request.http.raw_body = b"x" * (1024 * 1024 + 1)
        body = self.assertDenied(self.sidecar.stub().Check(req, timeout=10), "Error", 413)
        self.assertIn("1048577 bytes", body["reason"])
        self.assertEqual(self.log_line(body["requestId"])["decision"], "Error")
        # HTTP: refused once the limit is passed, without reading the rest.
        status, _, text = self.http("PUT", object_path("alice"), hdr,
                                          body=b"x" * (1024 * 1024 + 1024))
        self.assertEqual(status, 413, text)
        answer = json.loads(text)
        self.assertEqual(answer["decision"], "Error")
        self.assertIn("over the limit of 1048576 bytes", answer["reason"])
        self.assertEqual(self.log_line(answer["requestId"])["decision"], "Error")
        # At the limit, checked.
        req.attributes.request.http.raw_body = b"x" * (1024 * 1024)
        self.assertAllowed(self.sidecar.stub().Check(req, timeout=10), ALICE)

    def test_client_input_in_the_log_is_bounded(self):
        long_path = "/unrouted/" + "x" * 50_000
        self.assertDenied(self.check(path=long_path, headers={"x-iamlet-principal": ALICE},
                                     request_id="e2e-long-path"), "Unmapped")
        line = self.log_line("e2e-long-path")
        self.assertLess(len(line["httpPath"]), 2200)
        self.assertLess(len(line["reason"]), 2200)
        self.assertIn("more bytes", line["httpPath"])

    def test_a_quoted_subject_cannot_name_an_identity(self):
        xfcc = ('By=spiffe://cluster.local/ns/storage/sa/envoy;Hash=abc;'
                'Subject="CN=x;URI=spiffe://cluster.local/ns/build/sa/ci-deploy"')
        status, _, body = self.http("PUT", f"/buckets/{BUCKET}/objects/artifacts/app.tar",
                                    {"x-forwarded-client-cert": xfcc})
        self.assertEqual((status, json.loads(body)["decision"]), (401, "Unauthenticated"))

    def test_credentials_in_a_query_are_redacted_whatever_their_spelling(self):
        from botocore.auth import S3SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        key = self.keys["alice"]
        request = AWSRequest(method="GET", url=f"https://storage.example.com{object_path('alice')}")
        S3SigV4QueryAuth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "s3", "eu-west-1",
                         expires=60).add_auth(request)
        query = request.url.split("?", 1)[1]
        signature = query.split("X-Amz-Signature=", 1)[1].split("&", 1)[0]
        spelled = query.replace("X-Amz-Signature=", "X-Amz-Signatur%65=")
        path = f"{object_path('alice')}?{spelled}"
        self.assertAllowed(self.check(path=path, request_id="e2e-redact-encoded"), ALICE)
        self.assertAllowed(self.check(path=f"/buckets/{BUCKET}/objects/home/alice/x?access_token=tok123"
                                      , headers={"x-iamlet-principal": ALICE}, request_id="e2e-token"),
                           ALICE)
        self.log_line("e2e-token")
        with open(self.sidecar.log_path) as f:
            log = f.read()
        self.assertNotIn(signature, log)
        self.assertNotIn("tok123", log)
        self.assertIn("X-Amz-Signatur%65=REDACTED", self.log_line("e2e-redact-encoded")["httpPath"])

    def test_a_body_envoy_sends_is_bound_to_the_signature(self):
        from botocore.auth import S3SigV4Auth, SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        key = self.keys["alice"]
        creds = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        path = object_path("alice", "upload.txt")
        request = AWSRequest(method="PUT", url=f"https://storage.example.com{path}", data=b"hello")
        S3SigV4Auth(creds, "s3", "eu-west-1").add_auth(request)
        headers = {k.lower(): v for k, v in request.headers.items()}

        def put(body):
            req = e2e.check_request(method="PUT", path=path, headers=headers)
            req.attributes.request.http.raw_body = body
            return self.sidecar.stub().Check(req, timeout=10)

        self.assertAllowed(put(b"hello"), ALICE)
        body = self.assertDenied(put(b"tampered"), "Unauthenticated")
        self.assertEqual(body["error"], "SignatureDoesNotMatch")
        # A cut-short body cannot be checked; the claimed hash stands (as without a body).
        req = e2e.check_request(method="PUT", path=path,
                                headers=dict(headers, **{"x-envoy-auth-partial-body": "true"}))
        req.attributes.request.http.raw_body = b"hel"
        self.assertAllowed(self.sidecar.stub().Check(req, timeout=10), ALICE)
        # UNSIGNED-PAYLOAD is S3's alone: a request signed that way for another service is refused.
        request = AWSRequest(method="GET", url=f"https://storage.example.com{object_path('alice')}",
                             headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
        request.context["payload_signing_enabled"] = False
        SigV4Auth(creds, "storage", "eu-west-1").add_auth(request)
        self.assertIn("UNSIGNED-PAYLOAD", SigV4Auth(creds, "storage", "eu-west-1").canonical_request(request))
        body = self.assertDenied(self.check(path=object_path("alice"),
                                            headers={k.lower(): v for k, v in request.headers.items()}),
                                 "Unauthenticated")
        self.assertEqual(body["error"], "SignatureDoesNotMatch")

    def test_admin_changes_need_the_token_header_and_no_browser(self):
        self.assertEqual(self.sidecar.admin("/cache/invalidate", method="POST")[0], 401)
        self.assertEqual(self.sidecar.admin(
            "/cache/invalidate", method="POST",
            headers={"x-iamlet-admin-token": "x", "Origin": "http://evil.example"})[0], 403)
        self.assertEqual(self.sidecar.admin(
            "/cache/invalidate", method="POST", headers={"x-iamlet-admin-token": "x"})[0], 200)


class AdminTokenTest(e2e.Base):
    """Finding 13: with `[admin] token_file`, the token must match."""

    engine = "native"

    @classmethod
    def prepare(cls, directory):
        path = os.path.join(directory, "admin-token")
        with open(path, "w") as f:
            f.write("s3cr3t-admin-token\n")
        return {"extra": f'[admin]\ntoken_file = "{path}"\n'}

    @classmethod
    def setUpClass(cls):
        cls.options = {"prepare": cls.prepare}
        super().setUpClass()

    def test_the_configured_token_must_match(self):
        post = lambda token: self.sidecar.admin(  # noqa: E731
            "/cache/invalidate", method="POST", headers={"x-iamlet-admin-token": token})[0]
        self.assertEqual(post("wrong"), 401)
        self.assertEqual(post("s3cr3t-admin-token"), 200)
        self.assertNotIn("s3cr3t-admin-token", self.sidecar.stderr_text())


class ConnectionFloodTest(e2e.Base):
    """Finding 5: half-sent requests on the HTTP, STS and admin ports. Each listener holds at most
    `max_connections`; a request's headers must arrive within `header_read_timeout`; gRPC and
    /healthz keep answering while HTTP is flooded, and HTTP answers again once the flood times out."""

    engine = "native"
    options = {"limits_extra": 'max_connections = 64\nheader_read_timeout = "2s"'}

    def test_a_flood_of_half_sent_requests_is_contained(self):
        pid = self.sidecar.proc.pid
        fds_before = len(os.listdir(f"/proc/{pid}/fd"))
        flood = []
        for _ in range(300):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", self.sidecar.ports["http"]))
            except BlockingIOError:
                pass
            flood.append(s)
        time.sleep(0.5)
        for s in flood:
            try:
                s.send(b"GET /buckets HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            except OSError:
                pass
        try:
            # The process holds at most its limit of them.
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            self.assertLess(fds - fds_before, 64 + 16, fds)
            # gRPC and the admin port answer during the flood.
            self.assertAllowed(self.check(path=object_path("alice"),
                                          headers={"x-iamlet-principal": ALICE}), ALICE)
            self.assertEqual(self.sidecar.admin("/healthz")[0], 200)
            # Slow clients are dropped after the header-read timeout: HTTP answers again.
            deadline = time.monotonic() + 20
            while True:
                try:
                    req = urllib.request.Request(
                        f"http://127.0.0.1:{self.sidecar.ports['http']}{object_path('alice')}",
                        headers={"x-iamlet-principal": ALICE, "x-forwarded-proto": "https"})
                    with urllib.request.urlopen(req, timeout=3) as r:
                        self.assertEqual(r.status, 200)
                        break
                except (urllib.error.URLError, OSError, TimeoutError):
                    self.assertLess(time.monotonic(), deadline, "HTTP never answered again")
        finally:
            for s in flood:
                s.close()
        self.assertIsNone(self.sidecar.proc.poll(), "still running")


def hpack_literal(name, value):
    """One header as an HPACK literal without indexing and with a new name (RFC 7541, 6.2.2), no
    Huffman coding: what a client needs to speak HTTP/2 without a library."""
    def string(s):
        assert len(s) < 127
        return bytes([len(s)]) + s.encode()
    return b"\x00" + string(name) + string(value)


def h2_frame(kind, flags, stream, payload=b""):
    return (len(payload).to_bytes(3, "big") + bytes([kind, flags])
            + stream.to_bytes(4, "big") + payload)


class GrpcStreamFloodTest(e2e.Base):
    """A gRPC client that never lets an answer reach it: it opens its connection with a flow-control
    window of 0 (so no answer's body can be sent) and asks on thousands of streams, reading nothing.
    Each stream would hold its answer, its task and its state for as long as the connection lives,
    on one connection that `max_connections` counts once. The sidecar holds at most `[limits]
    max_streams_per_connection` of them and refuses the rest; a message larger than a check can be is
    refused before it is read whole."""

    engine = "native"
    options = {"limits_extra": "max_streams_per_connection = 50"}

    def flood(self, streams):
        """Sends `streams` checks on one connection that reads nothing; returns the socket."""
        # An empty CheckRequest (a 5-byte gRPC message, denied for want of a principal): HTTP/2's
        # first 64 KiB of request body on the connection need no window update, and HEADERS frames
        # need none at all, so a client that reads nothing can still send all of these.
        data = b"\x00" + (0).to_bytes(4, "big")
        headers = b"".join(hpack_literal(k, v) for k, v in (
            (":method", "POST"), (":scheme", "http"),
            (":path", "/envoy.service.auth.v3.Authorization/Check"),
            (":authority", "127.0.0.1"), ("content-type", "application/grpc"), ("te", "trailers")))
        out = bytearray(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        # SETTINGS_INITIAL_WINDOW_SIZE = 0: no stream's answer may carry a byte of body.
        out += h2_frame(0x4, 0, 0, (0x4).to_bytes(2, "big") + (0).to_bytes(4, "big"))
        for i in range(streams):
            stream = 2 * i + 1
            out += h2_frame(0x1, 0x4, stream, headers)  # HEADERS, END_HEADERS
            out += h2_frame(0x0, 0x1, stream, data)  # DATA, END_STREAM
        s = socket.create_connection(("127.0.0.1", self.sidecar.ports["grpc"]))
        s.settimeout(30)
        try:
            s.sendall(out)
        except OSError:
            pass  # the sidecar may close the connection (GOAWAY) before it has read it all
        return s

    def test_a_client_that_reads_nothing_holds_a_bounded_number_of_streams(self):
        # Warm the process up (its first checks allocate what every later check reuses).
        for _ in range(20):
            self.assertAllowed(self.check(path=object_path("alice"),
                                          headers={"x-iamlet-principal": ALICE}), ALICE)
        before = self.sidecar.rss_kib()
        decided_before = len(self.sidecar.decisions())
        socks = [self.flood(10_000) for _ in range(5)]
        try:
            time.sleep(2)
            grown = self.sidecar.rss_kib() - before
            # Unbounded, each connection held its 10,000 answers: about 100 MiB in a debug build,
            # half a GiB for the five. Bounded, the growth is the connections' buffers, 18-28 MiB
            # whatever the streams.
            self.assertLess(grown, 96 * 1024, f"resident memory grew {grown} KiB")
            # At most 50 streams a connection were ever checked; the rest were refused (and a
            # connection refused too often is closed).
            decided = len(self.sidecar.decisions()) - decided_before
            self.assertLessEqual(decided, 5 * 50, decided)
            # Others are still answered.
            self.assertAllowed(self.check(path=object_path("alice"),
                                          headers={"x-iamlet-principal": ALICE}), ALICE)
        finally:
            for s in socks:
                s.close()
        self.assertIsNone(self.sidecar.proc.poll(), "still running")

    def test_a_client_that_keeps_to_the_limit_is_served_in_full(self):
        # grpcio, like Envoy, reads SETTINGS_MAX_CONCURRENT_STREAMS and waits for a free stream
        # (Envoy opens another connection): 200 checks at once on one channel all get answers.
        stub = self.sidecar.stub()
        calls = [stub.Check.future(e2e.check_request(path=object_path("alice"),
                                                     headers={"x-iamlet-principal": ALICE}),
                                   timeout=30) for _ in range(200)]
        for call in calls:
            self.assertAllowed(call.result(), ALICE)

    def test_only_check_is_served(self):
        import grpc

        # The service is written by hand (its answer is): any other method, of this service or
        # another, is UNIMPLEMENTED, as the generated server answers it; Check still works after.
        self.sidecar.stub()
        req = e2e.check_request(path=object_path("alice"), headers={"x-iamlet-principal": ALICE})
        for method in ("/envoy.service.auth.v3.Authorization/Other",
                       "/envoy.service.auth.v2.Authorization/Check",
                       "/grpc.health.v1.Health/Check"):
            call = self.sidecar.channel.unary_unary(
                method, request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=lambda b: b)
            with self.assertRaises(grpc.RpcError) as caught:
                call(req, timeout=10)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.UNIMPLEMENTED, method)
        self.assertAllowed(self.sidecar.stub().Check(req, timeout=10), ALICE)

    def test_a_message_larger_than_a_check_is_refused(self):
        import grpc

        # Headers within `max_header_bytes`, a body over the 1 MiB a check may carry.
        req = e2e.check_request(path=object_path("alice"), headers={"x-iamlet-principal": ALICE})
        req.attributes.request.http.raw_body = b"x" * (3 * 1024 * 1024)
        with self.assertRaises(grpc.RpcError) as caught:
            self.sidecar.stub().Check(req, timeout=10)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.OUT_OF_RANGE)
        # A body within it is checked.
        req.attributes.request.http.raw_body = b"x" * (512 * 1024)
        self.assertAllowed(self.sidecar.stub().Check(req, timeout=10), ALICE)
        # So is a check at every limit at once: a path filling `max_header_bytes` (carried twice,
        # as `path` and `:path`), a whole 1 MiB body and 30 KB of context extensions. It maps to
        # no route.
        path = "/" + "a" * 65_000
        req = e2e.check_request(path=path, headers={"x-iamlet-principal": ALICE, ":path": path},
                                context_extensions={"note": "c" * 30_000})
        req.attributes.request.http.raw_body = b"x" * (1024 * 1024)
        self.assertDenied(self.sidecar.stub().Check(req, timeout=10), "Unmapped")


class BodyLimitTest(e2e.Base):
    """`[limits] max_body_bytes` set low, as by a deployment whose checks carry small bodies: both
    front ends refuse a body over it with a logged 413, and a gRPC message that could only carry a
    larger one is refused unread."""

    engine = "native"
    options = {"limits_extra": "max_body_bytes = 4096"}

    def test_bodies_over_the_configured_limit_are_refused_by_both_front_ends(self):
        import grpc

        hdr = {"x-iamlet-principal": ALICE}
        req = e2e.check_request(path=object_path("alice"), headers=hdr)
        req.attributes.request.http.raw_body = b"x" * 4096
        self.assertAllowed(self.sidecar.stub().Check(req, timeout=10), ALICE)
        req.attributes.request.http.raw_body = b"x" * 4097
        body = self.assertDenied(self.sidecar.stub().Check(req, timeout=10), "Error", 413)
        self.assertIn("4097 bytes, over the limit of 4096 bytes ([limits] max_body_bytes)",
                      body["reason"])
        self.assertEqual(self.log_line(body["requestId"])["decision"], "Error")
        # The message limit follows: twice 64 KiB of headers, 4 KiB of body, 64 KiB of the rest.
        req.attributes.request.http.raw_body = b"x" * (256 * 1024)
        with self.assertRaises(grpc.RpcError) as caught:
            self.sidecar.stub().Check(req, timeout=10)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.OUT_OF_RANGE)

        https = {**hdr, "x-forwarded-proto": "https"}  # the bucket policy denies plain HTTP
        status, _, text = self.http("PUT", object_path("alice"), https, body=b"x" * 4096)
        self.assertEqual(status, 200, text)
        status, _, text = self.http("PUT", object_path("alice"), https, body=b"x" * 4097)
        self.assertEqual(status, 413, text)
        answer = json.loads(text)
        self.assertIn("over the limit of 4096 bytes", answer["reason"])
        self.assertEqual(self.log_line(answer["requestId"])["decision"], "Error")


class CredentialsFileRaceTest(unittest.TestCase):
    """Finding 7: `iamlet keys` run many times at once loses no update and leaves no temporary file;
    a deactivation that exited 0 stays done whatever runs beside it."""

    def test_concurrent_key_commands(self):
        import tempfile

        tmp = tempfile.TemporaryDirectory(prefix="iamlet-e2e-keys-")
        self.addCleanup(tmp.cleanup)
        directory = tmp.name
        path = os.path.join(directory, "credentials.json")
        accounts = os.path.join(ROOT, "examples", "account.json")
        first = json.loads(e2e.iamlet_cli("keys", "create", "--credentials", path, "--user", "alice",
                                          "--account", accounts))["AccessKey"]
        procs = [subprocess.Popen([BIN, "keys", "create", "--credentials", path, "--user", user,
                                   "--account", accounts], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for user in ("alice", "bob", "bob", "carol", "carol")]
        procs.append(subprocess.Popen(
            [BIN, "keys", "deactivate", "--credentials", path, "--user", "alice",
             "--access-key-id", first["AccessKeyId"]],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for p in procs:
            _, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
        keys = json.loads(e2e.iamlet_cli("keys", "list", "--credentials", path))["AccessKeyMetadata"]
        self.assertEqual(len(keys), 6, keys)
        status = {k["AccessKeyId"]: k["Status"] for k in keys}
        self.assertEqual(status[first["AccessKeyId"]], "Inactive")
        self.assertEqual([n for n in os.listdir(directory) if n.endswith(".tmp")], [])
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)


if __name__ == "__main__":
    unittest.main()
