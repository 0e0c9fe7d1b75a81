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

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_toml(ports, log_path, engine="component", enforce=True):
    ex = os.path.join(ROOT, "examples")
    return f"""
[listen]
grpc = "127.0.0.1:{ports['grpc']}"
http = "127.0.0.1:{ports['http']}"
admin = "127.0.0.1:{ports['admin']}"

[store]
accounts = "{ex}/account.json"
organization = "{ex}/organization.json"
poll_interval = "2s"
cache_capacity = 10000
cache_ttl = "5m"
negative_ttl = "30s"
max_stale = "1h"

[engine]
kind = "{engine}"
max_memory_mib = 256
call_timeout = "2s"

[principal]
trusted_header = "x-iamlet-principal"

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

[responses]
verbose_denials = true
allow_unmapped = false

[limits]
check_timeout = "5s"
concurrency = 1024
max_header_bytes = 65536
shutdown_grace = "10s"

[decision_log]
path = "{log_path}"

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

    def __init__(self, engine="component", enforce=True):
        self.dir = tempfile.mkdtemp(prefix="iamlet-e2e-")
        self.ports = {k: free_port() for k in ("grpc", "http", "admin")}
        self.log_path = os.path.join(self.dir, "decisions.jsonl")
        self.config = os.path.join(self.dir, "iamlet.toml")
        with open(self.config, "w") as f:
            f.write(config_toml(self.ports, self.log_path, engine, enforce))
        self.stderr = open(os.path.join(self.dir, "stderr.txt"), "w+")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", self.config],
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        self.channel = None

    def admin(self, path, method="GET"):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.ports['admin']}{path}", method=method
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"iamlet exited {self.proc.returncode}: {self.stderr_text()}")
            try:
                status, _ = self.admin("/readyz")
                if status == 200:
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"iamlet not ready within {timeout}s: {self.stderr_text()}")

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
        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path) as f:
            return [json.loads(line) for line in f if line.strip()]

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

    @classmethod
    def setUpClass(cls):
        cls.sidecar = Sidecar(cls.engine, cls.enforce)
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
        status, body = self.sidecar.admin("/cache/invalidate", method="POST")
        self.assertEqual((status, body.strip()), (200, "invalidated all"))
        # Still answers after the cache is emptied.
        self.assertAllowed(self.check(path=object_path("alice"), headers={"x-iamlet-principal": ALICE}), ALICE)


class GrpcNativeTest(GrpcComponentTest):
    """The same checks with the native engine."""

    engine = "native"


class HttpModeTest(Base):
    """Envoy's HTTP ext_authz mode: the original request, forwarded as plain HTTP."""

    engine = "native"

    def http(self, method, path, headers):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.sidecar.ports['http']}{path}", method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

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
