//! `iamlet report access-advisor` and `iamlet report credentials` on the example account and the
//! example decision log (`examples/reports/decisions.jsonl`).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test harness reports failures by panicking"
)]

mod common;

use common::{iamlet, iamlet_code};

const LOG: &str = "examples/reports/decisions.jsonl";

#[test]
fn access_advisor_compares_what_was_used_with_what_is_granted() {
    let (ok, out, err) = iamlet(&[
        "report",
        "access-advisor",
        "--log",
        LOG,
        "--account",
        "examples/account.json",
    ]);
    assert!(ok, "{err}");
    for line in [
        "arn:aws:iam::111122223333:role/ci-deploy (1 service(s) accessed)",
        "  s3           last accessed 2026-11-22T13:05:42Z, 1 request(s), 1 allowed; used: s3:PutObject; granted, never used (1): s3:GetObject",
        "  lambda       not accessed; granted, never used (2): lambda:PublishVersion, lambda:UpdateFunctionCode",
        "  s3           last accessed 2026-11-21T08:02:55Z, 3 request(s), 2 allowed; used: s3:GetObject, s3:PutObject; granted, never used (2): s3:DeleteObject, s3:ListBucket",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }

    // A window, one principal, JSON; without --account nothing is known of grants.
    let (ok, out, err) = iamlet(&[
        "report",
        "access-advisor",
        "--log",
        LOG,
        "--principal",
        "arn:aws:iam::111122223333:user/alice",
        "--since",
        "2026-11-20T00:00:00Z",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let services = report[0]["services"].as_array().unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0]["service"], "s3");
    assert_eq!(services[0]["requests"], 2);
    assert_eq!(
        services[0]["actionsUsed"],
        serde_json::json!(["s3:PutObject"])
    );
    assert!(services[0].get("granted").is_none());

    let (ok, out, err) = iamlet(&[
        "report",
        "access-advisor",
        "--log",
        LOG,
        "--suggest",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let policies: serde_json::Value = serde_json::from_str(&out).unwrap();
    let alice = policies
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["principal"] == "arn:aws:iam::111122223333:user/alice")
        .unwrap();
    assert_eq!(
        alice["policy"]["Statement"][0]["Action"],
        serde_json::json!(["s3:GetObject", "s3:PutObject"])
    );

    // Bad input names its place.
    let (code, _, err) =
        iamlet_code(&["report", "access-advisor", "--log", "examples/account.json"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("examples/account.json:1: not a decision record"),
        "{err}"
    );
    let (code, _, err) = iamlet_code(&[
        "report",
        "access-advisor",
        "--log",
        LOG,
        "--since",
        "ninety days",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--since `ninety days`"), "{err}");
}

#[test]
fn credential_report_has_awss_columns_and_each_keys_last_use() {
    let dir = std::env::temp_dir().join(format!("iamlet-report-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let creds = dir.join("credentials.json");
    let creds = creds.to_str().unwrap();
    let (ok, out, err) = iamlet(&[
        "keys",
        "create",
        "--credentials",
        creds,
        "--user",
        "alice",
        "--account",
        "examples/account.json",
    ]);
    assert!(ok, "{err}");
    let created: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = created["AccessKey"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    // The example log with the example key id replaced by the real one.
    let log = dir.join("decisions.jsonl");
    let text = std::fs::read_to_string(common::root().join(LOG)).unwrap();
    std::fs::write(&log, text.replace("AKIAEXAMPLEALICE0001", &id)).unwrap();

    let (ok, out, err) = iamlet(&[
        "report",
        "credentials",
        "--account",
        "examples/account.json",
        "--credentials",
        creds,
        "--log",
        log.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
    );
    assert!(
        lines[1].starts_with("<root_account>,arn:aws:iam::111122223333:root,"),
        "{out}"
    );
    let alice: Vec<&str> = lines[2].split(',').collect();
    assert_eq!(alice.len(), 22, "{}", lines[2]);
    assert_eq!(
        &alice[..3],
        [
            "alice",
            "arn:aws:iam::111122223333:user/alice",
            "2024-02-01T09:00:00+00:00"
        ]
    );
    // Key 1: active, created now, last used by the last decided request it signed (the failed
    // signature after it does not count).
    assert_eq!(alice[8], "true");
    assert_eq!(
        &alice[10..13],
        ["2026-11-21T08:02:55+00:00", "eu-west-1", "s3"]
    );
    assert_eq!(&alice[13..18], ["false", "N/A", "N/A", "N/A", "N/A"]);
    let bob = lines.iter().find(|l| l.starts_with("bob,")).unwrap();
    assert!(
        bob.contains(",false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"),
        "{bob}"
    );
    assert_eq!(lines.len(), 5, "root, alice, bob, carol:\n{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}
