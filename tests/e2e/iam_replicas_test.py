#!/usr/bin/env python3
"""Two control-plane replicas on one PostgreSQL database, each with its sidecar, end to end.

Run under `scripts/with-postgres` (a private server on 127.0.0.1; IAMLET_TEST_POSTGRES names it):

    scripts/with-postgres python3 tests/e2e/iam_replicas_test.py -v

Without a server it fails, saying so: scripts/test always runs it.

- A change written through one replica is enforced by both sidecars without any poll interval
  elapsing: the replicas poll every minute, so only the database's notification can tell the other
  one in time.
- Quotas and conflicts hold across replicas under concurrent writers (one transaction lock for all
  writers on every replica): EntityAlreadyExists for the same name created on both at once, at most
  ten groups per user when fourteen joins race on both.
- A replica killed (SIGKILL) during a write burst on the other, and restarted, decides as the
  database says once the burst is over.
"""

import glob
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import S3_ROUTE, ControlPlane, error_code, signed_get  # noqa: E402

import botocore.exceptions  # noqa: E402

ADMIN = os.environ.get("IAMLET_TEST_POSTGRES")
ROUTES = S3_ROUTE
READ = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}]})
# Longer than any wait in these tests: a replica that learns of another's change in time learned it
# from the database's notification, not from its poll.
POLL = "60s"


def psql(sql):
    binary = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
    subprocess.run([binary, ADMIN, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True,
                   capture_output=True, text=True)


def check(cp, key):
    """The status of a signed GET through a replica's sidecar."""
    return signed_get(cp.ports["http"], key)[0]


def until(cp, key, want, timeout=10):
    """Checks until the answer is `want` (the loop absorbs scheduling only: the poll is a minute)."""
    started = time.monotonic()
    while True:
        got = check(cp, key)
        if got == want:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"still {got} after {timeout}s, want {want}")
        time.sleep(0.01)


class Replicas(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not ADMIN:
            raise RuntimeError("no PostgreSQL server: run under scripts/with-postgres "
                               "(scripts/setup installs PostgreSQL; scripts/test does this)")
        cls.db = f"iamlet_replicas_{os.getpid()}"
        psql(f"DROP DATABASE IF EXISTS {cls.db}")
        psql(f"CREATE DATABASE {cls.db}")
        url = ADMIN.rsplit("/", 1)[0] + "/" + cls.db
        cls.a = ControlPlane(extra=ROUTES, database=url, poll=POLL)
        cls.b = ControlPlane(extra=ROUTES, database=url, init=False, poll=POLL)
        cls.b.root = cls.a.root
        cls.ia, cls.ib = cls.a.root_client(), cls.b.root_client()

    @classmethod
    def tearDownClass(cls):
        for cp in (getattr(cls, "a", None), getattr(cls, "b", None)):
            if cp:
                cp.close()

    def user_with_key(self, name):
        self.ia.create_user(UserName=name)
        return self.ia.create_access_key(UserName=name)["AccessKey"]

    def test_a_change_through_one_replica_is_enforced_by_both_sidecars(self):
        key = self.user_with_key("carol")
        # Both sidecars hold carol, denied.
        for cp in (self.a, self.b):
            until(cp, key, 403)
        self.ia.put_user_policy(UserName="carol", PolicyName="read", PolicyDocument=READ)
        for cp in (self.a, self.b):
            until(cp, key, 200)
        # And the other way round: a write through b reaches a.
        self.ib.delete_user_policy(UserName="carol", PolicyName="read")
        for cp in (self.a, self.b):
            until(cp, key, 403)
        # A key deactivated on one replica stops signing on the other.
        self.ib.put_user_policy(UserName="carol", PolicyName="read", PolicyDocument=READ)
        until(self.a, key, 200)
        self.ib.update_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"], Status="Inactive")
        until(self.a, key, 403)

    def test_the_same_name_created_on_both_at_once(self):
        def create(client):
            try:
                client.create_user(UserName="twin")
                return "created"
            except botocore.exceptions.ClientError as e:
                return error_code(e)

        for _ in range(3):
            with ThreadPoolExecutor(2) as pool:
                results = sorted(pool.map(create, (self.a.root_client(), self.b.root_client())))
            self.assertEqual(results, ["EntityAlreadyExists", "created"])
            self.ia.delete_user(UserName="twin")

    def test_quotas_hold_across_replicas(self):
        self.ia.create_user(UserName="joiner")
        for g in range(14):
            self.ia.create_group(GroupName=f"club-{g}")

        def join(g):
            client = (self.a if g % 2 else self.b).root_client()
            try:
                client.add_user_to_group(GroupName=f"club-{g}", UserName="joiner")
                return True
            except botocore.exceptions.ClientError as e:
                return error_code(e)

        with ThreadPoolExecutor(14) as pool:
            results = list(pool.map(join, range(14)))
        self.assertEqual(sorted(map(str, results)), sorted(["True"] * 10 + ["LimitExceeded"] * 4))
        have = self.ib.list_groups_for_user(UserName="joiner", MaxItems=100)["Groups"]
        self.assertEqual({g["GroupName"] for g in have},
                         {f"club-{g}" for g, ok in enumerate(results) if ok is True})


class KilledDuringBurst(unittest.TestCase):
    def test_a_replica_killed_and_restarted_converges(self):
        if not ADMIN:
            raise RuntimeError("no PostgreSQL server: run under scripts/with-postgres")
        db = f"iamlet_burst_{os.getpid()}"
        psql(f"DROP DATABASE IF EXISTS {db}")
        psql(f"CREATE DATABASE {db}")
        url = ADMIN.rsplit("/", 1)[0] + "/" + db
        a = ControlPlane(extra=ROUTES, database=url, poll=POLL)
        self.addCleanup(a.close)
        b = ControlPlane(extra=ROUTES, database=url, init=False, poll=POLL)
        self.addCleanup(b.close)
        ia = a.root_client()
        keys = {}
        for i in range(6):
            ia.create_user(UserName=f"u{i}")
            keys[i] = ia.create_access_key(UserName=f"u{i}")["AccessKey"]
            check(b, keys[i])  # cached on b, denied
        done = threading.Event()
        state = {}

        def burst():
            client = a.root_client()
            n = 0
            while not done.is_set() or n < 60:
                i = n % 6
                if state.get(i):
                    client.delete_user_policy(UserName=f"u{i}", PolicyName="read")
                else:
                    client.put_user_policy(UserName=f"u{i}", PolicyName="read", PolicyDocument=READ)
                state[i] = not state.get(i)
                n += 1

        writer = threading.Thread(target=burst)
        writer.start()
        time.sleep(0.5)
        b.stop(signal.SIGKILL)
        time.sleep(0.5)
        b.start()
        done.set()
        writer.join(timeout=120)
        self.assertFalse(writer.is_alive())
        for i, allowed in state.items():
            until(b, keys[i], 200 if allowed else 403)
            until(a, keys[i], 200 if allowed else 403)


if __name__ == "__main__":
    unittest.main()
