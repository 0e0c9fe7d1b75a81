#!/usr/bin/env python3
"""End-to-end tests of the decision log in CloudTrail's record format (`[decision_log] format =
"cloudtrail"`): two sidecars, one per format, get the same checks from the grpcio client; the CloudTrail
lines carry CloudTrail's fields (and Iamlet's under `additionalEventData.iamlet`), and `iamlet report`
reads both formats, and CloudTrail's own `{"Records": [...]}` files, to the same report.

Run with `python3 tests/e2e/cloudtrail_test.py -v` after `cargo build -p iamlet`.
"""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ext_authz_test as e2e  # noqa: E402
from ext_authz_test import ALICE, ROOT, Sidecar, check_request, iamlet_cli, object_path  # noqa: E402

ACCOUNT = os.path.join(ROOT, "examples", "account.json")


class CloudTrailTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sidecars = {}
        try:
            for fmt in ("iamlet", "cloudtrail"):
                s = Sidecar("native", log_format=fmt)
                cls.sidecars[fmt] = s
                s.wait_ready()
            cls.send_checks()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for s in cls.sidecars.values():
            s.stop()

    CHECKS = [
        # (request id, path, scheme, principal header)
        ("ct-allow", object_path("alice"), "https", ALICE),
        ("ct-implicit", object_path("bob"), "https", ALICE),
        ("ct-explicit", object_path("alice"), "http", ALICE),
        ("ct-anonymous", object_path("alice"), "https", None),
    ]

    @classmethod
    def send_checks(cls):
        for s in cls.sidecars.values():
            for rid, path, scheme, principal in cls.CHECKS:
                headers = {"x-iamlet-principal": principal} if principal else {}
                s.stub().Check(check_request(path=path, scheme=scheme, request_id=rid,
                                             headers=headers, source_ip="192.0.2.7"), timeout=10)
            s.wait_decisions(len(cls.CHECKS))

    def events(self):
        return {e["requestID"]: e for e in self.sidecars["cloudtrail"].decisions()}

    def test_records_have_cloudtrails_fields(self):
        e = self.events()["ct-allow"]
        for field in ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName",
                      "awsRegion", "sourceIPAddress", "userAgent", "requestID", "eventID",
                      "readOnly", "eventType", "recipientAccountId"):
            self.assertIn(field, e)
        self.assertEqual(e["eventVersion"], "1.08")
        self.assertEqual((e["eventSource"], e["eventName"]), ("s3.amazonaws.com", "GetObject"))
        self.assertEqual(e["eventType"], "AwsApiCall")
        self.assertEqual(e["awsRegion"], "eu-west-1")
        self.assertEqual(e["sourceIPAddress"], "192.0.2.7")
        self.assertEqual(e["userAgent"], "e2e-test/1.0")
        self.assertIs(e["readOnly"], True)
        self.assertEqual(e["recipientAccountId"], "111122223333")
        self.assertEqual(e["userIdentity"], {
            "type": "IAMUser", "principalId": "AIDAALICEEXAMPLE1111", "arn": ALICE,
            "accountId": "111122223333", "userName": "alice",
        })
        self.assertNotIn("errorCode", e)
        iamlet = e["additionalEventData"]["iamlet"]
        self.assertEqual(iamlet["decision"], "Allow")
        self.assertTrue(iamlet["decidingStatement"])
        self.assertTrue(e["eventID"].startswith("iamlet-"))

    def test_denials_have_error_codes_and_the_deciding_statement(self):
        events = self.events()
        implicit, explicit = events["ct-implicit"], events["ct-explicit"]
        self.assertEqual(implicit["errorCode"], "AccessDenied")
        self.assertIn("is not authorized to perform: s3:GetObject", implicit["errorMessage"])
        self.assertIn("because no policy allows", implicit["errorMessage"])
        self.assertEqual(explicit["errorCode"], "AccessDenied")
        self.assertIn("with an explicit deny", explicit["errorMessage"])
        self.assertIn("TlsOnly", explicit["additionalEventData"]["iamlet"]["decidingStatement"])
        anonymous = events["ct-anonymous"]
        self.assertEqual(anonymous["userIdentity"], {"type": "Unknown"})
        self.assertEqual(anonymous["additionalEventData"]["iamlet"]["decision"], "Unauthenticated")

    def report(self, log):
        out = iamlet_cli("report", "access-advisor", "--log", log, "--account", ACCOUNT,
                         "--format", "json")
        return json.loads(out)

    def test_the_report_reads_both_formats_alike(self):
        ours = self.report(self.sidecars["iamlet"].log_path)
        theirs = self.report(self.sidecars["cloudtrail"].log_path)
        # Times differ between the two sidecars by milliseconds; the rest is the same.
        strip = json.dumps(ours, sort_keys=True)
        self.assertIn(ALICE, strip)

        def without_times(report):
            text = json.dumps(report, sort_keys=True)
            import re
            return re.sub(r'"\d{4}-\d\d-\d\dT[^"]*"', '"T"', text)

        self.assertEqual(without_times(ours), without_times(theirs))
        # CloudTrail's own delivery format: one object with the records.
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"Records": list(self.events().values())}, f)
            path = f.name
        try:
            self.assertEqual(without_times(self.report(path)), without_times(ours))
        finally:
            os.unlink(path)


def setUpModule():
    e2e.setUpModule()


def tearDownModule():
    e2e.tearDownModule()


if __name__ == "__main__":
    unittest.main()
