//! `iamlet lint` and `iamlet actions` on example files.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test harness reports failures by panicking"
)]

mod common;

use common::iamlet_code as iamlet;

#[test]
fn lint_reports_findings_with_positions_and_fails_on_errors() {
    let (code, out, err) = iamlet(&["lint", "examples/lint/risky.json"]);
    assert_eq!(code, Some(1), "{out}{err}");
    for line in [
        "examples/lint/risky.json:1:1: suggestion [missing_version]",
        "examples/lint/risky.json:5:34: error [unknown_action]: Statement[0].Action[1]: `s3:GetObjekt` is not an action of `s3`",
        "examples/lint/risky.json:6:19: security warning [pass_role_with_star]: Statement[0].Resource",
        "examples/lint/risky.json:12:43: error [type_mismatch]: Statement[1].Condition.NumericLessThan.aws:SourceIp",
        "examples/lint/risky.json:16:18: error [action_requires_star_resource]: Statement[2].Action[0]: `s3:ListAllMyBuckets` supports no resource-level permissions",
        "examples/lint/risky.json:16:41: error [action_matches_no_resource]: Statement[2].Action[1]: `s3:GetObject` acts on none of the statement's resources",
        "examples/lint/risky.json:17:19: error [resource_matches_no_action]: Statement[2].Resource: `arn:aws:s3:::amzn-s3-demo-bucket` is no resource that the statement's actions act on",
        "1 file(s), 7 finding(s), 5 error(s)",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn lint_json_and_clean_files() {
    let (code, out, err) = iamlet(&[
        "lint",
        "--format",
        "json",
        "examples/policies/developer.json",
    ]);
    assert!(code.is_some(), "{err}");
    let docs: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(docs[0]["file"], "examples/policies/developer.json");
    let findings = docs[0]["findings"].as_array().unwrap();
    let errors = findings.iter().filter(|f| f["severity"] == "error").count();
    assert_eq!(code, Some(if errors > 0 { 1 } else { 0 }), "{out}");
    let (code, out, _) = iamlet(&["lint", "--format", "json", "examples/lint/risky.json"]);
    assert_eq!(code, Some(1));
    let docs: serde_json::Value = serde_json::from_str(&out).unwrap();
    let first = &docs[0]["findings"][0];
    assert_eq!(first["code"], "missing_version");
    assert_eq!(first["location"]["line"], 1);
    assert_eq!(first["fix"], "add \"Version\": \"2012-10-17\"");
}

#[test]
fn actions_expands_wildcards() {
    let (code, out, _) = iamlet(&["actions", "iam:PassRole", "s3:GetObject*"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("iam:PassRole\tWrite\n"), "{out}");
    assert!(out.contains("s3:GetObjectAcl\tRead\n"), "{out}");
    let (code, _, err) = iamlet(&["actions", "s3:Frobnicate*"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("matches no action"), "{err}");
}
