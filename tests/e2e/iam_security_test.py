#!/usr/bin/env python3
"""What a hostile client sends to the IAM API, end to end: no signature, a forged or foreign one, a
replayed request with another body, duplicated parameters, a huge body, a slow client, encoded and
escaped names, tampered markers, forged forwarding headers. Each is refused with AWS's code, changes
nothing, and the server keeps serving.

Run with `python3 tests/e2e/iam_security_test.py -v` (scripts/test does).
"""

import os
import socket
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import ControlPlane, error_code  # noqa: E402

import botocore.exceptions  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402


class IamApiUnderAttack(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane(extra='[limits]\nheader_read_timeout = "1s"\n')
        cls.iam = cls.cp.root_client()

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()

    def signed(self, body, key=None, secret=None, service="iam", query="", headers=None):
        """A request signed by botocore (root key unless given), as (url, headers, body)."""
        url = self.cp.iam_url + "/" + (f"?{query}" if query else "")
        creds = Credentials(key or self.cp.root["AccessKeyId"], secret or self.cp.root["SecretAccessKey"])
        req = AWSRequest(
            method="POST",
            url=url,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", **(headers or {})},
        )
        SigV4Auth(creds, service, "us-east-1").add_auth(req)
        return url, dict(req.headers.items()), body

    def send(self, url, headers, body, method="POST"):
        req = urllib.request.Request(url, data=body.encode() if isinstance(body, str) else body,
                                     headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def code_of(self, text):
        start = text.find("<Code>")
        return text[start + 6:text.find("</Code>")] if start >= 0 else None

    def user_exists(self, name):
        try:
            self.iam.get_user(UserName=name)
            return True
        except self.iam.exceptions.NoSuchEntityException:
            return False

    def test_no_signature(self):
        status, text = self.send(self.cp.iam_url + "/", {"Content-Type": "application/x-www-form-urlencoded"},
                                 "Action=CreateUser&Version=2010-05-08&UserName=unsigned")
        self.assertEqual(status, 403)
        self.assertEqual(self.code_of(text), "MissingAuthenticationToken")
        self.assertFalse(self.user_exists("unsigned"))

    def test_unknown_key_and_wrong_secret(self):
        body = "Action=CreateUser&Version=2010-05-08&UserName=forged"
        status, text = self.send(*self.signed(body, key="AKIAIOSFODNN7EXAMPLE", secret="x" * 40))
        self.assertEqual((status, self.code_of(text)), (403, "InvalidClientTokenId"))
        status, text = self.send(*self.signed(body, secret="y" * 40))
        self.assertEqual((status, self.code_of(text)), (403, "SignatureDoesNotMatch"))
        self.assertFalse(self.user_exists("forged"))

    def test_a_signature_for_another_service(self):
        status, text = self.send(*self.signed("Action=CreateUser&Version=2010-05-08&UserName=s3scoped", service="s3"))
        self.assertEqual((status, self.code_of(text)), (403, "SignatureDoesNotMatch"))
        self.assertFalse(self.user_exists("s3scoped"))

    def test_a_replayed_signature_with_another_body(self):
        url, headers, _ = self.signed("Action=ListUsers&Version=2010-05-08")
        status, text = self.send(url, headers, "Action=CreateUser&Version=2010-05-08&UserName=replayed")
        self.assertEqual((status, self.code_of(text)), (403, "SignatureDoesNotMatch"))
        self.assertFalse(self.user_exists("replayed"))

    def test_duplicated_parameters_are_refused(self):
        # Once in the query and once in the body, and twice in the body: never "the last one wins".
        for query, body in [("UserName=dup-a", "Action=CreateUser&Version=2010-05-08&UserName=dup-b"),
                            ("", "Action=CreateUser&Version=2010-05-08&UserName=dup-a&UserName=dup-b")]:
            status, text = self.send(*self.signed(body, query=query))
            self.assertEqual((status, self.code_of(text)), (400, "InvalidInput"), text)
        self.assertFalse(self.user_exists("dup-a"))
        self.assertFalse(self.user_exists("dup-b"))

    def test_a_huge_body_is_refused_and_the_server_lives(self):
        body = "Action=CreateUser&Version=2010-05-08&UserName=huge&Path=/" + "a" * (300 * 1024) + "/"
        url = self.cp.iam_url + "/"
        try:
            status, _ = self.send(url, {"Content-Type": "application/x-www-form-urlencoded"}, body)
            self.assertGreaterEqual(status, 400)
        except (ConnectionError, urllib.error.URLError):
            pass  # The server may close the connection on a body over its limit.
        self.assertFalse(self.user_exists("huge"))

    def test_a_slow_client_is_cut_off(self):
        with socket.create_connection(("127.0.0.1", self.cp.ports["iam"]), timeout=10) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            s.settimeout(10)
            try:
                data = s.recv(1024)
            except ConnectionResetError:
                data = b""
            self.assertLess(time.monotonic() - started, 8, "the header read timeout (1s) closes it")
            self.assertFalse(data.startswith(b"HTTP/1.1 200"))
        self.iam.list_users()

    def test_encoded_and_escaped_names(self):
        for bad in ["../root", "a%2Fb", "bob\x00", "<x>", "a b"]:
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                self.iam.create_user(UserName=bad)
            self.assertEqual(error_code(e.exception), "ValidationError", bad)
        # Paths may hold XML's special characters (printable ASCII): they come back intact.
        path = "/<a&amp;'x\">/</a>/"
        self.iam.create_user(UserName="escaped", Path=path)
        self.assertEqual(self.iam.get_user(UserName="escaped")["User"]["Path"], path)
        # Tag values may not (AWS's pattern).
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            self.iam.create_user(UserName="tagged", Tags=[{"Key": "k", "Value": "<x>"}])
        self.assertEqual(error_code(e.exception), "ValidationError")

    def test_tampered_markers_and_page_sizes(self):
        for marker in ["zz", "00", "41" * 400, "not-hex"]:
            try:
                self.iam.list_users(Marker=marker)
            except botocore.exceptions.ClientError as e:
                self.assertEqual(error_code(e), "ValidationError", marker)
        for n in [0, 1001]:
            with self.assertRaises(botocore.exceptions.ParamValidationError if n == 0
                                   else botocore.exceptions.ClientError):
                self.iam.list_users(MaxItems=n)
        status, text = self.send(*self.signed("Action=ListUsers&Version=2010-05-08&MaxItems=-5"))
        self.assertEqual((status, self.code_of(text)), (400, "ValidationError"))

    def test_unknown_actions_and_versions(self):
        status, text = self.send(*self.signed("Action=DropDatabase&Version=2010-05-08"))
        self.assertEqual((status, self.code_of(text)), (400, "InvalidAction"))
        status, text = self.send(*self.signed("Action=ListUsers&Version=2011-06-15"))
        self.assertEqual((status, self.code_of(text)), (400, "InvalidAction"))

    def test_forged_forwarding_headers_do_not_move_the_source(self):
        url, headers, body = self.signed("Action=ListGroups&Version=2010-05-08",
                                         headers={"X-Forwarded-For": "203.0.113.66"})
        status, _ = self.send(url, headers, body)
        self.assertEqual(status, 200)
        line = self.cp.wait_decision(lambda d: d.get("eventName") == "ListGroups")
        self.assertEqual(line["sourceIpAddress"], "127.0.0.1")


if __name__ == "__main__":
    unittest.main()
