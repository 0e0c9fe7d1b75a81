#!/usr/bin/env python3
"""End-to-end tests of `iamlet serve` with an independent client, exactly as Envoy calls it.

The gRPC stubs are generated with grpcio-tools from the Envoy protos that ship inside the `envoy-types`
crate (the same protos the sidecar is built from), into a temporary directory. Each test class starts
`target/debug/iamlet serve` on free ports of 127.0.0.1 with a temporary configuration (the semantics of
sidecar/examples/iamlet.toml on the example account and organization), waits for /readyz, sends
CheckRequests (or plain HTTP requests in Envoy's HTTP mode) and reads the decision log and /metrics.

Run with `python3 tests/e2e/ext_authz_test.py -v` (scripts/test does); needs `grpcio` and
`grpcio-tools` (scripts/setup installs them) and a built `target/debug/iamlet` (IAMLET_BIN overrides).
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from controlplane import free_port, read_decisions

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("IAMLET_BIN", os.path.join(ROOT, "target", "debug", "iamlet"))
ACCOUNT = "111122223333"
BUCKET = "amzn-s3-demo-bucket"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
JWT_FILTER = "envoy.filters.http.jwt_authn"

pb = None  # envoy.service.auth.v3.external_auth_pb2
pb_grpc = None  # envoy.service.auth.v3.external_auth_pb2_grpc
_stub_dir = None


def envoy_types_proto_dir():
    """The `proto/` directory of the `envoy-types` crate the sidecar is built with."""
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for p in json.loads(out)["packages"]:
        if p["name"] == "envoy-types":
            return os.path.join(os.path.dirname(p["manifest_path"]), "proto")
    raise RuntimeError("envoy-types is not a dependency of the workspace")


def generate_stubs(out_dir):
    """Generates Python modules for external_auth.proto and everything it imports (except the
    well-known types, which the protobuf runtime has)."""
    from google.protobuf import descriptor_pb2
    from grpc_tools import protoc

    proto = envoy_types_proto_dir()
    includes = [
        os.path.join(proto, d)
        for d in ("data-plane-api", "xds", "protoc-gen-validate", "googleapis")
    ]
    # grpc_tools' own well-known protos (google/protobuf/*.proto).
    wkt = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    args = ["protoc"] + [f"-I{d}" for d in includes + [wkt]]
    target = "envoy/service/auth/v3/external_auth.proto"
    ds = os.path.join(out_dir, "deps.pb")
    if protoc.main(args + ["--include_imports", f"--descriptor_set_out={ds}", target]) != 0:
        raise RuntimeError("protoc could not read external_auth.proto")
    fds = descriptor_pb2.FileDescriptorSet()
    with open(ds, "rb") as f:
        fds.ParseFromString(f.read())
    files = [f.name for f in fds.file if not f.name.startswith("google/protobuf/")]
    if protoc.main(args + [f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"] + files) != 0:
        raise RuntimeError("protoc could not generate the stubs")


def setUpModule():
    global pb, pb_grpc, _stub_dir
    if not os.access(BIN, os.X_OK):
        raise RuntimeError(f"{BIN} is missing: cargo build -p iamlet")
    _stub_dir = tempfile.mkdtemp(prefix="iamlet-e2e-stubs-")
    generate_stubs(_stub_dir)
    sys.path.insert(0, _stub_dir)
    import importlib

    pb = importlib.import_module("envoy.service.auth.v3.external_auth_pb2")
    pb_grpc = importlib.import_module("envoy.service.auth.v3.external_auth_pb2_grpc")


def tearDownModule():
    if _stub_dir:
        shutil.rmtree(_stub_dir, ignore_errors=True)


def config_toml(ports, log_path, engine="component", enforce=True, accounts=None, shadow=None,
                poll="2s", capacity=10000, memory_mib=256, credentials=None, sts=False, workers=None,
                fail_open=False, limits_extra="", extra="", listen_extra="", organization=None,
                log_format=None):
    ex = os.path.join(ROOT, "examples")
    accounts = accounts or f"{ex}/account.json"
    shadow_line = f'shadow_accounts = "{shadow}"' if shadow else ""
    sigv4_line = (
        f'sigv4 = {{ credentials = "{credentials}", poll_interval = "100ms" }}' if credentials else ""
    )
    return f"""
[listen]
grpc = "127.0.0.1:{ports['grpc']}"
http = "127.0.0.1:{ports['http']}"
admin = "127.0.0.1:{ports['admin']}"
{listen_extra}

[store]
accounts = "{accounts}"
organization = "{organization or f'{ex}/organization.json'}"
poll_interval = "{poll}"
cache_capacity = {capacity}
cache_ttl = "5m"
negative_ttl = "30s"
max_stale = "1h"

[engine]
kind = "{engine}"
max_memory_mib = {memory_mib}
call_timeout = "2s"

[principal]
trusted_header = "x-iamlet-principal"
{sigv4_line}

[[principal.spiffe]]
match = "spiffe://cluster.local/ns/{{namespace}}/sa/{{account}}"
principal = "arn:aws:sts::{ACCOUNT}:assumed-role/{{account}}/{{namespace}}"

[principal.jwt]
principal = "arn:aws:iam::{ACCOUNT}:user/{{sub}}"
tag_claims = ["team"]

[context]
region = "eu-west-1"
trusted_hops = 0
request_tags = {{ "x-tag-project" = "project" }}

[mode]
enforce = {"true" if enforce else "false"}
{shadow_line}

[responses]
verbose_denials = true
allow_unmapped = false
fail_open = {"true" if fail_open else "false"}

[limits]
check_timeout = "5s"
concurrency = 1024
{f"worker_threads = {workers}" if workers else ""}
max_header_bytes = 65536
shutdown_grace = "10s"
{limits_extra}

[decision_log]
path = "{log_path}"
{f'format = "{log_format}"' if log_format else ""}

{f'[sts]{chr(10)}listen = "127.0.0.1:{ports["sts"]}"{chr(10)}max_session_duration = "2h"' if sts else ""}

{extra}

[[routes]]
method = "GET"
path = "/buckets/{{bucket}}/objects/{{key*}}"
action = "s3:GetObject"
resource = "arn:aws:s3:::{{bucket}}/{{key}}"
resource_account = "{ACCOUNT}"

[[routes]]
method = "PUT"
path = "/buckets/{{bucket}}/objects/{{key*}}"
action = "s3:PutObject"
resource = "arn:aws:s3:::{{bucket}}/{{key}}"
resource_account = "{ACCOUNT}"

[[routes]]
method = "GET"
path = "/buckets/{{bucket}}"
action = "s3:ListBucket"
resource = "arn:aws:s3:::{{bucket}}"
resource_account = "{ACCOUNT}"
context = {{ "s3:prefix" = "query:prefix" }}
"""


class Sidecar:
    """One `iamlet serve` process on free ports, with its own config and decision log."""

    def __init__(self, engine="component", enforce=True, args=(), prepare=None, **config):
        """`prepare(dir)` may write files into the sidecar's directory and return config overrides
        (`accounts`, `shadow`, `poll`, `capacity`, `memory_mib`, `credentials`, `sts`, `workers`,
        `fail_open`, `limits_extra`, `extra`, `listen_extra`, `organization`, `log_format`) before the process starts; `args` are extra CLI flags."""
        self.dir = tempfile.mkdtemp(prefix="iamlet-e2e-")
        self.ports = {k: free_port() for k in ("grpc", "http", "admin", "sts", "forward")}
        self.log_path = os.path.join(self.dir, "decisions.jsonl")
        self.config = os.path.join(self.dir, "iamlet.toml")
        if prepare:
            config.update(prepare(self.dir))
        with open(self.config, "w") as f:
            f.write(config_toml(self.ports, self.log_path, engine, enforce, **config))
        self.stderr = open(os.path.join(self.dir, "stderr.txt"), "w+")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", self.config, *args],
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        self.channel = None

    def admin(self, path, method="GET", headers=None):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.ports['admin']}{path}", method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def wait_for(self, path, done, what, timeout):
        """Polls an admin path until `done((status, body))`; fails if the process exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"iamlet exited {self.proc.returncode}: {self.stderr_text()}")
            try:
                answer = self.admin(path)
                if done(answer):
                    return answer
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"iamlet not {what} within {timeout}s: {self.stderr_text()}")

    def wait_listening(self, timeout=30):
        """Up and answering on the admin port, ready or not."""
        return self.wait_for("/healthz", lambda _: True, "listening", timeout)

    def wait_ready(self, timeout=30):
        self.wait_for("/readyz", lambda answer: answer[0] == 200, "ready", timeout)

    def stub(self):
        import grpc

        if self.channel is None:
            self.channel = grpc.insecure_channel(f"127.0.0.1:{self.ports['grpc']}")
            grpc.channel_ready_future(self.channel).result(timeout=10)
        return pb_grpc.AuthorizationStub(self.channel)

    def stderr_text(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def decisions(self):
        return read_decisions(self.log_path)

    def rss_kib(self):
        """The process's resident memory."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def wait_decisions(self, n, timeout=5):
        """The decision log is written by a task of its own: wait for `n` lines."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.decisions()
            if len(lines) >= n or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def stop(self):
        """Always safe: closes the channel, kills the process if it still runs, removes the dir."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def check_request(
    method="GET",
    path="/",
    host="storage.example.com",
    scheme="https",
    headers=None,
    source_ip="10.1.2.3",
    spiffe=None,
    jwt=None,
    context_extensions=None,
    request_id=None,
):
    """A CheckRequest as Envoy builds it for one downstream request."""
    from google.protobuf import struct_pb2

    req = pb.CheckRequest()
    a = req.attributes
    a.source.address.socket_address.address = source_ip
    a.source.address.socket_address.port_value = 43210
    if spiffe:
        a.source.principal = spiffe
    a.destination.address.socket_address.address = "10.9.9.9"
    a.destination.address.socket_address.port_value = 8443
    h = a.request.http
    h.method = method
    h.host = host
    h.path = path
    h.scheme = scheme
    h.protocol = "HTTP/1.1"
    if request_id:
        h.id = request_id
    all_headers = {
        ":method": method,
        ":path": path,
        ":authority": host,
        ":scheme": scheme,
        "user-agent": "e2e-test/1.0",
    }
    all_headers.update(headers or {})
    for k, v in all_headers.items():
        h.headers[k] = v
    if jwt is not None:
        payload = struct_pb2.Struct()
        payload.update(jwt)
        a.metadata_context.filter_metadata[JWT_FILTER].fields["jwt_payload"].struct_value.CopyFrom(
            payload
        )
    for k, v in (context_extensions or {}).items():
        a.context_extensions[k] = v
    return req


def object_path(owner, name="notes.txt"):
    return f"/buckets/{BUCKET}/objects/home/{owner}/{name}"


def metric(text, name, **labels):
    """The sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
    return total


class Base(unittest.TestCase):
    engine = "component"
    enforce = True
    options = {}

    @classmethod
    def setUpClass(cls):
        cls.sidecar = Sidecar(cls.engine, cls.enforce, **cls.options)
        try:
            cls.sidecar.wait_ready()
        except BaseException:
            cls.sidecar.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sidecar.stop()

    def check(self, **kw):
        return self.sidecar.stub().Check(check_request(**kw), timeout=10)

    def http(self, method, path, headers, body=None):
        """The HTTP ext_authz port's answer to a request: status, headers, body text."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.sidecar.ports['http']}{path}",
                                     method=method, headers=headers, data=body)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def log_line(self, request_id):
        """The decision-log line of a request (the log is written by a task of its own)."""
        for _ in range(100):
            for d in self.sidecar.decisions():
                if d["requestId"] == request_id:
                    return d
            time.sleep(0.05)
        self.fail(f"no decision-log line for {request_id}")

    def assertAllowed(self, resp, principal):
        self.assertEqual(resp.status.code, 0, resp)
        self.assertTrue(resp.HasField("ok_response"), resp)
        got = {o.header.key: o.header.value for o in resp.ok_response.headers}
        self.assertEqual(got.get("x-iamlet-principal"), principal, resp)
        return got

    def assertDenied(self, resp, decision, status=403):
        self.assertNotEqual(resp.status.code, 0, resp)
        self.assertTrue(resp.HasField("denied_response"), resp)
        self.assertEqual(resp.denied_response.status.code, status, resp)
        headers = {o.header.key: o.header.value for o in resp.denied_response.headers}
        self.assertEqual(headers.get("content-type"), "application/json")
        body = json.loads(resp.denied_response.body)
        self.assertEqual(body["decision"], decision, body)
        self.assertTrue(body["requestId"], body)
        self.assertEqual(headers.get("x-iamlet-request-id"), body["requestId"])
        return body


class GrpcComponentTest(Base):
    """gRPC ext_authz with the WebAssembly component engine."""

    def test_allowed_with_principal_header_upstream(self):
        resp = self.check(path=object_path("alice"), headers={"x-iamlet-principal": ALICE})
        got = self.assertAllowed(resp, ALICE)
        self.assertEqual(got.get("x-iamlet-action"), "s3:GetObject")

    def test_denied_other_users_folder_is_implicit_deny(self):
        body = self.assertDenied(
            self.check(
                path=object_path("bob"),
                headers={"x-iamlet-principal": ALICE},
                request_id="e2e-bob-folder",
            ),
            "ImplicitDeny",
        )
        self.assertEqual(body["requestId"], "e2e-bob-folder")
        self.assertEqual(body["error"], "AccessDenied")
        self.assertIn("s3:GetObject", body["reason"])

    def test_plain_http_is_denied_by_the_bucket_policy(self):
        body = self.assertDenied(
            self.check(path=object_path("alice"), scheme="http", headers={"x-iamlet-principal": ALICE}),
            "ExplicitDeny",
        )
        self.assertIn("TlsOnly", body["reason"])

    def test_no_principal_is_401(self):
        body = self.assertDenied(self.check(path=object_path("alice")), "Unauthenticated", 401)
        self.assertEqual(body["error"], "Unauthenticated")

    def test_oversized_headers_are_denied_with_431(self):
        resp = self.check(
            path=object_path("alice"),
            headers={"x-iamlet-principal": ALICE, "x-padding": "p" * 70_000},
        )
        body = self.assertDenied(resp, "Error", 431)
        self.assertIn("max_header_bytes", body["reason"])

    def test_unmapped_route_is_denied(self):
        self.assertDenied(
            self.check(method="POST", path="/admin/reset", headers={"x-iamlet-principal": ALICE}),
            "Unmapped",
        )

    def test_query_feeds_route_context(self):
        # s3:ListBucket is allowed to alice only under her prefix (s3:prefix from the query).
        hdr = {"x-iamlet-principal": ALICE}
        self.assertAllowed(self.check(path=f"/buckets/{BUCKET}?prefix=home/alice/", headers=hdr), ALICE)
        self.assertDenied(
            self.check(path=f"/buckets/{BUCKET}?prefix=home/bob/", headers=hdr), "ImplicitDeny"
        )

    def test_jwt_mfa_claim_flows_into_multi_factor_auth_present(self):
        # bob may assume break-glass only with MFA (its trust policy); the action and resource come
        # from the route's context_extensions, the principal from the verified JWT.
        ext = {
            "iamlet.action": "sts:AssumeRole",
            "iamlet.resource": f"arn:aws:iam::{ACCOUNT}:role/break-glass",
            "iamlet.resource_account": ACCOUNT,
        }
        now = int(time.time())
        with_mfa = {"sub": "bob", "iss": "https://idp.example.com", "amr": ["pwd", "mfa"], "auth_time": now - 60, "iat": now - 60}
        without = {"sub": "bob", "iss": "https://idp.example.com", "amr": ["pwd"], "iat": now - 60}
        self.assertAllowed(self.check(path="/break-glass", jwt=with_mfa, context_extensions=ext), BOB)
        self.assertDenied(self.check(path="/break-glass", jwt=without, context_extensions=ext), "ImplicitDeny")

    def test_jwt_outranks_trusted_header(self):
        resp = self.check(
            path=object_path("alice"),
            jwt={"sub": "alice", "amr": ["pwd"]},
            headers={"x-iamlet-principal": BOB},
        )
        self.assertAllowed(resp, ALICE)

    def test_spiffe_identity_maps_to_an_assumed_role(self):
        role = f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deploy/build"
        spiffe = "spiffe://cluster.local/ns/build/sa/ci-deploy"
        # mTLS counts as secure transport even when the scheme Envoy reports is http.
        self.assertAllowed(
            self.check(method="PUT", path=f"/buckets/{BUCKET}/objects/artifacts/app.tar", scheme="http", spiffe=spiffe),
            role,
        )
        self.assertDenied(
            self.check(method="PUT", path=object_path("alice"), spiffe=spiffe), "ImplicitDeny"
        )
        # An unmatched SPIFFE ID establishes no one.
        self.assertDenied(
            self.check(path=object_path("alice"), spiffe="spiffe://other.domain/ns/build/sa/ci-deploy"),
            "Unauthenticated",
            401,
        )

    def test_decision_log_lines_are_cloudtrail_like(self):
        rid = f"e2e-log-{self.engine}"
        self.check(
            path=object_path("bob"),
            headers={"x-iamlet-principal": ALICE, "user-agent": "log-test/2"},
            source_ip="192.0.2.44",
            request_id=rid,
        )
        deadline = time.monotonic() + 5
        line = None
        while line is None and time.monotonic() < deadline:
            line = next((d for d in self.sidecar.decisions() if d["requestId"] == rid), None)
            time.sleep(0.05)
        self.assertIsNotNone(line, "no decision log line for the request")
        self.assertEqual(line["decision"], "ImplicitDeny")
        self.assertFalse(line["allowed"])
        self.assertTrue(line["enforced"])
        self.assertEqual(line["principal"], ALICE)
        self.assertEqual(line["action"], "s3:GetObject")
        self.assertEqual(line["resource"], f"arn:aws:s3:::{BUCKET}/home/bob/notes.txt")
        self.assertEqual(line["sourceIpAddress"], "192.0.2.44")
        self.assertEqual(line["userAgent"], "log-test/2")
        self.assertEqual(line["httpMethod"], "GET")
        self.assertEqual(line["httpPath"], object_path("bob"))
        self.assertEqual(line["protocol"], "grpc")
        self.assertEqual(line["engine"], self.engine)
        self.assertRegex(line["eventTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$")
        self.assertIsInstance(line["latencyMicros"], int)

    def test_metrics_count_the_checks(self):
        _, before = self.sidecar.admin("/metrics")
        allowed0 = metric(before, "iamlet_checks_total", protocol="grpc", decision="Allow", allowed="true")
        denied0 = metric(before, "iamlet_checks_total", protocol="grpc", decision="ImplicitDeny", allowed="false")
        hdr = {"x-iamlet-principal": ALICE}
        for _ in range(3):
            self.check(path=object_path("alice"), headers=hdr)
        for _ in range(2):
            self.check(path=object_path("bob"), headers=hdr)
        status, after = self.sidecar.admin("/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(
            metric(after, "iamlet_checks_total", protocol="grpc", decision="Allow", allowed="true") - allowed0, 3
        )
        self.assertEqual(
            metric(after, "iamlet_checks_total", protocol="grpc", decision="ImplicitDeny", allowed="false") - denied0, 2
        )
        self.assertGreaterEqual(metric(after, "iamlet_check_duration_seconds_count"), 5)

    def test_health_and_cache_invalidation(self):
        self.assertEqual(self.sidecar.admin("/healthz")[0], 200)
        self.assertEqual(self.sidecar.admin("/readyz")[0], 200)
        status, body = self.sidecar.admin(
            "/cache/invalidate", method="POST", headers={"x-iamlet-admin-token": "any"})
        self.assertEqual((status, body.strip()), (200, "invalidated all"))
        # Still answers after the cache is emptied.
        self.assertAllowed(self.check(path=object_path("alice"), headers={"x-iamlet-principal": ALICE}), ALICE)


class GrpcNativeTest(GrpcComponentTest):
    """The same checks with the native engine."""

    engine = "native"


class HttpModeTest(Base):
    """Envoy's HTTP ext_authz mode: the original request, forwarded as plain HTTP."""

    engine = "native"

    def test_same_decisions_as_grpc(self):
        https = {"x-forwarded-proto": "https", "x-iamlet-principal": ALICE, "x-forwarded-for": "10.1.2.3"}
        cases = [
            ("GET", object_path("alice"), https, 200, None),
            ("GET", object_path("bob"), https, 403, "ImplicitDeny"),
            ("GET", object_path("alice"), dict(https, **{"x-forwarded-proto": "http"}), 403, "ExplicitDeny"),
            ("GET", object_path("alice"), {"x-forwarded-proto": "https"}, 401, "Unauthenticated"),
            ("POST", "/admin/reset", https, 403, "Unmapped"),
        ]
        stub = self.sidecar.stub()
        for method, path, headers, status, decision in cases:
            with self.subTest(method=method, path=path, status=status):
                got_status, got_headers, body = self.http(method, path, headers)
                self.assertEqual(got_status, status, body)
                lower = {k.lower(): v for k, v in got_headers.items()}
                if decision is None:
                    self.assertEqual(lower.get("x-iamlet-principal"), ALICE)
                else:
                    doc = json.loads(body)
                    self.assertEqual(doc["decision"], decision)
                    self.assertEqual(doc["requestId"], lower.get("x-iamlet-request-id"))
                # The same request over gRPC decides the same way.
                grpc_headers = {k: v for k, v in headers.items() if k != "x-forwarded-proto"}
                resp = stub.Check(
                    check_request(method=method, path=path, scheme=headers.get("x-forwarded-proto", "http"), headers=grpc_headers),
                    timeout=10,
                )
                if decision is None:
                    self.assertEqual(resp.status.code, 0)
                else:
                    self.assertEqual(resp.denied_response.status.code, status)
                    self.assertEqual(json.loads(resp.denied_response.body)["decision"], decision)

    def test_spiffe_from_xfcc_and_metrics_by_protocol(self):
        xfcc = 'By=spiffe://cluster.local/ns/storage/sa/envoy;Hash=abc;URI=spiffe://cluster.local/ns/build/sa/ci-deploy'
        status, headers, body = self.http(
            "PUT", f"/buckets/{BUCKET}/objects/artifacts/app.tar", {"x-forwarded-client-cert": xfcc}
        )
        self.assertEqual(status, 200, body)
        self.assertEqual(
            {k.lower(): v for k, v in headers.items()}.get("x-iamlet-principal"),
            f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deploy/build",
        )
        _, text = self.sidecar.admin("/metrics")
        self.assertGreaterEqual(metric(text, "iamlet_checks_total", protocol="http", decision="Allow"), 1)
        lines = self.sidecar.wait_decisions(1)
        self.assertTrue(any(d["protocol"] == "http" for d in lines))


def iamlet_cli(*args):
    """Runs the `iamlet` command line; returns its stdout, raising with stderr on failure."""
    out = subprocess.run([BIN, *args], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"iamlet {' '.join(args)} exited {out.returncode}: {out.stderr}")
    return out.stdout


class SigV4Test(Base):
    """Requests signed by botocore (an independent SigV4 signer) with keys from `iamlet keys create`:
    the key's user is the principal; every failure is AWS's error code and a decision-log line."""

    engine = "native"
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
        cls.credentials_path = path
        return {"credentials": path}

    @classmethod
    def setUpClass(cls):
        cls.options = {"prepare": cls.prepare}
        super().setUpClass()

    def creds(self, user="alice", secret=None):
        from botocore.credentials import Credentials

        key = self.keys[user]
        return Credentials(key["AccessKeyId"], secret or key["SecretAccessKey"])

    def signed(self, url, user="alice", service="s3", auth=None, secret=None, **kw):
        """The headers botocore signs for GET `url`."""
        from botocore.auth import S3SigV4Auth, SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="GET", url=url)
        cls = auth or (S3SigV4Auth if service == "s3" else SigV4Auth)
        cls(self.creds(user, secret), service, "eu-west-1", **kw).add_auth(request)
        return {k.lower(): v for k, v in request.headers.items()}

    def grpc_signed(self, path, **kw):
        headers = self.signed(f"https://storage.example.com{path}", **kw)
        return self.check(path=path, headers=headers)

    def test_a_signed_request_is_the_keys_user(self):
        for service in ("s3", "storage"):
            with self.subTest(service=service):
                resp = self.grpc_signed(object_path("alice"), service=service)
                self.assertAllowed(resp, ALICE)
        self.assertDenied(self.grpc_signed(object_path("bob")), "ImplicitDeny")
        self.assertAllowed(self.grpc_signed(object_path("bob"), user="bob"), BOB)

    def test_signature_outranks_the_trusted_header(self):
        headers = self.signed(f"https://storage.example.com{object_path('alice')}")
        headers["x-iamlet-principal"] = BOB
        self.assertAllowed(self.check(path=object_path("alice"), headers=headers), ALICE)

    def test_failures_are_aws_error_codes_and_logged(self):
        path = object_path("alice")
        url = f"https://storage.example.com{path}"
        tampered = self.signed(url)
        unknown = dict(tampered, authorization=tampered["authorization"].replace(
            self.keys["alice"]["AccessKeyId"], "AKIAAAAAAAAAAAAAAAAA"))
        wrong_secret = self.signed(url, secret="x" * 40)
        import datetime
        from unittest import mock

        old = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=16)
        with mock.patch("botocore.auth.get_current_datetime", return_value=old):
            skewed = self.signed(url)
        cases = [
            ("e2e-sig-tampered", object_path("alice", "other.txt"), tampered, "SignatureDoesNotMatch"),
            ("e2e-sig-unknown", path, unknown, "InvalidAccessKeyId"),
            ("e2e-sig-secret", path, wrong_secret, "SignatureDoesNotMatch"),
            ("e2e-sig-skewed", path, skewed, "RequestTimeTooSkewed"),
        ]
        for request_id, p, headers, code in cases:
            with self.subTest(code=code, request_id=request_id):
                body = self.assertDenied(
                    self.check(path=p, headers=headers, request_id=request_id), "Unauthenticated"
                )
                self.assertEqual(body["error"], code, body)
                self.assertTrue(body["message"], body)
                line = self.log_line(request_id)
                self.assertEqual(line["decision"], "Unauthenticated")
                self.assertIsNone(line["principal"])
                self.assertTrue(line["reason"].startswith(code), line)
                self.assertTrue(line["accessKeyId"].startswith("AKIA"), line)
        with open(self.sidecar.log_path) as f:
            log = f.read()
        for key in self.keys.values():
            self.assertNotIn(key["SecretAccessKey"], log)
        self.assertNotIn(self.keys["alice"]["SecretAccessKey"], self.sidecar.stderr_text())

    def test_presigned_url(self):
        from botocore.auth import S3SigV4QueryAuth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="GET", url=f"https://storage.example.com{object_path('alice')}")
        S3SigV4QueryAuth(self.creds(), "s3", "eu-west-1", expires=60).add_auth(request)
        query = request.url.split("?", 1)[1]
        self.assertIn("X-Amz-Signature=", query)
        path = f"{object_path('alice')}?{query}"
        self.assertAllowed(self.check(path=path, request_id="e2e-presigned"), ALICE)
        line = self.log_line("e2e-presigned")
        self.assertIn("X-Amz-Signature=REDACTED", line["httpPath"])
        signature = re.search(r"X-Amz-Signature=([0-9a-f]+)", query).group(1)
        self.assertNotIn(signature, json.dumps(line))
        body = self.assertDenied(
            self.check(path=path.replace("notes.txt", "other.txt")), "Unauthenticated"
        )
        self.assertEqual(body["error"], "SignatureDoesNotMatch")

    def test_http_mode(self):
        url = f"http://127.0.0.1:{self.sidecar.ports['http']}{object_path('alice')}"
        headers = self.signed(url)
        headers["x-forwarded-proto"] = "https"
        req = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers.get("x-iamlet-principal"), ALICE)
        headers = self.signed(url)
        headers["x-forwarded-proto"] = "https"
        req = urllib.request.Request(url.replace("notes.txt", "other.txt"), headers=headers)
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(e.exception.code, 403)
        self.assertEqual(json.loads(e.exception.read())["error"], "SignatureDoesNotMatch")

    def test_zz_a_deactivated_key_stops_working(self):
        # Runs last in this class (unittest sorts by name): bob's key is deactivated for good.
        self.assertAllowed(self.grpc_signed(object_path("bob"), user="bob"), BOB)
        iamlet_cli(
            "keys", "deactivate", "--credentials", self.credentials_path, "--user", "bob",
            "--access-key-id", self.keys["bob"]["AccessKeyId"],
        )
        deadline = time.monotonic() + 10
        while True:
            resp = self.grpc_signed(object_path("bob"), user="bob")
            if resp.status.code != 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        body = self.assertDenied(resp, "Unauthenticated")
        self.assertEqual(body["error"], "InvalidAccessKeyId")
        self.assertAllowed(self.grpc_signed(object_path("alice")), ALICE)


def totp(seed, unix):
    """RFC 6238 (HMAC-SHA1, 30 s, six digits) from the standard library: an authenticator app."""
    key = base64.b32decode(seed + "=" * (-len(seed) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(unix) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def enabled_mfa_device(credentials, user, accounts):
    """A virtual MFA device made with `iamlet mfa create` for `user` and enabled with two consecutive
    codes, as an authenticator app gives them; its `VirtualMFADevice` document (with the seed)."""
    device = json.loads(iamlet_cli("mfa", "create", "--credentials", credentials, "--user", user,
                                   "--account", accounts))["VirtualMFADevice"]
    now = time.time()
    iamlet_cli("mfa", "enable", "--credentials", credentials, "--user", user,
               "--serial-number", device["SerialNumber"],
               "--authentication-code1", totp(device["Base32StringSeed"], now - 30),
               "--authentication-code2", totp(device["Base32StringSeed"], now))
    return device


def reader_role_export(directory):
    """The example account plus `reader`, a role alice may assume with an external id and session
    tags; it reads the project folder its session's `project` tag names."""
    with open(os.path.join(ROOT, "examples", "account.json")) as f:
        export = json.load(f)
    export["RoleDetailList"].append({
        "Path": "/", "RoleName": "reader", "RoleId": "AROAREADEREXAMPLE333",
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/reader", "CreateDate": "2026-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": ALICE},
            "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            "Condition": {"StringEquals": {"sts:ExternalId": "e2e-external-id"}},
        }]},
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": "read-project", "PolicyDocument": {
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/home/${{aws:PrincipalTag/project}}/*",
            }]}}],
        "AttachedManagedPolicies": [], "Tags": [{"Key": "project", "Value": "nobody"}],
        "RoleLastUsed": {},
    })
    path = os.path.join(directory, "account.json")
    with open(path, "w") as f:
        json.dump(export, f)
    return path


class StsClient:
    """What STS tests share: boto3 clients signing with the users' keys or sessions, MFA codes not
    used yet, checks signed with temporary credentials. A test class lists it before `Base` and
    defines `prepare` (the credentials file, `keys`, `bob_mfa`)."""

    @classmethod
    def setUpClass(cls):
        cls.options = {"prepare": cls.prepare}
        super().setUpClass()
        cls.next_step = int(time.time()) // 30 - 1

    def sts(self, user=None, creds=None):
        import boto3

        if user:
            creds = {"AccessKeyId": self.keys[user]["AccessKeyId"],
                     "SecretAccessKey": self.keys[user]["SecretAccessKey"]}
        return boto3.client(
            "sts", region_name="eu-west-1",
            endpoint_url=f"http://127.0.0.1:{self.sidecar.ports['sts']}",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds.get("SessionToken"),
        )

    def mfa_code(self):
        """A code not used yet. Codes are one-time and the sidecar accepts one 30-second step either
        side of its clock, so each call takes the step after the last one used, waiting for the
        clock only when that step is more than one ahead."""
        step = max(type(self).next_step, int(time.time()) // 30 - 1)
        while step > int(time.time()) // 30 + 1:
            time.sleep(0.5)
        type(self).next_step = step + 1
        return totp(self.bob_mfa["Base32StringSeed"], step * 30)

    def signed_check(self, path, creds, request_id=None, presigned=False, **kw):
        from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        request = AWSRequest(method="GET", url=f"https://storage.example.com{path}")
        signer_creds = Credentials(creds["AccessKeyId"], creds["SecretAccessKey"],
                                   creds.get("SessionToken"))
        if presigned:
            S3SigV4QueryAuth(signer_creds, "s3", "eu-west-1", expires=60).add_auth(request)
            path = f"{path}?{request.url.split('?', 1)[1]}"
        else:
            S3SigV4Auth(signer_creds, "s3", "eu-west-1").add_auth(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        return self.check(path=path, headers=headers, request_id=request_id, **kw)

    def client_error(self, call, code):
        from botocore.exceptions import ClientError

        with self.assertRaises(ClientError) as e:
            call()
        self.assertEqual(e.exception.response["Error"]["Code"], code, e.exception.response)
        return e.exception.response


class StsTest(StsClient, Base):
    """STS on loopback driven by boto3 (the AWS SDK for Python, an independent client and signer):
    AssumeRole decided by the role's trust policy and the caller's permissions, MFA from a TOTP
    device made with `iamlet mfa`, session policies and tags; the temporary credentials then sign
    requests the sidecar authorizes as the session. Runs the component engine."""

    engine = "component"
    keys = {}
    bob_mfa = None

    @classmethod
    def prepare(cls, directory):
        path = os.path.join(directory, "credentials.json")
        accounts = reader_role_export(directory)
        for user in ("alice", "bob"):
            out = iamlet_cli("keys", "create", "--credentials", path, "--user", user,
                             "--account", accounts)
            cls.keys[user] = json.loads(out)["AccessKey"]
        cls.bob_mfa = enabled_mfa_device(path, "bob", accounts)
        cls.credentials_path = path
        return {"credentials": path, "accounts": accounts, "sts": True}

    def test_get_caller_identity(self):
        me = self.sts("alice").get_caller_identity()
        self.assertEqual((me["Arn"], me["UserId"], me["Account"]),
                         (ALICE, "AIDAALICEEXAMPLE1111", ACCOUNT))
        line = self.log_line(me["ResponseMetadata"]["RequestId"])
        self.assertEqual((line["protocol"], line["action"], line["decision"]),
                         ("sts", "sts:GetCallerIdentity", "Allow"))

    def test_break_glass_needs_mfa(self):
        role = f"arn:aws:iam::{ACCOUNT}:role/break-glass"
        bob = self.sts("bob")
        denied = self.client_error(
            lambda: bob.assume_role(RoleArn=role, RoleSessionName="oncall"), "AccessDenied")
        self.assertIn(f"User: {BOB} is not authorized to perform: sts:AssumeRole", denied["Error"]["Message"])
        line = self.log_line(denied["ResponseMetadata"]["RequestId"])
        self.assertEqual((line["decision"], line["resource"]), ("ImplicitDeny", role))

        code = self.mfa_code()
        out = bob.assume_role(RoleArn=role, RoleSessionName="oncall", DurationSeconds=1800,
                              SerialNumber=self.bob_mfa["SerialNumber"], TokenCode=code)
        session = f"arn:aws:sts::{ACCOUNT}:assumed-role/break-glass/oncall"
        self.assertEqual(out["AssumedRoleUser"]["Arn"], session)
        self.assertEqual(out["AssumedRoleUser"]["AssumedRoleId"], "AROABREAKGLASSEXAMP2:oncall")
        creds = out["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(len(creds["SecretAccessKey"]), 40)
        left = (creds["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        self.assertTrue(1700 < left <= 1800, left)
        line = self.log_line(out["ResponseMetadata"]["RequestId"])
        self.assertEqual((line["decision"], line["principal"], line["accessKeyId"]),
                         ("Allow", BOB, self.keys["bob"]["AccessKeyId"]))

        # The code is spent.
        self.client_error(lambda: bob.assume_role(
            RoleArn=role, RoleSessionName="again", SerialNumber=self.bob_mfa["SerialNumber"],
            TokenCode=code), "AccessDenied")

        # The session is the principal of the requests it signs, with the role's permissions.
        me = self.sts(creds=creds).get_caller_identity()
        self.assertEqual((me["Arn"], me["UserId"]), (session, "AROABREAKGLASSEXAMP2:oncall"))
        self.assertAllowed(self.signed_check(object_path("alice"), creds), session)
        self.assertAllowed(self.signed_check(object_path("carol"), creds, presigned=True), session)

    def test_mfa_session_then_role_with_a_session_policy(self):
        bob = self.sts("bob")
        self.client_error(lambda: bob.get_session_token(
            SerialNumber=self.bob_mfa["SerialNumber"], TokenCode="000000"), "AccessDenied")
        mfa = bob.get_session_token(DurationSeconds=900, SerialNumber=self.bob_mfa["SerialNumber"],
                                    TokenCode=self.mfa_code())["Credentials"]
        as_bob = self.sts(creds=mfa)
        self.assertEqual(as_bob.get_caller_identity()["Arn"], BOB)
        self.client_error(as_bob.get_session_token, "AccessDenied")

        # Requests signed with the session carry aws:MultiFactorAuthPresent: the break-glass trust
        # policy, checked through ext_authz, admits the MFA session and not a session without MFA.
        ext = {"iamlet.action": "sts:AssumeRole",
               "iamlet.resource": f"arn:aws:iam::{ACCOUNT}:role/break-glass",
               "iamlet.resource_account": ACCOUNT}
        plain = bob.get_session_token(DurationSeconds=900)["Credentials"]
        self.assertAllowed(self.signed_check("/break-glass", mfa, context_extensions=ext), BOB)
        self.assertDenied(self.signed_check("/break-glass", plain, context_extensions=ext),
                          "ImplicitDeny")

        # MFA carries over from the session to the role's trust policy; the session policy limits
        # the role's AdministratorAccess to reading alice's folder.
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/home/alice/*"}]})
        out = as_bob.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/break-glass",
                                 RoleSessionName="narrow", Policy=policy)
        creds = out["Credentials"]
        session = out["AssumedRoleUser"]["Arn"]
        self.assertAllowed(self.signed_check(object_path("alice"), creds), session)
        body = self.assertDenied(self.signed_check(object_path("bob"), creds, "e2e-sts-narrow"),
                                 "ImplicitDeny")
        self.assertIn(session, body["reason"])
        self.assertEqual(self.log_line("e2e-sts-narrow")["principal"], session)

    def test_external_id_and_session_tags(self):
        role = f"arn:aws:iam::{ACCOUNT}:role/reader"
        alice = self.sts("alice")
        self.client_error(lambda: alice.assume_role(RoleArn=role, RoleSessionName="r1"), "AccessDenied")
        self.client_error(lambda: self.sts("bob").assume_role(
            RoleArn=role, RoleSessionName="r1", ExternalId="e2e-external-id"), "AccessDenied")
        out = alice.assume_role(RoleArn=role, RoleSessionName="reader-alice",
                                ExternalId="e2e-external-id", SourceIdentity="alice",
                                Tags=[{"Key": "project", "Value": "carol"}],
                                TransitiveTagKeys=["project"])
        self.assertEqual(out["SourceIdentity"], "alice")
        creds = out["Credentials"]
        session = out["AssumedRoleUser"]["Arn"]
        # The session tag overrides the role's own `project` tag.
        self.assertAllowed(self.signed_check(object_path("carol"), creds), session)
        self.assertDenied(self.signed_check(object_path("nobody"), creds), "ImplicitDeny")

        # Role chaining: the transitive tag passes on and cannot be changed; one hour at most.
        chained = self.sts(creds=creds)
        self.client_error(lambda: chained.assume_role(
            RoleArn=role, RoleSessionName="chained", ExternalId="e2e-external-id",
            DurationSeconds=7200), "ValidationError")
        self.client_error(lambda: chained.assume_role(
            RoleArn=role, RoleSessionName="chained", ExternalId="e2e-external-id",
            Tags=[{"Key": "project", "Value": "alice"}]), "InvalidParameterValue")

    def test_bad_requests_and_credentials_are_aws_errors(self):
        alice = self.sts("alice")
        self.client_error(lambda: alice.assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/no-such-role", RoleSessionName="x1"), "AccessDenied")
        self.client_error(lambda: alice.assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:user/bob", RoleSessionName="x1"), "ValidationError")
        self.client_error(lambda: alice.assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/reader", RoleSessionName="x1",
            Policy="{not json"), "MalformedPolicyDocument")
        unknown = self.sts(creds={"AccessKeyId": "AKIAAAAAAAAAAAAAAAAA", "SecretAccessKey": "x" * 40})
        self.client_error(unknown.get_caller_identity, "InvalidClientTokenId")
        wrong = self.sts(creds={"AccessKeyId": self.keys["alice"]["AccessKeyId"], "SecretAccessKey": "x" * 40})
        self.client_error(wrong.get_caller_identity, "SignatureDoesNotMatch")

        out = self.sts("alice").assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/reader", RoleSessionName="tamper",
            ExternalId="e2e-external-id")["Credentials"]
        token = base64.b64decode(out["SessionToken"])
        forged = dict(out, SessionToken=base64.b64encode(token[:-1] + bytes([token[-1] ^ 1])).decode())
        self.client_error(self.sts(creds=forged).get_caller_identity, "InvalidClientTokenId")
        body = self.assertDenied(self.signed_check(object_path("alice"), forged, "e2e-sts-forged"),
                                 "Unauthenticated")
        self.assertEqual(body["error"], "InvalidClientTokenId")
        no_token = {k: v for k, v in out.items() if k != "SessionToken"}
        body = self.assertDenied(self.signed_check(object_path("alice"), no_token), "Unauthenticated")
        self.assertEqual(body["error"], "InvalidClientTokenId")

        with open(self.sidecar.log_path) as f:
            log = f.read()
        self.assertNotIn(out["SecretAccessKey"], log)
        self.assertNotIn(out["SessionToken"], log)
        self.assertNotIn(self.keys["alice"]["SecretAccessKey"], log)
        self.assertEqual(self.log_line("e2e-sts-forged")["decision"], "Unauthenticated")
        _, metrics = self.sidecar.admin("/metrics")
        self.assertGreaterEqual(metric(metrics, "iamlet_sts_calls_total", action="AssumeRole",
                                       outcome="MalformedPolicyDocument"), 1)
        self.assertGreaterEqual(metric(metrics, "iamlet_sts_calls_total", action="GetCallerIdentity",
                                       outcome="InvalidClientTokenId"), 2)

    def test_zz_rotating_the_session_key_ends_every_session(self):
        # Runs last in this class: every session issued before stops working.
        creds = self.sts("alice").assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/reader", RoleSessionName="before",
            ExternalId="e2e-external-id")["Credentials"]
        self.assertEqual(self.sts(creds=creds).get_caller_identity()["Arn"],
                         f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/before")
        iamlet_cli("sts", "rotate-key", "--credentials", self.credentials_path)
        deadline = time.monotonic() + 10
        from botocore.exceptions import ClientError
        while True:
            try:
                self.sts(creds=creds).get_caller_identity()
            except ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "InvalidClientTokenId")
                break
            self.assertLess(time.monotonic(), deadline, "the old session still works")
            time.sleep(0.1)
        fresh = self.sts("alice").assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/reader", RoleSessionName="after",
            ExternalId="e2e-external-id")["Credentials"]
        self.sts(creds=fresh).get_caller_identity()


class WorkerThreadsTest(Base):
    """`[limits] worker_threads`: the runtime serving checks has that many threads."""

    engine = "native"
    options = {"workers": 1}

    def test_one_worker_thread_serves_checks(self):
        self.assertAllowed(
            self.check(path=object_path("alice"), headers={"x-iamlet-principal": ALICE}), ALICE
        )
        line = next(l for l in self.sidecar.stderr_text().splitlines() if "serving ext_authz" in l)
        self.assertIn("workers=1", line)


class DryRunTest(Base):
    """`[mode] enforce = false`: denials are let through but logged as what they would have been."""

    engine = "native"
    enforce = False

    def test_deny_is_let_through_and_logged(self):
        rid = "e2e-dry-run"
        resp = self.check(path=object_path("bob"), headers={"x-iamlet-principal": ALICE}, request_id=rid)
        self.assertEqual(resp.status.code, 0, resp)
        self.assertTrue(resp.HasField("ok_response"))
        deadline = time.monotonic() + 5
        line = None
        while line is None and time.monotonic() < deadline:
            line = next((d for d in self.sidecar.decisions() if d["requestId"] == rid), None)
            time.sleep(0.05)
        self.assertIsNotNone(line)
        self.assertEqual(line["decision"], "ImplicitDeny")
        self.assertTrue(line["allowed"])
        self.assertFalse(line["enforced"])
        # Unauthenticated requests are let through too, and counted as such.
        self.assertEqual(self.check(path=object_path("alice")).status.code, 0)
        _, text = self.sidecar.admin("/metrics")
        self.assertEqual(
            metric(text, "iamlet_checks_total", decision="ImplicitDeny", allowed="true"), 1
        )
        self.assertEqual(
            metric(text, "iamlet_checks_total", decision="Unauthenticated", allowed="true"), 1
        )



def shadow_export(dir):
    """A candidate account export in which alice may also read bob's folder."""
    with open(os.path.join(ROOT, "examples", "account.json")) as f:
        export = json.load(f)
    alice = next(u for u in export["UserDetailList"] if u["UserName"] == "alice")
    alice["UserPolicyList"].append(
        {
            "PolicyName": "read-bob",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ReadBobsFolder",
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{BUCKET}/home/bob/*",
                    }
                ],
            },
        }
    )
    path = os.path.join(dir, "candidate.json")
    with open(path, "w") as f:
        json.dump(export, f)
    return {"shadow": path}


class ShadowTest(Base):
    """A candidate store decides beside the live one; the live one's answer is enforced and every
    disagreement is logged (with the candidate's decision) and counted."""

    options = {"prepare": shadow_export}

    def test_disagreements_are_logged_and_counted_and_the_live_answer_enforced(self):
        hdr = {"x-iamlet-principal": ALICE}
        _, before = self.sidecar.admin("/metrics")
        self.assertEqual(metric(before, "iamlet_shadow_disagreements_total"), 0)
        self.assertAllowed(self.check(path=object_path("alice"), headers=hdr, request_id="sh-1"), ALICE)
        self.assertDenied(
            self.check(path=object_path("bob"), headers=hdr, request_id="sh-2"), "ImplicitDeny"
        )
        self.assertDenied(
            self.check(path=object_path("bob"), headers=hdr, scheme="http", request_id="sh-3"),
            "ExplicitDeny",
        )
        lines = {d["requestId"]: d for d in self.sidecar.wait_decisions(3)}
        self.assertNotIn("shadowDecision", lines["sh-1"], "both allow: no disagreement")
        self.assertEqual(lines["sh-2"]["decision"], "ImplicitDeny")
        self.assertEqual(lines["sh-2"]["shadowDecision"], "Allow")
        self.assertFalse(lines["sh-2"]["allowed"])
        self.assertNotIn("shadowDecision", lines["sh-3"], "the bucket's TLS deny holds in both")
        _, after = self.sidecar.admin("/metrics")
        self.assertEqual(metric(after, "iamlet_shadow_disagreements_total"), 1)


class UnreadyStartTest(unittest.TestCase):
    """The store is unreachable at start: the sidecar serves anyway, not ready, denying every check
    with the reason; once the export appears it loads, becomes ready and allows. Diagnostics are
    JSON lines with `--log-format json`."""

    def test_denies_until_the_store_loads(self):
        missing = {}

        def prepare(dir):
            missing["path"] = os.path.join(dir, "later", "account.json")
            return {"accounts": missing["path"], "poll": "200ms"}

        sidecar = Sidecar(prepare=prepare, args=("--log-format", "json"))
        try:
            status, body = sidecar.wait_listening()
            self.assertEqual(status, 200, body)
            status, why = sidecar.admin("/readyz")
            self.assertEqual(status, 503, why)
            self.assertIn("account.json", why)
            resp = sidecar.stub().Check(
                check_request(path=object_path("alice"), headers={"x-iamlet-principal": ALICE}),
                timeout=10,
            )
            self.assertTrue(resp.HasField("denied_response"), resp)
            body = json.loads(resp.denied_response.body)
            self.assertEqual(body["decision"], "Error", body)
            self.assertIn("has not loaded", body["reason"])

            os.makedirs(os.path.dirname(missing["path"]))
            shutil.copy(os.path.join(ROOT, "examples", "account.json"), missing["path"])
            sidecar.wait_ready(timeout=15)
            resp = sidecar.stub().Check(
                check_request(path=object_path("alice"), headers={"x-iamlet-principal": ALICE}),
                timeout=10,
            )
            self.assertEqual(resp.status.code, 0, resp)

            events = [json.loads(l) for l in sidecar.stderr_text().splitlines() if l.strip()]
            messages = [e.get("message") for e in events]
            self.assertIn("first load failed; not ready until a retry loads it", messages)
            self.assertIn("serving ext_authz", messages)
            self.assertIn("check failed", messages)
            self.assertTrue(all(e.get("level") for e in events), events)
        finally:
            sidecar.stop()


LOADGEN = os.environ.get("IAMLET_LOADGEN", os.path.join(ROOT, "target", "debug", "iamlet-loadgen"))


class LoadGeneratorTest(Base):
    """The benchmark's load generator (bench/src/bin/loadgen.rs) against a live sidecar, briefly, so
    bench/sidecar/run cannot rot: both shapes of load, every check answered, stopping by itself."""

    def run_loadgen(self, *args):
        out = subprocess.run(
            [LOADGEN, "--target", f"http://127.0.0.1:{self.sidecar.ports['grpc']}", "--json",
             "--seconds", "1", "--warmup", "0.2", *args],
            check=True, capture_output=True, text=True, timeout=60,
        ).stdout
        return json.loads(out.splitlines()[-1])

    def test_open_and_closed_loops(self):
        fixed = self.run_loadgen("--rate", "300", "--connections", "2")
        self.assertGreater(fixed["checks"], 200, fixed)
        self.assertEqual(fixed["allowed"], fixed["checks"], fixed)
        self.assertEqual(fixed["errors"] + fixed["notSent"], 0, fixed)
        self.assertLessEqual(fixed["p50us"], fixed["p99us"])
        flat = self.run_loadgen("--concurrency", "4", "--path", object_path("bob"))
        self.assertGreater(flat["checks"], 0, flat)
        self.assertEqual(flat["denied"], flat["checks"], "alice may not read bob's folder")
        # Half the checks ask for objects never asked for (the decision-cache mix): still alice's.
        fresh = object_path("alice").replace("notes.txt", "notes{u}.txt")
        mixed = self.run_loadgen("--concurrency", "4", "--fresh-percent", "50", "--path", fresh)
        self.assertGreater(mixed["checks"], 0, mixed)
        self.assertEqual(mixed["allowed"], mixed["checks"], mixed)



def generated_accounts(users, capacity):
    def prepare(dir):
        path = os.path.join(dir, "generated.json")
        with open(path, "w") as f:
            subprocess.run(
                [sys.executable, os.path.join(ROOT, "bench", "sidecar", "accounts.py"), "--users", str(users)],
                check=True, stdout=f,
            )
        return {"accounts": path, "capacity": capacity}

    return prepare


class SoakTest(unittest.TestCase):
    """A bounded soak (the long one is `bench/sidecar/run --only soak`): principals churning through a
    small cache (every check a miss) at a steady rate the debug build sustains; no errors, open file descriptors flat, resident memory flat once
    warm (the second half's peak within 15% + 4 MiB of the first half's)."""

    SECONDS = float(os.environ.get("IAMLET_SOAK_SECONDS", "20"))

    def test_steady_load_with_cache_churn(self):
        sidecar = Sidecar(prepare=generated_accounts(2000, 200))
        try:
            sidecar.wait_ready(timeout=60)
            pid = sidecar.proc.pid
            gen = subprocess.Popen(
                [LOADGEN, "--target", f"http://127.0.0.1:{sidecar.ports['grpc']}", "--json",
                 "--principal", "arn:aws:iam::111122223333:user/user{n}",
                 "--path", f"/buckets/{BUCKET}/objects/home/user{{n}}/notes.txt",
                 "--principals", "2000", "--rate", "100", "--connections", "2",
                 "--seconds", str(self.SECONDS), "--warmup", "2"],
                stdout=subprocess.PIPE, text=True,
            )
            samples = []
            while gen.poll() is None:
                samples.append((sidecar.rss_kib(), len(os.listdir(f"/proc/{pid}/fd"))))
                time.sleep(0.5)
            out, _ = gen.communicate()
            result = json.loads(out.splitlines()[-1])
            self.assertEqual(gen.returncode, 0)
            self.assertGreater(result["checks"], self.SECONDS * 80, result)
            self.assertEqual(result["allowed"], result["checks"], result)
            self.assertEqual(result["errors"] + result["notSent"], 0, result)
            warm = samples[len(samples) // 5:]
            half = len(warm) // 2
            first, second = warm[:half], warm[half:]
            self.assertLessEqual(
                max(r for r, _ in second), max(r for r, _ in first) * 1.15 + 4096, samples
            )
            self.assertLessEqual(max(f for _, f in second), max(f for _, f in first) + 2, samples)
            _, text = sidecar.admin("/metrics")
            self.assertGreater(metric(text, "iamlet_cache_evictions"), self.SECONDS * 50, "churn")
            if os.environ.get("IAMLET_SOAK_REPORT"):
                print(f"\nsoak: {result}\nRSS KiB, fds every 0.5 s: {samples}", file=sys.stderr)
        finally:
            sidecar.stop()



def heavy_user_export(dir):
    """The example account plus `heavy`, whose 40 inline policies of 500 statements cannot be compiled
    in a guest limited to 4 MiB."""
    with open(os.path.join(ROOT, "examples", "account.json")) as f:
        export = json.load(f)
    alice = next(u for u in export["UserDetailList"] if u["UserName"] == "alice")
    heavy = json.loads(json.dumps(alice))
    heavy.update(UserName="heavy", UserId="AIDAHEAVYEXAMPLE0001", Arn=f"arn:aws:iam::{ACCOUNT}:user/heavy",
                 GroupList=[])
    heavy["UserPolicyList"] = [
        {
            "PolicyName": f"p{p}",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": f"S{i}", "Effect": "Allow", "Action": [f"s3:Get{i}*", f"ec2:Describe{i}"],
                     "Resource": f"arn:aws:s3:::bucket{i}/*",
                     "Condition": {"StringEquals": {"aws:PrincipalTag/team": [f"a{i}", f"b{i}"]}}}
                    for i in range(500)
                ],
            },
        }
        for p in range(40)
    ]
    export["UserDetailList"].append(heavy)
    path = os.path.join(dir, "heavy.json")
    with open(path, "w") as f:
        json.dump(export, f)
    return {"accounts": path, "memory_mib": 4}


class GuestTrapTest(Base):
    """A principal whose policies exhaust the component's memory limit: that check is denied (an
    engine failure, counted), the guest instance is replaced, and the next check is answered."""

    options = {"prepare": heavy_user_export}

    def test_a_trap_denies_one_check_and_the_next_is_fine(self):
        heavy = f"arn:aws:iam::{ACCOUNT}:user/heavy"
        body = self.assertDenied(
            self.check(path=object_path("heavy"), headers={"x-iamlet-principal": heavy}), "Error"
        )
        self.assertIn("memory", body["reason"])
        self.assertAllowed(
            self.check(path=object_path("alice"), headers={"x-iamlet-principal": ALICE}), ALICE
        )
        _, text = self.sidecar.admin("/metrics")
        self.assertEqual(metric(text, "iamlet_component_traps_total"), 1)
        self.assertEqual(metric(text, "iamlet_component_instances_replaced_total"), 1)
        self.assertEqual(self.sidecar.proc.poll(), None, "still running")


class ShutdownTest(unittest.TestCase):
    """SIGTERM while checks are in flight: they are answered, the log is written, the exit is 0."""

    def setUp(self):
        self.sidecar = Sidecar("component")
        self.sidecar.wait_ready()

    def tearDown(self):
        self.sidecar.stop()

    def test_sigterm_drains_in_flight_checks(self):
        stub = self.sidecar.stub()
        hdr = {"x-iamlet-principal": ALICE}
        # Warm the cache and the engine.
        self.assertEqual(stub.Check(check_request(path=object_path("alice"), headers=hdr), timeout=10).status.code, 0)
        n = 64
        futures = [
            stub.Check.future(
                check_request(path=object_path("alice" if i % 2 == 0 else "bob"), headers=hdr, request_id=f"drain-{i}"),
                timeout=15,
            )
            for i in range(n)
        ]
        self.sidecar.proc.send_signal(signal.SIGTERM)
        answered = 0
        for i, f in enumerate(futures):
            resp = f.result()
            answered += 1
            if i % 2 == 0:
                self.assertEqual(resp.status.code, 0, resp)
            else:
                self.assertEqual(json.loads(resp.denied_response.body)["decision"], "ImplicitDeny")
        self.assertEqual(answered, n)
        self.assertEqual(self.sidecar.proc.wait(timeout=15), 0, self.sidecar.stderr_text())
        self.assertIn("stopped", self.sidecar.stderr_text())
        # Every answered check is in the decision log, written before the process exited.
        logged = {d["requestId"] for d in self.sidecar.decisions()}
        self.assertEqual({f"drain-{i}" for i in range(n)} - logged, set())
        # New connections are refused once it has stopped.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.sidecar.ports["grpc"]), timeout=1).close()


if __name__ == "__main__":
    unittest.main()
