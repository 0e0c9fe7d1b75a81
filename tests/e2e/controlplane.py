"""A control plane for end-to-end tests: `iamlet iam init` on a fresh SQLite database, `iamlet serve`
with the IAM API (`[iam] listen`), the sidecar reading the same database (`[store] accounts =
"database"`, `[principal] sigv4 = "database"`) and STS, on free ports of 127.0.0.1; boto3 clients for
the root user and for any access key.

Used by the IAM API's tests (tests/e2e/iam_*_test.py). Needs boto3 (scripts/setup installs it) and a
built `target/debug/iamlet` (IAMLET_BIN overrides).
"""

import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("IAMLET_BIN", os.path.join(ROOT, "target", "debug", "iamlet"))
ACCOUNT = "111122223333"


# The route the IAM tests' sidecars share: GET /buckets/BUCKET/objects/KEY is s3:GetObject.
S3_ROUTE = f"""
[[routes]]
method = "GET"
path = "/buckets/{{bucket}}/objects/{{key*}}"
action = "s3:GetObject"
resource = "arn:aws:s3:::{{bucket}}/{{key}}"
resource_account = "{ACCOUNT}"
"""


def signed_get(port, key, bucket="data", object_key="q1.csv"):
    """GET an object through a sidecar's HTTP ext_authz port, signed by botocore with an access key
    (a dict with AccessKeyId and SecretAccessKey): (status, headers, body)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"http://127.0.0.1:{port}/buckets/{bucket}/objects/{object_key}"
    request = AWSRequest(method="GET", url=url)
    S3SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "s3", "us-east-1").add_auth(request)
    req = urllib.request.Request(url, headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), ""
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def _ports_outside_the_ephemeral_range():
    """Ports the kernel never gives an outgoing connection: below its ephemeral range (Linux's
    `ip_local_port_range`), else above it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = map(int, f.read().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    if low > 11000:
        return range(max(10000, low - 20000), low)
    if high < 64000:
        return range(high + 1, 65536)
    return None


_OUTSIDE = _ports_outside_the_ephemeral_range()
_HANDED_OUT = set()
_RANDOM = random.Random(os.getpid() ^ time.monotonic_ns())


def free_port():
    """A port nothing is bound to, for a server a test starts. Not one the kernel picks for port 0:
    that comes from the ephemeral range, where any outgoing connection (a client's, a sidecar's to
    its store) can take it between this check and the server's bind, and the server then fails with
    `Address already in use` (seen in CI). Never the same port twice in one test process."""
    for _ in range(1000):
        if _OUTSIDE is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        else:
            port = _RANDOM.choice(_OUTSIDE)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError("no free port found for a test server")


def read_decisions(log_path):
    """The decision log's records so far (none before the file exists)."""
    if not os.path.exists(log_path):
        return []
    with open(log_path) as f:
        # A line without its newline is still being appended (the writer's one write can be seen
        # half done): not a record yet.
        return [json.loads(line) for line in f if line.endswith("\n") and line.strip()]


def config_toml(ports, log_path, database="sqlite:iam.db", extra="", poll="200ms"):
    return f"""
[listen]
grpc = "127.0.0.1:{ports['grpc']}"
http = "127.0.0.1:{ports['http']}"
admin = "127.0.0.1:{ports['admin']}"

[store]
accounts = "database"

[principal]
sigv4 = "database"

[context]
region = "us-east-1"

[engine]
kind = "native"

[iam]
database = "{database}"
listen = "127.0.0.1:{ports['iam']}"
poll_interval = "{poll}"

[sts]
listen = "127.0.0.1:{ports['sts']}"

[decision_log]
path = "{log_path}"

{extra}
"""


class ControlPlane:
    """One database and one `iamlet serve` on it."""

    def __init__(self, extra="", database=None, init=True, start=True, poll="200ms"):
        self.dir = tempfile.mkdtemp(prefix="iamlet-cp-")
        self.ports = {k: free_port() for k in ("grpc", "http", "admin", "iam", "sts")}
        self.log_path = os.path.join(self.dir, "decisions.jsonl")
        self.config = os.path.join(self.dir, "iamlet.toml")
        self.database = database or "sqlite:iam.db"
        self.extra = extra
        self.root = None
        self.proc = None
        self.stderr = open(os.path.join(self.dir, "stderr.txt"), "w+")
        if init:
            self.root = self.init()
        with open(self.config, "w") as f:
            f.write(config_toml(self.ports, self.log_path, self.database, extra, poll))
        if start:
            self.start()

    def iamlet(self, *args, check=True, input=None):
        """Runs the CLI in the control plane's directory (where `sqlite:iam.db` is)."""
        return subprocess.run(
            [BIN, *args], cwd=self.dir, check=check, capture_output=True, text=True, input=input
        )

    def init(self):
        out = self.iamlet("iam", "init", "--database", self.database, "--account-id", ACCOUNT)
        return json.loads(out.stdout)

    def start(self):
        self.proc = subprocess.Popen(
            [BIN, "serve", "--config", self.config],
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        self.wait_ready()

    def stop(self, sig=None):
        if self.proc and self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def close(self):
        self.stop()
        self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stderr_text(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"iamlet exited {self.proc.returncode}: {self.stderr_text()}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.ports['admin']}/readyz", timeout=2
                ) as r:
                    if r.status == 200:
                        with socket.create_connection(("127.0.0.1", self.ports["iam"]), timeout=2):
                            return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"iamlet not ready within {timeout}s: {self.stderr_text()}")

    @property
    def iam_url(self):
        return f"http://127.0.0.1:{self.ports['iam']}"

    @property
    def sts_url(self):
        return f"http://127.0.0.1:{self.ports['sts']}"

    def client(self, service="iam", key=None, secret=None, token=None):
        """A boto3 client signed with the root key, or with the given key."""
        import boto3
        import botocore.config

        key = key or self.root["AccessKeyId"]
        secret = secret or self.root["SecretAccessKey"]
        url = self.iam_url if service == "iam" else self.sts_url
        return boto3.client(
            service,
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=botocore.config.Config(retries={"max_attempts": 1}),
        )

    def root_client(self):
        return self.client()

    def user_client(self, iam, user_name):
        """Creates an access key for the user (with `iam`, a client allowed to) and returns a client
        signed with it."""
        k = iam.create_access_key(UserName=user_name)["AccessKey"]
        return self.client(key=k["AccessKeyId"], secret=k["SecretAccessKey"])

    def decisions(self):
        return read_decisions(self.log_path)

    def wait_decision(self, match, timeout=10):
        """The first decision-log line `match(line)` holds for (the log is written asynchronously)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for d in self.decisions():
                if match(d):
                    return d
            time.sleep(0.05)
        raise AssertionError("no matching decision-log line")


def error_code(e):
    """The AWS error code of a botocore ClientError."""
    return e.response["Error"]["Code"]
