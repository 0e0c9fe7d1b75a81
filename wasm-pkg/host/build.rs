//! Builds the guest (`wasm-pkg/component`) for `wasm32-unknown-unknown` with a nested cargo in its own
//! target directory, turns the core module into a component with `wit-component`, and leaves it in
//! `OUT_DIR` for `include_bytes!`: the sidecar binary carries its engine with it.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    if let Err(e) = build() {
        println!("cargo:warning=building the iamlet component failed: {e}");
        std::process::exit(1);
    }
}

fn build() -> Result<(), String> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let wasm_pkg = manifest
        .parent()
        .ok_or("no wasm-pkg directory")?
        .to_path_buf();
    let root = wasm_pkg.parent().ok_or("no workspace root")?.to_path_buf();
    for p in [
        root.join("engine/src"),
        root.join("engine/Cargo.toml"),
        wasm_pkg.join("component"),
        wasm_pkg.join("wit"),
        root.join("Cargo.lock"),
    ] {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let target_dir = root.join("target").join("wasm-guest");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root).args([
        "build",
        "--profile",
        "component",
        "-p",
        "iamlet-component",
        "--target",
        "wasm32-unknown-unknown",
        "--target-dir",
    ]);
    cmd.arg(&target_dir);
    // The outer build's wrappers and flags (clippy, coverage, host RUSTFLAGS) must not leak into the
    // guest build.
    for var in [
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().map_err(|e| format!("running cargo: {e}"))?;
    if !status.success() {
        return Err("the guest build failed; is the target installed? run `scripts/setup` (rustup target add wasm32-unknown-unknown)".into());
    }
    let core = target_dir.join("wasm32-unknown-unknown/component/iamlet_component.wasm");
    let bytes = std::fs::read(&core).map_err(|e| format!("reading {}: {e}", core.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&bytes)
        .map_err(|e| format!("{e:#}"))?
        .validate(true)
        .encode()
        .map_err(|e| format!("{e:#}"))?;
    std::fs::write(out.join("iamlet_engine.component.wasm"), component)
        .map_err(|e| e.to_string())?;
    Ok(())
}
