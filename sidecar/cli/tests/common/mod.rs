//! What the command-line tests share: the repository root and a way to run the built `iamlet`.
// Each test binary includes this module and uses part of it.
#![allow(dead_code, reason = "not every test binary calls every helper")]

use std::path::PathBuf;
use std::process::Command;

/// The repository root (commands run there, so example paths are relative to it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `iamlet ARGS` from the root: the exit code, stdout and stderr.
pub fn iamlet_code(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iamlet"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Runs `iamlet ARGS` from the root: whether it succeeded, stdout and stderr.
pub fn iamlet(args: &[&str]) -> (bool, String, String) {
    let (code, out, err) = iamlet_code(args);
    (code == Some(0), out, err)
}
