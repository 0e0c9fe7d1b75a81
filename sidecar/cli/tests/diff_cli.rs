//! `iamlet diff` on the example pair in `examples/diff/`.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test harness reports failures by panicking"
)]

mod common;

use common::iamlet_code as iamlet;

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

#[test]
fn diff_names_what_is_newly_allowed_and_by_which_statement() {
    let (code, out, err) = iamlet(&[
        "diff",
        "examples/diff/before.json",
        "examples/diff/after.json",
        "--principal",
        ALICE,
    ]);
    assert_eq!(
        code,
        Some(1),
        "access added must fail the command: {out}{err}"
    );
    for line in [
        "+ newly allowed: s3:DeleteObject on arn:aws:s3:::amzn-s3-demo-bucket/home/alice/* (by examples/diff/after.json Statement[0] (HomeFolder))",
        "+ newly allowed: s3:ListBucket on arn:aws:s3:::amzn-s3-demo-bucket (by examples/diff/after.json Statement[1] (ListBucket))",
        "on * when aws:RequestedRegion=eu-west-1 (by examples/diff/after.json Statement[2] (SeeInstancesInIreland))",
        "- no longer allowed: ec2:DescribeInstances on * (by examples/diff/before.json Statement[2] (SeeInstances))",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn diff_json_and_exit_status_without_grants() {
    // The reverse change only takes access away: exit 0.
    let (code, out, err) = iamlet(&[
        "diff",
        "--format",
        "json",
        "examples/diff/after.json",
        "examples/diff/before.json",
    ]);
    let d: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let granted = d["granted"].as_array().unwrap();
    let revoked = d["revoked"].as_array().unwrap();
    assert_eq!(granted.len(), 1, "{out}");
    assert_eq!(granted[0]["action"], "ec2:DescribeInstances");
    assert_eq!(granted[0]["before"], "ImplicitDeny");
    assert_eq!(granted[0]["after"], "Allow");
    assert_eq!(code, Some(1));
    assert!(revoked
        .iter()
        .any(|c| c["action"] == "s3:DeleteObject" && c["because"][0]["sid"] == "HomeFolder"));

    let (code, out, _) = iamlet(&[
        "diff",
        "examples/diff/before.json",
        "examples/diff/before.json",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("0 request(s) newly allowed, 0 no longer allowed"),
        "{out}"
    );

    let (code, _, err) = iamlet(&[
        "diff",
        "--type",
        "trust",
        "examples/diff/before.json",
        "examples/diff/after.json",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("error:"), "{err}");
}

#[test]
fn diff_of_a_principals_whole_set_between_two_exports() {
    let (code, out, err) = iamlet(&[
        "diff",
        "--exports",
        "examples/account.json",
        "examples/diff/account-after.json",
        "--principal",
        ALICE,
    ]);
    assert_eq!(code, Some(1), "{out}{err}");
    for line in [
        "+ newly allowed: iam:PassRole on arn:aws:iam::111122223333:role/service-role/* when iam:PassedToService=codebuild.amazonaws.com (by user/alice:inline/pass-ci-role Statement[0] (PassCiRole) in examples/diff/account-after.json)",
        // Leaving the oncall group: its tag-scoped statement no longer applies (the probes carry
        // alice's tags from the export, so `${aws:PrincipalTag/team}` is `payments`).
        "- no longer allowed: ec2:RebootInstances, ec2:StartInstances, ec2:StopInstances on arn:aws:ec2:*:111122223333:instance/* when aws:ResourceTag/team=payments (by group/oncall:inline/reboot-own-team Statement[0] (RebootOwnTeamsInstances) in examples/account.json)",
        "1 request(s) newly allowed, 3 no longer allowed",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    let (code, _, err) = iamlet(&[
        "diff",
        "--exports",
        "examples/account.json",
        "examples/diff/account-after.json",
        "--principal",
        "arn:aws:iam::111122223333:user/nobody",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("examples/account.json: principal `arn:aws:iam::111122223333:user/nobody` is not in the identity store"), "{err}");
}
