#!/usr/bin/env python3
"""End-to-end tests of trace correlation, with the Python grpcio client of ext_authz_test.py and plain
HTTP: a checked request's W3C `traceparent`/`tracestate` and `x-request-id` reach the decision log; the
decision id comes back as a header for the upstream (`x-iamlet-decision-id`), as Envoy's dynamic
metadata (`decision_id`, `request_id`, `decision`) and in deny bodies (`decisionId`), and names the
decision's log line.

Run with `python3 tests/e2e/trace_test.py -v` after `cargo build -p iamlet`.
"""

import json
import os
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ext_authz_test as e2e  # noqa: E402
from ext_authz_test import ALICE, Base, object_path  # noqa: E402

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACESTATE = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"


def metadata(resp):
    return {k: v.string_value for k, v in resp.dynamic_metadata.fields.items()}


class TraceCorrelationTest(Base):
    engine = "native"

    def traced(self, path, rid, **headers):
        headers = {"traceparent": TRACEPARENT, "tracestate": TRACESTATE,
                   "x-iamlet-principal": ALICE, **headers}
        return self.check(path=path, request_id=rid, headers=headers)

    def test_an_allow_carries_the_decision_id_upstream_and_in_metadata(self):
        resp = self.traced(object_path("alice"), "trace-allow")
        upstream = self.assertAllowed(resp, ALICE)
        decision_id = upstream["x-iamlet-decision-id"]
        self.assertTrue(decision_id)
        self.assertEqual(
            metadata(resp),
            {"decision_id": decision_id, "request_id": "trace-allow", "decision": "Allow"},
        )
        line = self.log_line("trace-allow")
        self.assertEqual(line["decisionId"], decision_id)
        self.assertEqual(line["traceparent"], TRACEPARENT)
        self.assertEqual(line["tracestate"], TRACESTATE)

    def test_a_deny_carries_it_in_the_body_header_and_metadata(self):
        resp = self.traced(object_path("bob"), "trace-deny")
        body = self.assertDenied(resp, "ImplicitDeny")
        headers = {o.header.key: o.header.value for o in resp.denied_response.headers}
        self.assertEqual(headers["x-iamlet-decision-id"], body["decisionId"])
        self.assertEqual(metadata(resp)["decision_id"], body["decisionId"])
        self.assertEqual(metadata(resp)["decision"], "ImplicitDeny")
        self.assertEqual(self.log_line("trace-deny")["decisionId"], body["decisionId"])

    def test_decision_ids_are_unique_even_for_one_request_id(self):
        ids = set()
        for _ in range(3):
            resp = self.traced(object_path("alice"), "same-request-id")
            ids.add(self.assertAllowed(resp, ALICE)["x-iamlet-decision-id"])
        self.assertEqual(len(ids), 3)

    def test_malformed_trace_context_is_not_logged(self):
        resp = self.traced(object_path("alice"), "trace-bad",
                           traceparent="00-zz-00f067aa0ba902b7-01", tracestate="a=b")
        self.assertAllowed(resp, ALICE)
        line = self.log_line("trace-bad")
        self.assertNotIn("traceparent", line)
        self.assertNotIn("tracestate", line)

    def test_the_http_mode_returns_the_decision_id(self):
        headers = {"traceparent": TRACEPARENT, "x-request-id": "trace-http",
                   "x-iamlet-principal": ALICE, "x-forwarded-proto": "https"}
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.sidecar.ports['http']}{object_path('alice')}", headers=headers)
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)
            decision_id = r.headers["x-iamlet-decision-id"]
        line = self.log_line("trace-http")
        self.assertEqual(line["decisionId"], decision_id)
        self.assertEqual(line["traceparent"], TRACEPARENT)
        headers["x-request-id"] = "trace-http-deny"
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.sidecar.ports['http']}{object_path('bob')}", headers=headers)
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        body = json.loads(e.exception.read())
        self.assertEqual(e.exception.headers["x-iamlet-decision-id"], body["decisionId"])


def setUpModule():
    e2e.setUpModule()


def tearDownModule():
    e2e.tearDownModule()


if __name__ == "__main__":
    unittest.main()
