#!/usr/bin/env python3
"""A sidecar on a remote control plane's change feed (`[store] accounts = "iam:watch"`), end to end.

A control plane (`iamlet serve` with the IAM API on a fresh database) and a separate sidecar process
that reads principals through the control plane's IAM API and forgets exactly those its
`WatchChanges` feed names. The sidecar's cache TTL is an hour: every change it enforces within the
test reached it through the feed (its metrics count the forgotten principals), never by expiry.

- AttachUserPolicy / DetachUserPolicy / RemoveUserFromGroup / a new default policy version through
  the control plane are enforced by the sidecar at once; a principal the change does not name stays
  cached.
- The feed is authorized as `iamlet:WatchChanges`: a key without it is refused in AWS's words.
- The control plane stopped: the sidecar serves what it holds, denies what it cannot fetch, and
  after the control plane returns it applies the changes made since.

Run with `python3 tests/e2e/iam_feed_test.py -v` after `cargo build -p iamlet` (IAMLET_BIN
overrides the binary).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import ACCOUNT, BIN, S3_ROUTE, ControlPlane, free_port  # noqa: E402

ROUTES = S3_ROUTE
READ = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}]})
WATCHER = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iamlet:WatchChanges", "iam:Get*", "iam:List*"], "Resource": "*"}]})


class Sidecar:
    """`iamlet serve` with no database: principals from the control plane's IAM API and its feed."""

    def __init__(self, cp, key, ttl="1h", max_stale="1h"):
        self.dir = tempfile.mkdtemp(prefix="iamlet-feed-")
        self.ports = {k: free_port() for k in ("grpc", "http", "admin")}
        config = os.path.join(self.dir, "iamlet.toml")
        with open(config, "w") as f:
            f.write(f"""
[listen]
grpc = "127.0.0.1:{self.ports['grpc']}"
http = "127.0.0.1:{self.ports['http']}"
admin = "127.0.0.1:{self.ports['admin']}"

[store]
accounts = "iam:watch"
cache_ttl = "{ttl}"
negative_ttl = "{ttl}"
max_stale = "{max_stale}"

[principal]
trusted_header = "x-iamlet-principal"

[context]
region = "us-east-1"

[engine]
kind = "native"

[decision_log]
path = "{os.path.join(self.dir, 'decisions.jsonl')}"
{ROUTES}
""")
        env = {
            "PATH": os.environ["PATH"],
            "HOME": self.dir,
            "AWS_ENDPOINT_URL_IAM": cp.iam_url,
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "RUST_LOG": "info",
        }
        self.stderr = open(os.path.join(self.dir, "stderr.txt"), "w+")
        self.proc = subprocess.Popen([BIN, "serve", "--config", config], cwd=self.dir, env=env,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                text = self.stderr_text()
                self.close()
                raise RuntimeError(f"the sidecar exited: {text}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.ports['admin']}/readyz", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the sidecar is not ready: {self.stderr_text()}")
                time.sleep(0.05)

    def stderr_text(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()

    def check(self, user, key="q1.csv"):
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.ports['http']}/buckets/data/objects/{key}",
            headers={"x-iamlet-principal": f"arn:aws:iam::{ACCOUNT}:user/{user}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def last_decision(self):
        with open(os.path.join(self.dir, "decisions.jsonl")) as f:
            return f.readlines()[-1]

    def metric(self, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports['admin']}/metrics", timeout=5) as r:
            text = r.read().decode()
        m = re.search(rf"^\w*{name}(?:_total)? (\d+)", text, re.M)
        if not m:
            raise AssertionError(f"no {name} in the metrics:\n{text}")
        return int(m.group(1))

    def until(self, user, want, timeout=10):
        """Checks until the answer is `want`; the time it took. The feed applies a change at once;
        the loop only absorbs scheduling on a busy machine, and the TTL (an hour) never expires."""
        started = time.monotonic()
        while True:
            got = self.check(user)
            if got == want:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise AssertionError(f"{user}: still {got} after {timeout}s, want {want}\n{self.stderr_text()[-3000:]}")
            time.sleep(0.01)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class RemoteSidecar(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane(extra=ROUTES)
        try:
            cls.iam = cls.cp.root_client()
            # The sidecar's own identity: what the README's least-privilege watcher policy grants.
            cls.iam.create_user(UserName="sidecar")
            cls.iam.put_user_policy(UserName="sidecar", PolicyName="watch", PolicyDocument=WATCHER)
            key = cls.iam.create_access_key(UserName="sidecar")["AccessKey"]
            cls.sidecar = Sidecar(cls.cp, key)
        except BaseException:
            cls.cp.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sidecar.close()
        cls.cp.close()

    def test_changes_are_enforced_as_the_feed_names_them(self):
        iam, s = self.iam, self.sidecar
        arn = iam.create_policy(PolicyName="read-data", PolicyDocument=READ)["Policy"]["Arn"]
        for user in ("ann", "bystander"):
            iam.create_user(UserName=user)
        iam.attach_user_policy(UserName="bystander", PolicyArn=arn)
        self.assertEqual(s.check("ann"), 403)
        self.assertEqual(s.check("bystander"), 200)
        before = s.metric("cache_invalidations")

        iam.attach_user_policy(UserName="ann", PolicyArn=arn)
        s.until("ann", 200)
        iam.detach_user_policy(UserName="ann", PolicyArn=arn)
        s.until("ann", 403)
        # Through a group, and out of it.
        iam.create_group(GroupName="readers")
        iam.attach_group_policy(GroupName="readers", PolicyArn=arn)
        iam.add_user_to_group(GroupName="readers", UserName="ann")
        s.until("ann", 200)
        iam.remove_user_from_group(GroupName="readers", UserName="ann")
        s.until("ann", 403)
        self.assertGreater(s.metric("cache_invalidations"), before)
        # A new default version reaches everyone the policy is attached to.
        iam.create_policy_version(PolicyArn=arn, SetAsDefault=True, PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}]}))
        s.until("bystander", 403)

    def test_a_change_to_someone_else_keeps_a_principal_cached(self):
        iam, s = self.iam, self.sidecar
        iam.create_user(UserName="steady")
        iam.put_user_policy(UserName="steady", PolicyName="read", PolicyDocument=READ)
        s.until("steady", 200)
        misses = s.metric("cache_misses")
        iam.create_user(UserName="newcomer")
        iam.tag_user(UserName="newcomer", Tags=[{"Key": "team", "Value": "x"}])
        s.until("newcomer", 403)
        self.assertEqual(s.check("steady"), 200)
        # steady was answered from the cache: one miss more (newcomer's), not two.
        self.assertLessEqual(s.metric("cache_misses") - misses, 2)

    def test_the_feed_is_authorized_as_iamlet_watch_changes(self):
        self.iam.create_user(UserName="no-watch")
        key = self.iam.create_access_key(UserName="no-watch")["AccessKey"]
        with self.assertRaises(RuntimeError) as e:
            Sidecar(self.cp, key)
        self.assertIn("iamlet:WatchChanges", str(e.exception))


def watch_changes(cp, key, **params):
    """A SigV4-signed `WatchChanges` call (not in botocore's model): (status, body)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from urllib.parse import urlencode

    body = urlencode({"Action": "WatchChanges", "Version": "2010-05-08",
                      **{k: str(v) for k, v in params.items()}})
    request = AWSRequest(method="POST", url=cp.iam_url + "/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "iam",
              "us-east-1").add_auth(request)
    req = urllib.request.Request(request.url, data=body.encode(), method="POST",
                                 headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class WatchChangesCalls(unittest.TestCase):
    """The feed's parameters at and past their bounds, and many long polls at once."""

    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane()
        try:
            cls.iam = cls.cp.root_client()
            cls.key = cls.cp.root
        except BaseException:
            cls.cp.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()

    def test_parameters_out_of_range_are_validation_errors(self):
        for params in ({"After": -1}, {"After": "x"}, {"WaitSeconds": 21}, {"WaitSeconds": -1},
                       {"MaxItems": 0}, {"MaxItems": 1001}, {"After": "9" * 30}):
            status, body = watch_changes(self.cp, self.key, **params)
            self.assertEqual(status, 400, (params, body))
            self.assertIn("<Code>ValidationError</Code>", body, params)
            # AWS names the member in camelCase ('maxItems').
            name = next(iter(params))
            self.assertIn(f"&apos;{name[0].lower()}{name[1:]}&apos;", body, params)
        status, body = watch_changes(self.cp, self.key, WaitSeconds=0, MaxItems=1000)
        self.assertEqual(status, 200, body)

    def test_a_flood_of_long_polls_is_answered_and_woken_by_one_write(self):
        import concurrent.futures

        status, body = watch_changes(self.cp, self.key, WaitSeconds=0)
        latest = int(re.search(r"<Latest>(\d+)</Latest>", body).group(1))
        polls = 40
        with concurrent.futures.ThreadPoolExecutor(polls) as pool:
            started = time.monotonic()
            futures = [pool.submit(watch_changes, self.cp, self.key, After=latest, WaitSeconds=20)
                       for _ in range(polls)]
            time.sleep(1.0)  # let them all wait
            self.iam.create_user(UserName="wakes-everyone")
            answers = [f.result() for f in futures]
            elapsed = time.monotonic() - started
        for status, body in answers:
            self.assertEqual(status, 200, body)
            self.assertIn("user/wakes-everyone", body)
        # Woken by the commit, not by the 20 s deadline.
        self.assertLess(elapsed, 15, elapsed)
        # The control plane still answers afterwards.
        self.iam.get_user(UserName="wakes-everyone")


class ControlPlaneOutage(unittest.TestCase):
    def test_stale_then_closed_then_caught_up(self):
        cp = ControlPlane(extra=ROUTES)
        self.addCleanup(cp.close)
        iam = cp.root_client()
        iam.create_user(UserName="held")
        iam.put_user_policy(UserName="held", PolicyName="read", PolicyDocument=READ)
        iam.create_user(UserName="unseen")
        iam.put_user_policy(UserName="unseen", PolicyName="read", PolicyDocument=READ)
        s = Sidecar(cp, cp.root, ttl="1s", max_stale="1h")
        self.addCleanup(s.close)
        self.assertEqual(s.check("held"), 200)

        cp.stop()
        time.sleep(1.5)
        # Expired, but the control plane is down: what is held is served (within max_stale) ...
        self.assertEqual(s.check("held"), 200, s.last_decision())
        # ... and what is not held cannot be decided: fail closed.
        self.assertEqual(s.check("unseen"), 403)
        self.assertGreater(s.metric("cache_stale_serves"), 0)

        cp.start()
        iam = cp.root_client()
        iam.delete_user_policy(UserName="held", PolicyName="read")
        s.until("held", 403, timeout=30)
        self.assertEqual(s.check("unseen"), 200)


if __name__ == "__main__":
    unittest.main()
