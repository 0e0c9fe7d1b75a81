#!/usr/bin/env python3
"""Durability of the IAM database under the IAM API, end to end:

- `kill -9` of `iamlet serve` during a burst of writes (client threads creating users with tags,
  adding them to groups, tagging them, putting policies, as fast as they can): after a restart every
  call that was answered 200 is there, and no call is half done (a user without the tags it was
  created with); the SQLite file passes `PRAGMA integrity_check`.
- Concurrent writers lose nothing: threads adding distinct tags, members, groups, inline policies and
  policy versions to the same entities; every acknowledged change is there, and quotas hold exactly
  (never one over because two writers checked at once).
- Two `iamlet serve` processes on one SQLite file: both write at once, nothing is lost, quotas hold
  across them, and the sidecar of one sees a key the other created within its poll interval.

Run with `python3 tests/e2e/iam_durability_test.py -v` after `cargo build -p iamlet` (IAMLET_BIN
overrides the binary).
"""

import json
import os
import signal
import sqlite3
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import S3_ROUTE, ControlPlane, error_code  # noqa: E402

import botocore.exceptions  # noqa: E402

DOC = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/%s"}}'
ROUTES = S3_ROUTE


def all_pages(method, key, **kw):
    out, marker = [], None
    while True:
        page = method(**kw, **({"Marker": marker} if marker else {}))
        out += page[key]
        if not page.get("IsTruncated"):
            return out
        marker = page["Marker"]


def integrity(db_path):
    con = sqlite3.connect(db_path)
    try:
        return (con.execute("PRAGMA integrity_check").fetchall(),
                con.execute("PRAGMA foreign_key_check").fetchall())
    finally:
        con.close()


class Acks:
    """What the server acknowledged (a 200), recorded by many threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = {}

    def add(self, kind, value):
        with self.lock:
            self.items.setdefault(kind, set()).add(value)

    def get(self, kind):
        return self.items.get(kind, set())


class KillDuringBurst(unittest.TestCase):
    def test_acknowledged_writes_survive_kill_9(self):
        cp = ControlPlane()
        self.addCleanup(cp.close)
        iam = cp.root_client()
        groups = [f"burst-g{i}" for i in range(3)]
        for g in groups:
            iam.create_group(GroupName=g)
        acks, dying, errors = Acks(), threading.Event(), []

        def writer(t):
            # Writes until the server dies under it, so that calls are in flight at the kill.
            client = cp.root_client()
            i = 0
            try:
                while True:
                    i += 1
                    name = f"b{t}-{i}"
                    client.create_user(UserName=name, Tags=[{"Key": "thread", "Value": str(t)},
                                                            {"Key": "seq", "Value": str(i)}])
                    acks.add("users", name)
                    client.add_user_to_group(GroupName=groups[i % len(groups)], UserName=name)
                    acks.add("members", (groups[i % len(groups)], name))
                    client.tag_user(UserName=name, Tags=[{"Key": "after", "Value": str(i)}])
                    acks.add("tags", name)
                    client.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=DOC % name)
                    acks.add("policies", name)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
                # The server died under the call: it was not acknowledged.
                if not dying.is_set():
                    errors.append(e)

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(6)]
        for th in threads:
            th.start()
        deadline = time.monotonic() + 30
        while len(acks.get("users")) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        dying.set()
        cp.stop(signal.SIGKILL)
        for th in threads:
            th.join(timeout=60)
        self.assertFalse(errors, errors[:3])
        self.assertGreater(len(acks.get("users")), 50, "the burst wrote too little to prove anything")

        checks, keys = integrity(os.path.join(cp.dir, "iam.db"))
        self.assertEqual(checks, [("ok",)])
        self.assertEqual(keys, [])

        cp.start()
        iam = cp.root_client()
        users = {u["UserName"] for u in all_pages(iam.list_users, "Users")}
        self.assertLessEqual(acks.get("users"), users, "acknowledged users were lost")
        members = set()
        for g in groups:
            members |= {(g, u["UserName"]) for u in all_pages(iam.get_group, "Users", GroupName=g)}
        self.assertLessEqual(acks.get("members"), members, "acknowledged memberships were lost")
        for name in sorted(users):
            tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=name)["Tags"]}
            t, i = name[1:].split("-")
            # Created with its tags or not at all: never half done.
            self.assertEqual((tags.get("thread"), tags.get("seq")), (t, i), name)
            if name in acks.get("tags"):
                self.assertEqual(tags.get("after"), i, name)
            if name in acks.get("policies"):
                self.assertEqual(iam.get_user_policy(UserName=name, PolicyName="read")["PolicyName"], "read")


class ConcurrentWriters(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane()
        cls.iam = cls.cp.root_client()

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()

    def run_threads(self, n, work):
        """Runs work(t, client) in n threads at once, each with its own client; their results."""
        barrier = threading.Barrier(n)

        def one(t):
            client = self.cp.root_client()
            barrier.wait()
            return work(t, client)

        with ThreadPoolExecutor(n) as pool:
            return list(pool.map(one, range(n)))

    def attempt(self, call):
        """True when acknowledged; the error code otherwise."""
        try:
            call()
            return True
        except botocore.exceptions.ClientError as e:
            return error_code(e)

    def test_tags_on_one_user(self):
        self.iam.create_user(UserName="shared-tags")
        results = self.run_threads(5, lambda t, c: [
            (f"t{t}-{i}", self.attempt(lambda: c.tag_user(UserName="shared-tags", Tags=[{"Key": f"t{t}-{i}", "Value": str(i)}])))
            for i in range(10)])
        acked = {k for r in results for k, ok in r if ok is True}
        self.assertEqual(len(acked), 50)
        have = {t["Key"] for t in all_pages(self.iam.list_user_tags, "Tags", UserName="shared-tags")}
        self.assertEqual(have, acked)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.tag_user(UserName="shared-tags", Tags=[{"Key": "one-too-many", "Value": "x"}])
        self.assertEqual(error_code(e.exception), "LimitExceeded")

    def test_members_of_one_group(self):
        self.iam.create_group(GroupName="crowd")
        for t in range(8):
            for i in range(12):
                self.iam.create_user(UserName=f"crowd-{t}-{i}")
        results = self.run_threads(8, lambda t, c: [
            (f"crowd-{t}-{i}", self.attempt(lambda: c.add_user_to_group(GroupName="crowd", UserName=f"crowd-{t}-{i}")))
            for i in range(12)])
        acked = {u for r in results for u, ok in r if ok is True}
        self.assertEqual(len(acked), 96)
        have = {u["UserName"] for u in all_pages(self.iam.get_group, "Users", GroupName="crowd")}
        self.assertEqual(have, acked)

    def test_groups_per_user_quota_holds_under_a_race(self):
        self.iam.create_user(UserName="joiner")
        for g in range(14):
            self.iam.create_group(GroupName=f"club-{g}")
        results = self.run_threads(14, lambda t, c: self.attempt(
            lambda: c.add_user_to_group(GroupName=f"club-{t}", UserName="joiner")))
        self.assertEqual(sorted(map(str, results)), sorted(["True"] * 10 + ["LimitExceeded"] * 4))
        have = {g["GroupName"] for g in all_pages(self.iam.list_groups_for_user, "Groups", UserName="joiner")}
        self.assertEqual(have, {f"club-{t}" for t, ok in enumerate(results) if ok is True})

    def test_inline_policies_of_one_user(self):
        self.iam.create_user(UserName="many-policies")
        results = self.run_threads(6, lambda t, c: [
            (f"p{t}-{i}", self.attempt(lambda: c.put_user_policy(
                UserName="many-policies", PolicyName=f"p{t}-{i}", PolicyDocument=DOC % f"{t}-{i}")))
            for i in range(3)])
        acked = {p for r in results for p, ok in r if ok is True}
        self.assertEqual(len(acked), 18)
        have = set(all_pages(self.iam.list_user_policies, "PolicyNames", UserName="many-policies"))
        self.assertEqual(have, acked)
        for name in acked:
            doc = self.iam.get_user_policy(UserName="many-policies", PolicyName=name)["PolicyDocument"]
            self.assertEqual(doc["Statement"]["Resource"], f"arn:aws:s3:::b/{name[1:]}")

    def test_policy_versions_quota_holds_under_a_race(self):
        arn = self.iam.create_policy(PolicyName="versioned", PolicyDocument=DOC % "v1")["Policy"]["Arn"]
        results = self.run_threads(7, lambda t, c: self.attempt(lambda: c.create_policy_version(
            PolicyArn=arn, PolicyDocument=DOC % f"t{t}", SetAsDefault=True)))
        # Five versions at most: v1 and four of the seven.
        self.assertEqual(sorted(map(str, results)), sorted(["True"] * 4 + ["LimitExceeded"] * 3))
        versions = all_pages(self.iam.list_policy_versions, "Versions", PolicyArn=arn)
        self.assertEqual(len(versions), 5)
        self.assertEqual(len({v["VersionId"] for v in versions}), 5)
        self.assertEqual(sum(1 for v in versions if v["IsDefaultVersion"]), 1)

    def test_zz_the_file_is_consistent(self):
        checks, keys = integrity(os.path.join(self.cp.dir, "iam.db"))
        self.assertEqual(checks, [("ok",)])
        self.assertEqual(keys, [])


class TwoProcesses(unittest.TestCase):
    """Two `iamlet serve` on one SQLite file, as two replicas on one machine would be."""

    @classmethod
    def setUpClass(cls):
        cls.one = ControlPlane(extra=ROUTES)
        cls.two = ControlPlane(extra=ROUTES, database=f"sqlite:{os.path.join(cls.one.dir, 'iam.db')}", init=False)
        cls.two.root = cls.one.root

    @classmethod
    def tearDownClass(cls):
        cls.two.close()
        cls.one.close()

    def test_both_write_and_nothing_is_lost(self):
        acks = Acks()

        def writer(t):
            cp = (self.one, self.two)[t % 2]
            c = cp.root_client()
            for i in range(25):
                name = f"dual-{t}-{i}"
                c.create_user(UserName=name)
                acks.add("users", name)
                c.tag_user(UserName="dual-shared", Tags=[{"Key": f"k{t}-{i % 8}", "Value": str(i)}])
                acks.add("tags", f"k{t}-{i % 8}")

        self.one.root_client().create_user(UserName="dual-shared")
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(writer, range(6)))
        for cp in (self.one, self.two):
            iam = cp.root_client()
            users = {u["UserName"] for u in all_pages(iam.list_users, "Users", PathPrefix="/")}
            self.assertLessEqual(acks.get("users"), users)
            tags = {t["Key"] for t in all_pages(iam.list_user_tags, "Tags", UserName="dual-shared")}
            self.assertEqual(tags, acks.get("tags"))

    def test_quota_holds_across_processes(self):
        self.one.root_client().create_user(UserName="dual-joiner")
        for g in range(14):
            self.two.root_client().create_group(GroupName=f"dual-club-{g}")
        barrier = threading.Barrier(14)

        def join(g):
            c = (self.one, self.two)[g % 2].root_client()
            barrier.wait()
            try:
                c.add_user_to_group(GroupName=f"dual-club-{g}", UserName="dual-joiner")
                return True
            except botocore.exceptions.ClientError as e:
                return error_code(e)

        with ThreadPoolExecutor(14) as pool:
            results = list(pool.map(join, range(14)))
        self.assertEqual(sorted(map(str, results)), sorted(["True"] * 10 + ["LimitExceeded"] * 4))

    def test_a_key_made_by_one_signs_for_the_other(self):
        iam2 = self.two.root_client()
        iam2.create_user(UserName="dual-keyed")
        key = iam2.create_access_key(UserName="dual-keyed")["AccessKey"]
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        url = f"http://127.0.0.1:{self.one.ports['http']}/buckets/b/objects/k"
        started = time.monotonic()
        while True:
            request = AWSRequest(method="GET", url=url)
            S3SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "s3", "us-east-1").add_auth(request)
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=dict(request.headers.items())), timeout=10) as r:
                    status, body = r.status, ""
            except urllib.error.HTTPError as e:
                status, body = e.code, e.read().decode()
            # Known key: the user is the principal (denied for want of a policy), not Unauthenticated.
            if status == 403 and json.loads(body).get("decision") == "ImplicitDeny":
                break
            self.assertLess(time.monotonic() - started, 5, f"process one never knew the key: {status} {body}")
            time.sleep(0.05)
        # The poll interval is 200 ms; allow the scheduling of two busy processes.
        self.assertLess(time.monotonic() - started, 2.0)


if __name__ == "__main__":
    unittest.main()
