//! One evaluator everywhere: every conformance case is decided and explained natively, by the
//! WebAssembly component under wasmtime, and by the npm package in Node; the three explanations must
//! be identical.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "a test harness reports failures by panicking"
)]

use iamlet_engine::simulate::{case_policy_inputs, parse_cases, run_case, Case};
use iamlet_wasm_host::{Host, HostConfig};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus() -> (Vec<PathBuf>, Vec<Case>) {
    let dir = root().join("tests/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let cases = files
        .iter()
        .flat_map(|f| parse_cases(&std::fs::read_to_string(f).unwrap()).unwrap())
        .collect();
    (files, cases)
}

fn native(case: &Case) -> Value {
    let r = run_case(case);
    match (r.explanation, r.error) {
        (Some(x), _) => serde_json::to_value(x).unwrap(),
        (None, e) => serde_json::json!({ "error": e }),
    }
}

fn component(host: &Host, case: &Case) -> Value {
    let inputs: Vec<_> = case_policy_inputs(case)
        .iter()
        .map(|p| iamlet_wasm_host::policy_input(p).unwrap())
        .collect();
    let set = match host.compile(inputs) {
        Ok(s) => s,
        Err(e) => return serde_json::json!({ "error": e.to_string() }),
    };
    let request = iamlet_wasm_host::request(&case.request).unwrap();
    match host.evaluate(&set, &request, true) {
        Ok(e) => serde_json::from_str(&e.explanation_json.expect("explanation requested")).unwrap(),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    }
}

fn node(files: &[PathBuf]) -> HashMap<String, Value> {
    let npm = root().join("wasm-pkg/npm");
    assert!(
        npm.join("dist/iamlet_js_bg.wasm").exists(),
        "the npm package is not built: run wasm-pkg/npm/build.sh (scripts/test does)"
    );
    let out = Command::new("node")
        .arg(npm.join("test/dump-corpus.mjs"))
        .args(files)
        .current_dir(&npm)
        .output()
        .expect("running node");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    results
        .into_iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap().to_owned();
            let v = match r.get("explanation") {
                Some(x) => x.clone(),
                None => serde_json::json!({ "error": r["error"] }),
            };
            (id, v)
        })
        .collect()
}

#[test]
fn native_component_and_npm_agree_on_every_case() {
    let (files, cases) = corpus();
    assert!(cases.len() > 700, "only {} cases", cases.len());
    let host = Host::new(HostConfig::default()).unwrap();
    let from_node = node(&files);
    let mut differences = Vec::new();
    for case in &cases {
        let n = native(case);
        assert!(n.get("error").is_none(), "{}: {n}", case.id);
        let c = component(&host, case);
        if n != c {
            differences.push(format!(
                "{}: component differs\n native:    {n}\n component: {c}",
                case.id
            ));
        }
        match from_node.get(&case.id) {
            Some(j) if *j == n => {}
            Some(j) => differences.push(format!(
                "{}: npm differs\n native: {n}\n npm:    {j}",
                case.id
            )),
            None => differences.push(format!("{}: missing from the npm run", case.id)),
        }
    }
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
