#!/usr/bin/env python3
"""The AWS SDK for JavaScript v3 against the IAM API: starts a control plane and runs the Node test
in tests/e2e/iam_js/ (`node --test`) with the endpoint and the root key in its environment.

Run with `python3 tests/e2e/iam_js_test.py -v` after `cargo build -p iamlet` and `npm ci` in
tests/e2e/iam_js (scripts/setup does it); IAMLET_BIN overrides the binary.
"""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import ACCOUNT, ControlPlane  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "iam_js")


class JavaScriptSdk(unittest.TestCase):
    def test_node_sdk_lists_and_creates_users(self):
        if not os.path.isdir(os.path.join(HERE, "node_modules", "@aws-sdk", "client-iam")):
            self.fail("@aws-sdk/client-iam is not installed: run `npm ci` in tests/e2e/iam_js")
        cp = ControlPlane()
        try:
            env = {
                "PATH": os.environ["PATH"],
                "HOME": cp.dir,
                "IAMLET_IAM_ENDPOINT": cp.iam_url,
                "IAMLET_ACCOUNT_ID": ACCOUNT,
                "IAMLET_ACCESS_KEY_ID": cp.root["AccessKeyId"],
                "IAMLET_SECRET_ACCESS_KEY": cp.root["SecretAccessKey"],
                # Nothing of the machine's AWS configuration.
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            }
            r = subprocess.run(["node", "--test", "iam.test.mjs"], cwd=HERE, env=env,
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("# pass 4", r.stdout)
            self.assertIn("# fail 0", r.stdout)
        finally:
            cp.close()


if __name__ == "__main__":
    unittest.main()
