//! `iamlet keys` on the example account: create, list, deactivate, delete, and their limits.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test harness reports failures by panicking"
)]

mod common;

use common::iamlet;

fn create(file: &str, user: &str) -> (bool, String, String) {
    iamlet(&[
        "keys",
        "create",
        "--credentials",
        file,
        "--user",
        user,
        "--account",
        "examples/account.json",
    ])
}

#[test]
fn keys_lifecycle() {
    let dir = std::env::temp_dir().join(format!("iamlet-keys-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("credentials.json");
    let file = file.to_str().unwrap();

    let (ok, out, err) = create(file, "alice");
    assert!(ok, "{err}");
    let created: serde_json::Value = serde_json::from_str(&out).unwrap();
    let key = &created["AccessKey"];
    assert_eq!(key["UserName"], "alice");
    assert_eq!(key["Status"], "Active");
    let id = key["AccessKeyId"].as_str().unwrap().to_owned();
    let secret = key["SecretAccessKey"].as_str().unwrap().to_owned();
    assert!(id.starts_with("AKIA") && id.len() == 20, "{id}");
    assert_eq!(secret.len(), 40);
    let stored = std::fs::read_to_string(file).unwrap();
    assert!(
        stored.contains("arn:aws:iam::111122223333:user/alice"),
        "{stored}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    assert!(create(file, "alice").0);
    let (ok, _, err) = create(file, "alice");
    assert!(!ok);
    assert!(err.contains("already has 2 access keys"), "{err}");
    let (ok, _, err) = create(file, "mallory");
    assert!(!ok);
    assert!(err.contains("no user `mallory` in the export"), "{err}");
    assert!(create(file, "bob").0);

    let (ok, out, err) = iamlet(&["keys", "list", "--credentials", file, "--user", "alice"]);
    assert!(ok, "{err}");
    assert!(!out.contains(&secret), "list must not print secrets: {out}");
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed["AccessKeyMetadata"].as_array().unwrap().len(), 2);
    let (_, all, _) = iamlet(&["keys", "list", "--credentials", file]);
    let all: serde_json::Value = serde_json::from_str(&all).unwrap();
    assert_eq!(all["AccessKeyMetadata"].as_array().unwrap().len(), 3);

    let key_args = |cmd: &str, user: &str| {
        iamlet(&[
            "keys",
            cmd,
            "--credentials",
            file,
            "--user",
            user,
            "--access-key-id",
            &id,
        ])
    };
    let (ok, _, err) = key_args("deactivate", "bob");
    assert!(!ok);
    assert!(err.contains("no access key"), "{err}");
    assert!(key_args("deactivate", "alice").0);
    let (_, out, _) = iamlet(&["keys", "list", "--credentials", file, "--user", "alice"]);
    assert!(out.contains("\"Inactive\""), "{out}");
    assert!(key_args("delete", "alice").0);
    let (_, out, _) = iamlet(&["keys", "list", "--credentials", file, "--user", "alice"]);
    assert!(!out.contains(&id), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}
