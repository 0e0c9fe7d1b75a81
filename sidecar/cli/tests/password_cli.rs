//! `iamlet password check` with the example policy and with AWS's default policy.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test harness reports failures by panicking"
)]

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

fn check(args: &[&str], password: &str) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamlet"))
        .args(["password", "check"])
        .args(args)
        .current_dir(common::root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn passwords_against_the_example_policy_and_the_default() {
    let policy = ["--policy", "examples/password/policy.json"];
    let (code, out, err) = check(&policy, "correcthorse");
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        out,
        "too_short: it has 12 characters; the policy requires at least 14\n\
         missing_symbol: the policy requires at least one symbol (! @ # $ % ^ & * ( ) _ + - = [ ] { } | ')\n\
         missing_number: the policy requires at least one number (0 to 9)\n\
         missing_uppercase: the policy requires at least one uppercase letter (A to Z)\n"
    );
    let (code, out, _) = check(&policy, "correct-Horse-7-battery");
    assert_eq!(code, Some(0));
    assert_eq!(out, "ok: the password meets the account password policy\n");

    // Reuse of one of the last 24 passwords.
    let dir = std::env::temp_dir().join(format!("iamlet-password-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let previous = dir.join("previous.txt");
    std::fs::write(&previous, "Autumn-2026-leaves!\ncorrect-Horse-7-battery\n").unwrap();
    let (code, out, _) = check(
        &[
            policy[0],
            policy[1],
            "--previous",
            previous.to_str().unwrap(),
            "--format",
            "json",
        ],
        "correct-Horse-7-battery",
    );
    assert_eq!(code, Some(1));
    let problems: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(problems[0]["code"], "reused");
    std::fs::remove_dir_all(&dir).unwrap();

    // No policy: AWS's default (8 characters, three types, not the account's name).
    let (code, out, _) = check(&[], "summer2026");
    assert_eq!(code, Some(1));
    assert!(out.starts_with("too_few_character_types: "), "{out}");
    let (code, _, _) = check(&["--account-name", "Ops@Example1.com"], "Ops@Example1.com");
    assert_eq!(code, Some(1));
    let (code, out, _) = check(&[], "Summer2026");
    assert_eq!(
        (code, out.as_str()),
        (
            Some(0),
            "ok: the password meets AWS's default password policy\n"
        )
    );

    // A broken policy names itself.
    let (code, _, err) = check(&["--policy", "examples/account.json"], "x");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("examples/account.json: unknown field"),
        "{err}"
    );
}
