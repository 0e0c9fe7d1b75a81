#!/usr/bin/env python3
"""Writes an account export (get-account-authorization-details JSON) with N generated users on top
of examples/account.json: each user shaped like alice (an inline home-folder policy, the developers
and oncall groups with their managed policies, two tags), so every one is a typical principal.

    bench/sidecar/accounts.py --users 100000 > account.json
"""
import argparse
import copy
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, required=True)
    args = ap.parse_args()
    with open(os.path.join(ROOT, "examples", "account.json")) as f:
        export = json.load(f)
    alice = next(u for u in export["UserDetailList"] if u["UserName"] == "alice")
    users = export["UserDetailList"]
    for n in range(args.users):
        u = copy.deepcopy(alice)
        name = f"user{n}"
        u["UserName"] = name
        u["UserId"] = f"AIDA{n:016d}"
        u["Arn"] = f"arn:aws:iam::111122223333:user/{name}"
        u["Tags"] = [{"Key": "team", "Value": f"team{n % 50}"}, {"Key": "cost-center", "Value": f"cc-{n % 997}"}]
        users.append(u)
    json.dump(export, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
