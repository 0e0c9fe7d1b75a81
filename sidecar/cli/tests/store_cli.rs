//! `iamlet eval --account` and `iamlet principals` on the example account.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test harness reports failures by panicking"
)]

mod common;

use common::iamlet;

#[test]
fn eval_resolves_the_principal_from_the_export() {
    let (ok, out, err) = iamlet(&[
        "eval",
        "--account",
        "examples/account.json",
        "--principal",
        "arn:aws:iam::111122223333:user/alice",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::amzn-s3-demo-bucket/home/alice/notes.txt",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("Decision: Allow"), "{out}");
    assert!(
        out.contains("identity-based policy `user/alice:inline/s3-home`"),
        "{out}"
    );
    assert!(
        out.contains("groups: arn:aws:iam::111122223333:group/developers"),
        "{out}"
    );
}

#[test]
fn eval_with_the_organization_and_an_extra_policy_file() {
    let (ok, out, err) = iamlet(&[
        "eval",
        "--account",
        "examples/account.json",
        "--organization",
        "examples/organization.json",
        "--scp",
        "examples/policies/region-scp.json",
        "--principal",
        "arn:aws:iam::111122223333:user/bob",
        "--action",
        "iam:CreateUser",
        "--resource",
        "arn:aws:iam::111122223333:user/mallory",
        "--context",
        "aws:RequestedRegion=us-east-1",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "ImplicitDeny", "{out}");
    assert!(out.contains("AdminBoundary"), "{out}");
}

#[test]
fn eval_names_unknown_principals_and_broken_files() {
    let (ok, _, err) = iamlet(&[
        "eval",
        "--account",
        "examples/account.json",
        "--principal",
        "arn:aws:iam::111122223333:user/mallory",
        "--action",
        "s3:GetObject",
        "--resource",
        "*",
    ]);
    assert!(!ok);
    assert!(
        err.contains(
            "principal `arn:aws:iam::111122223333:user/mallory` is not in the identity store"
        ),
        "{err}"
    );
    let (ok, _, err) = iamlet(&[
        "eval",
        "--account",
        "examples/organization.json",
        "--principal",
        "arn:aws:iam::111122223333:user/alice",
        "--action",
        "s3:GetObject",
        "--resource",
        "*",
    ]);
    assert!(!ok);
    assert!(err.contains("examples/organization.json"), "{err}");
}

#[test]
fn principals_lists_what_applies_to_each() {
    let (ok, out, err) = iamlet(&[
        "principals",
        "--account",
        "examples/account.json",
        "--organization",
        "examples/organization.json",
    ]);
    assert!(ok, "{err}");
    for arn in [
        "arn:aws:iam::111122223333:user/alice",
        "arn:aws:iam::111122223333:user/bob",
        "arn:aws:iam::111122223333:user/audit/carol",
        "arn:aws:iam::111122223333:role/service-role/ci-deploy",
        "arn:aws:iam::111122223333:role/break-glass",
    ] {
        assert!(
            out.contains(&format!("Principal: {arn} ")),
            "{arn} missing: {out}"
        );
    }
    assert!(out.contains(
        "permissions boundary: arn:aws:iam::111122223333:policy/boundaries/AdminBoundary"
    ));
    assert!(out.contains("tags: team=payments, cost-center=cc-1234"));
    assert!(out.contains("SCPs (root first): r-a1b2: FullAWSAccess, DenyLeavingTheOrganization"));
    let (ok, out, _) = iamlet(&[
        "principals",
        "--account",
        "examples/account.json",
        "--format",
        "json",
    ]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 5);
}
