#!/usr/bin/env python3
"""The IAM API benchmark's tools (bench/iam/run) run briefly against a live control plane, so they
cannot rot: `iamlet-iam-load` makes every kind of mutating call it measures (each one answered 200,
or the tool fails), and `iamlet-iam-details` fills a small account through the store crate, times
its `all_details`, and the load tool walks every page of GetAccountAuthorizationDetails. Never timed.

Run with `python3 tests/e2e/iam_bench_test.py -v` after `cargo build -p iamlet -p iamlet-bench`
(IAMLET_BIN, IAMLET_IAM_LOAD and IAMLET_IAM_DETAILS override the binaries).
"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import ACCOUNT, ROOT, ControlPlane  # noqa: E402

TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
LOAD = os.environ.get("IAMLET_IAM_LOAD", os.path.join(TARGET, "debug", "iamlet-iam-load"))
DETAILS = os.environ.get("IAMLET_IAM_DETAILS", os.path.join(TARGET, "debug", "iamlet-iam-details"))


def load(cp, *args):
    env = dict(os.environ, IAMLET_ACCESS_KEY_ID=cp.root["AccessKeyId"],
               IAMLET_SECRET_ACCESS_KEY=cp.root["SecretAccessKey"])
    out = subprocess.run([LOAD, "--target", f"127.0.0.1:{cp.ports['iam']}", *args],
                         env=env, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise AssertionError(f"iamlet-iam-load {' '.join(args)}: {out.stderr}")
    return json.loads(out.stdout)


class LoadTool(unittest.TestCase):
    def test_every_measured_call(self):
        cp = ControlPlane()
        self.addCleanup(cp.close)
        iam = cp.root_client()
        for action in ("create-user", "tag-user", "add-user-to-group", "put-user-policy", "attach-user-policy"):
            with self.subTest(action=action):
                r = load(cp, "--action", action, "--concurrency", "4", "--count", "40", "--prefix", action[:3])
                self.assertEqual((r["action"], r["calls"], r["concurrency"]), (action, 40, 4))
                self.assertLessEqual(r["p50_ms"], r["p99_ms"])
        # What the calls did is there.
        self.assertEqual(len([u for u in iam.list_users(MaxItems=1000)["Users"] if u["UserName"].startswith("cre-")]), 40)
        self.assertEqual(len(iam.list_user_tags(UserName="tag-t0")["Tags"]), 40)
        self.assertEqual(len(iam.list_groups_for_user(UserName="add-m0")["Groups"]), 10)
        self.assertEqual(len(iam.list_user_policies(UserName="put-p0")["PolicyNames"]), 16)
        self.assertEqual(len(iam.list_attached_user_policies(UserName="att-a0")["AttachedPolicies"]), 7)


class DetailsTool(unittest.TestCase):
    def test_a_small_account_filled_timed_and_walked(self):
        cp = ControlPlane(init=False, start=False)
        self.addCleanup(cp.close)
        out = subprocess.run([DETAILS, "populate", "--database", "sqlite:iam.db", "--account-id", ACCOUNT,
                              "--scale", "0.01"], cwd=cp.dir, capture_output=True, text=True, timeout=300)
        self.assertEqual(out.returncode, 0, out.stderr)
        cp.root = json.loads(out.stdout)
        timed = subprocess.run([DETAILS, "time", "--database", "sqlite:iam.db", "--runs", "2"],
                               cwd=cp.dir, capture_output=True, text=True, timeout=300)
        self.assertEqual(timed.returncode, 0, timed.stderr)
        t = json.loads(timed.stdout)
        self.assertEqual(len(t["seconds"]), 2)
        self.assertEqual((t["users"], t["groups"], t["roles"]), (50, 3, 10))
        # The account's 15 policies, and AWS's that are attached (none).
        self.assertEqual(t["policies"], 15)
        cp.start()
        walk = load(cp, "--action", "authorization-details", "--count", "1", "--max-items", "20")
        # 50 + 3 + 10 + 15 entities, 20 a page.
        self.assertEqual(walk["pages"], 4)


if __name__ == "__main__":
    unittest.main()
