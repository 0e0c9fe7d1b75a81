#!/usr/bin/env python3
"""End-to-end tests of the decision cache through Envoy's gRPC API (the Python grpcio client of
ext_authz_test.py): repeated checks are answered from the cache with the stored explanation, values the
policies read are part of the key, time-dependent policies bypass it, a reloaded account is never
answered from the old one, and `[cache] decisions = false` turns it off. Counted in /metrics.

Run with `python3 tests/e2e/decision_cache_test.py -v` after `cargo build -p iamlet`.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ext_authz_test as e2e  # noqa: E402
from ext_authz_test import ALICE, BOB, ROOT, Base, metric, object_path  # noqa: E402

EXAMPLE_ACCOUNT = os.path.join(ROOT, "examples", "account.json")
TIMED = {
    "PolicyName": "until-2100",
    "PolicyDocument": {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
            "Condition": {"DateLessThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"}},
        }],
    },
}


def write_account(path, alice_policies=True):
    """The example account, bob given a time-dependent policy; alice's policies optional."""
    with open(EXAMPLE_ACCOUNT) as f:
        account = json.load(f)
    for user in account["UserDetailList"]:
        if user["UserName"] == "bob":
            user["UserPolicyList"] = [TIMED]
        if user["UserName"] == "alice" and not alice_policies:
            user["UserPolicyList"] = []
            user["GroupList"] = []
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(account, f)
    os.replace(tmp, path)


class DecisionCacheTest(Base):
    @classmethod
    def prepare(cls, directory):
        cls.account_path = os.path.join(directory, "account.json")
        write_account(cls.account_path)
        return {"accounts": cls.account_path, "poll": "100ms"}

    @classmethod
    def setUpClass(cls):
        cls.options = {"prepare": cls.prepare}
        super().setUpClass()

    def metrics(self):
        status, text = self.sidecar.admin("/metrics")
        self.assertEqual(status, 200)
        return text

    def counts(self):
        text = self.metrics()
        return (
            metric(text, "iamlet_decision_cache_hits_total"),
            metric(text, "iamlet_decision_cache_misses_total"),
            metric(text, "iamlet_decision_cache_bypasses_total", kind="time_dependent"),
        )

    def alice(self, rid, scheme="https", path=None):
        return self.check(path=path or object_path("alice"), scheme=scheme, request_id=rid,
                          headers={"x-iamlet-principal": ALICE})

    def test_1_repeats_hit_with_the_stored_explanation(self):
        hits, misses, _ = self.counts()
        self.assertAllowed(self.alice("cache-1a"), ALICE)
        self.assertAllowed(self.alice("cache-1b"), ALICE)
        # Another file of alice's, with another user agent: a different resource, a miss.
        self.assertAllowed(self.alice("cache-1c", path=object_path("alice", "other.txt")), ALICE)
        hits2, misses2, _ = self.counts()
        self.assertEqual(hits2 - hits, 1)
        self.assertEqual(misses2 - misses, 2)
        text = self.metrics()
        self.assertGreaterEqual(metric(text, "iamlet_decision_cache_entries"), 2)
        self.assertGreater(metric(text, "iamlet_decision_cache_bytes"), 0)
        first, second = self.log_line("cache-1a"), self.log_line("cache-1b")
        for field in ("decision", "decidingPolicy", "decidingStatement", "reason"):
            self.assertEqual(first[field], second[field], field)
        self.assertTrue(second["decidingStatement"])

    def test_2_values_the_policies_read_are_in_the_key(self):
        # The bucket policy denies requests without TLS (aws:SecureTransport).
        self.assertAllowed(self.alice("cache-2a"), ALICE)
        self.assertDenied(self.alice("cache-2b", scheme="http"), "ExplicitDeny")
        self.assertAllowed(self.alice("cache-2c"), ALICE)
        self.assertDenied(self.alice("cache-2d", scheme="http"), "ExplicitDeny")

    def test_3_time_dependent_sets_bypass(self):
        hits, _, bypasses = self.counts()
        for rid in ("cache-3a", "cache-3b"):
            self.assertAllowed(
                self.check(path=object_path("bob"), request_id=rid,
                           headers={"x-iamlet-principal": BOB}),
                BOB,
            )
        hits2, _, bypasses2 = self.counts()
        self.assertEqual(bypasses2 - bypasses, 2)
        self.assertEqual(hits2, hits)

    def test_4_a_reloaded_account_is_never_answered_from_the_old_one(self):
        self.assertAllowed(self.alice("cache-4a"), ALICE)
        self.assertAllowed(self.alice("cache-4b"), ALICE)
        write_account(self.account_path, alice_policies=False)
        try:
            deadline = time.monotonic() + 10
            while True:
                resp = self.alice(f"cache-4c-{time.monotonic()}")
                if resp.status.code != 0:
                    self.assertDenied(resp, "ImplicitDeny")
                    break
                self.assertLess(time.monotonic(), deadline, "the reload never took effect")
                time.sleep(0.1)
            # From now on, never the old allow.
            for i in range(5):
                self.assertDenied(self.alice(f"cache-4d-{i}"), "ImplicitDeny")
        finally:
            write_account(self.account_path)
            deadline = time.monotonic() + 10
            while self.alice(f"cache-4e-{time.monotonic()}").status.code != 0:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.1)


class DecisionCacheOffTest(Base):
    options = {"extra": "[cache]\ndecisions = false"}

    def test_no_decision_is_remembered(self):
        for rid in ("off-1", "off-2"):
            self.assertAllowed(
                self.check(path=object_path("alice"), request_id=rid,
                           headers={"x-iamlet-principal": ALICE}),
                ALICE,
            )
        _, text = self.sidecar.admin("/metrics")
        self.assertEqual(metric(text, "iamlet_decision_cache_hits_total"), 0)
        self.assertEqual(metric(text, "iamlet_decision_cache_misses_total"), 0)


def setUpModule():
    e2e.setUpModule()


def tearDownModule():
    e2e.tearDownModule()


if __name__ == "__main__":
    unittest.main()
